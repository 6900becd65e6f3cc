package benchmark

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Report is everything one run measured.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Command is the command line of the run; HubCommand is the hub's.
	Command    []string `json:"command"`
	HubCommand []string `json:"hub_command,omitempty"`
	Machine    Machine  `json:"machine"`
	Ingest     []Ingest `json:"ingest"`
	// HubPeakRSSBytes is the hub's VmHWM after the ingest runs;
	// HubInProcess says it was measured on the harness's own process.
	HubPeakRSSBytes int64      `json:"hub_peak_rss_bytes"`
	HubInProcess    bool       `json:"hub_in_process"`
	Costs           []Cost     `json:"costs"`
	National        *National  `json:"national,omitempty"`
	Freshness       *Freshness `json:"freshness,omitempty"`
	Cluster         *Cluster   `json:"cluster,omitempty"`
	Targets         []Target   `json:"targets"`
	Notes           []string   `json:"notes"`
}

// Machine describes where the run happened.
type Machine struct {
	NProc             int    `json:"nproc"`
	CPU               string `json:"cpu"`
	GoVersion         string `json:"go_version"`
	ClickHouseVersion string `json:"clickhouse_version"`
	OS                string `json:"os"`
}

// Latency is a distribution summary in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Ingest is one batch size's end-to-end ingest against its ceiling.
type Ingest struct {
	BatchSize int `json:"batch_size"`
	Clients   int `json:"clients"`
	Records   int `json:"records"`
	// Hub is through the hub over Connect; Ceiling is the same rows
	// inserted straight into ClickHouse with clickhouse-go batches, at the
	// same batch size and concurrency.
	HubRecordsPerSecond     float64 `json:"hub_records_per_second"`
	HubBatch                Latency `json:"hub_batch_latency"`
	CeilingRecordsPerSecond float64 `json:"ceiling_records_per_second"`
	CeilingBatch            Latency `json:"ceiling_batch_latency"`
	Ratio                   float64 `json:"ratio"`
}

// Cost is the cost of one operation per record (or per decision).
type Cost struct {
	Name        string  `json:"name"`
	Unit        string  `json:"unit"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// National is the national-scale measurement.
type National struct {
	Incidents int64  `json:"incidents"`
	Forces    int    `json:"forces"`
	Years     int    `json:"years"`
	Shape     string `json:"shape"`
	// Reused is true when the data came from an earlier run's kept
	// ClickHouse (-reuse), so the load was not measured.
	Reused         bool    `json:"reused,omitempty"`
	LoadSeconds    float64 `json:"load_seconds"`
	GenerateSecond float64 `json:"generate_seconds"`
	// InsertRowsPerSecond is rows over the time spent inserting alone.
	InsertRowsPerSecond float64 `json:"insert_rows_per_second"`
	DiskBytes           int64   `json:"disk_bytes"`
	RawDiskBytes        int64   `json:"raw_disk_bytes"`
	Recipients          int     `json:"recipients"`
	Agreements          string  `json:"agreements"`
	PublishSeconds      float64 `json:"publish_seconds"`
	// SnapshotSeconds is the part of PublishSeconds spent making the
	// snapshot every recipient's measures read.
	SnapshotSeconds float64 `json:"snapshot_seconds"`
	// Return is the Home Office annual return of the largest force for the
	// last financial year that ended (hub/store AnnualReturn, what
	// ReturnService reads): the median of ReturnRuns runs.
	Return       *ReturnResult `json:"return,omitempty"`
	Panels       []PanelResult `json:"panels"`
	PanelsSource string        `json:"panels_source"`
}

// ReturnResult is the time to read and build one force's annual return.
type ReturnResult struct {
	Force      string  `json:"force"`
	Year       string  `json:"year"`
	Detentions uint64  `json:"detentions"`
	Runs       int     `json:"runs"`
	Seconds    float64 `json:"median_seconds"`
	MaxSeconds float64 `json:"max_seconds"`
}

// PanelResult is one panel query's latency as its audience's user.
type PanelResult struct {
	Audience string `json:"audience"`
	// Dashboard is the kind of dashboard, e.g. "performance".
	Dashboard string `json:"dashboard"`
	Panel     string `json:"panel"`
	RefID     string `json:"ref_id"`
	// Scenario is the variable value of one copy of a repeated panel.
	Scenario string  `json:"scenario,omitempty"`
	Runs     int     `json:"runs"`
	Rows     int     `json:"rows"`
	Latency  Latency `json:"latency"`
	Error    string  `json:"error,omitempty"`
}

// Target is one of the targets with the measured value.
type Target struct {
	Name  string  `json:"name"`
	Limit string  `json:"limit"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Pass  bool    `json:"pass"`
	// Measured is false when the run did not measure it (e.g. the smoke).
	Measured bool `json:"measured"`
}

