package export_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/ingest/export"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

func ts(s string) *timestamppb.Timestamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

// baseRecord is what baseRow must give.
func baseRecord(t *testing.T) *pathwayv1.IncidentRecord {
	t.Helper()
	_, incidentKey := keys(t)
	ref, err := incidentKey.IncidentRef("INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	return &pathwayv1.IncidentRecord{
		SchemaVersion:    1,
		ForceId:          testForce,
		IncidentRef:      ref,
		Revision:         1,
		Status:           pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN,
		IncidentType:     pathwayv1.IncidentType_INCIDENT_TYPE_S136,
		RcrpCategory:     pathwayv1.RcrpCategory_RCRP_CATEGORY_S136_HANDOVER,
		RcrpThreshold:    pathwayv1.RcrpThreshold_RCRP_THRESHOLD_RISK_TO_LIFE_OR_SERIOUS_HARM,
		Disposition:      pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED,
		AgeBand:          pathwayv1.AgeBand_AGE_BAND_25_34,
		Sex:              pathwayv1.Sex_SEX_FEMALE,
		Ethnicity:        pathwayv1.Ethnicity_ETHNICITY_B_WHITE_IRISH,
		LadCode:          "E09000007",
		RegionCode:       "E12000007",
		FirstPosType:     pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS,
		ConveyanceMethod: pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE,
		Timeline:         &pathwayv1.Timeline{CallReceived: ts("2025-03-01T10:00:00Z")},
	}
}

type columnCase struct {
	column string
	value  string
	// native, when set, is the value as a native JSON value (number,
	// boolean, array) for a second NDJSON variant.
	native any
	want   func(t *testing.T, r *pathwayv1.IncidentRecord)
}

