package integration_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/pathwayhub/pathwayhub/ingest/wire"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// fullRecord sets every field of the standard.
func fullRecord(t *testing.T) *pathwayv1.IncidentRecord {
	rec := s136(t)
	rec.ForceId = "btp"
	rec.Revision = 4
	rec.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_N_BLACK_AFRICAN
	rec.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS
	rec.PosOdsOrg, rec.PosOdsSite = "RV3", "RV3AA"
	rec.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_YES
	rec.ConsulteeRole = pathwayv1.ConsulteeRole_CONSULTEE_ROLE_AMHP
	rec.ConsultationChannel = pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_CONTROL_ROOM_PRACTITIONER
	rec.ArrestedForOffence = true
	rec.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
	rec.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_AVAILABLE_30MIN
	tl := rec.Timeline
	tl.HcpConsulted = ts("2025-06-01T10:20:00Z")
	tl.HandoverInitiated = ts("2025-06-01T11:15:00Z")
	tl.AssessmentStarted = ts("2025-06-01T13:00:00Z")
	tl.AssessmentCompleted = ts("2025-06-01T14:00:00Z")
	tl.DetentionEnded = ts("2025-06-02T20:00:00Z")
	rec.Transfers = []*pathwayv1.PosTransfer{{
		Arrived: ts("2025-06-01T15:00:00Z"), PosType: pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT,
		PosOdsOrg: "RJ1", PosOdsSite: "RJ121",
	}}
	rec.Extension = &pathwayv1.Extension{Authorised: true, Hours: 12, SuperintendentApproved: true}
	rec.PresenceLog = []*pathwayv1.PresenceEntry{
		{Time: ts("2025-06-01T11:52:00Z"), Actor: pathwayv1.PresenceActor_PRESENCE_ACTOR_NHS, Action: pathwayv1.PresenceAction_PRESENCE_ACTION_REQUESTED, Reason: pathwayv1.PresenceReason_PRESENCE_REASON_RISK_TO_LIFE_OR_SERIOUS_HARM},
		{Time: ts("2025-06-01T11:53:00Z"), Actor: pathwayv1.PresenceActor_PRESENCE_ACTOR_POLICE, Action: pathwayv1.PresenceAction_PRESENCE_ACTION_ACCEPTED},
	}
	rec.Outcome = pathwayv1.Outcome_OUTCOME_ADMITTED_S3
	return rec
}

func TestRoundTripPreservesEveryField(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := fullRecord(t)
	resp := h.mustSubmit(t, btpToken, rec)
	if got := statuses(resp); got != "ACCEPTED" {
		t.Fatalf("status = %s, errors %v", got, resp.GetResults()[0].GetErrors())
	}
	if w := resp.GetResults()[0].GetWarnings(); len(w) != 0 {
		t.Fatalf("unexpected warnings: %v", w)
	}

	var payload string
	var status, ethnicity, group, posType, pvReason, transferType string
	var ext, breach uint8
	if err := h.ch.QueryRow(t.Context(), `SELECT payload, status, ethnicity, ethnic_group, first_pos_type,
		police_vehicle_reason, transfer_pos_type[1], extension_hours, detention_breach
		FROM incidents WHERE incident_ref = ?`, rec.GetIncidentRef()).
		Scan(&payload, &status, &ethnicity, &group, &posType, &pvReason, &transferType, &ext, &breach); err != nil {
		t.Fatal(err)
	}
	stored := &pathwayv1.IncidentRecord{}
	if err := proto.Unmarshal([]byte(payload), stored); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, stored, protocmp.Transform()); diff != "" {
		t.Fatalf("stored record differs (-sent +stored):\n%s", diff)
	}
	got := []any{status, ethnicity, group, posType, pvReason, transferType, ext, breach}
	want := []any{"closed", "N", "black", "hbpos", "ambulance_not_available_30min", "emergency_department", uint8(12), uint8(0)}
	if !cmp.Equal(got, want) {
		t.Fatalf("columns = %v, want %v", got, want)
	}
	var detained, ended string
	if err := h.ch.QueryRow(t.Context(), "SELECT toString(detained), toString(detention_ended) FROM incidents WHERE incident_ref = ?", rec.GetIncidentRef()).Scan(&detained, &ended); err != nil {
		t.Fatal(err)
	}
	// The server's time zone may differ; compare through the proto values.
	if detained == "" || ended == "" {
		t.Fatal("timeline columns empty")
	}
}