func targets(r *Report) []Target {
	var out []Target
	ratio := Target{Name: "ingest at batch 1,000 / direct-insert ceiling", Limit: ">= 0.50", Unit: "ratio"}
	for _, in := range r.Ingest {
		if in.BatchSize == 1000 {
			ratio.Value, ratio.Measured, ratio.Pass = in.Ratio, true, in.Ratio >= 0.5
		}
	}
	out = append(out, ratio)
	panel := Target{Name: "worst panel query p95 at national scale", Limit: "<= 500 ms", Unit: "ms"}
	if r.National != nil && len(r.National.Panels) > 0 {
		panel.Measured, panel.Pass = true, true
		for _, p := range r.National.Panels {
			panel.Value = max(panel.Value, p.Latency.P95)
			if p.Error != "" {
				panel.Pass = false
			}
		}
		panel.Pass = panel.Pass && panel.Value <= 500
	}
	out = append(out, panel)
	decision := Target{Name: "policy decision as the hub makes it (without the audit insert; evaluated afresh: see Cost per record)", Limit: "<= 50 µs", Unit: "µs"}
	for _, c := range r.Costs {
		if c.Name == costDecision {
			decision.Value, decision.Measured = c.NsPerOp/1e3, true
			decision.Pass = decision.Value <= 50
		}
	}
	out = append(out, decision)
	rss := Target{Name: "hub peak RSS during ingest", Limit: "<= 500 MB", Unit: "MB"}
	if r.HubPeakRSSBytes > 0 {
		rss.Value, rss.Measured = float64(r.HubPeakRSSBytes)/(1<<20), true
		rss.Pass = rss.Value <= 500
	}
	out = append(out, rss)
	pub := Target{Name: "full share publication at national scale", Limit: "< 300 s", Unit: "s"}
	if r.National != nil && r.National.PublishSeconds > 0 {
		pub.Value, pub.Measured, pub.Pass = r.National.PublishSeconds, true, r.National.PublishSeconds < 300
	}
	out = append(out, pub)
	return append(out, freshnessTargets(r.Freshness, r.Machine.NProc)...)
}

// freshnessTargets are the targets of real time at national scale, each
// beside the machine's core count.
func freshnessTargets(f *Freshness, cores int) []Target {
	on := fmt.Sprintf(" (%d cores)", cores)
	visible := Target{Name: "submit acknowledged to the supervisors' share and live state, p95" + on, Limit: "<= 10 s", Unit: "s"}
	incremental := Target{Name: "incremental publication after a minute of trickle from every force" + on, Limit: "<= 5 s", Unit: "s"}
	full := Target{Name: "full publication (every share rebuilt)" + on, Limit: "<= 60 s", Unit: "s"}
	idle := Target{Name: "CPU of hub and ClickHouse while no data arrives, % of one core" + on, Limit: "near zero (<= 5 %)", Unit: "%"}
	if f != nil {
		visible.Value, visible.Measured = f.Visible.P95/1e3, f.Samples > 0
		visible.Pass = visible.Measured && visible.Value <= 10 && f.Unseen == 0
		incremental.Value, incremental.Measured = f.IncrementalPublishSeconds, true
		incremental.Pass = incremental.Value <= 5
		full.Value, full.Measured = f.FullPublishSeconds, f.FullPublishSeconds > 0
		full.Pass = full.Measured && full.Value <= 60
		idle.Value, idle.Measured = f.IdleCPUPercent, f.IdleSeconds > 0
		idle.Pass = idle.Measured && idle.Value <= 5
	}
	return []Target{visible, incremental, full, idle}
}

