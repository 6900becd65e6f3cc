package evidence

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/web/chart"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/policy"
)

// pdfTimeout bounds one headless print.
const pdfTimeout = 90 * time.Second

func (s *Service) servePack(w http.ResponseWriter, r *http.Request) {
	org, done := s.authenticate(w, r)
	if done {
		return
	}
	period, err := ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		s.fail(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "evidence: "))
		return
	}
	recipient := r.PathValue("recipient")
	rep, d, err := s.read(r.Context(), org, recipient, policy.ActionExport, period)
	if err != nil {
		// The same refusals as the page, under export.
		if errors.Is(err, errDenied) {
			s.fail(w, http.StatusForbidden, "The agreements in force do not let "+org.String()+" download this evidence pack.")
			return
		}
		s.pageError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := s.Pack(r.Context(), &buf, rep, d.ID); err != nil {
		s.logger.Error("make evidence pack", "recipient", recipient, "err", err)
		s.fail(w, http.StatusInternalServerError, "The pack could not be made.")
		return
	}
	name := fmt.Sprintf("evidence-%s-%s-%s.zip", rep.Recipient, month(rep.From), month(rep.To))
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(buf.Bytes())
}

// pageError writes the refusal for a failed read other than a denial.
func (s *Service) pageError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrPeriod):
		s.fail(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "evidence: "))
	case errors.Is(err, ErrNotPublished):
		s.fail(w, http.StatusNotFound, "This recipient's share has not been published yet.")
	case errors.Is(err, errUnknown):
		s.fail(w, http.StatusServiceUnavailable, "The policy could not decide; try again.")
	default:
		s.fail(w, http.StatusInternalServerError, "The share could not be read.")
	}
}

// Pack writes rep's evidence pack as a zip to w: index.html, measures.csv,
// summary.csv, funnel.csv, months.csv (which months each force has
// approved), report.pdf when Chromium is available, and
// manifest.json. decisionID is the export decision.
func (s *Service) Pack(ctx context.Context, w *bytes.Buffer, rep Report, decisionID string) error {
	var page bytes.Buffer
	if err := RenderPage(&page, rep, ""); err != nil {
		return fmt.Errorf("evidence: pack: %w", err)
	}
	files := []pack.File{{Name: "index.html", Data: page.Bytes()}}
	for _, f := range []struct {
		name string
		rows [][]string
	}{{"measures.csv", measuresCSV(rep)}, {"summary.csv", summaryCSV(rep)}, {"funnel.csv", funnelCSV(rep)}, {"months.csv", monthsCSV(rep)}} {
		data, err := writeCSV(f.rows)
		if err != nil {
			return err
		}
		files = append(files, pack.File{Name: f.name, Data: data})
	}
	if s.opts.Chromium != "" {
		select {
		case s.printing <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("evidence: pack: %w", ctx.Err())
		}
		pdf, err := PrintPDF(ctx, s.opts.Chromium, page.Bytes())
		<-s.printing
		if err != nil {
			// A pack without its PDF is still evidence; say so in the log.
			s.logger.Warn("print evidence pack to PDF", "recipient", rep.Recipient, "err", err)
		} else {
			files = append(files, pack.File{Name: "report.pdf", Data: pdf})
		}
	}
	p := rep.Provenance
	m := pack.Manifest{
		Recipient: rep.Recipient, From: month(rep.From), To: month(rep.To), CreatedAt: s.opts.Now().UTC().Truncate(time.Second),
		DecisionID: decisionID,
		Provenance: pack.Provenance{
			PublicationID: p.PublicationID, Agreement: p.Agreement, Role: p.Role, PublicationDecision: p.DecisionID,
			PolicyRevision: p.PolicyRevision, PublishedAt: p.PublishedAt, DataCutoff: p.DataCutoff,
			DisclosureThreshold: p.DisclosureThreshold, RoundingBase: p.RoundingBase, ContentHash: p.ContentHash,
		},
	}
	if err := pack.Write(w, m, files, s.opts.SigningKey); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// PrintPDF prints an HTML page to PDF with headless Chromium at browser:
// the page is written to a temporary file and printed from there, so it
// must be self-contained (the evidence pages are).
func PrintPDF(ctx context.Context, browser string, html []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "pathway-pdf-")
	if err != nil {
		return nil, fmt.Errorf("evidence: pdf: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "index.html"), filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, html, 0o600); err != nil {
		return nil, fmt.Errorf("evidence: pdf: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, ChromiumArgs(filepath.Join(dir, "profile"))...) //nolint:gosec // the configured browser
	cmd.Args = append(cmd.Args, "--print-to-pdf="+out, "file://"+in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("evidence: pdf: %s: %w: %s", browser, err, lastLine(stderr.String()))
	}
	pdf, err := os.ReadFile(out)
	if err != nil || len(pdf) == 0 {
		return nil, fmt.Errorf("evidence: pdf: %s printed nothing: %s", browser, lastLine(stderr.String()))
	}
	return pdf, nil
}

// ChromiumArgs are the flags for a headless Chromium with its profile in
// userDataDir: no sandbox (it may run as root in a container), no GPU, no
// first-run or network chatter, and no header or footer on printed pages.
func ChromiumArgs(userDataDir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--metrics-recording-only", "--mute-audio",
		"--no-pdf-header-footer", "--hide-scrollbars", "--user-data-dir=" + userDataDir,
	}
}

func lastLine(s string) string {
	b := bytes.TrimSpace([]byte(s))
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return string(b)
}

func writeCSV(rows [][]string) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("evidence: csv: %w", err)
	}
	return buf.Bytes(), nil
}

