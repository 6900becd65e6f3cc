package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

// inForce is a time at which both London agreements are in force.
var inForce = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// copyDir copies the regular files of src (not recursively) into a fresh
// temporary directory and returns it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), string(data))
	}
	return dst
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newEngine builds an engine over dir with its own registry and a clock at
// inForce.
func newEngine(t testing.TB, dir string, auditor policy.Auditor) (*policy.Engine, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	e, err := policy.New(t.Context(), policy.Options{Measures: measures.IDs(),
		Dir:        dir,
		Registerer: reg,
		Auditor:    auditor,
		Now:        func() time.Time { return inForce },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, reg
}

// recordingAuditor keeps every decision it is given, or fails with err.
type recordingAuditor struct {
	mu        sync.Mutex
	decisions []policy.Decision
	err       error
}

func (a *recordingAuditor) Audit(_ context.Context, d policy.Decision) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.decisions = append(a.decisions, d)
	return nil
}

func (a *recordingAuditor) seen() []policy.Decision {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]policy.Decision(nil), a.decisions...)
}

// metricValue gathers reg and returns the value of the counter or gauge
// series name{labels}, or -1 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m.GetLabel(), labels) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func reloads(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	return metricValue(t, reg, "pathwayhub_policy_reloads_total", map[string]string{"outcome": outcome})
}

func labelsMatch(pairs []*dto.LabelPair, want map[string]string) bool {
	for _, p := range pairs {
		if v, ok := want[p.GetName()]; ok && v != p.GetValue() {
			return false
		}
	}
	return true
}

// histogramCount returns the sample count of a histogram without labels.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// assertRevisionInfo checks that revision_info has exactly one series, for
// rev, with value 1.
func assertRevisionInfo(t *testing.T, reg *prometheus.Registry, rev string) {
	t.Helper()
	want := `
# HELP pathwayhub_policy_revision_info The policy revision in force (value 1).
# TYPE pathwayhub_policy_revision_info gauge
pathwayhub_policy_revision_info{revision="` + rev + `"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pathwayhub_policy_revision_info"); err != nil {
		t.Error(err)
	}
}