func columnCases() []columnCase {
	tl := func(f func(*pathwayv1.Timeline)) func(*testing.T, *pathwayv1.IncidentRecord) {
		return func(_ *testing.T, r *pathwayv1.IncidentRecord) { f(r.Timeline) }
	}
	return []columnCase{
		{column: "incident_number", value: " btp/25 0042 ", want: func(t *testing.T, r *pathwayv1.IncidentRecord) {
			_, k := keys(t)
			ref, err := k.IncidentRef("BTP250042")
			if err != nil {
				t.Fatal(err)
			}
			r.IncidentRef = ref
		}},
		{column: "incident_number", value: "12345", native: 12345, want: func(t *testing.T, r *pathwayv1.IncidentRecord) {
			_, k := keys(t)
			r.IncidentRef, _ = k.IncidentRef("12345")
		}},
		{column: "person_id", value: "485 777 3456", want: func(t *testing.T, r *pathwayv1.IncidentRecord) {
			k, _ := keys(t)
			tok, err := k.SubjectToken("4857773456")
			if err != nil {
				t.Fatal(err)
			}
			r.SubjectToken = tok
		}},
		{column: "person_id", value: "", want: func(*testing.T, *pathwayv1.IncidentRecord) {}},
		{column: "revision", value: "7", native: 7, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) { r.Revision = 7 }},
		{column: "status", value: "withdrawn", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN
		}},
		{column: "incident_type", value: "s135_1", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.IncidentType = pathwayv1.IncidentType_INCIDENT_TYPE_S135_1
		}},
		{column: "incident_type", value: "RCRP_Call", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.IncidentType = pathwayv1.IncidentType_INCIDENT_TYPE_RCRP_CALL
		}},
		{column: "rcrp_category", value: "concern_for_welfare", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.RcrpCategory = pathwayv1.RcrpCategory_RCRP_CATEGORY_CONCERN_FOR_WELFARE
		}},
		{column: "rcrp_threshold", value: "not_met", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.RcrpThreshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_NOT_MET
		}},
		{column: "disposition", value: "referred_to_partner", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Disposition = pathwayv1.Disposition_DISPOSITION_REFERRED_TO_PARTNER
		}},
		{column: "age_band", value: "under_18", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.AgeBand = pathwayv1.AgeBand_AGE_BAND_UNDER_18
		}},
		{column: "age_band", value: "18_24", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.AgeBand = pathwayv1.AgeBand_AGE_BAND_18_24
		}},
		{column: "age_band", value: "65_plus", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.AgeBand = pathwayv1.AgeBand_AGE_BAND_65_PLUS
		}},
		{column: "sex", value: "not_stated", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Sex = pathwayv1.Sex_SEX_NOT_STATED
		}},
		{column: "ethnicity", value: "A", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_A_WHITE_BRITISH
		}},
		{column: "ethnicity", value: "s", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_S_OTHER
		}},
		{column: "ethnicity", value: "Z", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_Z_NOT_STATED
		}},
		{column: "ethnicity", value: "99", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Ethnicity = pathwayv1.Ethnicity_ETHNICITY_99_NOT_KNOWN
		}},
		{column: "lad_code", value: "w06000015", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) { r.LadCode = "W06000015" }},
		{column: "region_code", value: "W92000004", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) { r.RegionCode = "W92000004" }},
		{column: "first_pos_type", value: "emergency_department", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT
		}},
		{column: "pos_ods_org", value: "RV3", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) { r.PosOdsOrg = "RV3" }},
		{column: "pos_ods_site", value: "rv3aa", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) { r.PosOdsSite = "RV3AA" }},
		{column: "hcp_consulted", value: "no_not_practicable", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_NO_NOT_PRACTICABLE
		}},
		{column: "consultee_role", value: "occupational_therapist", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.ConsulteeRole = pathwayv1.ConsulteeRole_CONSULTEE_ROLE_OCCUPATIONAL_THERAPIST
		}},
		{column: "consultation_channel", value: "control_room_practitioner", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.ConsultationChannel = pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_CONTROL_ROOM_PRACTITIONER
		}},
		{column: "police_station_conditions_met", value: "yes", native: true, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.PoliceStationConditionsMet = true
		}},
		{column: "inspector_authorised", value: "TRUE", native: true, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.InspectorAuthorised = true
		}},
		{column: "arrested_for_offence", value: "1", native: true, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.ArrestedForOffence = true
		}},
		{column: "arrested_for_offence", value: "no", native: false, want: func(*testing.T, *pathwayv1.IncidentRecord) {}},
		{column: "conveyance_method", value: "police_vehicle", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
		}},
		{column: "ambulance_requested", value: "true", native: true, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.AmbulanceRequested = true
		}},
		{column: "police_vehicle_reason", value: "ambulance_not_available_30min", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.PoliceVehicleReason = pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_AVAILABLE_30MIN
		}},
		{column: "call_received", value: "2025-06-01T11:00:00+01:00", want: tl(func(tl *pathwayv1.Timeline) {
			tl.CallReceived = ts("2025-06-01T10:00:00Z")
		})},
		{column: "deployed", value: "2025-03-01T10:01:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.Deployed = ts("2025-03-01T10:01:00Z") })},
		{column: "hcp_consulted_at", value: "2025-03-01T10:02:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.HcpConsulted = ts("2025-03-01T10:02:00Z") })},
		{column: "detained", value: "2025-03-01T05:03:00-05:00", want: tl(func(tl *pathwayv1.Timeline) { tl.Detained = ts("2025-03-01T10:03:00Z") })},
		{column: "ambulance_requested_at", value: "2025-03-01T10:04:00Z", want: tl(func(tl *pathwayv1.Timeline) {
			tl.AmbulanceRequested = ts("2025-03-01T10:04:00Z")
		})},
		{column: "ambulance_arrived", value: "2025-03-01T10:05:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.AmbulanceArrived = ts("2025-03-01T10:05:00Z") })},
		{column: "arrived_at_pos", value: "2025-03-01T10:06:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.ArrivedAtPos = ts("2025-03-01T10:06:00Z") })},
		{column: "handover_initiated", value: "2025-03-01T10:07:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.HandoverInitiated = ts("2025-03-01T10:07:00Z") })},
		{column: "handover_accepted", value: "2025-03-01T10:08:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.HandoverAccepted = ts("2025-03-01T10:08:00Z") })},
		{column: "police_left_pos", value: "2025-03-01T10:09:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.PoliceLeftPos = ts("2025-03-01T10:09:00Z") })},
		{column: "assessment_started", value: "2025-03-01T10:10:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.AssessmentStarted = ts("2025-03-01T10:10:00Z") })},
		{column: "assessment_completed", value: "2025-03-01T10:11:00Z", want: tl(func(tl *pathwayv1.Timeline) {
			tl.AssessmentCompleted = ts("2025-03-01T10:11:00Z")
		})},
		{column: "detention_ended", value: "2025-03-01T10:12:00Z", want: tl(func(tl *pathwayv1.Timeline) { tl.DetentionEnded = ts("2025-03-01T10:12:00Z") })},
		{column: "extension_authorised", value: "yes", native: true, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Extension = &pathwayv1.Extension{Authorised: true}
		}},
		{column: "extension_authorised", value: "false", native: false, want: func(*testing.T, *pathwayv1.IncidentRecord) {}},
		{column: "extension_hours", value: "6", native: 6, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Extension = &pathwayv1.Extension{Hours: 6}
		}},
		{column: "extension_hours", value: "0", native: 0, want: func(*testing.T, *pathwayv1.IncidentRecord) {}},
		{column: "extension_superintendent_approved", value: "Yes", native: true, want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Extension = &pathwayv1.Extension{SuperintendentApproved: true}
		}},
		{column: "outcome", value: "discharged_no_followup", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.Outcome = pathwayv1.Outcome_OUTCOME_DISCHARGED_NO_FOLLOWUP
		}},
		{column: "revision_reason", value: "correction", want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
			r.RevisionReason = pathwayv1.RevisionReason_REVISION_REASON_CORRECTION
		}},
		{
			column: "transfers",
			value:  "2025-03-01T12:00:00Z|emergency_department|RAL|RAL01; 2025-03-01T15:30:00+01:00|police_station ;",
			native: []map[string]any{
				{"arrived": "2025-03-01T12:00:00Z", "pos_type": "emergency_department", "pos_ods_org": "RAL", "pos_ods_site": "RAL01"},
				{"arrived": "2025-03-01T15:30:00+01:00", "pos_type": "police_station", "pos_ods_org": nil},
			},
			want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
				r.Transfers = []*pathwayv1.PosTransfer{
					{Arrived: ts("2025-03-01T12:00:00Z"), PosType: pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT, PosOdsOrg: "RAL", PosOdsSite: "RAL01"},
					{Arrived: ts("2025-03-01T14:30:00Z"), PosType: pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION},
				}
			},
		},
		{
			column: "presence_log",
			value:  "2025-03-01T11:00:00Z|nhs|requested|risk_to_life_or_serious_harm;2025-03-01T11:05:00Z|police|declined|;2025-03-01T11:10:00Z|police|left",
			native: []map[string]any{
				{"time": "2025-03-01T11:00:00Z", "actor": "nhs", "action": "requested", "reason": "risk_to_life_or_serious_harm"},
				{"time": "2025-03-01T11:05:00Z", "actor": "police", "action": "declined", "reason": ""},
				{"action": "left", "actor": "police", "time": "2025-03-01T11:10:00Z"},
			},
			want: func(_ *testing.T, r *pathwayv1.IncidentRecord) {
				r.PresenceLog = []*pathwayv1.PresenceEntry{
					{Time: ts("2025-03-01T11:00:00Z"), Actor: pathwayv1.PresenceActor_PRESENCE_ACTOR_NHS, Action: pathwayv1.PresenceAction_PRESENCE_ACTION_REQUESTED, Reason: pathwayv1.PresenceReason_PRESENCE_REASON_RISK_TO_LIFE_OR_SERIOUS_HARM},
					{Time: ts("2025-03-01T11:05:00Z"), Actor: pathwayv1.PresenceActor_PRESENCE_ACTOR_POLICE, Action: pathwayv1.PresenceAction_PRESENCE_ACTION_DECLINED},
					{Time: ts("2025-03-01T11:10:00Z"), Actor: pathwayv1.PresenceActor_PRESENCE_ACTOR_POLICE, Action: pathwayv1.PresenceAction_PRESENCE_ACTION_LEFT},
				}
			},
		},
		{column: "presence_log", value: "", native: []any{}, want: func(*testing.T, *pathwayv1.IncidentRecord) {}},
	}
}

