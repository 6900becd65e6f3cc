package measures_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// The fixture: a small hand-built dataset whose every measure value is
// worked out by hand in measures_test.go. All times are UTC. Offsets in the
// comments are minutes from the detention time T; "arr+x" is x minutes
// after arrival at the place of safety (always T+50).
//
// metropolitan (s136 unless noted):
//
//	M1  s1  2025-01-05 10:00  black N, Southwark, hbpos, HCP yes, ambulance req T+2 arr T+25 (23 min),
//	                          handover arr+40, police left arr+45, assessment arr+120, ended arr+215, closed
//	M2  s2  2025-01-10 12:00  white A, ED, HCP no_not_practicable, police vehicle (ambulance not available),
//	                          ambulance requested T+2 never arrived, police left arr+200, no force handover or
//	                          assessment; trust rev1 handover arr+50, rev2 handover arr+70 and assessment arr+300;
//	                          ended arr+25h (breach), closed
//	M3  s1  2025-01-20 08:00  ethnicity 99, age and sex not known, HCP not_known, first PoS not_known, no
//	                          conveyance (already at PoS), force handover arr+60 and assessment arr+80, trust
//	                          handover arr+65 and assessment arr+90, police left arr+100, extension 12 h,
//	                          ended arr+30h (no breach), outcome not_known, closed
//	M4  s8  2025-01-02 10:00  rev1 closed, rev2 WITHDRAWN
//	M5  s4  2025-01-31 23:30  black M, 18-24; rev1 Southwark, HCP no_other, police vehicle; rev2 (latest)
//	                          Lambeth, HCP yes, ambulance req T+1 arr T+41 (40 min), handover arr+20, police
//	                          left arr+30, no assessment, open
//	M6  s5  2025-01-15 09:00  s135(1), white A, police station first, police vehicle (other), closed
//	M7  s2  2025-02-10 09:00  asian H, under 18, Camden, hbpos then a police station at arr+180, ambulance 23
//	                          min, handover arr+40, police left arr+60, assessment arr+120, closed
//	M8  s6  2024-06-01 10:00  history only
//	M9  s6  2025-02-20 10:00  white A, conveyance not_known (no ambulance), handover arr+40, police left arr+45,
//	                          assessment arr+200, closed
//	M10 s7  2024-01-15 10:00  history only
//	M11 s7  2025-02-15 10:00  white A, HCP no_other, ambulance req T+2 arr T+32 (30 min), handover arr+61,
//	                          police left arr+75, assessment arr+120, closed
//	R1      2025-01-07 10:00  RCRP call, referred to partner, ethnicity Z, closed
//	R2      2025-01-08 10:00  RCRP call, police deployed, ethnicity 99, closed
//	R3      2025-02-02 10:00  RCRP call, advice only, open
//	R4      2025-01-09 10:00  RCRP call, no further action, WITHDRAWN
//
// city-of-london:
//
//	C1  s4  2025-02-03 14:00  white C, City, ambulance 10 min, handover arr+30, police left arr+30,
//	                          assessment arr+100, closed
//
// btp:
//
//	B1  s8  2025-01-12 18:00  black N, Manchester (North West), ED, police vehicle (reason not_known),
//	                          handover arr+60, police left arr+150, assessment arr+120, closed
//	R5      2025-01-20 10:00  RCRP call, advice only, Manchester, closed
//
// Submissions (lag_p50 in seconds): metropolitan January 60, 180, 600, plus a
// dry run (6000) and one that stored nothing (0); February 120, 300;
// city-of-london January 30; btp January 240; a trust January 900.

// Codes used by the fixture.
const (
	lambeth    = "E09000022"
	southwark  = "E09000028"
	camden     = "E09000007"
	cityLAD    = "E09000001"
	manchester = "E08000003"
	london     = "E12000007"
	northWest  = "E12000002"
)

