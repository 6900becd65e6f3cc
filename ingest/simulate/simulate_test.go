package simulate_test

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

const (
	typeS136 = pathwayv1.IncidentType_INCIDENT_TYPE_S136
	typeS135 = pathwayv1.IncidentType_INCIDENT_TYPE_S135_1
	typeRCRP = pathwayv1.IncidentType_INCIDENT_TYPE_RCRP_CALL
)

// testKey returns a fixed regional key.
func testKey(t testing.TB) pseudo.Key {
	t.Helper()
	key, err := pseudo.NewKey([]byte("pathway-hub-simulate-test-key-32-bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// defaultHistories generates the default history (24 months to 1 April 2025,
// seed 1, scale 1) of every force once for all tests.
var defaultHistories = sync.OnceValues(func() (map[string]simulate.Records, error) {
	key, err := pseudo.NewKey([]byte("pathway-hub-simulate-test-key-32-bytes!!"))
	if err != nil {
		return nil, err
	}
	out := map[string]simulate.Records{}
	for _, f := range simulate.Forces() {
		h, err := simulate.History(simulate.Options{Force: f, Seed: 1, Key: key})
		if err != nil {
			return nil, err
		}
		out[f] = h
	}
	return out, nil
})

// history returns the default history of force.
func history(t *testing.T, force string) simulate.Records {
	t.Helper()
	all, err := defaultHistories()
	if err != nil {
		t.Fatal(err)
	}
	return all[force]
}

// marshalAll returns the deterministic encoding of every record of h.
func marshalAll(t *testing.T, h simulate.Records) []byte {
	t.Helper()
	opts := proto.MarshalOptions{Deterministic: true}
	var buf bytes.Buffer
	for _, r := range h.Incidents {
		b, err := opts.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	for _, u := range h.HealthUpdates {
		buf.WriteString(u.TrustID)
		b, err := opts.Marshal(u.Update)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

func TestForces(t *testing.T) {
	t.Parallel()
	if got, want := simulate.Forces(), []string{"btp", "metropolitan", "city-of-london"}; !slices.Equal(got, want) {
		t.Errorf("Forces() = %v, want %v", got, want)
	}
	trusts := simulate.Trusts()
	for _, want := range []string{"RV3", "TAF", "RRP", "RQY", "RV5", "RWK", "RAL", "RJ1", "RYJ", "RKE"} {
		if !slices.Contains(trusts, want) {
			t.Errorf("Trusts() = %v, missing %s", trusts, want)
		}
	}
}

func TestHistoryDeterministic(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	opts := simulate.Options{Force: "city-of-london", Months: 6, Seed: 42, Key: key}
	a, err := simulate.History(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := simulate.History(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshalAll(t, a), marshalAll(t, b)) {
		t.Error("two runs with the same options differ")
	}
	opts.Seed = 43
	c, err := simulate.History(opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(marshalAll(t, a), marshalAll(t, c)) {
		t.Error("a different seed gives the same records")
	}
}

func TestHistoryOptions(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	for _, tc := range []struct {
		name string
		opts simulate.Options
	}{
		{"unknown force", simulate.Options{Force: "kent", Key: key}},
		{"negative months", simulate.Options{Force: "btp", Months: -1, Key: key}},
		{"negative scale", simulate.Options{Force: "btp", Scale: -1, Key: key}},
		{"no key", simulate.Options{Force: "btp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := simulate.History(tc.opts); err == nil {
				t.Error("History succeeded; want an error")
			}
		})
	}
	h, err := simulate.History(simulate.Options{Force: "btp", Key: key, Months: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC); !h.End.Equal(want) {
		t.Errorf("default End = %v, want %v", h.End, want)
	}
}

func TestHistoryCustomEnd(t *testing.T) {
	t.Parallel()
	end := time.Date(2024, time.June, 15, 13, 45, 30, 0, time.UTC)
	h, err := simulate.History(simulate.Options{Force: "btp", Months: 2, End: end, Seed: 9, Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	if want := end.AddDate(0, -2, 0); !h.Start.Equal(want) || !h.End.Equal(end) {
		t.Errorf("period [%v, %v), want [%v, %v)", h.Start, h.End, want, end)
	}
	if h.GoLive.Before(h.Start) || !h.GoLive.Before(h.End) {
		t.Errorf("GoLive %v outside the period", h.GoLive)
	}
	// Validated as if it were now End: nothing may lie after End.
	v, err := validate.New(validate.Options{Skew: time.Second, Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h.Incidents {
		checkIncident(t, v, r)
		if r.GetTimeline().GetCallReceived().AsTime().Before(h.Start) {
			t.Fatal("call before the start of the period")
		}
	}
	for _, u := range h.HealthUpdates {
		checkHealth(t, v, u.Update)
	}
}

func TestHistoryScale(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	count := func(scale float64) int {
		h, err := simulate.History(simulate.Options{Force: "btp", Months: 3, Seed: 5, Scale: scale, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return len(h.Incidents)
	}
	one, tenth := count(1), count(0.1)
	if tenth < one/20 || tenth > one/5 {
		t.Errorf("scale 0.1 gives %d incidents against %d at scale 1; want about a tenth", tenth, one)
	}
}

// yearCounts counts the incidents of each kind in the two years of a default
// history, by call_received.
func yearCounts(h simulate.Records) [2]map[pathwayv1.IncidentType]int {
	out := [2]map[pathwayv1.IncidentType]int{{}, {}}
	mid := h.Start.AddDate(1, 0, 0)
	for _, r := range h.Incidents {
		y := 0
		if !r.GetTimeline().GetCallReceived().AsTime().Before(mid) {
			y = 1
		}
		out[y][r.GetIncidentType()]++
	}
	return out
}

func TestHistoryVolumes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		force              string
		s136Year1, s136Yr2 [2]int // inclusive ranges
	}{
		{"metropolitan", [2]int{5000, 6000}, [2]int{3800, 4800}},
		{"btp", [2]int{1300, 1650}, [2]int{1100, 1500}},
		{"city-of-london", [2]int{240, 360}, [2]int{190, 310}},
	} {
		t.Run(tc.force, func(t *testing.T) {
			t.Parallel()
			years := yearCounts(history(t, tc.force))
			for y, want := range [][2]int{tc.s136Year1, tc.s136Yr2} {
				s136, rcrp := years[y][typeS136], years[y][typeRCRP]
				t.Logf("year %d: s136 %d, s135(1) %d, RCRP calls %d", y+1, s136, years[y][typeS135], rcrp)
				if s136 < want[0] || s136 > want[1] {
					t.Errorf("year %d: %d s136 detentions, want %d to %d", y+1, s136, want[0], want[1])
				}
				if rcrp < 3*s136 {
					t.Errorf("year %d: %d RCRP calls, want several times the %d detentions", y+1, rcrp, s136)
				}
			}
		})
	}
}

// halves returns the incidents of the first and last six months.
func halves(h simulate.Records) (first, last []*pathwayv1.IncidentRecord) {
	firstEnd, lastStart := h.Start.AddDate(0, 6, 0), h.End.AddDate(0, -6, 0)
	for _, r := range h.Incidents {
		call := r.GetTimeline().GetCallReceived().AsTime()
		switch {
		case call.Before(firstEnd):
			first = append(first, r)
		case !call.Before(lastStart):
			last = append(last, r)
		}
	}
	return first, last
}

// measures are the trend measures of a set of incidents.
type measures struct {
	s136             int
	consultation     float64 // yes / s136 with a known answer
	ambulance        float64 // ambulance / known conveyances, excluding none-needed
	officerMedian    float64 // minutes, police left − arrived, NHS places of safety
	deployedShare    float64 // RCRP calls with police deployed
	edShare, hbShare float64 // first place of safety, of known types
}

func measure(recs []*pathwayv1.IncidentRecord) measures {
	var m measures
	var yes, known, amb, conveyed, rcrp, deployed, ed, hb, posKnown int
	var officer []float64
	for _, r := range recs {
		if r.GetIncidentType() == typeRCRP {
			rcrp++
			if r.GetDisposition() == pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED {
				deployed++
			}
			continue
		}
		if r.GetIncidentType() != typeS136 {
			continue
		}
		m.s136++
		if r.GetHcpConsulted() != pathwayv1.HcpConsulted_HCP_CONSULTED_NOT_KNOWN {
			known++
			if r.GetHcpConsulted() == pathwayv1.HcpConsulted_HCP_CONSULTED_YES {
				yes++
			}
		}
		switch r.GetConveyanceMethod() {
		case pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NOT_KNOWN, pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NONE_ALREADY_AT_POS:
		default:
			conveyed++
			if r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE {
				amb++
			}
		}
		switch r.GetFirstPosType() {
		case pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_NOT_KNOWN:
		case pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT:
			ed++
			posKnown++
		case pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS:
			hb++
			posKnown++
		default:
			posKnown++
		}
		tl := r.GetTimeline()
		if r.GetPosOdsOrg() != "" && tl.GetPoliceLeftPos() != nil {
			officer = append(officer, tl.GetPoliceLeftPos().AsTime().Sub(tl.GetArrivedAtPos().AsTime()).Minutes())
		}
	}
	slices.Sort(officer)
	ratio := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	m.consultation, m.ambulance = ratio(yes, known), ratio(amb, conveyed)
	m.deployedShare = ratio(deployed, rcrp)
	m.edShare, m.hbShare = ratio(ed, posKnown), ratio(hb, posKnown)
	if len(officer) > 0 {
		m.officerMedian = officer[len(officer)/2]
	}
	return m
}

func TestHistoryTrends(t *testing.T) {
	t.Parallel()
	for _, force := range simulate.Forces() {
		t.Run(force, func(t *testing.T) {
			t.Parallel()
			first, last := halves(history(t, force))
			a, b := measure(first), measure(last)
			t.Logf("first 6 months: %+v", a)
			t.Logf("last 6 months:  %+v", b)
			if b.s136 >= a.s136 {
				t.Errorf("s136 detentions %d → %d; want a fall", a.s136, b.s136)
			}
			if b.consultation < a.consultation+0.1 {
				t.Errorf("HCP consultation %.2f → %.2f; want a rise", a.consultation, b.consultation)
			}
			if b.ambulance < a.ambulance+0.15 {
				t.Errorf("ambulance conveyance %.2f → %.2f; want a rise", a.ambulance, b.ambulance)
			}
			if b.officerMedian > a.officerMedian*0.6 {
				t.Errorf("median officer time at PoS %.0f → %.0f min; want a fall", a.officerMedian, b.officerMedian)
			}
			if b.deployedShare > a.deployedShare-0.2 {
				t.Errorf("RCRP calls attended %.2f → %.2f; want a fall", a.deployedShare, b.deployedShare)
			}
			// [HO] 48% and 44% of all; a little more of the known types.
			if all := measure(history(t, force).Incidents); math.Abs(all.edShare-0.49) > 0.07 || math.Abs(all.hbShare-0.45) > 0.07 {
				t.Errorf("first PoS ED %.2f, HBPoS %.2f; want about 48%% and 44%%", all.edShare, all.hbShare)
			}
		})
	}
	// The published figures the calibration aims at.
	metFirst, metLast := halves(history(t, "metropolitan"))
	met0, met1 := measure(metFirst), measure(metLast)
	within := func(name string, got, want, tol float64) {
		if got < want-tol || got > want+tol {
			t.Errorf("%s = %.3f, want %.3f ± %.3f", name, got, want, tol)
		}
	}
	within("Met consultation before", met0.consultation, 0.47, 0.03)
	within("Met consultation after", met1.consultation, 0.66, 0.03)
	within("Met ambulance before", met0.ambulance, 0.35, 0.03)
	within("Met ambulance after", met1.ambulance, 0.66, 0.03)
	// The −30% fall, plus seasonality: the first six months run April to
	// September (the summer peak), the last October to March.
	within("Met s136 change", float64(met1.s136)/float64(met0.s136)-1, -0.36, 0.06)
	btpFirst, btpLast := halves(history(t, "btp"))
	within("BTP officer minutes before", measure(btpFirst).officerMedian, 219, 15)
	within("BTP officer minutes after", measure(btpLast).officerMedian, 79, 8)
}

func TestHistoryRepeatPeople(t *testing.T) {
	t.Parallel()
	forcesOf := map[string]map[string]bool{}
	for _, f := range simulate.Forces() {
		seen := map[string]int{}
		for _, r := range history(t, f).Incidents {
			if r.GetIncidentType() != typeS136 {
				continue
			}
			seen[r.GetSubjectToken()]++
			if forcesOf[r.GetSubjectToken()] == nil {
				forcesOf[r.GetSubjectToken()] = map[string]bool{}
			}
			forcesOf[r.GetSubjectToken()][f] = true
		}
		repeat := 0
		for _, n := range seen {
			if n > 1 {
				repeat++
			}
		}
		t.Logf("%s: %d people detained, %d more than once", f, len(seen), repeat)
		if share := float64(repeat) / float64(len(seen)); share < 0.02 || share > 0.2 {
			t.Errorf("%s: %.3f of people detained more than once; want a few per cent", f, share)
		}
	}
	across := 0
	for _, fs := range forcesOf {
		if len(fs) > 1 {
			across++
		}
	}
	t.Logf("%d people detained by more than one force", across)
	if across == 0 || across > 200 {
		t.Errorf("%d people detained by more than one force; want a few", across)
	}
}

func TestHistoryAreas(t *testing.T) {
	t.Parallel()
	for _, f := range simulate.Forces() {
		outside := 0
		recs := history(t, f).Incidents
		for _, r := range recs {
			lad, region := r.GetLadCode(), r.GetRegionCode()
			london := strings.HasPrefix(lad, "E09")
			if london != (region == "E12000007") {
				t.Fatalf("%s: LAD %s with region %s", f, lad, region)
			}
			switch {
			case f == "city-of-london" && lad != "E09000001":
				t.Fatalf("City of London incident in %s", lad)
			case f == "metropolitan" && (!london || lad == "E09000001"):
				t.Fatalf("Met incident in %s", lad)
			case !london:
				outside++
			}
		}
		if f == "btp" && (outside == 0 || outside > len(recs)/4) {
			t.Errorf("BTP: %d of %d incidents outside London; want a few", outside, len(recs))
		}
	}
}

// TestHistoryInvariants checks the rules of the data standard that the hub's
// validator does not check on its own, and the link between each health
// update and its incident.
func TestHistoryInvariants(t *testing.T) {
	t.Parallel()
	for _, f := range simulate.Forces() {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			h := history(t, f)
			byRef := map[string]*pathwayv1.IncidentRecord{}
			var prev time.Time
			for _, r := range h.Incidents {
				checkRecordShape(t, r)
				if r.GetStatus() != pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED {
					t.Fatalf("history record with status %v", r.GetStatus())
				}
				call := r.GetTimeline().GetCallReceived().AsTime()
				if call.Before(prev) || call.Before(h.Start) || !call.Before(h.End) {
					t.Fatalf("call_received %v out of order or outside [%v, %v)", call, h.Start, h.End)
				}
				prev = call
				if byRef[r.GetIncidentRef()] != nil {
					t.Fatalf("incident_ref repeated")
				}
				byRef[r.GetIncidentRef()] = r
			}
			for _, u := range h.HealthUpdates {
				rec := byRef[u.Update.GetIncidentRef()]
				if rec == nil {
					t.Fatalf("health update for an unknown incident")
				}
				checkHealthMatches(t, u.TrustID, u.Update, rec)
				if u.Update.GetRevision() != 1 {
					t.Errorf("history health update revision %d, want 1", u.Update.GetRevision())
				}
			}
		})
	}
}

// checkRecordShape checks one incident record against the proto comments.
func checkRecordShape(t *testing.T, r *pathwayv1.IncidentRecord) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s %s rev %d: "+format, append([]any{r.GetIncidentType(), r.GetIncidentRef()[:8], r.GetRevision()}, args...)...)
	}
	if r.GetSchemaVersion() != 1 || r.GetForceId() == "" || r.GetRevision() < 1 {
		fail("schema_version %d, force %q", r.GetSchemaVersion(), r.GetForceId())
	}
	if r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_UNSPECIFIED ||
		r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_UNSPECIFIED ||
		r.GetRcrpCategory() == pathwayv1.RcrpCategory_RCRP_CATEGORY_UNSPECIFIED ||
		r.GetRcrpThreshold() == pathwayv1.RcrpThreshold_RCRP_THRESHOLD_UNSPECIFIED ||
		r.GetDisposition() == pathwayv1.Disposition_DISPOSITION_UNSPECIFIED {
		fail("an enumeration is unspecified")
	}
	tl := r.GetTimeline()
	closed := r.GetStatus() == pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED
	switch r.GetIncidentType() {
	case typeRCRP:
		if r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NONE_ALREADY_AT_POS ||
			r.GetFirstPosType() != pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_OTHER || tl.GetDetained() != nil {
			fail("RCRP call with detention fields")
		}
	case typeS136, typeS135:
		if tl.GetDetained() == nil || r.GetSubjectToken() == "" {
			fail("detention without detained time or person")
		}
		if closed && (tl.GetDetentionEnded() == nil || tl.GetArrivedAtPos() == nil) {
			fail("closed detention without arrival or end")
		}
	default:
		fail("unexpected type")
	}
	if closed && r.GetOutcome() == pathwayv1.Outcome_OUTCOME_UNSPECIFIED {
		fail("closed without outcome")
	}
	if !closed && (r.GetOutcome() != pathwayv1.Outcome_OUTCOME_UNSPECIFIED || r.GetExtension() != nil) {
		fail("open with outcome or extension")
	}
	nhs := r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS ||
		r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT
	if nhs != (r.GetPosOdsOrg() != "") || !strings.HasPrefix(r.GetPosOdsSite(), r.GetPosOdsOrg()) {
		fail("ODS codes %q/%q for %v", r.GetPosOdsOrg(), r.GetPosOdsSite(), r.GetFirstPosType())
	}
	if r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION {
		if r.GetAgeBand() == pathwayv1.AgeBand_AGE_BAND_UNDER_18 || r.GetAgeBand() == pathwayv1.AgeBand_AGE_BAND_NOT_KNOWN {
			fail("police station for %v", r.GetAgeBand())
		}
	}
	if (r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE) !=
		(r.GetPoliceVehicleReason() != pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_UNSPECIFIED) {
		fail("police_vehicle_reason %v with conveyance %v", r.GetPoliceVehicleReason(), r.GetConveyanceMethod())
	}
	if r.GetAmbulanceRequested() != (tl.GetAmbulanceRequested() != nil) {
		fail("ambulance_requested flag and time disagree")
	}
	if ext := r.GetExtension(); ext != nil && (!ext.GetAuthorised() || ext.GetHours() < 1 || ext.GetHours() > 12) {
		fail("extension %v", ext)
	}
	checkChain(t, r)
}

// checkChain checks the strict chain call ≤ deployed ≤ hcp_consulted ≤
// detained, stricter than the validator's pairwise order.
func checkChain(t *testing.T, r *pathwayv1.IncidentRecord) {
	t.Helper()
	tl := r.GetTimeline()
	var last int64
	for _, ts := range []interface{ GetSeconds() int64 }{tl.GetCallReceived(), tl.GetDeployed(), tl.GetHcpConsulted(), tl.GetDetained()} {
		if s := ts.GetSeconds(); s != 0 {
			if s < last {
				t.Fatalf("%s: call, deployed, hcp_consulted, detained out of order", r.GetIncidentRef()[:8])
			}
			last = s
		}
	}
	if a := tl.GetAssessmentStarted(); a != nil && tl.GetHandoverAccepted() != nil && a.AsTime().Before(tl.GetHandoverAccepted().AsTime()) {
		t.Fatalf("%s: assessment before handover accepted", r.GetIncidentRef()[:8])
	}
}

// checkHealthMatches checks that a health update agrees with the incident.
func checkHealthMatches(t *testing.T, trust string, u *pathwayv1.HealthUpdate, rec *pathwayv1.IncidentRecord) {
	t.Helper()
	if trust != rec.GetPosOdsOrg() || u.GetPosOdsSite() != rec.GetPosOdsSite() || u.GetForceId() != rec.GetForceId() {
		t.Fatalf("health update from %s/%s for an incident at %s/%s", trust, u.GetPosOdsSite(), rec.GetPosOdsOrg(), rec.GetPosOdsSite())
	}
	tl := rec.GetTimeline()
	same := func(name string, a, b interface{ GetSeconds() int64 }) {
		t.Helper()
		if a.GetSeconds() != 0 && a.GetSeconds() != b.GetSeconds() {
			t.Fatalf("health update %s differs from the incident", name)
		}
	}
	same("handover_accepted", u.GetHandoverAccepted(), tl.GetHandoverAccepted())
	same("assessment_started", u.GetAssessmentStarted(), tl.GetAssessmentStarted())
	same("assessment_completed", u.GetAssessmentCompleted(), tl.GetAssessmentCompleted())
	if u.GetHandoverAccepted() == nil {
		t.Fatal("health update without handover_accepted")
	}
	if a := u.GetAssessmentStarted(); a != nil && a.AsTime().Before(u.GetHandoverAccepted().AsTime()) {
		t.Fatal("health update: assessment before handover accepted")
	}
	if o := u.GetOutcome(); o != pathwayv1.Outcome_OUTCOME_UNSPECIFIED && rec.GetOutcome() != pathwayv1.Outcome_OUTCOME_UNSPECIFIED && o != rec.GetOutcome() {
		t.Fatal("health update outcome differs from the incident")
	}
	for _, p := range u.GetPresenceRequests() {
		if p.GetActor() != pathwayv1.PresenceActor_PRESENCE_ACTOR_NHS {
			t.Fatal("health update presence entry not from the NHS")
		}
	}
}

func BenchmarkHistoryMet24Months(b *testing.B) {
	key := testKey(b)
	for b.Loop() {
		if _, err := simulate.History(simulate.Options{Force: "metropolitan", Seed: 1, Key: key}); err != nil {
			b.Fatal(err)
		}
	}
}