// num writes a published number as the page shows it; nil is empty.
func num(v *float64) string {
	if v == nil {
		return ""
	}
	return chart.FormatNumber(*v)
}

func flag(b bool) string { return strconv.FormatBool(b) }

// measuresCSV is every point of every series shown: the tables' numbers
// and the charts' centre lines and limits.
func measuresCSV(r Report) [][]string {
	rows := [][]string{{"measure_id", "force", "month", "value", "numerator", "denominator", "suppressed", "centre", "lower_process_limit", "upper_process_limit", "spc_type"}}
	for _, m := range r.Measures {
		for _, s := range m.Series {
			for _, p := range s.Points {
				rows = append(rows, []string{m.ID, s.Force, month(p.Month), num(p.Value), num(p.Numerator), num(p.Denominator),
					flag(p.Suppressed), num(p.Mean), num(p.LPL), num(p.UPL), p.Type})
			}
		}
	}
	return rows
}

// summaryCSV is the icon matrix.
func summaryCSV(r Report) [][]string {
	rows := [][]string{{"measure_id", "force", "variation", "assurance", "latest_month", "latest_value"}}
	for _, m := range r.Measures {
		for _, s := range m.Series {
			lm, lv := "", ""
			if p, ok := s.Latest(); ok {
				lm, lv = month(p.Month), num(p.Value)
			}
			rows = append(rows, []string{m.ID, s.Force, s.Variation, s.Assurance, lm, lv})
		}
	}
	return rows
}

// funnelCSV is every force on every funnel plot shown.
func funnelCSV(r Report) [][]string {
	rows := [][]string{{"measure_id", "month", "force", "value", "numerator", "denominator", "suppressed", "centre", "lower95", "upper95", "lower998", "upper998", "position998"}}
	for _, f := range r.Funnels {
		for _, u := range f.Units {
			rows = append(rows, []string{f.MeasureID, month(f.Month), u.Force, num(u.Value), num(u.Numerator), num(u.Denominator),
				flag(u.Suppressed), chart.FormatNumber(f.Target), num(u.Lower95), num(u.Upper95),
				num(u.Lower998), num(u.Upper998), u.Position998})
		}
	}
	return rows
}

// monthsCSV is each force's month status over the period: provisional,
// approved or revised_after_approval.
func monthsCSV(r Report) [][]string {
	rows := [][]string{{"force", "month", "state"}}
	for _, m := range r.Months {
		rows = append(rows, []string{m.Force, month(m.Month), m.State})
	}
	return rows
}