func TestRetriedBatchChangesNothing(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	var recs []*pathwayv1.IncidentRecord
	for range 50 {
		recs = append(recs, s136(t))
	}
	first := h.mustSubmit(t, btpToken, recs...)
	if first.GetCounts().GetAccepted() != 50 {
		t.Fatalf("first: %v", first.GetCounts())
	}
	second := h.mustSubmit(t, btpToken, recs...)
	if c := second.GetCounts(); c.GetUnchanged() != 50 || c.GetAccepted() != 0 {
		t.Fatalf("retry: %v", c)
	}
	if n := h.count(t, "SELECT count() FROM incidents"); n != 50 {
		t.Fatalf("raw rows = %d, want 50 (a retry must write nothing)", n)
	}
	if n := h.storedIncidents(t); n != 50 {
		t.Fatalf("stored = %d, want 50", n)
	}
}

func TestRevisions(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := s136(t)
	at := func(rev uint32) *pathwayv1.IncidentRecord {
		r := proto.CloneOf(rec)
		r.Revision = rev
		return r
	}
	steps := []struct {
		rev  uint32
		want string
	}{{2, "ACCEPTED"}, {3, "UPDATED"}, {1, "STALE"}, {3, "UNCHANGED"}, {5, "UPDATED"}}
	for _, s := range steps {
		if got := statuses(h.mustSubmit(t, btpToken, at(s.rev))); got != s.want {
			t.Fatalf("revision %d: %s, want %s", s.rev, got, s.want)
		}
	}
	// Within one batch, later entries are judged against earlier ones.
	if got := statuses(h.mustSubmit(t, btpToken, at(7), at(6), at(7))); got != "UPDATED STALE UNCHANGED" {
		t.Fatalf("in-batch: %s", got)
	}
	var rev uint32
	if err := h.ch.QueryRow(t.Context(), "SELECT revision FROM incidents FINAL WHERE incident_ref = ?", rec.GetIncidentRef()).Scan(&rev); err != nil {
		t.Fatal(err)
	}
	if rev != 7 {
		t.Fatalf("stored revision %d, want 7", rev)
	}
	if n := h.storedIncidents(t); n != 1 {
		t.Fatalf("stored incidents = %d", n)
	}
}

func TestMixedBatchRejectsOnlyBadRecords(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	var recs []*pathwayv1.IncidentRecord
	for range 6 {
		recs = append(recs, s136(t))
	}
	recs[1].LadCode = "E10000001"
	recs[3].IncidentRef = "CAD/2025/000123" // a raw reference, not a token
	recs[4].Timeline.Detained = ts("2025-06-01T09:00:00Z")
	resp := h.mustSubmit(t, btpToken, recs...)
	if got := statuses(resp); got != "ACCEPTED REJECTED ACCEPTED REJECTED REJECTED ACCEPTED" {
		t.Fatalf("statuses: %s", got)
	}
	wantField := map[int]string{1: "lad_code string.pattern", 3: "incident_ref string.pattern", 4: "timeline.detained timestamp.order"}
	for i, want := range wantField {
		errs := resp.GetResults()[i].GetErrors()
		if len(errs) != 1 || errs[0].GetField()+" "+errs[0].GetCode() != want {
			t.Errorf("record %d: %v, want %s", i, errs, want)
		}
		if strings.Contains(errs[0].GetMessage(), "CAD/2025") {
			t.Errorf("record %d: message echoes the raw reference", i)
		}
	}
	if n := h.storedIncidents(t); n != 3 {
		t.Fatalf("stored = %d, want 3", n)
	}
	if n := h.count(t, "SELECT count() FROM rejections WHERE submission_id = ?", resp.GetSubmissionId()); n != 3 {
		t.Fatalf("rejection log rows = %d, want 3", n)
	}
	var accepted, rejected uint32
	if err := h.ch.QueryRow(t.Context(), "SELECT accepted, rejected FROM submissions WHERE submission_id = ?", resp.GetSubmissionId()).Scan(&accepted, &rejected); err != nil {
		t.Fatal(err)
	}
	if accepted != 3 || rejected != 3 {
		t.Fatalf("submission log: accepted %d rejected %d", accepted, rejected)
	}
}

