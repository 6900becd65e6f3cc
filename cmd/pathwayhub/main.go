package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
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
	root.AddCommand(serveCmd(), migrateCmd(), auditCmd(), demoCmd(), tokenCmd(), alertRulesCmd(), dashboardsCmd(), agreementsCmd(), statsCmd(), publishCmd())
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
		hub, err := app.New(cmd.Context(), app.Options{Config: cfg, Logger: newLogger(cfg), HandleSignals: true})
		if err != nil {
			return err
		}
		return hub.Run(cmd.Context())
	}
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