// ts parses an RFC 3339 time.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// token is a 64-hex pseudonym for a fixture name.
func token(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// at is base plus m minutes, as a protobuf timestamp.
func at(base time.Time, m float64) *timestamppb.Timestamp {
	return timestamppb.New(base.Add(time.Duration(m * float64(time.Minute))))
}

// s136 is a complete closed s136 record detained at T in Southwark, with
// the base timeline of the fixture comment (every time set).
func s136(force, ref, subject string, detained time.Time) *pathwayv1.IncidentRecord {
	T := detained
	return &pathwayv1.IncidentRecord{
		SchemaVersion:       1,
		ForceId:             force,
		IncidentRef:         token(ref),
		Revision:            1,
		Status:              pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED,
		SubjectToken:        token(subject),
		IncidentType:        pathwayv1.IncidentType_INCIDENT_TYPE_S136,
		RcrpCategory:        pathwayv1.RcrpCategory_RCRP_CATEGORY_S136_HANDOVER,
		RcrpThreshold:       pathwayv1.RcrpThreshold_RCRP_THRESHOLD_RISK_TO_LIFE_OR_SERIOUS_HARM,
		Disposition:         pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED,
		AgeBand:             pathwayv1.AgeBand_AGE_BAND_25_34,
		Sex:                 pathwayv1.Sex_SEX_FEMALE,
		Ethnicity:           pathwayv1.Ethnicity_ETHNICITY_A_WHITE_BRITISH,
		LadCode:             southwark,
		RegionCode:          london,
		FirstPosType:        pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS,
		PosOdsOrg:           "RV5",
		PosOdsSite:          "RV5AA",
		HcpConsulted:        pathwayv1.HcpConsulted_HCP_CONSULTED_YES,
		ConsulteeRole:       pathwayv1.ConsulteeRole_CONSULTEE_ROLE_NURSE,
		ConsultationChannel: pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_STREET_TRIAGE,
		ConveyanceMethod:    pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE,
		AmbulanceRequested:  true,
		Timeline: &pathwayv1.Timeline{
			CallReceived:        at(T, -40),
			Deployed:            at(T, -30),
			HcpConsulted:        at(T, -10),
			Detained:            at(T, 0),
			AmbulanceRequested:  at(T, 2),
			AmbulanceArrived:    at(T, 25),
			ArrivedAtPos:        at(T, 50),
			HandoverInitiated:   at(T, 52),
			HandoverAccepted:    at(T, 90),
			PoliceLeftPos:       at(T, 95),
			AssessmentStarted:   at(T, 170),
			AssessmentCompleted: at(T, 260),
			DetentionEnded:      at(T, 265),
		},
		Outcome: pathwayv1.Outcome_OUTCOME_ADMITTED_S2,
	}
}

// rcrp is a closed RCRP call received at call, with the given disposition.
func rcrp(force, ref string, call time.Time, d pathwayv1.Disposition) *pathwayv1.IncidentRecord {
	return &pathwayv1.IncidentRecord{
		SchemaVersion:    1,
		ForceId:          force,
		IncidentRef:      token(ref),
		Revision:         1,
		Status:           pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED,
		IncidentType:     pathwayv1.IncidentType_INCIDENT_TYPE_RCRP_CALL,
		RcrpCategory:     pathwayv1.RcrpCategory_RCRP_CATEGORY_CONCERN_FOR_WELFARE,
		RcrpThreshold:    pathwayv1.RcrpThreshold_RCRP_THRESHOLD_NOT_MET,
		Disposition:      d,
		AgeBand:          pathwayv1.AgeBand_AGE_BAND_45_54,
		Sex:              pathwayv1.Sex_SEX_MALE,
		Ethnicity:        pathwayv1.Ethnicity_ETHNICITY_B_WHITE_IRISH,
		LadCode:          southwark,
		RegionCode:       london,
		FirstPosType:     pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_OTHER,
		ConveyanceMethod: pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_OTHER,
		Timeline:         &pathwayv1.Timeline{CallReceived: timestamppb.New(call)},
	}
}

// with applies edits to a record and returns it.
func with(rec *pathwayv1.IncidentRecord, edits ...func(*pathwayv1.IncidentRecord)) *pathwayv1.IncidentRecord {
	for _, e := range edits {
		e(rec)
	}
	return rec
}

// fixture is the data set, as the batches ingest would store: the first
// revisions, then the later revisions in a second insert, so that both are
// stored in separate parts and only FINAL reconciles them.
type fixture struct {
	first, later []store.Incident
	health       [][]store.HealthUpdate // one insert per element
	submissions  []store.Submission
}

func buildFixture(t testing.TB) fixture {
	t.Helper()
	d := func(s string) time.Time { return ts(t, s) }
	var f fixture
	add := func(rec *pathwayv1.IncidentRecord, breach bool) {
		f.first = append(f.first, store.Incident{Record: rec, Breach: breach})
	}
	arr := func(rec *pathwayv1.IncidentRecord, m float64) *timestamppb.Timestamp {
		return at(rec.GetTimeline().GetArrivedAtPos().AsTime(), m)
	}

	// M1: the base record with a Black African person.
	add(with(s136("metropolitan", "M1", "s1", d("2025-01-05T10:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_N_BLACK_AFRICAN
	}), false)

	m2 := with(s136("metropolitan", "M2", "s2", d("2025-01-10T12:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_NO_NOT_PRACTICABLE
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
		r.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_AVAILABLE_30MIN
		r.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT
		r.Timeline.AmbulanceArrived = nil
		r.Timeline.HandoverAccepted = nil
		r.Timeline.AssessmentStarted = nil
		r.Timeline.AssessmentCompleted = nil
		r.Timeline.PoliceLeftPos = arr(r, 200)
		r.Timeline.DetentionEnded = arr(r, 25*60)
		r.Outcome = pathwayv1.Outcome_OUTCOME_DISCHARGED_WITH_FOLLOWUP
	})
	add(m2, true)

	m3 := with(s136("metropolitan", "M3", "s1", d("2025-01-20T08:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_99_NOT_KNOWN
		r.AgeBand = pathwayv1.AgeBand_AGE_BAND_NOT_KNOWN
		r.Sex = pathwayv1.Sex_SEX_NOT_KNOWN
		r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_NOT_KNOWN
		r.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_NOT_KNOWN
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NONE_ALREADY_AT_POS
		r.AmbulanceRequested = false
		r.Timeline.AmbulanceRequested = nil
		r.Timeline.AmbulanceArrived = nil
		r.Timeline.HandoverAccepted = arr(r, 60)
		r.Timeline.AssessmentStarted = arr(r, 80)
		r.Timeline.AssessmentCompleted = arr(r, 200)
		r.Timeline.PoliceLeftPos = arr(r, 100)
		r.Timeline.DetentionEnded = arr(r, 30*60)
		r.Extension = &pathwayv1.Extension{Authorised: true, Hours: 12}
		r.Outcome = pathwayv1.Outcome_OUTCOME_NOT_KNOWN
	})
	add(m3, false)

	m4 := s136("metropolitan", "M4", "s8", d("2025-01-02T10:00:00Z"))
	add(m4, false)
	m4w := proto.Clone(m4).(*pathwayv1.IncidentRecord)
	m4w.Revision = 2
	m4w.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN
	f.later = append(f.later, store.Incident{Record: m4w})

	m5 := with(s136("metropolitan", "M5", "s4", d("2025-01-31T23:30:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN
		r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_M_BLACK_CARIBBEAN
		r.AgeBand = pathwayv1.AgeBand_AGE_BAND_18_24
		r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_NO_OTHER
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
		r.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_REQUESTED
		r.AmbulanceRequested = false
		r.Timeline.AmbulanceRequested = nil
		r.Timeline.AmbulanceArrived = nil
		r.Timeline.HandoverAccepted = arr(r, 20)
		r.Timeline.PoliceLeftPos = arr(r, 30)
		r.Timeline.AssessmentStarted = nil
		r.Timeline.AssessmentCompleted = nil
		r.Timeline.DetentionEnded = nil
		r.Outcome = pathwayv1.Outcome_OUTCOME_UNSPECIFIED
	})
	add(m5, false)
	m5b := with(proto.Clone(m5).(*pathwayv1.IncidentRecord), func(r *pathwayv1.IncidentRecord) {
		r.Revision = 2
		r.LadCode = lambeth
		r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_YES
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE
		r.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_UNSPECIFIED
		r.AmbulanceRequested = true
		T := r.GetTimeline().GetDetained().AsTime()
		r.Timeline.AmbulanceRequested = at(T, 1)
		r.Timeline.AmbulanceArrived = at(T, 41)
	})
	f.later = append(f.later, store.Incident{Record: m5b})

	add(with(s136("metropolitan", "M6", "s5", d("2025-01-15T09:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.IncidentType = pathwayv1.IncidentType_INCIDENT_TYPE_S135_1
		r.AgeBand = pathwayv1.AgeBand_AGE_BAND_35_44
		r.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION
		r.PosOdsOrg, r.PosOdsSite = "", ""
		r.PoliceStationConditionsMet = true
		r.InspectorAuthorised = true
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
		r.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_OTHER
		r.AmbulanceRequested = false
		r.Timeline.AmbulanceRequested = nil
		r.Timeline.AmbulanceArrived = nil
		r.Outcome = pathwayv1.Outcome_OUTCOME_ADMITTED_S3
	}), false)

	add(with(s136("metropolitan", "M7", "s2", d("2025-02-10T09:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_H_ASIAN_INDIAN
		r.AgeBand = pathwayv1.AgeBand_AGE_BAND_UNDER_18
		r.LadCode = camden
		r.Transfers = []*pathwayv1.PosTransfer{{
			Arrived: arr(r, 180), PosType: pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION,
		}}
		r.Timeline.PoliceLeftPos = arr(r, 60)
		r.Outcome = pathwayv1.Outcome_OUTCOME_OTHER
	}), false)

	add(s136("metropolitan", "M8", "s6", d("2024-06-01T10:00:00Z")), false)
	add(with(s136("metropolitan", "M9", "s6", d("2025-02-20T10:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NOT_KNOWN
		r.AmbulanceRequested = false
		r.Timeline.AmbulanceRequested = nil
		r.Timeline.AmbulanceArrived = nil
		r.Timeline.AssessmentStarted = arr(r, 200)
		r.Timeline.AssessmentCompleted = arr(r, 210)
		r.Timeline.DetentionEnded = arr(r, 215)
	}), false)
	add(s136("metropolitan", "M10", "s7", d("2024-01-15T10:00:00Z")), false)
	add(with(s136("metropolitan", "M11", "s7", d("2025-02-15T10:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_NO_OTHER
		r.Timeline.AmbulanceArrived = at(r.GetTimeline().GetDetained().AsTime(), 32)
		r.Timeline.HandoverAccepted = arr(r, 61)
		r.Timeline.PoliceLeftPos = arr(r, 75)
	}), false)

	add(with(rcrp("metropolitan", "R1", d("2025-01-07T10:00:00Z"), pathwayv1.Disposition_DISPOSITION_REFERRED_TO_PARTNER),
		func(r *pathwayv1.IncidentRecord) { r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_Z_NOT_STATED }), false)
	add(with(rcrp("metropolitan", "R2", d("2025-01-08T10:00:00Z"), pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED),
		func(r *pathwayv1.IncidentRecord) { r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_99_NOT_KNOWN }), false)
	add(with(rcrp("metropolitan", "R3", d("2025-02-02T10:00:00Z"), pathwayv1.Disposition_DISPOSITION_ADVICE_ONLY),
		func(r *pathwayv1.IncidentRecord) { r.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN }), false)
	add(with(rcrp("metropolitan", "R4", d("2025-01-09T10:00:00Z"), pathwayv1.Disposition_DISPOSITION_NO_FURTHER_ACTION),
		func(r *pathwayv1.IncidentRecord) { r.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN }), false)

	add(with(s136("city-of-london", "C1", "s4", d("2025-02-03T14:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_C_WHITE_OTHER
		r.LadCode = cityLAD
		T := r.GetTimeline().GetDetained().AsTime()
		r.Timeline.AmbulanceArrived = at(T, 12)
		r.Timeline.HandoverAccepted = arr(r, 30)
		r.Timeline.PoliceLeftPos = arr(r, 30)
		r.Timeline.AssessmentStarted = arr(r, 100)
	}), false)

	add(with(s136("btp", "B1", "s8", d("2025-01-12T18:00:00Z")), func(r *pathwayv1.IncidentRecord) {
		r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_N_BLACK_AFRICAN
		r.LadCode, r.RegionCode = manchester, northWest
		r.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT
		r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
		r.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_NOT_KNOWN
		r.AmbulanceRequested = false
		r.Timeline.AmbulanceRequested = nil
		r.Timeline.AmbulanceArrived = nil
		r.Timeline.HandoverAccepted = arr(r, 60)
		r.Timeline.PoliceLeftPos = arr(r, 150)
	}), false)
	add(with(rcrp("btp", "R5", d("2025-01-20T10:00:00Z"), pathwayv1.Disposition_DISPOSITION_ADVICE_ONLY),
		func(r *pathwayv1.IncidentRecord) { r.LadCode, r.RegionCode = manchester, northWest }), false)

	// Trust updates: M2 in two revisions (the latest, arr+70, counts), M3
	// whose force times take precedence over the trust's.
	hu := func(rec *pathwayv1.IncidentRecord, rev uint32, handover, assessment float64) store.HealthUpdate {
		u := &pathwayv1.HealthUpdate{
			SchemaVersion: 1, ForceId: rec.GetForceId(), IncidentRef: rec.GetIncidentRef(), Revision: rev,
			PosOdsSite: "RV5AA", HandoverAccepted: arr(rec, handover),
		}
		if assessment > 0 {
			u.AssessmentStarted = arr(rec, assessment)
		}
		return store.HealthUpdate{TrustID: "RV5", Update: u}
	}
	f.health = [][]store.HealthUpdate{
		{hu(m2, 1, 50, 0), hu(m3, 1, 65, 90)},
		{hu(m2, 2, 70, 300)},
	}

	sub := func(org, kind, received string, lag int, dry bool, stored uint32) store.Submission {
		return store.Submission{
			ID: token(org + received), OrgKind: kind, OrgID: org, Dataset: "incidents", ReceivedAt: d(received),
			DryRun: dry, Records: 5, Accepted: stored, Unchanged: 5 - stored, LagP50: time.Duration(lag) * time.Second,
			LagMax: time.Duration(lag) * time.Second,
		}
	}
	f.submissions = []store.Submission{
		sub("metropolitan", "force", "2025-01-03T10:00:00Z", 60, false, 5),
		sub("metropolitan", "force", "2025-01-04T10:00:00Z", 180, false, 2),
		sub("metropolitan", "force", "2025-01-05T10:00:00Z", 600, false, 1),
		sub("metropolitan", "force", "2025-01-06T10:00:00Z", 6000, true, 5),
		sub("metropolitan", "force", "2025-01-07T10:00:00Z", 0, false, 0),
		sub("metropolitan", "force", "2025-02-03T10:00:00Z", 120, false, 5),
		sub("metropolitan", "force", "2025-02-28T23:59:59Z", 300, false, 5),
		sub("city-of-london", "force", "2025-01-03T10:00:00Z", 30, false, 5),
		sub("btp", "force", "2025-01-31T10:00:00Z", 240, false, 5),
		sub("RV5", "trust", "2025-01-03T10:00:00Z", 900, false, 5),
	}
	return f
}

// loadFixture creates the raw tables in db and stores the fixture.
func loadFixture(t testing.TB, conn driver.Conn, db string, f fixture) {
	t.Helper()
	ctx := t.Context()
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chdb.Migrate(ctx, conn, db, migs, nil); err != nil {
		t.Fatal(err)
	}
	s := store.New(conn, db)
	received := ts(t, "2025-03-01T00:00:00Z")
	if err := s.InsertIncidents(ctx, "first", received, f.first); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertIncidents(ctx, "later", received, f.later); err != nil {
		t.Fatal(err)
	}
	for i, batch := range f.health {
		if err := s.InsertHealthUpdates(ctx, "health"+string(rune('a'+i)), received, batch); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range f.submissions {
		if err := s.LogSubmission(ctx, sub, nil); err != nil {
			t.Fatal(err)
		}
	}
}
