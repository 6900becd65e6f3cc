package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/ingest/pack"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

func returnCmd() *cobra.Command {
	var hub, token, force, year, format, out string
	cmd := &cobra.Command{
		Use:   "return",
		Short: "Download a force's annual return of s136 detentions to the Home Office, signed, and verify it",
		Long: `Ask the hub's ReturnService for a force's annual return of section 136
detentions ("Police powers and procedures"): every s136 detention of the force
with a detention time in the financial year, at its latest revision, by month,
age, sex, ethnicity, first place of safety, conveyance (and why a police
vehicle), police-station use (and why) and consultation before detention.
Counts are unrounded; what the force did not record is counted as not known.

Only the force's own supervisors or analysts get it: the token must be the
force's, as a recipient of an agreement with export: true, scoped to that
force alone. The hub audits the decision.

The pack (a zip: return.xlsx or return.csv, manifest.json with the provenance
and manifest.sig, the hub's signature) is written to --out and verified with
the hub's public key; the tables are printed.

  pathwayctl return --hub URL --token T --force metropolitan --year 2025-26
  pathwayctl return ... --format csv --out return.zip
  pathwayctl evidence verify --hub URL return.zip`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hub == "" || token == "" || force == "" || year == "" {
				return errors.New("--hub, --token, --force and --year are required")
			}
			formats := map[string]pathwayv1.ReturnFormat{"xlsx": pathwayv1.ReturnFormat_RETURN_FORMAT_XLSX, "csv": pathwayv1.ReturnFormat_RETURN_FORMAT_CSV}
			f, ok := formats[strings.ToLower(format)]
			if !ok {
				return fmt.Errorf("--format: %q is not xlsx or csv", format)
			}
			resp, err := getReturn(cmd.Context(), hub, token, &pathwayv1.GetAnnualReturnRequest{Force: force, Year: year, Format: f})
			if err != nil {
				return err
			}
			if out == "" {
				out = resp.GetPackName()
			}
			if err := os.WriteFile(out, resp.GetPack(), 0o600); err != nil {
				return fmt.Errorf("return: %w", err)
			}
			pub, err := signingKey(cmd.Context(), "", hub)
			if err != nil {
				return err
			}
			m, err := pack.Verify(out, pub)
			if err != nil {
				return err
			}
			writeManifest(cmd.OutOrStdout(), out, m)
			fmt.Fprintln(cmd.OutOrStdout())
			return writeReturn(cmd.OutOrStdout(), resp)
		},
	}
	cmd.Flags().StringVar(&hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "hub base URL (env PATHWAYCTL_HUB)")
	cmd.Flags().StringVar(&token, "token", os.Getenv("PATHWAYCTL_TOKEN"), "the force's bearer token (env PATHWAYCTL_TOKEN)")
	cmd.Flags().StringVar(&force, "force", "", "the force id, e.g. metropolitan")
	cmd.Flags().StringVar(&year, "year", "", "the financial year, e.g. 2025-26 (1 April 2025 to 31 March 2026)")
	cmd.Flags().StringVar(&format, "format", "xlsx", "the return's format in the pack: xlsx or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write the pack to (default return-<force>-<year>.zip)")
	return cmd
}

func getReturn(ctx context.Context, hub, token string, msg *pathwayv1.GetAnnualReturnRequest) (*pathwayv1.GetAnnualReturnResponse, error) {
	c := pathwayv1connect.NewReturnServiceClient(&http.Client{Timeout: 5 * time.Minute}, strings.TrimRight(hub, "/"))
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := c.GetAnnualReturn(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("return: %w", err)
	}
	return resp.Msg, nil
}

func writeReturn(w io.Writer, r *pathwayv1.GetAnnualReturnResponse) error {
	p := r.GetProvenance()
	state := "final"
	if p.GetProvisional() {
		state = "provisional: the year had not ended at the cut-off"
	}
	fmt.Fprintf(w, "%s, financial year %s (%s)\n%d detentions, %d revised after first sent; data cut-off %s\n",
		p.GetForce(), p.GetYear(), state, p.GetDetentions(), p.GetRevised(), p.GetCutoff().AsTime().UTC().Format(time.RFC3339))
	for _, t := range r.GetTables() {
		fmt.Fprintf(w, "\n%s\n", t.GetTitle())
		for _, row := range t.GetRows() {
			fmt.Fprintf(w, "  %-55s %8d\n", row.GetLabel(), row.GetDetentions())
		}
	}
	return nil
}
