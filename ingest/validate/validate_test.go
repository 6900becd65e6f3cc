package validate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/ingest/validate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// fixedNow is the validator's clock in these tests: after every fixture time.
var fixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newValidator(t testing.TB) *validate.Validator {
	t.Helper()
	v, err := validate.New(validate.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type violation struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

type testCase struct {
	Name     string          `json:"name"`
	Patch    json.RawMessage `json:"patch"`
	Errors   []violation     `json:"errors"`
	Warnings []violation     `json:"warnings"`
}

// TestCases runs the declarative cases in testdata/cases.json: each patches
// the valid record in testdata/valid_s136.json (a JSON merge patch: null
// deletes) and lists exactly the errors and warnings expected.
func TestCases(t *testing.T) {
	t.Parallel()
	base := readJSON(t, "valid_s136.json")
	var cases []testCase
	if err := json.Unmarshal(mustRead(t, "cases.json"), &cases); err != nil {
		t.Fatal(err)
	}
	v := newValidator(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var patch map[string]any
			if err := json.Unmarshal(tc.Patch, &patch); err != nil {
				t.Fatal(err)
			}
			doc, err := json.Marshal(mergePatch(clone(base), patch))
			if err != nil {
				t.Fatal(err)
			}
			rec := &pathwayv1.IncidentRecord{}
			if err := protojson.Unmarshal(doc, rec); err != nil {
				t.Fatalf("fixture does not parse: %v", err)
			}
			report := v.Incident(rec)
			assertViolations(t, "errors", report.Errors, tc.Errors)
			assertViolations(t, "warnings", report.Warnings, tc.Warnings)
			if report.OK() != (len(tc.Errors) == 0) {
				t.Errorf("OK() = %v with %d expected errors", report.OK(), len(tc.Errors))
			}
			for _, e := range report.Errors {
				if e.GetMessage() == "" {
					t.Errorf("%s: empty message", e.GetField())
				}
			}
		})
	}
}

func TestBreachFlag(t *testing.T) {
	t.Parallel()
	rec := baseRecord(t)
	rec.Timeline.DetentionEnded = timestamppb.New(rec.GetTimeline().GetArrivedAtPos().AsTime().Add(25 * time.Hour))
	if r := newValidator(t).Incident(rec); !r.Breach || !r.OK() {
		t.Fatalf("breach=%v ok=%v, want a stored breach", r.Breach, r.OK())
	}
	deadline, ok := validate.DetentionDeadline(rec)
	if !ok || !deadline.Equal(rec.GetTimeline().GetArrivedAtPos().AsTime().Add(24*time.Hour)) {
		t.Fatalf("deadline = %v, %v", deadline, ok)
	}
}

func TestUnknownFieldsAtAnyDepth(t *testing.T) {
	t.Parallel()
	rec := baseRecord(t)
	// A field number the standard does not define, on the record and inside
	// the timeline and a presence entry, as a newer or hostile sender would
	// put them on the wire.
	unknown := protowire.AppendTag(nil, 999, protowire.BytesType)
	unknown = protowire.AppendString(unknown, "Jane Doe")
	rec.ProtoReflect().SetUnknown(unknown)
	rec.GetTimeline().ProtoReflect().SetUnknown(unknown)
	rec.GetPresenceLog()[1].ProtoReflect().SetUnknown(unknown)
	wire, err := proto.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	got := &pathwayv1.IncidentRecord{}
	if err := proto.Unmarshal(wire, got); err != nil {
		t.Fatal(err)
	}
	report := newValidator(t).Incident(got)
	assertViolations(t, "errors", report.Errors, []violation{
		{"#999", validate.CodeUnknownField},
		{"timeline.#999", validate.CodeUnknownField},
		{"presence_log[1].#999", validate.CodeUnknownField},
	})
	for _, e := range report.Errors {
		if strings.Contains(e.GetMessage(), "Jane") {
			t.Fatalf("message echoes content: %q", e.GetMessage())
		}
	}
}

func TestMessagesNeverEchoValues(t *testing.T) {
	t.Parallel()
	rec := baseRecord(t)
	rec.IncidentRef = "CAD-2025-SECRET-REF"
	rec.SubjectToken = "Jane Doe 01/02/1990"
	report := newValidator(t).Incident(rec)
	if report.OK() {
		t.Fatal("identifier-bearing record accepted")
	}
	for _, e := range report.Errors {
		if strings.Contains(e.GetMessage(), "SECRET") || strings.Contains(e.GetMessage(), "Jane") {
			t.Errorf("%s: message echoes the submitted value: %q", e.GetField(), e.GetMessage())
		}
	}
}