func TestUnknownFieldsAreRejected(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	good, bad := s136(t), s136(t)
	// Field 999 carrying a name, as a newer or careless sender would put it on
	// the wire (binary protobuf keeps unknown fields).
	extra := protowire.AppendString(protowire.AppendTag(nil, 999, protowire.BytesType), "Jane Doe")
	bad.GetTimeline().ProtoReflect().SetUnknown(extra)
	resp := h.mustSubmit(t, btpToken, good, bad)
	if got := statuses(resp); got != "ACCEPTED REJECTED" {
		t.Fatalf("statuses %s", got)
	}
	if e := resp.GetResults()[1].GetErrors(); len(e) != 1 || e[0].GetField() != "timeline.#999" || e[0].GetCode() != "unknown_field" {
		t.Fatalf("errors %v", e)
	}

	// In JSON an unknown key inside a record rejects that record, naming
	// the key; one at the top level fails the whole request, and stores
	// nothing.
	status, text := postJSON(t, h, btpToken, `{"records":[{"schemaVersion":1,"name":"Jane Doe"}]}`)
	if status != http.StatusOK || !strings.Contains(text, `"field":"name"`) || !strings.Contains(text, `"code":"json.invalid"`) {
		t.Fatalf("JSON unknown field in a record: %d %s", status, text)
	}
	status, text = postJSON(t, h, btpToken, `{"records":[],"name":"Jane Doe"}`)
	if status != http.StatusBadRequest || !strings.Contains(text, "name") {
		t.Fatalf("JSON unknown field at the top: %d %s", status, text)
	}
	if n := h.storedIncidents(t); n != 1 {
		t.Fatalf("stored = %d, want 1", n)
	}
}