// machine describes this machine and the ClickHouse server.
func machine(ctx context.Context, conn driver.Conn) (Machine, error) {
	m := Machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, CPU: cpuModel()}
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&m.ClickHouseVersion); err != nil {
		return m, fmt.Errorf("benchmark: clickhouse version: %w", err)
	}
	return m, nil
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// write writes report.json and report.md into dir and returns the path of
// the Markdown file.
func (r *Report) write(dir string) (string, error) {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("benchmark: report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(raw, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("benchmark: report: %w", err)
	}
	md := filepath.Join(dir, "report.md")
	if err := os.WriteFile(md, []byte(r.Markdown()), 0o644); err != nil {
		return "", fmt.Errorf("benchmark: report: %w", err)
	}
	return md, nil
}

// Markdown renders the report for people.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Pathway Hub benchmark report")
	w("")
	w("Run %s to %s (%s).", r.Started.Format(time.RFC3339), r.Finished.Format(time.RFC3339), r.Finished.Sub(r.Started).Round(time.Second))
	w("")
	w("## Commands")
	w("")
	w("- harness: `%s`", strings.Join(r.Command, " "))
	if len(r.HubCommand) > 0 {
		w("- hub: `%s`", strings.Join(r.HubCommand, " "))
	} else {
		w("- hub: in the harness's own process (smoke run)")
	}
	w("")
	w("## Machine")
	w("")
	w("| nproc | CPU | Go | ClickHouse | OS |")
	w("|---|---|---|---|---|")
	w("| %d | %s | %s | %s | %s |", r.Machine.NProc, r.Machine.CPU, r.Machine.GoVersion, r.Machine.ClickHouseVersion, r.Machine.OS)
	w("")
	w("## Targets")
	w("")
	w("| Target | Limit | Measured | Result |")
	w("|---|---|---|---|")
	for _, t := range r.Targets {
		switch {
		case !t.Measured:
			w("| %s | %s | — | not measured |", t.Name, t.Limit)
		case t.Pass:
			w("| %s | %s | %.3g %s | pass |", t.Name, t.Limit, t.Value, t.Unit)
		default:
			w("| %s | %s | %.3g %s | **fail** |", t.Name, t.Limit, t.Value, t.Unit)
		}
	}
	w("")
	w("## End-to-end ingest against the direct-insert ceiling")
	w("")
	w("Hub: concurrent force clients (one force each) submit batches of new incidents over Connect (protobuf, HTTP/1.1) through")
	w("authentication, validation, the policy (audited) and the revision check into ClickHouse. Ceiling: the same")
	w("rows inserted straight into the same ClickHouse with clickhouse-go batches (hub/store), at the same")
	w("batch size and concurrency, in the same run.")
	w("")
	w("| Batch | Clients | Records | Hub rec/s | Hub p50 ms | Hub p99 ms | Ceiling rec/s | Ceiling p50 ms | Ceiling p99 ms | Hub / ceiling |")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, in := range r.Ingest {
		w("| %d | %d | %d | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %.2f |", in.BatchSize, in.Clients, in.Records,
			in.HubRecordsPerSecond, in.HubBatch.P50, in.HubBatch.P99, in.CeilingRecordsPerSecond, in.CeilingBatch.P50, in.CeilingBatch.P99, in.Ratio)
	}
	w("")
	where := "a separate process"
	if r.HubInProcess {
		where = "the harness's own process (smoke run: includes the clients)"
	}
	w("Hub peak RSS (VmHWM, %s): %.1f MB.", where, float64(r.HubPeakRSSBytes)/(1<<20))
	w("")
	w("## Cost per record")
	w("")
	w("| Operation | Unit | ns/op | B/op | allocs/op |")
	w("|---|---|---:|---:|---:|")
	for _, c := range r.Costs {
		w("| %s | %s | %.0f | %.0f | %.1f |", c.Name, c.Unit, c.NsPerOp, c.BytesPerOp, c.AllocsPerOp)
	}
	w("")
	r.nationalMarkdown(w)
	w("")
	r.freshnessMarkdown(w)
	r.clusterMarkdown(w)
	w("")
	w("## Notes")
	w("")
	for _, n := range r.Notes {
		w("- %s", n)
	}
	return b.String()
}

