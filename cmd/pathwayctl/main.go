package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/ingest/pack"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "pathwayctl:", err)
		os.Exit(exitCode(err))
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "pathwayctl",
		Short: "Submit, check and simulate Pathway Hub feeds",
		Long: `pathwayctl is the client for forces, trusts and recipients of Pathway Hub.

A force exports its incidents in the documented export format
(schemas/export-format.md, CSV or NDJSON, with raw local identifiers);
pathwayctl turns the identifiers into tokens locally with the region's key
(HMAC-SHA256), so no identifier leaves the force, and submits the records to
the hub over Connect. Any organisation can ask what it may see (access), and
recipients download and verify evidence packs (evidence). The hub operator's
tools (agreements check, stats) are pathwayhub commands.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(submitCmd(), checkCmd(), tokeniseCmd(), simulateCmd(), accessCmd(), evidenceCmd(), returnCmd(), monthCmd())
	return root
}

// rejectedError reports that records were rejected; the command exits 1
// after printing the summary.
type rejectedError struct{ n int }

func (e rejectedError) Error() string { return fmt.Sprintf("%d records rejected", e.n) }

func exitCode(err error) int {
	if _, ok := err.(rejectedError); ok { //nolint:errorlint // rejectedError is never wrapped
		return 1
	}
	if errors.Is(err, pack.ErrAltered) {
		return 1
	}
	return 2
}
