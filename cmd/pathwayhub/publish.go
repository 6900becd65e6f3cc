package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
)

func publishCmd() *cobra.Command {
	var full bool
	cmd := &cobra.Command{
		Use:   "publish --full",
		Short: "Rebuild every recipient's share once, whatever changed, and exit",
		Long: `Rebuild every share from the raw tables, as the hub does when it starts, with the
same settings as serve: every recipient of every agreement is decided again,
its tables recomputed and swapped in, its publication logged, and the users.d
file rewritten. A running hub publishes incrementally by itself (only the
shares a stored batch may have changed); this is the full rebuild to compare
with, or to run after changing something the hub cannot see change.

Run it while no hub publishes into the same database: with a managed
ClickHouse a running hub holds the data directory and this command fails to
start; with your own ClickHouse, stop the hub first (both would extend the
decision audit's hash chain at once).`,
		Args: cobra.NoArgs,
	}
	loader := config.RegisterFlags(cmd.Flags())
	cmd.Flags().BoolVar(&full, "full", false, "rebuild every share (required: the hub publishes incrementally itself)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !full {
			return errors.New("publish: give --full; a running hub publishes what changed by itself")
		}
		cfg, err := loader.Load(os.Getenv)
		if err != nil {
			return err
		}
		rep, err := app.PublishFull(cmd.Context(), app.Options{Config: cfg, Logger: newLogger(cfg)})
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "recipient\trows\tcontent hash")
		for _, p := range rep.Published {
			n := uint64(0)
			for _, r := range p.Rows {
				n += r
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", p.Recipient, n, p.ContentHash)
		}
		for id, reasons := range rep.Withdrawn {
			fmt.Fprintf(tw, "%s\twithdrawn\t%v\n", id, reasons)
		}
		if ferr := tw.Flush(); err == nil {
			err = ferr
		}
		return err
	}
	return cmd
}