func (r *Report) nationalMarkdown(w func(string, ...any)) {
	w("## National scale")
	w("")
	n := r.National
	if n == nil {
		w("Not measured in this run.")
		return
	}
	w("- Shape: %s", n.Shape)
	w("- Incidents loaded: %d (%d forces, %d years), loaded with direct batch inserts through hub/store, not through the API.", n.Incidents, n.Forces, n.Years)
	if n.Reused {
		w("- Load time: not measured; this run reused the data an earlier run loaded and kept (-reuse).")
	} else {
		w("- Load time: %.1f s wall (the generator, running alongside the inserts, was busy %.1f s); each of the two inserters wrote %.0f rows/s while inserting.", n.LoadSeconds, n.GenerateSecond, n.InsertRowsPerSecond/2)
	}
	w("- ClickHouse disk footprint: %.1f MB in all, %.1f MB of it the raw database.", float64(n.DiskBytes)/(1<<20), float64(n.RawDiskBytes)/(1<<20))
	w("- Share publication: %.1f s for %d recipients (%s), of which %.1f s making the snapshot of the published months that every recipient's measures read.", n.PublishSeconds, n.Recipients, n.Agreements, n.SnapshotSeconds)
	if rr := n.Return; rr != nil {
		w("- Home Office annual return of %s for %s (%d detentions, read from the raw incidents at their latest revision): median %.2f s, worst %.2f s, over %d runs.",
			rr.Force, rr.Year, rr.Detentions, rr.Seconds, rr.MaxSeconds, rr.Runs)
	}
	w("")
	w("Panel queries: %s. Each ran %d times as its audience's ClickHouse user; %d queries in all (report.json has each one).", n.PanelsSource, panelRuns(n.Panels), len(n.Panels))
	w("One line per panel query of the generated dashboards, over every audience (and force, for a repeated panel), with the worst of them:")
	w("")
	w("| Dashboard | Panel | Query | Audiences × copies | Max rows | Worst p50 ms | Worst p95 ms | Slowest for | Errors |")
	w("|---|---|---|---:|---:|---:|---:|---|---:|")
	for _, g := range groupPanels(n.Panels) {
		w("| %s | %s | %s | %d | %d | %.1f | %.1f | %s | %d |", g.dashboard, g.panel, g.refID, g.queries, g.maxRows, g.worstP50, g.worstP95, g.slowest, g.errors)
	}
	for _, p := range n.Panels {
		if p.Error != "" {
			w("")
			w("Error in %s %q %s as %s: %s", p.Dashboard, p.Panel, p.RefID, p.Audience, p.Error)
		}
	}
}

// panelGroup is one panel query over every audience and copy.
type panelGroup struct {
	dashboard, panel, refID, slowest string
	queries, maxRows, errors         int
	worstP50, worstP95               float64
}

