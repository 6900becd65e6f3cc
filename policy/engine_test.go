package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

func TestDecideLondon(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, londonDir, nil)
	for _, tc := range []struct {
		name   string
		in     policy.Input
		allow  bool
		reason string
	}{
		{"force submits its incidents", policy.Input{Action: policy.ActionSubmit, Org: "force/metropolitan", Dataset: policy.DatasetIncidents, Force: "metropolitan"},
			true, `allowed under agreement "london-rcrp"`},
		{"force cannot submit another's", policy.Input{Action: policy.ActionSubmit, Org: "force/metropolitan", Dataset: policy.DatasetIncidents, Force: "btp"},
			false, `force/metropolitan may submit only its own incidents, not those of force "btp"`},
		{"trust at its own place of safety", policy.Input{Action: policy.ActionSubmit, Org: "trust/RV3", Dataset: policy.DatasetHealthUpdates, Force: "metropolitan", PosOrg: "RV3"},
			true, `allowed under agreement "london-rcrp"`},
		{"trust at another trust's place of safety", policy.Input{Action: policy.ActionSubmit, Org: "trust/RV3", Dataset: policy.DatasetHealthUpdates, Force: "metropolitan", PosOrg: "RJ1"},
			false, `not yours to update: trust/RV3 may update only incidents at its own places of safety`},
		{"trust with unknown place of safety", policy.Input{Action: policy.ActionSubmit, Org: "trust/RV3", Dataset: policy.DatasetHealthUpdates, Force: "metropolitan"},
			false, `not yours to update: trust/RV3 may update only incidents at its own places of safety`},
		{"national trust for a Met incident", policy.Input{Action: policy.ActionSubmit, Org: "trust/RXV", Dataset: policy.DatasetHealthUpdates, Force: "metropolitan", PosOrg: "RXV"},
			false, `names both trust/RXV and force/metropolitan as controllers`},
		{"icb reads", policy.Input{Action: policy.ActionRead, Org: "icb/QMJ"},
			true, `granted to recipient "ncl_icb" under agreement "london-rcrp"`},
		{"icb may not export", policy.Input{Action: policy.ActionExport, Org: "icb/QMF"},
			false, `recipient "nel_icb" of agreement "london-rcrp" may not export`},
		{"unknown reader", policy.Input{Action: policy.ActionRead, Org: "icb/QXX"},
			false, `icb/QXX is not a recipient of any agreement`},
		{"unknown action", policy.Input{Action: "delete", Org: "force/btp"},
			false, `unknown action`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := e.Decide(t.Context(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tc.allow {
				t.Errorf("Allow = %v, want %v (reasons %q)", d.Allow, tc.allow, d.Reasons)
			}
			if !slices.ContainsFunc(d.Reasons, func(r string) bool { return strings.Contains(r, tc.reason) }) {
				t.Errorf("reasons %q do not contain %q", d.Reasons, tc.reason)
			}
			if !d.Time.Equal(inForce) || !d.Input.Time.Equal(inForce) {
				t.Errorf("zero input time not filled from Now: %v, %v", d.Time, d.Input.Time)
			}
			if !d.Allow && (len(d.Agreements) > 0 || len(d.Grants) > 0) {
				t.Errorf("a denial rests on agreements %v with grants %v", d.Agreements, d.Grants)
			}
		})
	}
}

func TestDecideReadGrant(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, londonDir, nil)
	d, err := e.Decide(t.Context(), policy.Input{Action: policy.ActionRead, Org: "region/london", Dataset: policy.DatasetHealthUpdates})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allow || len(d.Grants) != 1 {
		t.Fatalf("Allow = %v, grants = %+v", d.Allow, d.Grants)
	}
	g := d.Grants[0]
	want := policy.Grant{
		Agreement: "london-rcrp", Recipient: "london_regional_lead", Org: "region/london",
		Role: "regional_lead", Granularity: "aggregate",
		Purpose:   "Compare London forces and places of safety to steer the RCRP programme.",
		Datasets:  []string{"incidents", "health_updates"},
		Regions:   []string{"E12000007"},
		Measures:  measures.IDs(),
		Threshold: 7, Rounding: 5,
		Retention:  policy.Retention{Count: 24, Unit: "months"},
		Export:     true,
		ValidUntil: time.Date(2029, 3, 31, 0, 0, 0, 0, time.UTC),
	}
	if !equalGrant(g, want) {
		t.Errorf("grant =\n%+v\nwant\n%+v", g, want)
	}
	if !slices.Equal(d.Agreements, []string{"london-rcrp"}) {
		t.Errorf("Agreements = %v", d.Agreements)
	}
}

