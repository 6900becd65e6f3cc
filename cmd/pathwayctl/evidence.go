package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/ingest/login"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

func evidenceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evidence",
		Short: "Download, verify and list a recipient's evidence",
		Long: `Evidence packs are one download per recipient and period: the evidence page
as one self-contained HTML file, CSV files of exactly the numbers shown, a PDF
when the hub can print one, and manifest.json with the provenance (publication,
agreement, policy revision, content hash) and the SHA-256 of every file.

  pathwayctl evidence login --hub URL --token T --recipient ncl_icb   (a one-time link for a browser)
  pathwayctl evidence get --hub URL --token T --recipient ncl_icb --out pack.zip
  pathwayctl evidence verify --key hub.pem pack.zip   (or --hub URL; or a directory it was unzipped into)
  pathwayctl evidence list --hub URL --token T --recipient ncl_icb`,
	}
	cmd.AddCommand(evidenceVerifyCmd(), evidenceGetCmd(), evidenceListCmd(), evidenceLoginCmd())
	return cmd
}

func evidenceVerifyCmd() *cobra.Command {
	var keyFile, hub string
	cmd := &cobra.Command{
		Use:   "verify PACK",
		Short: "Check a pack (zip or directory): the hub's signature, then every file against the manifest; exit 1 if it was altered",
		Long: `Check an evidence pack, zipped or unpacked into a directory. The manifest must
carry the hub's Ed25519 signature (manifest.sig): give the hub's public key
with --key (a PEM file, as the hub serves it at /evidence/signing-key.pem), or
--hub to fetch it from there. Then every file must match its size and SHA-256
in the manifest, and no other file may be in the pack. A pack whose numbers
and manifest were both edited fails at the signature.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := signingKey(cmd.Context(), keyFile, hub)
			if err != nil {
				return err
			}
			m, err := pack.Verify(args[0], pub)
			if err != nil {
				return err
			}
			writeManifest(cmd.OutOrStdout(), args[0], m)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "the hub's public key, PEM (as served at /evidence/signing-key.pem)")
	cmd.Flags().StringVar(&hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "fetch the public key from this hub (env PATHWAYCTL_HUB)")
	return cmd
}

func evidenceLoginCmd() *cobra.Command {
	var f evidenceFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Print a one-time link that signs a browser in to a recipient's evidence pages",
		Long: `Ask the hub for a one-time login link to a recipient's evidence pages. The
link carries a random code, not your token: it works once, within five
minutes, and starts a session on the hub that lasts at most twelve hours, ends
at "Sign out", and ends when your token is revoked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			link, expires, err := login.Request(cmd.Context(), http.DefaultClient, f.hub, f.token, "/evidence/"+url.PathEscape(f.recipient))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n(one use, until %s)\n", link, expires.Local().Format(time.DateTime))
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// signingKey reads the hub's public key from keyFile, or fetches it from
// the hub at hubURL.
func signingKey(ctx context.Context, keyFile, hubURL string) (ed25519.PublicKey, error) {
	var raw []byte
	switch {
	case keyFile != "":
		var err error
		if raw, err = os.ReadFile(keyFile); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
	case hubURL != "":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(hubURL, "/")+pack.KeyPath, nil)
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("evidence: fetch the signing key: %w", err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("evidence: fetch the signing key: %s", resp.Status)
		}
		if raw, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10)); err != nil {
			return nil, fmt.Errorf("evidence: fetch the signing key: %w", err)
		}
	default:
		return nil, errors.New("evidence: give the hub's public key (--key FILE) or --hub URL to fetch it, to check the pack's signature")
	}
	return pack.ParsePublicKey(raw)
}

func writeManifest(w io.Writer, name string, m pack.Manifest) {
	p := m.Provenance
	fmt.Fprintf(w, "%s: verified, signed by key %s, %d files match the manifest\n", name, m.SigningKey[:16], len(m.Files))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  recipient\t%s (%s)\n  period\t%s to %s\n  agreement\t%s\n  policy revision\t%s\n", m.Recipient, p.Role, m.From, m.To, p.Agreement, p.PolicyRevision)
	if r := m.Return; r != nil {
		fmt.Fprintf(tw, "  return\t%s, financial year %s, %d detentions (%d revised), provisional %t\n", r.Force, r.Year, r.Detentions, r.Revised, r.Provisional)
		fmt.Fprintf(tw, "  data cut-off\t%s\n  content hash\t%s\n", p.DataCutoff.UTC().Format(time.RFC3339), p.ContentHash)
	} else {
		fmt.Fprintf(tw, "  publication\t%s, published %s, data cut-off %s\n  content hash\t%s\n", p.PublicationID,
			p.PublishedAt.UTC().Format(time.RFC3339), p.DataCutoff.UTC().Format(time.DateOnly), p.ContentHash)
	}
	for _, f := range m.Files {
		fmt.Fprintf(tw, "  %s\t%d bytes\tsha256 %s\n", f.Name, f.Bytes, f.SHA256)
	}
	_ = tw.Flush()
}

