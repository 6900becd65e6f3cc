package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// Config says what to measure and at what scale.
type Config struct {
	// Dir holds the managed ClickHouse, the generated credentials and
	// agreements, and the report (report.md, report.json).
	Dir string
	// Clients is the number of concurrent force clients (default 8).
	Clients int
	// BatchSizes are the batch sizes of the ingest measurement (default
	// 100, 1,000 and 10,000).
	BatchSizes []int
	// RecordsPerClient is how many records each client sends at each batch
	// size (default 20,000).
	RecordsPerClient int
	// HubBinary is a built pathwayhub command, run as a separate process so
	// that its peak RSS is its own. Empty runs the hub inside this process
	// (for the smoke test), and the RSS reported is then this process's.
	HubBinary string
	// NationalIncidents is the approximate number of incidents loaded for
	// the national-scale measurements (default 20 million); negative skips
	// them.
	NationalIncidents int
	// Years is the length of the national history (default 10).
	Years int
	// PanelRuns is how many times each panel query runs (default 20).
	PanelRuns int
	// CostRecords is how many records the per-record cost benchmarks
	// cycle through (default 1,000).
	CostRecords int
	// CostTime bounds each per-record cost benchmark (default 1 second).
	CostTime time.Duration
	// Steps are the measurements to run, of "ingest", "costs", "national"
	// and "freshness" (default all four). Freshness runs on the national
	// data: alone, with ReuseNational, on the data a kept run loaded.
	Steps []string
	// FreshnessPeriod is how often each force sends an incident in the
	// freshness step (default 10 s); FreshnessTrickle how long the trickle
	// runs (default 70 s: the publication measured runs after a minute of
	// it, or at the end of a shorter one); IdleWindow how long idle CPU is
	// measured (default 30 s).
	FreshnessPeriod, FreshnessTrickle, IdleWindow time.Duration
	// KeepClickHouse leaves the run's ClickHouse data directory in place
	// afterwards, e.g. to query the national data by hand.
	KeepClickHouse bool
	// ReuseNational starts from the ClickHouse data directory an earlier
	// run kept, and skips the national load when it holds the national
	// data already (the report then has no load time). For measuring
	// publication and panels again without a ten-minute load.
	ReuseNational bool
	// Command is the command line that started the run, for the report.
	Command []string
	// Progress receives one line per step; nil means none.
	Progress io.Writer
	// Logger receives the hub's and ClickHouse's warnings; nil means none.
	Logger *slog.Logger
}

// Steps are the measurements a run can make, in the order it makes them.
var Steps = []string{"ingest", "costs", "national", "freshness", "cluster"}