func equalGrant(a, b policy.Grant) bool {
	return a.Agreement == b.Agreement && a.Recipient == b.Recipient && a.Org == b.Org &&
		a.Role == b.Role && a.Purpose == b.Purpose && a.Granularity == b.Granularity &&
		slices.Equal(a.Datasets, b.Datasets) && slices.Equal(a.Forces, b.Forces) &&
		slices.Equal(a.Regions, b.Regions) && slices.Equal(a.LADs, b.LADs) &&
		slices.Equal(a.Measures, b.Measures) && slices.Equal(a.Fields, b.Fields) &&
		a.Threshold == b.Threshold && a.Rounding == b.Rounding && a.Retention == b.Retention &&
		a.Export == b.Export && a.ValidUntil.Equal(b.ValidUntil)
}

func TestDecideExpiredLondon(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, londonDir, nil)
	for _, tc := range []struct {
		name  string
		at    time.Time
		allow bool
	}{
		// 23:30 UTC on 31 March 2029 is already 1 April in London (BST).
		{"after the last day in London", time.Date(2029, 3, 31, 23, 30, 0, 0, time.UTC), false},
		{"the last day in London", time.Date(2029, 3, 31, 22, 30, 0, 0, time.UTC), true},
		{"a year later", time.Date(2030, 4, 1, 12, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, in := range []policy.Input{
				{Action: policy.ActionSubmit, Org: "force/city-of-london", Dataset: policy.DatasetIncidents, Force: "city-of-london", Time: tc.at},
				{Action: policy.ActionRead, Org: "icb/QMJ", Time: tc.at},
			} {
				d, err := e.Decide(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allow != tc.allow {
					t.Errorf("%s: Allow = %v, want %v (%q)", in.Action, d.Allow, tc.allow, d.Reasons)
				}
				if want := `agreement "london-rcrp" expired on 2029-03-31`; !tc.allow && !slices.Contains(d.Reasons, want) {
					t.Errorf("%s: reasons %q, want %q", in.Action, d.Reasons, want)
				}
			}
		})
	}
}

func TestAuditorReceivesEveryDecision(t *testing.T) {
	t.Parallel()
	audit := &recordingAuditor{}
	e, _ := newEngine(t, londonDir, audit)
	inputs := []policy.Input{
		{Action: policy.ActionSubmit, Org: "force/btp", Dataset: policy.DatasetIncidents, Force: "btp"},
		{Action: policy.ActionSubmit, Org: "trust/RV3", Dataset: policy.DatasetHealthUpdates, Force: "btp", PosOrg: "RKE"},
		{Action: policy.ActionRead, Org: "icb/QMJ"},
		{Action: policy.ActionExport, Org: "icb/QMF"},
		{Action: policy.ActionRead, Org: "icb/QXX"},
	}
	var made []policy.Decision
	for range 3 {
		for _, in := range inputs {
			d, err := e.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, d)
		}
	}
	seen := audit.seen()
	if len(seen) != len(made) {
		t.Fatalf("auditor saw %d decisions, want %d", len(seen), len(made))
	}
	ids := map[string]bool{}
	hexID := regexp.MustCompile(`^[A-Z2-7]{26}$`) // crypto/rand.Text
	for i, d := range seen {
		if d.ID != made[i].ID || d.Allow != made[i].Allow {
			t.Errorf("decision %d: audited %s/%v, returned %s/%v", i, d.ID, d.Allow, made[i].ID, made[i].Allow)
		}
		if !hexID.MatchString(d.ID) || ids[d.ID] {
			t.Errorf("decision %d: id %q is not a fresh 128-bit hex id", i, d.ID)
		}
		ids[d.ID] = true
		if d.Revision != e.Revision() {
			t.Errorf("decision %d: revision %q, engine %q", i, d.Revision, e.Revision())
		}
	}
}