// A JSON batch is decoded record by record: a record with free text where
// an enum belongs, a negative revision, bytes that are not UTF-8 or an
// unknown key is rejected on its own, with its index and field, and the
// good records of the batch are stored. (Each once sank its whole batch.)
func TestBadJSONRecordsDoNotSinkTheirBatch(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	record := func(change func(map[string]any)) string {
		raw, err := protojson.Marshal(s136(t))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	good := record(func(map[string]any) {})
	records := []string{
		good,
		record(func(m map[string]any) { m["status"] = "closed" }),
		record(func(m map[string]any) { m["revision"] = -1 }),
		strings.Replace(record(func(m map[string]any) { m["ladCode"] = "XXXX" }), "XXXX", "\xff\xfe", 1),
		record(func(m map[string]any) { m["personName"] = "Jane Doe" }),
		record(func(map[string]any) {}),
	}
	status, text := postJSON(t, h, btpToken, `{"records":[`+strings.Join(records, ",")+`]}`)
	if status != http.StatusOK {
		t.Fatalf("the batch: %d %s", status, text)
	}
	var resp pathwayv1.SubmitIncidentsResponse
	if err := protojson.Unmarshal([]byte(text), &resp); err != nil {
		t.Fatal(err)
	}
	want := []struct{ status, field string }{{"ACCEPTED", ""}, {"REJECTED", "status"}, {"REJECTED", "revision"}, {"REJECTED", "ladCode"},
		{"REJECTED", "personName"}, {"ACCEPTED", ""}}
	for i, w := range want {
		r := resp.GetResults()[i]
		if r.GetIndex() != uint32(i) || !strings.HasSuffix(r.GetStatus().String(), w.status) {
			t.Errorf("record %d: %v, want %s", i, r, w.status)
			continue
		}
		if w.status == "REJECTED" && (len(r.GetErrors()) != 1 || r.GetErrors()[0].GetCode() != "json.invalid" ||
			(w.field != "" && r.GetErrors()[0].GetField() != w.field) || strings.Contains(r.GetErrors()[0].GetMessage(), "Jane")) {
			t.Errorf("record %d errors %v, want json.invalid on %q, without the value", i, r.GetErrors(), w.field)
		}
	}
	if n := h.storedIncidents(t); n != 2 {
		t.Errorf("stored = %d, want the 2 good records", n)
	}
}

func TestLegalChecksOverTheWire(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	policeStation := func(r *pathwayv1.IncidentRecord) {
		r.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION
		r.PosOdsOrg, r.PosOdsSite = "", ""
		r.PoliceStationConditionsMet, r.InspectorAuthorised = true, true
	}
	cases := []struct {
		name   string
		mutate func(*pathwayv1.IncidentRecord)
		field  string
		code   string
	}{
		{"police station for under-18", func(r *pathwayv1.IncidentRecord) {
			policeStation(r)
			r.AgeBand = pathwayv1.AgeBand_AGE_BAND_UNDER_18
		}, "first_pos_type", "legal.police_station_under_18"},
		{"police station without inspector", func(r *pathwayv1.IncidentRecord) {
			policeStation(r)
			r.InspectorAuthorised = false
		}, "inspector_authorised", "legal.police_station_conditions"},
		{"police station without conditions", func(r *pathwayv1.IncidentRecord) {
			policeStation(r)
			r.PoliceStationConditionsMet = false
		}, "police_station_conditions_met", "legal.police_station_conditions"},
		{"extension over 12 hours", func(r *pathwayv1.IncidentRecord) {
			r.Extension = &pathwayv1.Extension{Authorised: true, Hours: 13}
		}, "extension.hours", "uint32.gte_lte"},
		{"extension at police station without superintendent", func(r *pathwayv1.IncidentRecord) {
			policeStation(r)
			r.Extension = &pathwayv1.Extension{Authorised: true, Hours: 3}
		}, "extension.superintendent_approved", "legal.extension_superintendent"},
	}
	for _, c := range cases {
		rec := s136(t)
		c.mutate(rec)
		resp := h.mustSubmit(t, btpToken, rec)
		errs := resp.GetResults()[0].GetErrors()
		if statuses(resp) != "REJECTED" || len(errs) != 1 || errs[0].GetField() != c.field || errs[0].GetCode() != c.code {
			t.Errorf("%s: %s %v, want %s %s", c.name, statuses(resp), errs, c.field, c.code)
		}
	}
	// A lawful police-station detention is stored.
	lawful := s136(t)
	policeStation(lawful)
	if got := statuses(h.mustSubmit(t, btpToken, lawful)); got != "ACCEPTED" {
		t.Errorf("lawful police station: %s", got)
	}
	// A detention past 24 hours is stored and flagged.
	late := s136(t)
	late.Timeline.DetentionEnded = ts("2025-06-02T11:11:00Z")
	resp := h.mustSubmit(t, btpToken, late)
	if w := resp.GetResults()[0].GetWarnings(); statuses(resp) != "ACCEPTED" || len(w) != 1 || w[0].GetCode() != "detention_breach" {
		t.Fatalf("breach: %s %v", statuses(resp), w)
	}
	if n := h.count(t, "SELECT count() FROM incidents WHERE detention_breach = 1 AND incident_ref = ?", late.GetIncidentRef()); n != 1 {
		t.Fatalf("breach not flagged in storage")
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := s136(t)
	for _, tc := range []struct {
		token string
		want  connect.Code
	}{{"", connect.CodeUnauthenticated}, {"not-a-token", connect.CodeUnauthenticated}, {trustToken, connect.CodePermissionDenied}} {
		_, err := h.submit(t, tc.token, false, rec)
		if connect.CodeOf(err) != tc.want {
			t.Errorf("token %q: %v, want %s", tc.token, err, tc.want)
		}
	}
	req := connect.NewRequest(&pathwayv1.SubmitHealthUpdatesRequest{Updates: []*pathwayv1.HealthUpdate{{}}})
	req.Header().Set("Authorization", "Bearer "+btpToken)
	if _, err := h.client().SubmitHealthUpdates(t.Context(), req); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("force submitting health updates: %v", err)
	}
	if n := h.count(t, "SELECT count() FROM incidents"); n != 0 {
		t.Fatalf("stored %d rows without a valid credential", n)
	}
}

func TestForceIDComesFromTheCredential(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := s136(t)
	rec.ForceId = "metropolitan" // claimed, but the token is BTP's
	resp := h.mustSubmit(t, btpToken, rec)
	w := resp.GetResults()[0].GetWarnings()
	if statuses(resp) != "ACCEPTED" || len(w) != 1 || w[0].GetCode() != wire.CodeForceIDIgnored {
		t.Fatalf("%s %v", statuses(resp), w)
	}
	if n := h.count(t, "SELECT count() FROM incidents WHERE force_id = 'btp'"); n != 1 {
		t.Fatalf("stored under btp: %d", n)
	}
	if n := h.count(t, "SELECT count() FROM incidents WHERE force_id = 'metropolitan'"); n != 0 {
		t.Fatalf("stored under the claimed force: %d", n)
	}
	// The Met's own record with the same ref is a different incident.
	if got := statuses(h.mustSubmit(t, metToken, rec)); got != "ACCEPTED" {
		t.Fatalf("met: %s", got)
	}
}

func TestDryRunStoresNothing(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	good, bad := s136(t), s136(t)
	bad.RegionCode = "London"
	resp, err := h.submit(t, btpToken, true, good, bad)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.GetDryRun() || statuses(resp) != "ACCEPTED REJECTED" {
		t.Fatalf("dry run: %v %s", resp.GetDryRun(), statuses(resp))
	}
	if n := h.count(t, "SELECT count() FROM incidents"); n != 0 {
		t.Fatalf("dry run stored %d rows", n)
	}
	if n := h.count(t, "SELECT count() FROM submissions WHERE dry_run = 1"); n != 1 {
		t.Fatalf("dry run not logged: %d", n)
	}
	// The real submission afterwards is still new.
	if got := statuses(h.mustSubmit(t, btpToken, good)); got != "ACCEPTED" {
		t.Fatalf("after dry run: %s", got)
	}
}

func TestBatchLimits(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := s136(t)
	many := make([]*pathwayv1.IncidentRecord, wire.MaxRecords+1)
	for i := range many {
		many[i] = rec
	}
	_, err := h.submit(t, btpToken, false, many...)
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "10000") {
		t.Fatalf("too many records: %v", err)
	}
	if _, err := h.submit(t, btpToken, false); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("empty batch: %v", err)
	}
	// Over 16 MiB on the wire.
	big := proto.CloneOf(rec)
	big.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 999, protowire.BytesType), make([]byte, wire.MaxRequestBytes)))
	if _, err := h.submit(t, btpToken, false, big); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("too many bytes: %v", err)
	}
	if n := h.count(t, "SELECT count() FROM incidents"); n != 0 {
		t.Fatalf("stored %d rows from refused batches", n)
	}
}

