package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

func agreementsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agreements",
		Short: "Work with data-sharing agreement files",
	}
	cmd.AddCommand(agreementsCheckCmd())
	return cmd
}

func agreementsCheckCmd() *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "check DIR",
		Short: "Validate agreement files and run the policy's own tests, offline",
		Long: `Check a directory of data-sharing agreement files (policy/README.md describes
the format) the way the hub would load them: every file parsed and validated
(errors name the file, the agreement and the field), the policy bundle
compiled with them, and the Rego policies checked in strict mode and their
unit tests run. It then asks the policy, for every recipient, whether it may
read at --at (default now), so an expired or not-yet-valid agreement shows up
before it is deployed. Exits 1 if anything fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			when := time.Now().UTC()
			if at != "" {
				t, err := time.Parse(time.DateOnly, at)
				if err != nil {
					return fmt.Errorf("--at: %w", err)
				}
				when = t
			}
			return checkAgreements(cmd, args[0], when)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "decide as of this date (YYYY-MM-DD) instead of today")
	return cmd
}

func checkAgreements(cmd *cobra.Command, dir string, at time.Time) error {
	out := cmd.OutOrStdout()
	ctx := cmd.Context()
	engine, err := policy.New(ctx, policy.Options{Measures: measures.IDs(), Dir: dir, Now: func() time.Time { return at }})
	if err != nil {
		return err
	}
	agreements := engine.Agreements()
	fmt.Fprintf(out, "%s: %d agreements valid, policy revision %s\n", dir, len(agreements), engine.Revision())
	if err := policy.CheckRego(); err != nil {
		return err
	}
	passed, failed, err := policy.RunRegoTests(ctx)
	fmt.Fprintf(out, "rego: strict check clean; %d tests passed, %d failed\n\n", passed, failed)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "agreement\trecipient\trole\tgranularity\ton %s\n", at.Format(time.DateOnly))
	inactive := 0
	for _, a := range agreements {
		for _, r := range a.Recipients {
			d, err := engine.Decide(ctx, policy.Input{Action: policy.ActionRead, Org: r.Org, Recipient: r.ID, Time: at})
			if err != nil {
				return err
			}
			verdict := "may read"
			if !d.Allow {
				verdict = "refused: " + strings.Join(d.Reasons, "; ")
				inactive++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, r.ID, r.Role, r.Granularity, verdict)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if inactive > 0 {
		return errors.New("some recipients may read nothing on that date")
	}
	return nil
}