func TestAuditorFailureFailsDecide(t *testing.T) {
	t.Parallel()
	errDown := errors.New("audit table unavailable")
	e, reg := newEngine(t, londonDir, &recordingAuditor{err: errDown})
	d, err := e.Decide(t.Context(), policy.Input{Action: policy.ActionSubmit, Org: "force/btp", Dataset: policy.DatasetIncidents, Force: "btp"})
	if !errors.Is(err, errDown) {
		t.Fatalf("err = %v, want it to wrap %v", err, errDown)
	}
	if d.Allow || d.ID != "" {
		t.Errorf("a failed decision came back as %+v", d)
	}
	// The decision was made, and counted, even though it could not be
	// recorded.
	if got := metricValue(t, reg, "pathwayhub_policy_decisions_total", nil); got != 1 {
		t.Errorf("decisions_total = %v, want 1", got)
	}
}

func TestDecisionMetrics(t *testing.T) {
	t.Parallel()
	e, reg := newEngine(t, londonDir, nil)
	for _, in := range []policy.Input{
		{Action: policy.ActionSubmit, Org: "force/btp", Dataset: policy.DatasetIncidents, Force: "btp"},
		{Action: policy.ActionSubmit, Org: "force/btp", Dataset: policy.DatasetIncidents, Force: "btp"},
		{Action: policy.ActionSubmit, Org: "force/kent", Dataset: policy.DatasetIncidents, Force: "kent"},
		{Action: policy.ActionRead, Org: "icb/QMJ"},
	} {
		if _, err := e.Decide(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP pathwayhub_policy_decisions_total Policy decisions made, by action and outcome.
# TYPE pathwayhub_policy_decisions_total counter
pathwayhub_policy_decisions_total{action="read",allow="true"} 1
pathwayhub_policy_decisions_total{action="submit",allow="false"} 1
pathwayhub_policy_decisions_total{action="submit",allow="true"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pathwayhub_policy_decisions_total"); err != nil {
		t.Error(err)
	}
	if got := histogramCount(t, reg, "pathwayhub_policy_decision_seconds"); got != 4 {
		t.Errorf("decision_seconds count = %d, want 4", got)
	}
}

func TestReloadFailureKeepsBundle(t *testing.T) {
	t.Parallel()
	dir := copyDir(t, londonDir)
	e, reg := newEngine(t, dir, nil)
	rev := e.Revision()
	in := policy.Input{Action: policy.ActionRead, Org: "icb/QMJ"}
	before, err := e.Decide(t.Context(), in)
	if err != nil || !before.Allow {
		t.Fatalf("before: %+v, %v", before, err)
	}

	// A typo in one file, and a removed recipient in another: the whole
	// bundle is refused, so ncl_icb keeps its access.
	writeFile(t, filepath.Join(dir, "london-rcrp.yaml"),
		strings.Replace(mustRead(t, filepath.Join(londonDir, "london-rcrp.yaml")), "id: ncl_icb", "id: NCL", 1))
	writeFile(t, filepath.Join(dir, "extra.yaml"), "agreements:\n  - id: broken\n    valid_until: someday\n")
	err = e.Reload(t.Context())
	if err == nil || !strings.Contains(err.Error(), `recipients[1].id: "NCL"`) {
		t.Fatalf("Reload error = %v", err)
	}
	if e.Revision() != rev {
		t.Errorf("revision changed to %s after a failed reload", e.Revision())
	}
	after, err := e.Decide(t.Context(), in)
	if err != nil || !after.Allow || after.Revision != rev || !equalGrant(after.Grants[0], before.Grants[0]) {
		t.Errorf("after a failed reload: %+v, %v", after, err)
	}
	if got := reloads(t, reg, "failure"); got != 1 {
		t.Errorf("failure reloads = %v, want 1", got)
	}
	if got := reloads(t, reg, "success"); got != 1 {
		t.Errorf("success reloads = %v, want 1 (the initial load)", got)
	}
	assertRevisionInfo(t, reg, rev)

	// Mending it swaps in a new revision.
	if err := os.Remove(filepath.Join(dir, "extra.yaml")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "london-rcrp.yaml"),
		strings.Replace(mustRead(t, filepath.Join(londonDir, "london-rcrp.yaml")), "id: ncl_icb", "id: ncl_icb_2026", 1))
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.Revision() == rev {
		t.Error("revision unchanged after a successful reload of changed files")
	}
	assertRevisionInfo(t, reg, e.Revision())
	d, err := e.Decide(t.Context(), in)
	if err != nil || !d.Allow || d.Grants[0].Recipient != "ncl_icb_2026" || d.Revision != e.Revision() {
		t.Errorf("after reload: %+v, %v", d, err)
	}
}

func TestRevisionDependsOnContentOnly(t *testing.T) {
	t.Parallel()
	a, _ := newEngine(t, londonDir, nil)
	b, _ := newEngine(t, copyDir(t, londonDir), nil)
	if a.Revision() != b.Revision() || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(a.Revision()) {
		t.Errorf("revisions %q and %q of the same files", a.Revision(), b.Revision())
	}
	dir := copyDir(t, londonDir)
	writeFile(t, filepath.Join(dir, "btp-national-health.yaml"),
		mustRead(t, filepath.Join(londonDir, "btp-national-health.yaml"))+"# a comment changes the revision\n")
	c, _ := newEngine(t, dir, nil)
	if c.Revision() == a.Revision() {
		t.Error("revision unchanged after a file changed")
	}
}

func TestNewFailsOnBadAgreements(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.yaml"), mustRead(t, "testdata/lad.bad.yaml"))
	_, err := policy.New(t.Context(), policy.Options{Measures: measures.IDs(), Dir: dir})
	if err == nil || !strings.Contains(err.Error(), `"E0900001" is not an ONS LAD code`) {
		t.Fatalf("New error = %v", err)
	}
	if _, err := policy.New(t.Context(), policy.Options{Measures: measures.IDs()}); err == nil {
		t.Error("New without Dir succeeded")
	}
}

func TestAgreementsInForce(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, londonDir, nil)
	as := e.Agreements()
	if len(as) != 2 || as[0].ID != "btp-national-health" || as[1].ID != "london-rcrp" {
		t.Fatalf("Agreements = %v", as)
	}
	as[0].ID = "changed"
	if e.Agreements()[0].ID != "btp-national-health" {
		t.Error("Agreements returned the engine's own slice")
	}
}

