// Command pathwayhub is the Pathway Hub server: it receives pseudonymised
// incident data from police forces and NHS trusts over Connect, stores it in
// ClickHouse, and publishes to each recipient what the data-sharing
// agreements allow it to see.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/cmd/pathwayhub/demo"
	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "pathwayhub:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "pathwayhub",
		Short: "Pathway Hub: cross-force data sharing for police mental-health crisis response",
		Long: `pathwayhub receives standardised, pseudonymised incident records from police
forces and the NHS trusts' side of each incident over Connect (gRPC, gRPC-Web
and Connect on one port), checks every record against the pathway.v1 data
standard, and stores it in ClickHouse. The data-sharing agreements
(--agreements, enforced by embedded Open Policy Agent policies) decide who may
submit and what each recipient may see: the hub publishes each recipient's
share into its own ClickHouse database, readable only by that recipient's
read-only ClickHouse user, serves evidence pages and packs for commissioners,
generates the Grafana dashboards, and audits every decision.

With no --clickhouse address it starts and manages a local ClickHouse server
(clickhouse-server from PATH) with its data under --data-dir.`,
		SilenceUsage: true,
	}
	root.AddCommand(serveCmd(), migrateCmd(), auditCmd(), demoCmd(), tokenCmd(), alertRulesCmd(), dashboardsCmd(), agreementsCmd(), statsCmd())
	return root
}

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub until SIGINT or SIGTERM",
		Long: `Run the hub: the IngestService, AccessService and EvidenceService APIs, the
evidence pages under /evidence/, gRPC reflection and the gRPC health check on
--listen (h2c and HTTP/1.1, or HTTPS with --tls-cert and --tls-key; an address
other machines can reach needs TLS, or --insecure-plaintext behind a proxy that
terminates it); Prometheus /metrics on --metrics-listen (loopback by default:
it carries per-force live counts); the share publisher (on --publish-interval
and shortly after each stored batch); the live pathway monitor; the policy,
reloaded when a file under --agreements changes or on SIGHUP (a bad bundle
leaves the previous one in force); and the credentials, reloaded the same way
(a revoked token stops working within seconds). Every API request is
authenticated before its body is read. Settings come from flags, then
PATHWAYHUB_* environment variables, then the --config YAML file, then
defaults.`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		return app.Run(cmd.Context(), app.Options{Config: cfg, Logger: newLogger(cfg), HandleSignals: true})
	}
	return cmd
}

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the ClickHouse schema migrations to --clickhouse and exit",
		Args:  cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		n, err := app.Migrate(cmd.Context(), cfg, newLogger(cfg))
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "applied %d migrations to %s\n", n, cfg.ClickHouse.Database)
		return nil
	}
	return cmd
}

func demoCmd() *cobra.Command {
	var months int
	var seed uint64
	var liveFor time.Duration
	var speed float64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the hub with a managed ClickHouse, the London agreements, simulated history for BTP, the Met and City of London, shares and dashboards, then a live trickle",
		Long: `Run the main job locally: start the hub with a managed ClickHouse under
--data-dir and the example London agreements (policy/agreements/london unless
--agreements says otherwise), create credentials for the simulated forces,
trusts and recipients (written to <data-dir>/demo), submit --months of
simulated history through the API, print the counts per force and month read
back from ClickHouse, publish every recipient's share and show what one
commissioner sees, write the Grafana dashboards and provisioning under
--data-dir, print an evidence-page login link, then keep a live feed of
incidents opening, updating and closing until Ctrl-C (or --live-for).`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	cmd.Flags().IntVar(&months, "months", 24, "months of history per force")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "simulation seed (same seed, same data)")
	cmd.Flags().DurationVar(&liveFor, "live-for", 0, "stop the live trickle after this long (0: until Ctrl-C)")
	cmd.Flags().Float64Var(&speed, "speed", 60, "live trickle speed, simulated seconds per real second")
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
			Months: months, Seed: seed, LiveFor: liveFor, Speed: speed, Progress: true,
		})
	}
	return cmd
}

func alertRulesCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "alert-rules --out FILE",
		Short: "Write the Prometheus alerting rules for the live pathway thresholds",
		Long: `Write a Prometheus alerting-rules file for the live pathway monitor's gauges
(the 24-hour detention clock, handover target, local escalation, ambulance
wait and incidents with no update), using the thresholds of the configuration
(--config thresholds section, else the national defaults). Load it with
Prometheus's rule_files setting.`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	cmd.Flags().StringVar(&out, "out", "", "file to write (- for standard output)")
	_ = cmd.MarkFlagRequired("out")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		raw, err := monitor.AlertRules(cfg.Thresholds)
		if err != nil {
			return err
		}
		if out == "-" {
			_, err = cmd.OutOrStdout().Write(raw)
			return err
		}
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
		return nil
	}
	return cmd
}

func tokenCmd() *cobra.Command {
	var org string
	cmd := &cobra.Command{
		Use:   "token --org force/<id>|trust/<ods>|icb/<ods>|region/<slug>",
		Short: "Create a bearer token for an organisation and print the credentials-file entry",
		Long: `Create a random bearer token. The token is printed once, for the organisation;
the hub keeps only its SHA-256, in the credentials file entry printed after it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := auth.ParseOrg(org)
			if err != nil {
				return err
			}
			token, hash, err := auth.NewToken()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token (give to %s, shown once): %s\n\ncredentials file entry:\n  - org: %s\n    token_sha256: %s\n", o, token, o, hash)
			return nil
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "organisation: force/<data.police.uk id>, trust/<ODS code>, icb/<ODS code> or region/<slug>")
	_ = cmd.MarkFlagRequired("org")
	return cmd
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, hopts))
}
