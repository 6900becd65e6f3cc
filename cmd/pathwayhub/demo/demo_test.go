package demo_test

import (
	"bytes"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/cmd/pathwayhub/demo"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb/sqlrecord"
)

// runDemo runs the demo briefly (two months of history, a second of live
// trickle) in a temporary data directory and returns what it said.
func runDemo(t *testing.T, cluster bool, hubCommand ...string) string {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Agreements = filepath.Join("..", "..", "..", demo.Agreements)
	cfg.LogLevel = "warn"
	var out bytes.Buffer
	err := demo.Run(t.Context(), demo.Options{
		Config: cfg, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})), Out: &out,
		Months: 2, Seed: 1, LiveFor: time.Second, Speed: 60, Cluster: cluster, HubCommand: hubCommand,
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	return out.String()
}

// TestDemoRuns runs `pathwayhub demo` end to end on a managed ClickHouse:
// it publishes the aggregate shares, shows the commissioner's view, the
// national lead's view by region (with the forces of other regions the
// national agreement brings) and the evidence link.
func TestDemoRuns(t *testing.T) {
	t.Parallel()
	out := runDemo(t, false)
	for _, want := range []string{"Shares published", "ncl_icb", "What North Central London ICB sees", "Evidence for North Central London ICB",
		"west-midlands", "npcc_mh_lead", "What the NPCC's national lead sees", "West Midlands ", "North West ", "London ",
		"The Met's Home Office return for", "first place of safety: Police station", "The Met's supervisors approved"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo did not say %q:\n%s", want, out)
		}
	}
}

// TestClusterDemoRuns runs `pathwayhub demo --cluster`: two hubs, each
// the pathwayhub command in its own process (so either can be killed), on
// two replicas; one of them holds the publishing lease and publishes.
func TestClusterDemoRuns(t *testing.T) {
	// The statements go to a cluster, which the replay on chDB cannot
	// have: none is recorded (the hubs' processes inherit this).
	t.Setenv(sqlrecord.EnvDir, "")
	bin := filepath.Join(t.TempDir(), "pathwayhub")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/pathwayhub/pathwayhub/cmd/pathwayhub").CombinedOutput(); err != nil {
		t.Fatalf("build the hub: %v\n%s", err, out)
	}
	out := runDemo(t, true, bin)
	for _, want := range []string{"ZooKeeper 127.0.0.1:", "ClickHouse replica 2:", "Hub 1 is serving", "Hub 2 is serving", "(pid ",
		"holds the publishing lease", "Shares published", "ncl_icb", "What North Central London ICB sees"} {
		if !strings.Contains(out, want) {
			t.Errorf("the cluster demo did not say %q:\n%s", want, out)
		}
	}
}
