package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
)

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
		Use:   "token --org force/<id>|trust/<ods>|icb/<ods>|region/<slug>|national/<slug>",
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
	cmd.Flags().StringVar(&org, "org", "", "organisation: force/<data.police.uk id>, trust/<ODS code>, icb/<ODS code>, region/<slug> or national/<slug>")
	_ = cmd.MarkFlagRequired("org")
	return cmd
}