func TestHealthUpdate(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	at := func(s string) *timestamppb.Timestamp {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return timestamppb.New(ts)
	}
	good := &pathwayv1.HealthUpdate{
		SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: strings.Repeat("ab", 32), Revision: 1,
		PosOdsSite: "RV5AA", HandoverAccepted: at("2025-03-01T23:10:00Z"),
		AssessmentStarted: at("2025-03-02T01:00:00Z"), AssessmentCompleted: at("2025-03-02T02:30:00Z"),
		Outcome: pathwayv1.Outcome_OUTCOME_ADMITTED_S2,
	}
	if r := v.HealthUpdate(good); !r.OK() {
		t.Fatalf("valid update rejected: %v", r.Errors)
	}
	bad := proto.CloneOf(good)
	bad.AssessmentCompleted = at("2025-03-02T00:30:00Z")
	bad.ForceId = "Metropolitan Police"
	bad.Revision = 0
	assertViolations(t, "errors", v.HealthUpdate(bad).Errors, []violation{
		{"assessment_completed", validate.CodeTimestampOrder},
		{"force_id", "string.pattern"},
		{"revision", "uint32.gte"},
	})

	// The rules the proto states for health updates, one case each.
	for _, tc := range []struct {
		name   string
		change func(u *pathwayv1.HealthUpdate)
		want   []violation
	}{
		{"assessment started before handover", func(u *pathwayv1.HealthUpdate) {
			u.AssessmentStarted, u.AssessmentCompleted = at("2025-03-01T23:00:00Z"), at("2025-03-01T23:30:00Z")
		}, []violation{{"assessment_started", validate.CodeTimestampOrder}}},
		{"a presence entry by the police", func(u *pathwayv1.HealthUpdate) {
			u.PresenceRequests = []*pathwayv1.PresenceEntry{{Time: at("2025-03-01T23:20:00Z"), Actor: pathwayv1.PresenceActor_PRESENCE_ACTOR_POLICE,
				Action: pathwayv1.PresenceAction_PRESENCE_ACTION_REQUESTED, Reason: pathwayv1.PresenceReason_PRESENCE_REASON_RISK_TO_LIFE_OR_SERIOUS_HARM}}
		}, []violation{{"presence_requests[0].actor", validate.CodeNotApplicable}}},
		{"a time before 1970", func(u *pathwayv1.HealthUpdate) { u.HandoverAccepted = at("1969-12-31T23:59:59Z") },
			[]violation{{"handover_accepted", validate.CodeTimestampOutOfRange}}},
	} {
		u := proto.CloneOf(good)
		tc.change(u)
		assertViolations(t, tc.name, v.HealthUpdate(u).Errors, tc.want)
	}
	var r validate.Report
	validate.OwnSite(&r, "RAL", "RV3AA")
	validate.OwnSite(&r, "RAL", "RAL01")
	assertViolations(t, "a trust naming another trust's site", r.Errors, []violation{{"pos_ods_site", validate.CodeSiteNotOwn}})
}

func assertViolations(t *testing.T, kind string, got []*pathwayv1.FieldViolation, want []violation) {
	t.Helper()
	g := make([]string, 0, len(got))
	for _, v := range got {
		g = append(g, v.GetField()+" "+v.GetCode())
	}
	w := make([]string, 0, len(want))
	for _, v := range want {
		w = append(w, v.Field+" "+v.Code)
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got  %q\n want %q", kind, g, w)
	}
}

func baseRecord(t testing.TB) *pathwayv1.IncidentRecord {
	t.Helper()
	rec := &pathwayv1.IncidentRecord{}
	if err := protojson.Unmarshal(mustRead(t, "valid_s136.json"), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustRead(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(target, patch map[string]any) map[string]any {
	for k, pv := range patch {
		if pv == nil {
			delete(target, k)
			continue
		}
		pm, isMap := pv.(map[string]any)
		tm, targetIsMap := target[k].(map[string]any)
		if isMap && targetIsMap {
			target[k] = mergePatch(tm, pm)
			continue
		}
		target[k] = pv
	}
	return target
}
