package policy_test

import (
	"strings"
	"testing"

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
