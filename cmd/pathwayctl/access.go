package main

import (
	"context"
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

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

func accessCmd() *cobra.Command {
	var hub, token string
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Show what a credential may submit and see under the agreements in force",
		Long: `Ask the hub's AccessService what the credential's organisation may submit and
what it may see: for each agreement and recipient role, the granularity
(aggregate or record), the forces, regions and areas in scope, the measures or
fields, the disclosure threshold and rounding, and the share database. The
answer rests on policy decisions the hub audits like any other.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hub == "" || token == "" {
				return errors.New("--hub and --token (or PATHWAYCTL_HUB and PATHWAYCTL_TOKEN) are required")
			}
			resp, err := describeAccess(cmd.Context(), hub, token)
			if err != nil {
				return err
			}
			return writeAccess(cmd.OutOrStdout(), resp)
		},
	}
	cmd.Flags().StringVar(&hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "hub base URL (env PATHWAYCTL_HUB)")
	cmd.Flags().StringVar(&token, "token", os.Getenv("PATHWAYCTL_TOKEN"), "bearer token (env PATHWAYCTL_TOKEN)")
	return cmd
}

func describeAccess(ctx context.Context, hub, token string) (*pathwayv1.DescribeAccessResponse, error) {
	c := pathwayv1connect.NewAccessServiceClient(&http.Client{Timeout: 30 * time.Second}, strings.TrimRight(hub, "/"))
	req := connect.NewRequest(&pathwayv1.DescribeAccessRequest{})
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := c.DescribeAccess(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return resp.Msg, nil
}

func writeAccess(w io.Writer, r *pathwayv1.DescribeAccessResponse) error {
	fmt.Fprintf(w, "organisation     %s\npolicy revision  %s\ndecided at       %s\n\n", r.GetOrg(), r.GetPolicyRevision(), r.GetDecidedAt().AsTime().Format(time.RFC3339))
	for _, s := range r.GetSubmit() {
		verdict := "may NOT submit"
		if s.GetAllowed() {
			verdict = "may submit (agreements: " + strings.Join(s.GetAgreements(), ", ") + ")"
		}
		fmt.Fprintf(w, "submit %s of %s: %s\n", s.GetDataset(), s.GetForce(), verdict)
	}
	if len(r.GetRead()) == 0 {
		fmt.Fprintln(w, "read: nothing")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, g := range r.GetRead() {
		fmt.Fprintf(tw, "\nread as %s\t(%s, agreement %s, valid until %s)\n", g.GetRecipient(), g.GetRole(), g.GetAgreement(), g.GetValidUntil().AsTime().Format(time.DateOnly))
		fmt.Fprintf(tw, "  purpose\t%s\n  granularity\t%s\n  share database\t%s\n", g.GetPurpose(), g.GetGranularity(), g.GetShareDatabase())
		for _, row := range [][2]string{
			{"forces", strings.Join(g.GetForces(), ", ")}, {"regions", strings.Join(g.GetRegions(), ", ")},
			{"areas (LAD)", strings.Join(g.GetLads(), ", ")}, {"measures", strings.Join(g.GetMeasures(), ", ")},
			{"fields", strings.Join(g.GetFields(), ", ")},
		} {
			if row[1] != "" {
				fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
			}
		}
		if g.GetGranularity() == "aggregate" {
			fmt.Fprintf(tw, "  disclosure\tcounts 1–%d suppressed; counts rounded to multiples of %d\n", g.GetDisclosureThreshold(), g.GetRoundingBase())
		}
		fmt.Fprintf(tw, "  evidence packs\t%t\n", g.GetExport())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.GetReasons()) > 0 {
		fmt.Fprintf(w, "\nreasons:\n  - %s\n", strings.Join(r.GetReasons(), "\n  - "))
	}
	fmt.Fprintf(w, "\naudited decisions: %s\n", strings.Join(r.GetDecisionIds(), ", "))
	return nil
}
