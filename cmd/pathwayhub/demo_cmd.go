package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/cmd/pathwayhub/demo"
	"github.com/pathwayhub/pathwayhub/hub/config"
)

func demoCmd() *cobra.Command {
	var months int
	var seed uint64
	var liveFor time.Duration
	var speed float64
	var onCluster bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the hub with a managed ClickHouse, the example agreements, simulated history for BTP, the Met, City of London and two forces of other regions, shares and dashboards, then a live trickle",
		Long: `Run the main job locally: start the hub with a managed ClickHouse under
--data-dir and the example agreements (policy/agreements, London's and the
national one, unless --agreements says otherwise), create credentials for the
simulated forces, trusts and recipients (written to <data-dir>/demo); when an
agreement has a national lead, two forces of other regions (West Midlands and
Greater Manchester, simulated from the Met's profile at 40%) are added so
that it has regions to compare. It then submits --months of
simulated history through the API, print the counts per force and month read
back from ClickHouse, publish every recipient's share and show what one
commissioner sees, write the Grafana dashboards and provisioning under
--data-dir, print an evidence-page login link, then keep a live feed of
incidents opening, updating and closing until Ctrl-C (or --live-for).

With --cluster it runs on a local ClickHouse cluster instead (ZooKeeper
from Debian's zookeeper package and two ClickHouse replicas of one shard,
under <data-dir>/cluster) with two hubs, each its own process (this program's
serve, under <data-dir>/hub1 and hub2, logging to hub.log there) on its own
replica and failing over to the other. It prints the process id of ZooKeeper,
of each ClickHouse server and of each hub, so that any of them can be killed
(kill -9) while the demo runs. The history goes half through each hub, and
the hub that holds the publishing lease publishes a copy of every share on
both replicas.`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	cmd.Flags().IntVar(&months, "months", 24, "months of history per force")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "simulation seed (same seed, same data)")
	cmd.Flags().DurationVar(&liveFor, "live-for", 0, "stop the live trickle after this long (0: until Ctrl-C)")
	cmd.Flags().Float64Var(&speed, "speed", 60, "live trickle speed, simulated seconds per real second")
	cmd.Flags().BoolVar(&onCluster, "cluster", false, "run on a local two-replica ClickHouse cluster with two hubs")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		if cfg.Agreements == "" {
			cfg.Agreements = demo.Agreements
		}
		if !cmd.Flags().Changed("log-level") && os.Getenv("PATHWAYHUB_LOG_LEVEL") == "" {
			cfg.LogLevel = "warn" // the demo narrates; the hub's info log would drown it
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return demo.Run(ctx, demo.Options{
			Config: cfg, Logger: newLogger(cfg), Out: cmd.OutOrStdout(),
			Months: months, Seed: seed, LiveFor: liveFor, Speed: speed, Progress: true, Cluster: onCluster,
		})
	}
	return cmd
}