// TestEveryColumnRoundTrips sets one column at a time on top of the required
// columns and checks that CSV, NDJSON with string values and NDJSON with
// native JSON values all give exactly the expected record.
func TestEveryColumnRoundTrips(t *testing.T) {
	t.Parallel()
	for _, c := range columnCases() {
		t.Run(c.column+"="+c.value, func(t *testing.T) {
			t.Parallel()
			want := baseRecord(t)
			c.want(t, want)
			in := baseRow().with(c.column, c.value)

			encodings := map[string]struct {
				f    export.Format
				data string
			}{
				"csv":           {export.FormatCSV, csvOf(t, in)},
				"ndjson":        {export.FormatNDJSON, ndjsonOf(t, nil, in)},
				"ndjson-native": {export.FormatNDJSON, ndjsonOf(t, map[string]any{c.column: c.native}, in)},
			}
			if c.native == nil {
				delete(encodings, "ndjson-native")
			}
			for name, enc := range encodings {
				got := readAll(t, enc.f, enc.data)
				if len(got) != 1 || got[0].err != nil {
					t.Fatalf("%s: got %d results, first error %v", name, len(got), firstErr(got))
				}
				if !proto.Equal(got[0].rec, want) {
					t.Errorf("%s:\n got %v\nwant %v", name, got[0].rec, want)
				}
			}
		})
	}
}

