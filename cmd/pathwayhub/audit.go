package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
)

func auditCmd() *cobra.Command {
	audit := &cobra.Command{Use: "audit", Short: "Work with the decision audit"}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check that no audit row was deleted, altered or inserted; exit 1 if one was",
		Long: `Recompute the hash chain of the decisions table: every policy decision's row
carries its place in the chain (seq), the hash of the row before it and its own
hash. A gap in seq is a deleted row, a hash that does not match a row's fields
an altered row, a broken link or a repeated seq an inserted one. The chain must
also reach the head the hub keeps in --data-dir (audit-head), so rows deleted
from its end are found too. Connects like serve: --clickhouse, or the managed
server of a hub running with the same --data-dir.`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(verify.Flags())
	verify.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		n, problems, err := app.VerifyAudit(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		for _, p := range problems {
			fmt.Fprintln(out, p)
		}
		if len(problems) > 0 {
			return fmt.Errorf("audit chain of %s: %d rows read, %d problems", cfg.ClickHouse.Database, n, len(problems))
		}
		fmt.Fprintf(out, "audit chain of %s: %d rows, intact\n", cfg.ClickHouse.Database, n)
		return nil
	}
	audit.AddCommand(verify)
	return audit
}