// evidenceFlags are the flags of commands that call the hub.
type evidenceFlags struct{ hub, token, recipient, from, to string }

func (f *evidenceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "hub base URL (env PATHWAYCTL_HUB)")
	cmd.Flags().StringVar(&f.token, "token", os.Getenv("PATHWAYCTL_TOKEN"), "bearer token (env PATHWAYCTL_TOKEN)")
	cmd.Flags().StringVar(&f.recipient, "recipient", "", "recipient id, e.g. ncl_icb (see `pathwayctl access`)")
	cmd.Flags().StringVar(&f.from, "from", "", "first month YYYY-MM (default: 23 months before --to)")
	cmd.Flags().StringVar(&f.to, "to", "", "last month YYYY-MM (default: the last published month)")
}

func (f *evidenceFlags) check() error {
	if f.hub == "" || f.token == "" || f.recipient == "" {
		return errors.New("--hub, --token and --recipient are required")
	}
	return nil
}

func evidenceGetCmd() *cobra.Command {
	var f evidenceFlags
	var out string
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Download a recipient's evidence pack and verify it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if out == "" {
				out = "evidence-" + f.recipient + ".zip"
			}
			if err := downloadPack(cmd.Context(), f, out); err != nil {
				return err
			}
			pub, err := signingKey(cmd.Context(), "", f.hub)
			if err != nil {
				return err
			}
			m, err := pack.Verify(out, pub)
			if err != nil {
				return err
			}
			writeManifest(cmd.OutOrStdout(), out, m)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "file to write (default evidence-<recipient>.zip)")
	return cmd
}

func downloadPack(ctx context.Context, f evidenceFlags, out string) error {
	q := url.Values{}
	if f.from != "" {
		q.Set("from", f.from)
	}
	if f.to != "" {
		q.Set("to", f.to)
	}
	u := strings.TrimRight(f.hub, "/") + "/evidence/" + url.PathEscape(f.recipient) + "/pack.zip?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := (&http.Client{Timeout: 3 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("evidence: the hub answered %s", resp.Status)
	}
	file, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if _, err := io.Copy(file, resp.Body); err != nil {
		_ = file.Close()
		return fmt.Errorf("evidence: %w", err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

func evidenceListCmd() *cobra.Command {
	var f evidenceFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a recipient's measures and each force's latest value and signal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			c := pathwayv1connect.NewEvidenceServiceClient(&http.Client{Timeout: time.Minute}, strings.TrimRight(f.hub, "/"))
			req := connect.NewRequest(&pathwayv1.ListSeriesRequest{Recipient: f.recipient, From: f.from, To: f.to})
			req.Header().Set("Authorization", "Bearer "+f.token)
			resp, err := c.ListSeries(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("evidence: %w", err)
			}
			return writeSeries(cmd.OutOrStdout(), resp.Msg)
		},
	}
	f.register(cmd)
	return cmd
}

func writeSeries(w io.Writer, r *pathwayv1.ListSeriesResponse) error {
	p := r.GetProvenance()
	fmt.Fprintf(w, "%s, %s to %s (agreement %s, publication %s, content hash %s)\n\n", p.GetRecipient(), r.GetFrom(), r.GetTo(),
		p.GetAgreement(), p.GetPublicationId(), p.GetContentHash())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tforce\tlatest month\tvalue\tvariation\tassurance")
	for _, m := range r.GetMeasures() {
		for _, s := range m.GetForces() {
			month, value := "", "suppressed"
			for _, pt := range s.GetPoints() {
				if pt.Value != nil {
					month, value = pt.GetMonth(), fmt.Sprintf("%.1f %s", pt.GetValue(), m.GetUnit())
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.GetId(), s.GetForce(), month, value, s.GetVariation(), s.GetAssurance())
		}
	}
	return tw.Flush()
}