// groupPanels folds the results of the same dashboard panel query, in
// their first appearance's order.
func groupPanels(results []PanelResult) []*panelGroup {
	var out []*panelGroup
	byKey := map[string]*panelGroup{}
	for _, p := range results {
		key := p.Dashboard + "\x00" + p.Panel + "\x00" + p.RefID
		g := byKey[key]
		if g == nil {
			g = &panelGroup{dashboard: p.Dashboard, panel: p.Panel, refID: p.RefID}
			byKey[key] = g
			out = append(out, g)
		}
		g.queries++
		g.maxRows = max(g.maxRows, p.Rows)
		g.worstP50 = max(g.worstP50, p.Latency.P50)
		if p.Error != "" {
			g.errors++
		}
		if p.Latency.P95 >= g.worstP95 {
			g.worstP95 = p.Latency.P95
			g.slowest = strings.TrimSpace(p.Audience + " " + p.Scenario)
		}
	}
	return out
}

func panelRuns(results []PanelResult) int {
	runs := 0
	for _, p := range results {
		runs = max(runs, p.Runs)
	}
	return runs
}

func (r *Report) freshnessMarkdown(w func(string, ...any)) {
	w("## Freshness (real time at national scale)")
	w("")
	f := r.Freshness
	if f == nil {
		w("Not measured in this run (`-steps freshness`, on the national data; `-reuse` to run it alone on kept data).")
		return
	}
	w("A hub on the national data with the national agreement and a supervisors' record share for each of the %d forces; every", f.Forces)
	w("force submits one new open detention every %.0f s (spread over the period) for %.0f s.", f.PeriodSeconds, f.TrickleSeconds)
	w("")
	w("| Measure | Value |")
	w("|---|---|")
	w("| submit acknowledged → in the force's supervisors' share (incidents and live), %d samples | p50 %.2f s, p95 %.2f s, max %.2f s; %d not seen within a minute |",
		f.Samples, f.Visible.P50/1e3, f.Visible.P95/1e3, f.Visible.Max/1e3, f.Unseen)
	w("| publication after a minute of trickle | %.2f s (%d shares written, %d record shares refreshed in place, %d unchanged) |",
		f.IncrementalPublishSeconds, f.IncrementalPublished, f.IncrementalRefreshed, f.IncrementalSkipped)
	w("| the hub's first publication (every share, at start) | %.1f s |", f.StartPublishSeconds)
	w("| full publication after the trickle (`PublishFull`) | %.1f s |", f.FullPublishSeconds)
	w("| ClickHouse's background merges of the parts the full rebuild wrote, until done | %.0f s |", f.SettleSeconds)
	w("| CPU of hub and ClickHouse while nothing arrives (after those merges), over %.0f s | %.1f %% of one core |", f.IdleSeconds, f.IdleCPUPercent)
}

func (r *Report) clusterMarkdown(w func(string, ...any)) {
	c := r.Cluster
	if c == nil {
		return
	}
	w("## On a two-replica cluster, beside one server")
	w("")
	w("The same %d records from %d force clients at batch %d, over Connect, into a hub on the run's one server and into a hub on a", c.Records, c.Clients, c.BatchSize)
	w("local cluster of two 18.16 replicas of one shard with ZooKeeper (every insert waits for its replica:")
	w("`insert_distributed_sync`); then a full publication of the national agreement's shares, which on the cluster writes every")
	w("share on both servers. Both clusters share this machine's %d cores.", r.Machine.NProc)
	w("")
	w("| Hub on | rec/s | batch p50 ms | batch p99 ms | full publication |")
	w("|---|---:|---:|---:|---:|")
	for _, row := range []struct {
		name string
		run  ClusterRun
	}{{"one server", c.Single}, {"two replicas", c.Replicated}} {
		w("| %s | %.0f | %.1f | %.1f | %.1f s |", row.name, row.run.RecordsPerSecond, row.run.Batch.P50, row.run.Batch.P99, row.run.FullPublishSeconds)
	}
	w("")
}