func firstErr(rs []result) error {
	for _, r := range rs {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// TestColumnCasesCoverFormatAndRecord checks that the round-trip table
// exercises every column, and that together the expected records populate
// every field of IncidentRecord and its nested messages, so no field lacks a
// column.
func TestColumnCasesCoverFormatAndRecord(t *testing.T) {
	t.Parallel()
	tested := map[string]bool{}
	populated := map[string]bool{}
	for _, c := range columnCases() {
		tested[c.column] = true
		want := baseRecord(t)
		c.want(t, want)
		collectSet(want.ProtoReflect(), "", populated)
	}
	for _, name := range export.Columns() {
		if !tested[name] {
			t.Errorf("column %s has no round-trip case", name)
		}
	}
	all := map[string]bool{}
	collectFields((&pathwayv1.IncidentRecord{}).ProtoReflect().Descriptor(), "", all)
	for name := range all {
		if !populated[name] {
			t.Errorf("field %s is set by no column", name)
		}
	}
	if len(export.Columns()) != 45 {
		t.Errorf("%d columns, want 45", len(export.Columns()))
	}
	if !slices.Contains(export.RequiredColumns(), "incident_number") || slices.Contains(export.RequiredColumns(), "person_id") {
		t.Errorf("RequiredColumns() = %v", export.RequiredColumns())
	}
}

const timestampName = "google.protobuf.Timestamp"

func collectSet(m protoreflect.Message, prefix string, out map[string]bool) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		out[name] = true
		if md := fd.Message(); md != nil && md.FullName() != timestampName {
			if fd.IsList() {
				for i := range v.List().Len() {
					collectSet(v.List().Get(i).Message(), name+".", out)
				}
			} else {
				collectSet(v.Message(), name+".", out)
			}
		}
		return true
	})
}

func collectFields(md protoreflect.MessageDescriptor, prefix string, out map[string]bool) {
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := prefix + string(fd.Name())
		out[name] = true
		if sub := fd.Message(); sub != nil && sub.FullName() != timestampName {
			collectFields(sub, name+".", out)
		}
	}
}

// TestCodes checks the derived code tables against the data standard's names.
func TestCodes(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"status":                {"open", "closed", "withdrawn"},
		"incident_type":         {"s136", "s135_1", "s135_2", "rcrp_call"},
		"age_band":              {"under_18", "18_24", "25_34", "35_44", "45_54", "55_64", "65_plus", "not_known"},
		"ethnicity":             {"A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"},
		"police_vehicle_reason": {"ambulance_not_available_30min", "ambulance_not_requested", "ambulance_diverted", "ambulance_crew_refused", "other", "not_known"},
		"presence_log.actor":    {"police", "nhs"},
		"transfers.pos_type":    {"hbpos", "emergency_department", "police_station", "private_home", "other", "not_known"},
		"revision":              nil,
		"no_such_column":        nil,
	}
	for column, want := range cases {
		if got := export.Codes(column); !slices.Equal(got, want) {
			t.Errorf("Codes(%q) = %v, want %v", column, got, want)
		}
	}
}
