package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/cmd/pathwayhub/demo"
	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

func dashboardsCmd() *cobra.Command {
	var out, passwords, placeholder, chHost, promURL, hubTarget, dashPath string
	var chPort int
	cmd := &cobra.Command{
		Use:   "dashboards --out DIR",
		Short: "Write the Grafana dashboards, Grafana provisioning and Prometheus configuration",
		Long: `Write, under --out, one set of Grafana dashboards per recipient of the
agreements (each bound to a ClickHouse datasource that logs in as that
recipient's read-only user and reads only its share database), a hub
operations dashboard on Prometheus, Grafana's datasource and dashboard
provisioning, and a Prometheus configuration that scrapes the hub and loads
the live pathway alert rules:

  DIR/grafana/dashboards/<recipient>/*.json
  DIR/grafana/provisioning/datasources/pathwayhub.yaml   (passwords; mode 0600)
  DIR/grafana/provisioning/dashboards/pathwayhub.yaml
  DIR/prometheus/prometheus.yml, DIR/prometheus/alert_rules.yml

The recipients' ClickHouse passwords come from the hub's passwords file
(--passwords; the hub writes it when it publishes the shares).`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write into")
	f.StringVar(&passwords, "passwords", "", "the hub's recipient passwords file (YAML recipient: password)")
	f.StringVar(&placeholder, "placeholder-password", "", "write this instead of every password (for examples)")
	f.StringVar(&chHost, "grafana-clickhouse-host", "clickhouse", "ClickHouse host as Grafana reaches it")
	f.IntVar(&chPort, "grafana-clickhouse-port", 9000, "ClickHouse native port as Grafana reaches it")
	f.StringVar(&promURL, "prometheus-url", "http://prometheus:9090", "Prometheus URL as Grafana reaches it")
	f.StringVar(&hubTarget, "hub-target", "hub:9464", "the hub's address as Prometheus scrapes it")
	f.StringVar(&dashPath, "dashboards-path", "/var/lib/grafana/dashboards", "where Grafana finds DIR/grafana/dashboards")
	_ = cmd.MarkFlagRequired("out")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		if cfg.Agreements == "" {
			cfg.Agreements = demo.Agreements
		}
		agreements, err := policy.LoadAgreements(cfg.Agreements, measures.IDs())
		if err != nil {
			return err
		}
		pw := map[string]string{}
		if passwords != "" {
			raw, err := os.ReadFile(passwords)
			if err != nil {
				return err
			}
			if err := yaml.Unmarshal(raw, &pw); err != nil {
				return fmt.Errorf("passwords %s: %w", passwords, err)
			}
		}
		files, err := dashboards.Generate(dashboards.Options{
			Agreements: agreements, Prefix: cfg.Shares.Prefix, Passwords: pw, Placeholder: placeholder,
			ClickHouseHost: chHost, ClickHousePort: chPort, PrometheusURL: promURL, HubTarget: hubTarget,
			DashboardsPath: dashPath, Thresholds: cfg.Thresholds,
		})
		if err != nil {
			return err
		}
		paths, err := dashboards.Write(out, files)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files under %s (the datasources file holds passwords: mode 0600)\n", len(paths), out)
		return nil
	}
	return cmd
}
