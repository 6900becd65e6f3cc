package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pathwayhub/pathwayhub/cmd/pathwaybench/benchmark"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg := benchmark.Config{Command: os.Args, Progress: os.Stdout}
	var sizes string
	flag.StringVar(&cfg.Dir, "dir", "var/bench", "directory for ClickHouse data and the report")
	flag.StringVar(&cfg.HubBinary, "hub", "", "built pathwayhub binary to run as a separate process (empty: in this process)")
	flag.IntVar(&cfg.Clients, "clients", 8, "concurrent force clients")
	flag.StringVar(&sizes, "batch-sizes", "100,1000,10000", "comma-separated ingest batch sizes")
	flag.IntVar(&cfg.RecordsPerClient, "records-per-client", 20_000, "records each client sends at each batch size")
	flag.IntVar(&cfg.NationalIncidents, "national", 20_000_000, "incidents of the national-scale load (negative: skip)")
	flag.IntVar(&cfg.Years, "years", 10, "years of national history")
	flag.IntVar(&cfg.PanelRuns, "panel-runs", 20, "runs of each panel query")
	flag.DurationVar(&cfg.CostTime, "cost-time", time.Second, "time of each per-record cost measurement")
	steps := flag.String("steps", strings.Join(benchmark.Steps, ","), "comma-separated measurements to run, of "+strings.Join(benchmark.Steps, ", "))
	flag.BoolVar(&cfg.KeepClickHouse, "keep", false, "keep the ClickHouse data directory (DIR/clickhouse) after the run, to query the loaded data by hand")
	flag.BoolVar(&cfg.ReuseNational, "reuse", false, "start from the ClickHouse data directory a -keep run left, skipping the national load when its data is there")
	flag.DurationVar(&cfg.FreshnessPeriod, "freshness-period", 10*time.Second, "freshness step: how often each force sends an incident")
	flag.DurationVar(&cfg.FreshnessTrickle, "freshness-trickle", 70*time.Second, "freshness step: how long the trickle runs (a publication is measured after a minute of it)")
	flag.DurationVar(&cfg.IdleWindow, "idle-window", 30*time.Second, "freshness step: how long CPU is measured while nothing arrives")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (with the hub in-process: of the hub too) to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile of this process (with the hub in-process: of the hub too) to this file at the end")
	flag.Parse()
	stopProfiles, err := startProfiles(*cpuProfile, *memProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pathwaybench:", err)
		return 1
	}
	defer stopProfiles()
	for s := range strings.SplitSeq(*steps, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(benchmark.Steps, s) {
			fmt.Fprintf(os.Stderr, "pathwaybench: unknown step %q (steps: %s)\n", s, strings.Join(benchmark.Steps, ", "))
			return 2
		}
		cfg.Steps = append(cfg.Steps, s)
	}
	for s := range strings.SplitSeq(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "pathwaybench: bad batch size %q\n", s)
			return 2
		}
		cfg.BatchSizes = append(cfg.BatchSizes, n)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, path, err := benchmark.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pathwaybench:", err)
		return 1
	}
	fmt.Println("report:", path)
	return 0
}
