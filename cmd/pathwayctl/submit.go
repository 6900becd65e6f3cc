package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/ingest/client"
)

func submitCmd() *cobra.Command {
	var k keyFlags
	var hub, token string
	var batch int
	var retryFor time.Duration
	var dryRun, quiet bool
	cmd := &cobra.Command{
		Use:   "submit FILE...",
		Short: "Pseudonymise a force export and submit it to the hub",
		Long: `Read each export file (CSV or NDJSON, see schemas/export-format.md), turn
incident numbers and person identifiers into tokens with the key file, and
submit the records in batches. A batch the hub cannot store (unavailable) is
retried with backoff, 8 times (about a minute), or for as long as --retry-for
says; retrying is always safe. After a run that stopped part-way, run the same
command again: the records already stored come back "unchanged" and are stored
nowhere, and the summary says how many there were. Prints a summary by result
and reason, and exits 1 if any record was rejected (locally or by the hub), 2
on any other failure.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if hub == "" || token == "" {
				return errors.New("--hub and --token (or PATHWAYCTL_HUB and PATHWAYCTL_TOKEN) are required")
			}
			out := cmd.OutOrStdout()
			rejected := 0
			for _, path := range args {
				p, err := readExport(path, &k)
				if err != nil {
					return err
				}
				for _, e := range p.errs {
					fmt.Fprintf(out, "%s: not sent: %v\n", path, e)
				}
				rejected += len(p.errs)
				bar := client.NewProgressBar(os.Stderr, len(p.records), path, !quiet)
				c := client.New(client.Options{
					URL: hub, Token: token, BatchSize: batch, DryRun: dryRun, RetryFor: retryFor,
					Progress: func(done int) { _ = bar.Set(done) },
					OnRetry: func(attempt int, wait time.Duration, err error) {
						fmt.Fprintf(os.Stderr, "\nhub unavailable (attempt %d), retrying in %s: %v\n", attempt, wait.Round(time.Millisecond), err)
					},
				})
				sum, err := c.SubmitIncidents(cmd.Context(), p.records)
				_ = bar.Finish()
				printSummary(out, path, p, sum, dryRun)
				if err != nil {
					return err
				}
				rejected += sum.Rejected()
			}
			if rejected > 0 {
				return rejectedError{n: rejected}
			}
			return nil
		},
	}
	k.register(cmd.Flags())
	cmd.Flags().StringVar(&hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "hub base URL, e.g. https://hub.example.org (env PATHWAYCTL_HUB)")
	cmd.Flags().StringVar(&token, "token", os.Getenv("PATHWAYCTL_TOKEN"), "bearer token of the submitting force (env PATHWAYCTL_TOKEN)")
	cmd.Flags().IntVar(&batch, "batch-size", client.DefaultBatchSize, "records per call (at most 10000)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate on the hub and report, but store nothing")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	cmd.Flags().DurationVar(&retryFor, "retry-for", 0, "keep retrying a batch while the hub is unavailable for this long (e.g. 10m), instead of 8 attempts")
	return cmd
}

func printSummary(out io.Writer, path string, p parsed, sum client.Summary, dryRun bool) {
	mode := ""
	if dryRun {
		mode = " (dry run: nothing stored)"
	}
	fmt.Fprintf(out, "%s: %d records read, %d not sent (bad rows)%s\n", path, len(p.records)+len(p.errs), len(p.errs), mode)
	for _, k := range []string{"accepted", "updated", "unchanged", "stale", "rejected"} {
		fmt.Fprintf(out, "  %-10s %d\n", k, sum.Counts[k])
	}
	if reasons := sum.Reasons(); len(reasons) > 0 {
		fmt.Fprintln(out, "  rejected by reason (field code):")
		for _, r := range reasons {
			fmt.Fprintf(out, "    %6d  %s\n", r.Count, r.Reason)
		}
	}
	for _, e := range sum.Errors {
		fmt.Fprintf(out, "  line %d: %s: %s (%s)\n", p.lines[e.Index], e.Field, e.Message, e.Code)
	}
	warned := map[string]int{}
	for _, w := range sum.Warnings {
		warned[w.Field+" "+w.Code]++
	}
	for k, n := range warned {
		fmt.Fprintf(out, "  warning: %d × %s\n", n, k)
	}
	if n := sum.Counts["unchanged"]; n > 0 && !dryRun {
		fmt.Fprintf(out, "  %d records were already stored (sent before with the same revision): nothing to redo\n", n)
	}
	if sum.Retries > 0 {
		fmt.Fprintf(out, "  %d calls, %d retried\n", sum.Batches, sum.Retries)
	}
}
