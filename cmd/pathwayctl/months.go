package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

func monthCmd() *cobra.Command {
	var hub, token, force string
	cmd := &cobra.Command{
		Use:   "month",
		Short: "Approve, reopen or list the months of a force's incidents",
		Long: `A force signs off (approves) a month of its incidents when it is complete:
a month is the incidents whose call_received falls in it (UTC). After that,
every record sent for the month needs a revision_reason; it is still stored,
and the month shows as revised after approval. Reopening makes the month
provisional again, for a stated reason. Shares, dashboards and evidence pages
mark each month as provisional, approved or revised after approval.

Only the force's own supervisors or analysts may approve or reopen (the token
must be the force's, as a recipient of an agreement in force in one of those
roles, scoped to that force alone); the hub audits each decision.

  pathwayctl month list    --hub URL --token T --force metropolitan
  pathwayctl month approve --hub URL --token T --force metropolitan --month 2026-11
  pathwayctl month reopen  --hub URL --token T --force metropolitan --month 2026-11 --reason late_records`,
	}
	cmd.PersistentFlags().StringVar(&hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "hub base URL (env PATHWAYCTL_HUB)")
	cmd.PersistentFlags().StringVar(&token, "token", os.Getenv("PATHWAYCTL_TOKEN"), "the force's bearer token (env PATHWAYCTL_TOKEN)")
	cmd.PersistentFlags().StringVar(&force, "force", "", "the force id, e.g. metropolitan")
	client := func() (pathwayv1connect.ApprovalServiceClient, error) {
		if hub == "" || token == "" || force == "" {
			return nil, errors.New("--hub, --token and --force are required")
		}
		return pathwayv1connect.NewApprovalServiceClient(&http.Client{Timeout: time.Minute}, strings.TrimRight(hub, "/")), nil
	}
	authed := func(r connect.AnyRequest) { r.Header().Set("Authorization", "Bearer "+token) }

	var month, from, to, reason string
	approve := &cobra.Command{
		Use: "approve", Short: "Sign off a complete month (a retry changes nothing)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			req := connect.NewRequest(&pathwayv1.ApproveMonthRequest{Force: force, Month: month})
			authed(req)
			resp, err := c.ApproveMonth(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("month approve: %w", err)
			}
			if resp.Msg.GetAlreadyApproved() {
				fmt.Fprintln(cmd.OutOrStdout(), "already approved; nothing changed")
			}
			return writeMonths(cmd.OutOrStdout(), resp.Msg.GetMonth())
		},
	}
	approve.Flags().StringVar(&month, "month", "", "the month, YYYY-MM")
	reasons := strings.Join(codeList(pathwayv1.ReopenReason(0).Descriptor().Values().Len(), func(i int) string {
		return codes.Of(pathwayv1.ReopenReason(i))
	}), ", ")
	reopen := &cobra.Command{
		Use: "reopen", Short: "Make an approved month provisional again, for a reason", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			n, ok := codes.Values(pathwayv1.ReopenReason(0).Descriptor())[reason]
			if !ok {
				return fmt.Errorf("--reason: %q is not one of %s", reason, reasons)
			}
			req := connect.NewRequest(&pathwayv1.ReopenMonthRequest{Force: force, Month: month, Reason: pathwayv1.ReopenReason(n)})
			authed(req)
			resp, err := c.ReopenMonth(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("month reopen: %w", err)
			}
			return writeMonths(cmd.OutOrStdout(), resp.Msg.GetMonth())
		},
	}
	reopen.Flags().StringVar(&month, "month", "", "the month, YYYY-MM")
	reopen.Flags().StringVar(&reason, "reason", "", "why: "+reasons)
	list := &cobra.Command{
		Use: "list", Short: "Show each month's state (default: the last 24 complete months)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			req := connect.NewRequest(&pathwayv1.ListMonthsRequest{Force: force, From: from, To: to})
			authed(req)
			resp, err := c.ListMonths(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("month list: %w", err)
			}
			return writeMonths(cmd.OutOrStdout(), resp.Msg.GetMonths()...)
		},
	}
	list.Flags().StringVar(&from, "from", "", "first month YYYY-MM (default: 23 months before --to)")
	list.Flags().StringVar(&to, "to", "", "last month YYYY-MM (default: the last complete month)")
	cmd.AddCommand(approve, reopen, list)
	return cmd
}

// codeList lists the codes of an enum's values 1 to n-1.
func codeList(n int, code func(int) string) []string {
	out := make([]string, 0, n)
	for i := 1; i < n; i++ {
		out = append(out, code(i))
	}
	return out
}

func writeMonths(w io.Writer, months ...*pathwayv1.MonthApproval) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "force\tmonth\tstate\tincidents\trevised after approval\tdecided\tby\tdecision")
	for _, m := range months {
		decided := ""
		if m.GetDecidedAt() != nil {
			decided = m.GetDecidedAt().AsTime().UTC().Format(time.RFC3339)
		}
		state := codes.Of(m.GetState())
		if r := m.GetReopenReason(); r != pathwayv1.ReopenReason_REOPEN_REASON_UNSPECIFIED {
			state += " (reopened: " + codes.Of(r) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", m.GetForce(), m.GetMonth(), state, m.GetIncidents(), m.GetRevisedAfterApproval(),
			decided, m.GetRecipient(), m.GetDecisionId())
	}
	return tw.Flush()
}
