package policy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

// TestRegoStrict is `opa check --strict` over the embedded policies and
// their tests.
func TestRegoStrict(t *testing.T) {
	t.Parallel()
	if err := policy.CheckRego(); err != nil {
		t.Fatal(err)
	}
}

// TestRegoUnitTests runs every test_ rule of rego/*_test.rego as a subtest.
func TestRegoUnitTests(t *testing.T) {
	t.Parallel()
	results, err := policy.RegoTests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no Rego tests ran")
	}
	packages := map[string]int{}
	for _, r := range results {
		packages[r.Name[:strings.LastIndex(r.Name, ".")]]++
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			if !r.Pass {
				t.Errorf("%s", r.Message)
			}
		})
	}
	for _, pkg := range []string{"data.pathway.submit_test", "data.pathway.read_test", "data.pathway.decision_test"} {
		if packages[pkg] == 0 {
			t.Errorf("no tests ran in %s", pkg)
		}
	}
	passed, failed, err := policy.RunRegoTests(t.Context())
	if err != nil || failed != 0 || passed != len(results) {
		t.Errorf("RunRegoTests = %d passed, %d failed, %v; want %d, 0, nil", passed, failed, err, len(results))
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	report, err := policy.Check(t.Context(), londonDir, measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	e, _ := newEngine(t, londonDir, nil)
	if report.Revision != e.Revision() || len(report.Agreements) != 2 || report.RegoPassed == 0 || report.RegoFailed != 0 {
		t.Errorf("report = %+v, engine revision %s", report, e.Revision())
	}

	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "x.yaml"), mustRead(t, "testdata/dates.bad.yaml"))
	report, err = policy.Check(t.Context(), bad, measures.IDs())
	if err == nil || !strings.Contains(err.Error(), `agreement "backwards": valid_until`) {
		t.Errorf("Check of a bad directory: %v", err)
	}
	if report.Revision != "" || report.RegoPassed == 0 {
		t.Errorf("report of a bad directory = %+v", report)
	}
}