func (c *Config) defaults() {
	if c.Clients <= 0 {
		c.Clients = 8
	}
	if len(c.BatchSizes) == 0 {
		c.BatchSizes = []int{100, 1000, 10_000}
	}
	if c.RecordsPerClient <= 0 {
		c.RecordsPerClient = 20_000
	}
	if c.NationalIncidents == 0 {
		c.NationalIncidents = 20_000_000
	}
	if c.Years <= 0 {
		c.Years = 10
	}
	if c.PanelRuns <= 0 {
		c.PanelRuns = 20
	}
	if c.CostRecords <= 0 {
		c.CostRecords = 1000
	}
	if c.CostTime <= 0 {
		c.CostTime = time.Second
	}
	if len(c.Steps) == 0 {
		c.Steps = Steps
	}
	if c.FreshnessPeriod <= 0 {
		c.FreshnessPeriod = 10 * time.Second
	}
	if c.FreshnessTrickle <= 0 {
		c.FreshnessTrickle = 70 * time.Second
	}
	if c.IdleWindow <= 0 {
		c.IdleWindow = 30 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// notes explain how to read the report.
var notes = []string{
	"The policy engine remembers the outcome of each question (the input, with its time as a calendar date in Europe/London) " +
		"for as long as its agreements stay loaded, and answers a repeated question from that memo: ingest asks the same " +
		"question for every batch of a force, the publisher once per recipient. Every decision still has its own id, log " +
		"line, metric and audit row. Both costs are reported: as the hub makes decisions, and evaluated afresh.",
	"Ratios are taken within one run, ceiling and hub alternating in rounds at each batch size, because the machine is shared and noisy; absolute rates move between runs.",
	"The hub group-commits concurrent batches (hub/store): batches that arrive while an insert is in flight go to ClickHouse as one block. " +
		"The ceiling inserts each batch on its own, so at small batch sizes the hub can beat it: every insert makes a ClickHouse part, " +
		"and a part of the 56-column incidents table costs tens of milliseconds of server time whatever its size.",
	"The hub under the ingest measurement runs with the benchmark's controllers and one idle recipient, so that its own publications " +
		"(triggered by stored batches) do not compete with ingest; publication is measured at national scale.",
	"The national data is loaded with direct batch inserts through hub/store (WriteIncidents, 100,000 rows per insert, two inserters), not through the API.",
	"Publication takes one snapshot of the current revisions per run (store.Snapshot) and reads it without FINAL.",
	"Policy decisions here are without the audit insert; the hub audits every decision (group-committed in hub/store/audit), which the ingest numbers include.",
}

// env is what the steps of one run share.
type env struct {
	cfg    Config
	srv    *chserver.Server
	admin  driver.Conn
	report *Report
}

func (e *env) progress(format string, args ...any) {
	fmt.Fprintf(e.cfg.Progress, "%s bench: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Run measures everything cfg asks for and writes report.md and report.json
// into cfg.Dir. It returns the report and the path of the Markdown file.
func Run(ctx context.Context, cfg Config) (*Report, string, error) {
	cfg.defaults()
	if cfg.Dir == "" {
		return nil, "", errors.New("benchmark: Config.Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, "", fmt.Errorf("benchmark: %w", err)
	}
	cfg.Dir = dir
	chDir := filepath.Join(dir, "clickhouse")
	if !cfg.ReuseNational {
		if err := os.RemoveAll(chDir); err != nil {
			return nil, "", fmt.Errorf("benchmark: clean %s: %w", chDir, err)
		}
	}
	if err := os.MkdirAll(chDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("benchmark: %w", err)
	}
	e := &env{cfg: cfg, report: &Report{Started: time.Now().UTC(), Command: cfg.Command}}
	e.progress("starting ClickHouse in %s", chDir)
	srv, err := chserver.Start(ctx, chserver.Options{NoPasswords: true, DataDir: chDir, Logger: cfg.Logger})
	if err != nil {
		return nil, "", fmt.Errorf("benchmark: start clickhouse: %w", err)
	}
	e.srv = srv
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = srv.Stop(stopCtx)
		if !cfg.KeepClickHouse {
			_ = os.RemoveAll(chDir)
		}
	}()
	if e.admin, err = chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), ReadTimeout: 30 * time.Minute, Logger: cfg.Logger}); err != nil {
		return nil, "", fmt.Errorf("benchmark: %w", err)
	}
	defer e.admin.Close()
	if e.report.Machine, err = machine(ctx, e.admin); err != nil {
		return nil, "", err
	}
	if err := writeAgreements(e.cfg.Dir); err != nil {
		return nil, "", err
	}
	steps := []struct {
		name string
		run  func(context.Context, *env) error
	}{
		{"ingest", runIngest},
		{"costs", runCosts},
		{"national", runNational},
		{"freshness", runFreshness},
		{"cluster", runCluster},
	}
	for _, s := range steps {
		if !slices.Contains(cfg.Steps, s.name) {
			e.progress("%s skipped", s.name)
			continue
		}
		start := time.Now()
		if err := s.run(ctx, e); err != nil {
			return e.report, "", fmt.Errorf("benchmark: %s: %w", s.name, err)
		}
		e.progress("%s done in %s", s.name, time.Since(start).Round(time.Millisecond))
	}
	e.report.Notes = notes
	e.report.Finished = time.Now().UTC()
	e.report.Targets = targets(e.report)
	path, err := e.report.write(dir)
	if err != nil {
		return e.report, "", err
	}
	return e.report, path, nil
}

// migrated creates database on the run's ClickHouse with the raw tables and
// returns a connection to it.
func (e *env) migrated(ctx context.Context, database string) (driver.Conn, error) {
	if err := chdb.EnsureDatabase(ctx, e.admin, database); err != nil {
		return nil, err
	}
	conn, err := chdb.Open(ctx, chdb.Options{Addr: e.srv.Addr(), Database: database, ReadTimeout: 30 * time.Minute, MaxOpenConns: 16, Logger: e.cfg.Logger})
	if err != nil {
		return nil, err
	}
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if _, err := chdb.Migrate(ctx, conn, database, migs, e.cfg.Logger); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}
