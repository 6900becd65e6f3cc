package export_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/ingest/export"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

const (
	sampleCSV    = "testdata/sample.csv"
	sampleNDJSON = "testdata/sample.ndjson"
)

// sampleRaw returns the raw incident numbers and person ids of the sample,
// read with encoding/csv independently of the package.
func sampleRaw(t *testing.T) (incidents, persons []string) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(readFile(t, sampleCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, h := range rows[0] {
		idx[h] = i
	}
	for _, r := range rows[1:] {
		incidents = append(incidents, r[idx["incident_number"]])
		persons = append(persons, r[idx["person_id"]])
	}
	return incidents, persons
}

// sampleRecords reads a sample file, failing on any error.
func sampleRecords(t *testing.T, path string) ([]*pathwayv1.IncidentRecord, []int) {
	t.Helper()
	f, err := export.FormatFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*pathwayv1.IncidentRecord
	var lines []int
	for _, r := range readAll(t, f, readFile(t, path)) {
		if r.err != nil {
			t.Fatalf("%s: %v", path, r.err)
		}
		recs = append(recs, r.rec)
		lines = append(lines, r.line)
	}
	return recs, lines
}

// TestSamplesParseAndAgree reads both sample files: no errors, the same
// records from both, tokens of the raw identifiers, the right lines.
func TestSamplesParseAndAgree(t *testing.T) {
	t.Parallel()
	fromCSV, csvLines := sampleRecords(t, sampleCSV)
	fromNDJSON, ndLines := sampleRecords(t, sampleNDJSON)
	if len(fromCSV) != 6 || len(fromNDJSON) != 6 {
		t.Fatalf("%d CSV and %d NDJSON records, want 6 each", len(fromCSV), len(fromNDJSON))
	}
	shared, incidentKey := keys(t)
	incidents, persons := sampleRaw(t)
	for i := range fromCSV {
		if !proto.Equal(fromCSV[i], fromNDJSON[i]) {
			t.Errorf("row %d differs:\n csv    %v\n ndjson %v", i+1, fromCSV[i], fromNDJSON[i])
		}
		if csvLines[i] != i+2 || ndLines[i] != i+1 {
			t.Errorf("row %d: lines %d (CSV) and %d (NDJSON)", i+1, csvLines[i], ndLines[i])
		}
		rec := fromCSV[i]
		if want, _ := incidentKey.IncidentRef(incidents[i]); rec.GetIncidentRef() != want {
			t.Errorf("row %d: incident_ref %s, want %s", i+1, rec.GetIncidentRef(), want)
		}
		wantSubject := ""
		if persons[i] != "" {
			wantSubject, _ = shared.SubjectToken(persons[i])
		}
		if rec.GetSubjectToken() != wantSubject {
			t.Errorf("row %d: subject_token %q, want %q", i+1, rec.GetSubjectToken(), wantSubject)
		}
		if rec.GetSchemaVersion() != 1 || rec.GetForceId() != testForce {
			t.Errorf("row %d: schema_version %d force_id %q", i+1, rec.GetSchemaVersion(), rec.GetForceId())
		}
	}
}

// TestSampleIsRealistic keeps the sample a fair example: every scenario is
// there, timestamps are in 2025 and in the order of the pathway, and the
// legal rules hold.
func TestSampleIsRealistic(t *testing.T) {
	t.Parallel()
	recs, _ := sampleRecords(t, sampleCSV)
	scenarios := map[string]func(*pathwayv1.IncidentRecord) bool{
		"s136 at an HBPoS by ambulance": func(r *pathwayv1.IncidentRecord) bool {
			return r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS &&
				r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE
		},
		"ED by police vehicle with a reason": func(r *pathwayv1.IncidentRecord) bool {
			return r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT &&
				r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
		},
		"RCRP concern for welfare referred to partner": func(r *pathwayv1.IncidentRecord) bool {
			return r.GetRcrpCategory() == pathwayv1.RcrpCategory_RCRP_CATEGORY_CONCERN_FOR_WELFARE &&
				r.GetDisposition() == pathwayv1.Disposition_DISPOSITION_REFERRED_TO_PARTNER
		},
		"police station, conditions met, inspector authorised": func(r *pathwayv1.IncidentRecord) bool {
			return r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION &&
				r.GetPoliceStationConditionsMet() && r.GetInspectorAuthorised()
		},
		"6-hour extension": func(r *pathwayv1.IncidentRecord) bool {
			return r.GetExtension().GetAuthorised() && r.GetExtension().GetHours() == 6
		},
		"transfers and presence log": func(r *pathwayv1.IncidentRecord) bool {
			return len(r.GetTransfers()) > 0 && len(r.GetPresenceLog()) > 0
		},
	}
	for name, match := range scenarios {
		found := false
		for _, r := range recs {
			found = found || match(r)
		}
		if !found {
			t.Errorf("no sample row for %s", name)
		}
	}
	for i, r := range recs {
		checkPathway(t, i+1, r)
	}
}

func checkPathway(t *testing.T, row int, r *pathwayv1.IncidentRecord) {
	t.Helper()
	tl := r.GetTimeline()
	named := []struct {
		name string
		ts   *timestamppb.Timestamp
	}{
		{"call_received", tl.GetCallReceived()},
		{"deployed", tl.GetDeployed()},
		{"hcp_consulted_at", tl.GetHcpConsulted()},
		{"detained", tl.GetDetained()},
		{"ambulance_requested_at", tl.GetAmbulanceRequested()},
		{"ambulance_arrived", tl.GetAmbulanceArrived()},
		{"arrived_at_pos", tl.GetArrivedAtPos()},
		{"handover_initiated", tl.GetHandoverInitiated()},
		{"handover_accepted", tl.GetHandoverAccepted()},
		{"police_left_pos", tl.GetPoliceLeftPos()},
	}
	// The chain: each set time is not before any earlier set time.
	var prev *timestamppb.Timestamp
	prevName := ""
	for _, n := range named {
		if n.ts == nil {
			continue
		}
		if y := n.ts.AsTime().Year(); y != 2025 {
			t.Errorf("row %d: %s is in %d", row, n.name, y)
		}
		if prev != nil && n.ts.AsTime().Before(prev.AsTime()) {
			t.Errorf("row %d: %s before %s", row, n.name, prevName)
		}
		prev, prevName = n.ts, n.name
	}
	after := func(a, b *timestamppb.Timestamp, what string) {
		if a != nil && b != nil && b.AsTime().Before(a.AsTime()) {
			t.Errorf("row %d: %s", row, what)
		}
	}
	after(tl.GetArrivedAtPos(), tl.GetAssessmentStarted(), "assessment started before arrival")
	after(tl.GetAssessmentStarted(), tl.GetAssessmentCompleted(), "assessment completed before it started")
	after(tl.GetDetained(), tl.GetDetentionEnded(), "detention ended before it began")
	if a, e := tl.GetArrivedAtPos(), tl.GetDetentionEnded(); a != nil && e != nil {
		limit := 24*time.Hour + time.Duration(r.GetExtension().GetHours())*time.Hour
		if e.AsTime().Sub(a.AsTime()) > limit {
			t.Errorf("row %d: detention longer than %v", row, limit)
		}
	}
	for _, tr := range r.GetTransfers() {
		after(tl.GetArrivedAtPos(), tr.GetArrived(), "transfer before arrival at the first place of safety")
	}
	var last *timestamppb.Timestamp
	for _, p := range r.GetPresenceLog() {
		after(tl.GetArrivedAtPos(), p.GetTime(), "presence entry before arrival")
		after(last, p.GetTime(), "presence log out of order")
		last = p.GetTime()
	}
	if r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION {
		if r.GetAgeBand() == pathwayv1.AgeBand_AGE_BAND_UNDER_18 || !r.GetPoliceStationConditionsMet() || !r.GetInspectorAuthorised() {
			t.Errorf("row %d: unlawful police station use", row)
		}
	}
	isPoliceVehicle := r.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
	if hasReason := r.GetPoliceVehicleReason() != 0; hasReason != isPoliceVehicle {
		t.Errorf("row %d: police_vehicle_reason given %v for police vehicle %v", row, hasReason, isPoliceVehicle)
	}
}
