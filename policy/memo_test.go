package policy_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/pathwayhub/pathwayhub/policy"
)

// TestRememberedDecisionsAreDecisions checks what the engine's memo of
// outcomes must not change: a repeated question gets the same answer as
// the first, with its own id and audit; what a caller does to one answer
// does not leak into the next; and a reload answers from the new
// agreements at once.
func TestRememberedDecisionsAreDecisions(t *testing.T) {
	t.Parallel()
	audit := &recordingAuditor{}
	e, _ := newEngine(t, londonDir, audit)
	read := policy.Input{Action: policy.ActionRead, Org: "icb/QMJ"}
	first, err := e.Decide(t.Context(), read)
	if err != nil || !first.Allow || len(first.Grants) == 0 || len(first.Grants[0].LADs) == 0 {
		t.Fatalf("first decision: %+v, %v", first, err)
	}
	want := summary(first)
	first.Reasons[0], first.Grants[0].LADs[0] = "changed by the caller", "E09999999"
	again, err := e.Decide(t.Context(), read)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(again); !slices.Equal(got, want) {
		t.Errorf("the repeated decision:\n got %q\nwant %q", got, want)
	}
	if again.ID == first.ID {
		t.Error("the repeated decision has the first one's id")
	}
	if n := len(audit.seen()); n != 2 {
		t.Errorf("%d decisions audited, want 2", n)
	}

	// The same question under changed agreements.
	dir := t.TempDir()
	agreement := func(controllers string) string {
		return "agreements:\n  - id: pilot\n    title: Pilot\n    version: \"1\"\n    controllers: [" + controllers + "]\n" +
			"    datasets: [incidents]\n    valid_from: 2025-01-01\n    valid_until: 2026-12-31\n    retention: 1 year\n"
	}
	writeFile(t, filepath.Join(dir, "pilot.yaml"), agreement("force/kent, force/essex"))
	e, _ = newEngine(t, dir, nil)
	submit := policy.Input{Action: policy.ActionSubmit, Org: "force/essex", Dataset: policy.DatasetIncidents, Force: "essex"}
	for range 2 {
		if d, err := e.Decide(t.Context(), submit); err != nil || !d.Allow {
			t.Fatalf("essex as a controller: %+v, %v", d, err)
		}
	}
	writeFile(t, filepath.Join(dir, "pilot.yaml"), agreement("force/kent"))
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Decide(t.Context(), submit); err != nil || d.Allow {
		t.Errorf("essex after it left the agreement: %+v, %v", d, err)
	}
}

// summary is a decision's answer without its id and time.
func summary(d policy.Decision) []string {
	out := []string{boolString(d.Allow)}
	out = append(out, d.Reasons...)
	out = append(out, d.Agreements...)
	for _, g := range d.Grants {
		out = append(out, grantSummary(g))
		out = append(out, g.LADs...)
	}
	return out
}

func boolString(b bool) string {
	if b {
		return "allow"
	}
	return "deny"
}
