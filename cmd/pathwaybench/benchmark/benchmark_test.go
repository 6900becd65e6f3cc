package benchmark_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/cmd/pathwaybench/benchmark"
)

// TestSmoke runs the whole harness at a tiny scale and checks that the
// report is written and well-formed. It asserts nothing about speed.
func TestSmoke(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, path, err := benchmark.Run(t.Context(), benchmark.Config{
		Dir: dir, Clients: 2, BatchSizes: []int{10, 50}, RecordsPerClient: 100,
		NationalIncidents: 3000, Years: 1, PanelRuns: 2, CostRecords: 50, CostTime: 20 * time.Millisecond,
		FreshnessPeriod: 2 * time.Second, FreshnessTrickle: 2 * time.Second, IdleWindow: time.Second,
		Command: []string{"go", "test", "./cmd/pathwaybench/benchmark"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "report.md") {
		t.Errorf("report path %q", path)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep benchmark.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"machine", rep.Machine.NProc > 0 && rep.Machine.ClickHouseVersion != "" && rep.Machine.GoVersion != ""},
		{"command", len(rep.Command) == 3},
		{"ingest per batch size", len(rep.Ingest) == 2},
		{"peak rss", rep.HubPeakRSSBytes > 0},
		{"costs", len(rep.Costs) == 6},
		{"national", rep.National != nil && rep.National.Incidents > 0 && rep.National.Recipients == 11 && rep.National.DiskBytes > 0},
		{"panels", rep.National != nil && len(rep.National.Panels) > 0},
		{"annual return", rep.National != nil && rep.National.Return != nil && rep.National.Return.Runs == 3 && rep.National.Return.Seconds > 0},
		{"targets", len(rep.Targets) == 9},
		{"freshness", rep.Freshness != nil && rep.Freshness.Samples > 0 && rep.Freshness.Unseen == 0 && rep.Freshness.FullPublishSeconds > 0 && rep.Freshness.IdleSeconds > 0},
		{"cluster", rep.Cluster != nil && rep.Cluster.Records == 2*100 && rep.Cluster.Single.RecordsPerSecond > 0 &&
			rep.Cluster.Replicated.RecordsPerSecond > 0 && rep.Cluster.Replicated.FullPublishSeconds > 0},
		{"notes", len(rep.Notes) > 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("report.json: %s missing or wrong", c.name)
		}
	}
	for _, in := range rep.Ingest {
		if in.Records != 2*100 || in.HubRecordsPerSecond <= 0 || in.CeilingRecordsPerSecond <= 0 || in.Ratio <= 0 {
			t.Errorf("ingest at batch %d: %+v", in.BatchSize, in)
		}
	}
	if rep.National != nil {
		// Every audience's generated dashboards, each panel query timed.
		audiences, kinds := map[string]bool{}, map[string]bool{}
		for _, p := range rep.National.Panels {
			audiences[p.Audience], kinds[p.Dashboard] = true, true
			if p.Error != "" || p.Runs != 2 {
				t.Errorf("%s %q %s as %s: runs %d, error %q", p.Dashboard, p.Panel, p.RefID, p.Audience, p.Runs, p.Error)
			}
		}
		if len(audiences) != 11 {
			t.Errorf("panel queries ran as %d audiences, want the 11 recipients: %v", len(audiences), audiences)
		}
		for _, k := range []string{"overview", "performance", "comparison", "feed"} {
			if !kinds[k] {
				t.Errorf("no panel query of the %s dashboards ran (ran: %v)", k, kinds)
			}
		}
	}
	for _, tg := range rep.Targets {
		// The smoke does not run batch 1,000, so that ratio stays unmeasured.
		if want := !strings.Contains(tg.Name, "batch 1,000"); tg.Measured != want {
			t.Errorf("target %q: measured %v", tg.Name, tg.Measured)
		}
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Commands", "## Machine", "## Targets", "## End-to-end ingest", "## Cost per record", "## National scale", "## Notes"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