func TestHealthUpdatesJoinTheIncident(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := s136(t)
	h.mustSubmit(t, metToken, rec)
	up := &pathwayv1.HealthUpdate{
		SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: rec.GetIncidentRef(), Revision: 1, PosOdsSite: "RAL01",
		HandoverAccepted: ts("2025-06-01T11:48:00Z"), AssessmentStarted: ts("2025-06-01T12:30:00Z"),
		AssessmentCompleted: ts("2025-06-01T13:30:00Z"), Outcome: pathwayv1.Outcome_OUTCOME_INFORMAL_ADMISSION,
	}
	send := func(u *pathwayv1.HealthUpdate) string {
		req := connect.NewRequest(&pathwayv1.SubmitHealthUpdatesRequest{Updates: []*pathwayv1.HealthUpdate{u}})
		req.Header().Set("Authorization", "Bearer "+ralToken) // the trust whose ED the person was taken to
		resp, err := h.client().SubmitHealthUpdates(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Msg.GetResults()[0].GetStatus().String()
	}
	if got := send(up); got != "RECORD_STATUS_ACCEPTED" {
		t.Fatalf("first: %s", got)
	}
	if got := send(up); got != "RECORD_STATUS_UNCHANGED" {
		t.Fatalf("retry: %s", got)
	}
	var forceOutcome, trustOutcome, trust string
	err := h.ch.QueryRow(t.Context(), `SELECT i.outcome, h.outcome, h.trust_id
		FROM (SELECT force_id, incident_ref, outcome FROM incidents FINAL) AS i
		ANY INNER JOIN (SELECT force_id, incident_ref, trust_id, outcome FROM health_updates FINAL) AS h
		USING (force_id, incident_ref)`).Scan(&forceOutcome, &trustOutcome, &trust)
	if err != nil {
		t.Fatal(err)
	}
	if forceOutcome != "discharged_with_followup" || trustOutcome != "informal_admission" || trust != "RAL" {
		t.Fatalf("joined: %s %s %s", forceOutcome, trustOutcome, trust)
	}
}

// postJSON sends a Connect unary call as JSON, the way curl would.
func postJSON(t *testing.T, h *hub, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.info.URL+"/pathway.v1.IngestService/SubmitIncidents", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPlainJSONAndReflection(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := fullRecord(t)
	doc, err := protojson.Marshal(&pathwayv1.SubmitIncidentsRequest{Records: []*pathwayv1.IncidentRecord{rec}})
	if err != nil {
		t.Fatal(err)
	}
	status, text := postJSON(t, h, btpToken, string(doc))
	if status != http.StatusOK {
		t.Fatalf("JSON submit: %d %s", status, text)
	}
	resp := &pathwayv1.SubmitIncidentsResponse{}
	if err := protojson.Unmarshal([]byte(text), resp); err != nil {
		t.Fatal(err)
	}
	if statuses(resp) != "ACCEPTED" {
		t.Fatalf("JSON submit: %s", text)
	}
	var payload string
	if err := h.ch.QueryRow(t.Context(), "SELECT payload FROM incidents WHERE incident_ref = ?", rec.GetIncidentRef()).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	stored := &pathwayv1.IncidentRecord{}
	if err := proto.Unmarshal([]byte(payload), stored); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, stored, protocmp.Transform()); diff != "" {
		t.Fatalf("JSON round trip (-sent +stored):\n%s", diff)
	}

	// gRPC reflection, as grpcurl and buf curl use it.
	h2c := &http.Client{Transport: &http.Transport{Protocols: new(http.Protocols)}}
	h2c.Transport.(*http.Transport).Protocols.SetUnencryptedHTTP2(true)
	rc := grpcreflect.NewClient(h2c, h.info.URL, connect.WithGRPC())
	stream := rc.NewStream(t.Context())
	defer func() { _, _ = stream.Close() }()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range names {
		found = found || n == "pathway.v1.IngestService"
	}
	if !found {
		t.Fatalf("reflection lists %v", names)
	}
	// The standard health check, as Connect JSON.
	hreq, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.info.URL+"/"+grpchealth.HealthV1ServiceName+"/Check", strings.NewReader("{}"))
	hreq.Header.Set("Content-Type", "application/json")
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	hbody, _ := io.ReadAll(hresp.Body)
	_ = hresp.Body.Close()
	if !strings.Contains(string(hbody), "SERVING") {
		t.Fatalf("health: %s", hbody)
	}
	status, text = getMetrics(t, h)
	if status != http.StatusOK || !strings.Contains(text, `pathwayhub_ingest_records_total{dataset="incidents",org="force/btp",reason="",result="accepted"} 1`) {
		t.Fatalf("metrics: %d\n%s", status, grepLines(text, "pathwayhub_"))
	}
}