// TestWatchSeesAChangeMadeBeforeItStarted: a file written after the bundle
// was loaded and before Watch added its watches raises no event; Watch
// compares the files with the bundle when it starts. Unchanged files cost
// no reload.
func TestWatchSeesAChangeMadeBeforeItStarted(t *testing.T) {
	t.Parallel()
	for _, broken := range []bool{false, true} {
		dir := copyDir(t, londonDir)
		reg := prometheus.NewRegistry()
		e, err := policy.New(t.Context(), policy.Options{Measures: measures.IDs(), Dir: dir, Registerer: reg, WatchDebounce: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if broken {
			writeFile(t, filepath.Join(dir, "broken.yaml"), "agreements: [")
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- e.Watch(ctx) }()
		time.Sleep(500 * time.Millisecond) // the debounce, many times over
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := 0.0
		if broken {
			want = 1
		}
		if got := reloads(t, reg, "failure"); got != want {
			t.Errorf("broken file written before Watch (%v): %v failed reloads, want %v", broken, got, want)
		}
		if got := reloads(t, reg, "success"); got != 1 {
			t.Errorf("broken file written before Watch (%v): %v successful loads, want the first only", broken, got)
		}
	}
}

func TestWatchReloadsOnChange(t *testing.T) {
	t.Parallel()
	dir := copyDir(t, londonDir)
	reg := prometheus.NewRegistry()
	e, err := policy.New(t.Context(), policy.Options{Measures: measures.IDs(), Dir: dir, Registerer: reg, WatchDebounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	rev := e.Revision()
	// Watch may not have added its watches yet, so keep touching the file
	// until the change is seen.
	sub := filepath.Join(dir, "national")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	body := mustRead(t, "testdata/minimal.good.yaml")
	waitFor(t, func() bool {
		writeFile(t, filepath.Join(sub, "kent.yaml"), body+"# "+time.Now().String()+"\n")
		return e.Revision() != rev
	})
	if !slices.ContainsFunc(e.Agreements(), func(a policy.Agreement) bool { return a.ID == "kent-submit-only" }) {
		t.Error("the new agreement is not in force")
	}
	// Let reloads of the earlier writes settle on the files as they now are.
	settled, err := policy.New(t.Context(), policy.Options{Measures: measures.IDs(), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.Revision() == settled.Revision() })

	rev = e.Revision()
	failures := reloads(t, reg, "failure")
	writeFile(t, filepath.Join(sub, "kent.yaml"), "agreements: [")
	waitFor(t, func() bool { return reloads(t, reg, "failure") > failures })
	if e.Revision() != rev {
		t.Error("a broken file changed the revision")
	}
}

// waitFor polls cond until it holds or the test's deadline nears.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