func getMetrics(t *testing.T, h *hub) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.info.MetricsURL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A timestamp ClickHouse's DateTime cannot hold is rejected, naming the
// field, rather than stored as another time (1900 once became 2036); the
// good record beside it is stored.
func TestTimestampsOutsideDateTimeAreRejected(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	bad, good := s136(t), s136(t)
	bad.Timeline.CallReceived = ts("1900-01-01T00:00:00Z")
	resp := h.mustSubmit(t, metToken, bad, good)
	r := resp.GetResults()[0]
	if r.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED || len(r.GetErrors()) != 1 ||
		r.GetErrors()[0].GetField() != "timeline.call_received" || r.GetErrors()[0].GetCode() != "timestamp.out_of_range" {
		t.Fatalf("a call in 1900: %v", r)
	}
	if resp.GetResults()[1].GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED {
		t.Errorf("the good record beside it: %v", resp.GetResults()[1])
	}
	if n := h.count(t, "SELECT count() FROM incidents WHERE call_received < toDateTime('2000-01-01 00:00:00') OR call_received > toDateTime('2030-01-01 00:00:00')"); n != 0 {
		t.Errorf("%d incidents stored with an impossible call time", n)
	}
}

// What an integrator with curl meets: a request without a Content-Type is
// told what to send, and a JSON answer carries every field, zero values too
// (the first result's "index": 0).
func TestJSONIntegratorsAreToldWhatToSend(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.info.URL+"/pathway.v1.IngestService/SubmitIncidents", strings.NewReader(`{"records":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+btpToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(body), "application/json") {
		t.Errorf("no Content-Type: %d %q, want 415 saying what to send", resp.StatusCode, body)
	}
	doc, err := protojson.Marshal(&pathwayv1.SubmitIncidentsRequest{Records: []*pathwayv1.IncidentRecord{s136(t)}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	status, text := postJSON(t, h, btpToken, string(doc))
	if status != http.StatusOK || !strings.Contains(text, `"index":0`) {
		t.Errorf("dry run: %d %s, want the first result's index 0 written out", status, text)
	}
}
