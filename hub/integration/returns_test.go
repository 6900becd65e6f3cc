package integration_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/xuri/excelize/v2"
	"google.golang.org/protobuf/proto"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// getReturn asks the hub for a force's annual return with token.
func (h *hub) getReturn(t *testing.T, token, force, year string, format pathwayv1.ReturnFormat) (*pathwayv1.GetAnnualReturnResponse, error) {
	t.Helper()
	c := pathwayv1connect.NewReturnServiceClient(http.DefaultClient, h.info.URL)
	req := connect.NewRequest(&pathwayv1.GetAnnualReturnRequest{Force: force, Year: year, Format: format})
	if token != "" {
		req.Header().Set("Authorization", "Bearer "+token)
	}
	resp, err := c.GetAnnualReturn(t.Context(), req)
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// independentTables recomputes, cell by cell, the return's tables from the
// raw incidents, another way than the hub: each incident's latest revision
// by argMax rather than FINAL, each table's category by one SQL expression.
// It gives table id → code → detentions.
func independentTables(t *testing.T, h *hub, force string, start, end time.Time) map[string]map[string]uint64 {
	t.Helper()
	latest := "SELECT incident_ref, argMax(status, revision) AS status, argMax(incident_type, revision) AS incident_type, " +
		"argMax(detained, revision) AS detained, argMax(age_band, revision) AS age_band, argMax(sex, revision) AS sex, " +
		"argMax(ethnic_group, revision) AS ethnic_group, argMax(first_pos_type, revision) AS first_pos_type, " +
		"argMax(conveyance_method, revision) AS conveyance_method, argMax(police_vehicle_reason, revision) AS police_vehicle_reason, " +
		"argMax(police_station_conditions_met, revision) AS met, argMax(arrested_for_offence, revision) AS arrested, " +
		"argMax(hcp_consulted, revision) AS hcp_consulted FROM " + h.info.Database + ".incidents WHERE force_id = ? GROUP BY incident_ref"
	counted := "status != 'withdrawn' AND incident_type = 's136' AND isNotNull(detained) AND detained >= toDateTime(?) AND detained < toDateTime(?)"
	ageGroup := "multiIf(age_band = 'under_18', 'under_18', age_band IN ('', 'not_known'), 'not_known', '18_and_over')"
	tables := []struct{ id, code, where string }{
		{"total", "'total'", ""},
		{"month", "formatDateTime(assumeNotNull(detained), '%Y-%m', 'UTC')", ""},
		{"age_group", ageGroup, ""},
		{"age_band", "age_band", ""},
		{"sex", "sex", ""},
		{"ethnicity", "ethnic_group", ""},
		{"place_of_safety", "first_pos_type", ""},
		{"conveyance", "conveyance_method", ""},
		{"police_vehicle_reason", "police_vehicle_reason", "conveyance_method = 'police_vehicle'"},
		{"police_station", "multiIf(arrested = 1, 'arrested_for_offence', met = 1, 'conditions_met', 'not_known')", "first_pos_type = 'police_station'"},
		{"police_station_age", ageGroup, "first_pos_type = 'police_station'"},
		{"consultation", "hcp_consulted", ""},
	}
	out := map[string]map[string]uint64{}
	for _, tb := range tables {
		where := counted
		if tb.where != "" {
			where += " AND " + tb.where
		}
		rows, err := h.ch.Query(t.Context(), "SELECT "+tb.code+" AS code, count() FROM ("+latest+") WHERE "+where+" GROUP BY code",
			force, start.Unix(), end.Unix())
		if err != nil {
			t.Fatalf("%s: %v", tb.id, err)
		}
		out[tb.id] = map[string]uint64{}
		for rows.Next() {
			var code string
			var n uint64
			if err := rows.Scan(&code, &n); err != nil {
				t.Fatal(err)
			}
			out[tb.id][code] = n
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestTheAnnualReturnMatchesTheRawIncidents: a year of a force's simulated
// incidents, some revised, some withdrawn, go in; the force's supervisors
// get its Home Office return for that year. Every cell matches an
// independent count from the raw tables; the months reconcile with the
// measure s136_detentions; not-known rows are there; the pack's signature
// holds and a changed count breaks it; the XLSX says what the CSV says;
// and no one but the force's own supervisors gets it.
func TestTheAnnualReturnMatchesTheRawIncidents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := startSharingHub(t)
	const force = "city-of-london"
	start := time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	key, err := pseudo.NewKey(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	// Thirteen months, so that March before the year and April after
	// are there to be left out.
	hist, err := simulate.History(simulate.Options{Force: force, Months: 14, End: end.AddDate(0, 1, 0), Seed: 3, Key: key, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(client.Options{URL: h.info.URL, Token: cityToken})
	if sum, err := c.SubmitIncidents(ctx, hist.Incidents); err != nil || sum.Rejected() > 0 {
		t.Fatalf("submit: %v (%d rejected: %v)", err, sum.Rejected(), sum.Reasons())
	}
	// Revisions: three detentions of the year withdrawn, three others'
	// sex changed to not known (the return must show the latest).
	var revised []*pathwayv1.IncidentRecord
	for _, r := range hist.Incidents {
		d := r.GetTimeline().GetDetained()
		if r.GetIncidentType() != pathwayv1.IncidentType_INCIDENT_TYPE_S136 || d == nil || d.AsTime().Before(start) || !d.AsTime().Before(end) {
			continue
		}
		n := proto.Clone(r).(*pathwayv1.IncidentRecord)
		n.Revision++
		if len(revised) < 3 {
			n.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN
		} else {
			n.Sex = pathwayv1.Sex_SEX_NOT_KNOWN
		}
		revised = append(revised, n)
		if len(revised) == 6 {
			break
		}
	}
	if sum, err := c.SubmitIncidents(ctx, revised); err != nil || sum.Rejected() > 0 {
		t.Fatalf("submit revisions: %v (%d rejected: %v)", err, sum.Rejected(), sum.Reasons())
	}

	resp, err := h.getReturn(t, cityToken, force, "2025-26", pathwayv1.ReturnFormat_RETURN_FORMAT_CSV)
	if err != nil {
		t.Fatalf("the force's supervisors asked for its return: %v", err)
	}
	prov := resp.GetProvenance()
	t.Logf("the 2025-26 return of %s: %d detentions, %d revised; pack %d bytes", force, prov.GetDetentions(), prov.GetRevised(), len(resp.GetPack()))
	want := independentTables(t, h, force, start, end)
	if prov.GetDetentions() == 0 || prov.GetDetentions() != want["total"]["total"] {
		t.Fatalf("the return counts %d detentions, the raw tables %d", prov.GetDetentions(), want["total"]["total"])
	}
	if prov.GetRevised() < 3 || prov.GetProvisional() || prov.GetRecipient() != "col_supervisors" {
		t.Errorf("provenance: %d revised (want at least the 3 changed), provisional %t, recipient %q", prov.GetRevised(), prov.GetProvisional(), prov.GetRecipient())
	}
	got := map[string]map[string]uint64{}
	for _, tb := range resp.GetTables() {
		got[tb.GetId()] = map[string]uint64{}
		var sum uint64
		for i, row := range tb.GetRows() {
			got[tb.GetId()][row.GetCode()] = row.GetDetentions()
			if i < len(tb.GetRows())-1 {
				sum += row.GetDetentions()
			}
		}
		last := tb.GetRows()[len(tb.GetRows())-1]
		if tb.GetId() != "total" && (last.GetCode() != "total" || last.GetDetentions() != sum) {
			t.Errorf("table %s: rows sum to %d, its total row says %d", tb.GetId(), sum, last.GetDetentions())
		}
		if _, ok := got[tb.GetId()]["not_known"]; !ok && tb.GetId() != "total" && tb.GetId() != "month" {
			t.Errorf("table %s has no not-known row", tb.GetId())
		}
	}
	for id, cells := range want {
		if got[id] == nil {
			t.Errorf("the return has no table %s", id)
			continue
		}
		for code, n := range cells {
			if got[id][code] != n {
				t.Errorf("table %s, %s: the return says %d, the raw tables %d", id, code, got[id][code], n)
			}
		}
		for code, n := range got[id] {
			if code != "total" && n != 0 && cells[code] != n {
				t.Errorf("table %s, %s: the return says %d, the raw tables %d", id, code, n, cells[code])
			}
		}
	}
	if got["sex"]["not_known"] < 3 {
		t.Errorf("the three detentions revised to sex not known are not counted so: %d", got["sex"]["not_known"])
	}

	// The months reconcile with the measure s136_detentions.
	m, _ := measures.ByID("s136_detentions")
	q, err := m.Query(h.info.Database, measures.DefaultThresholds(), measures.Scope{Forces: []string{force}}, start, end)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := h.ch.Query(ctx, "SELECT formatDateTime(month, '%Y-%m') AS m, numerator FROM ("+q+") AS measure")
	if err != nil {
		t.Fatal(err)
	}
	var measured float64
	for rows.Next() {
		var month string
		var n float64
		if err := rows.Scan(&month, &n); err != nil {
			t.Fatal(err)
		}
		measured += n
		if uint64(n) != got["month"][month] {
			t.Errorf("%s: the measure counts %v detentions, the return %d", month, n, got["month"][month])
		}
	}
	_ = rows.Close()
	if uint64(measured) != prov.GetDetentions() {
		t.Errorf("the measure's twelve months sum to %v, the return's total is %d", measured, prov.GetDetentions())
	}

	// The decision is audited.
	waitFor(t, "the export decision in the audit", func() bool {
		return h.count(t, "SELECT count() FROM decisions WHERE decision_id = ? AND action = 'export' AND allow = 1 AND force_id = ?", prov.GetDecisionId(), force) == 1
	})

	// The pack: signed, its CSV the tables, and a changed count caught.
	keyPEM := httpGet(t, h.info.URL+pack.KeyPath)
	pub, err := pack.ParsePublicKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	packPath := filepath.Join(dir, resp.GetPackName())
	if err := os.WriteFile(packPath, resp.GetPack(), 0o600); err != nil {
		t.Fatal(err)
	}
	man, err := pack.Verify(packPath, pub)
	if err != nil {
		t.Fatalf("the return's pack does not verify: %v", err)
	}
	if man.Return == nil || man.Return.Detentions != prov.GetDetentions() || man.Provenance.ContentHash != prov.GetContentHash() {
		t.Errorf("the manifest says %+v, hash %s; the response %d detentions, hash %s", man.Return, man.Provenance.ContentHash, prov.GetDetentions(), prov.GetContentHash())
	}
	csvText := string(zipFile(t, resp.GetPack(), "return.csv"))
	if !strings.Contains(csvText, "place_of_safety,police_station,Police station,") || !strings.HasPrefix(csvText, "table,code,category,detentions\n") {
		t.Errorf("return.csv does not read as the return:\n%.300s", csvText)
	}
	tampered := rezip(t, resp.GetPack(), "return.csv", strings.Replace(csvText, "total,total,Total,", "total,total,Total,1", 1))
	tamperedPath := filepath.Join(dir, "tampered.zip")
	if err := os.WriteFile(tamperedPath, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pack.Verify(tamperedPath, pub); !errors.Is(err, pack.ErrAltered) {
		t.Errorf("a pack with a changed total verifies: %v", err)
	}

	// XLSX: the same counts.
	x, err := h.getReturn(t, cityToken, force, "2025-26", pathwayv1.ReturnFormat_RETURN_FORMAT_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	if x.GetProvenance().GetContentHash() != prov.GetContentHash() {
		t.Errorf("the XLSX return's content hash %s differs from the CSV's %s", x.GetProvenance().GetContentHash(), prov.GetContentHash())
	}
	book, err := excelize.OpenReader(bytes.NewReader(zipFile(t, x.GetPack(), "return.xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = book.Close() }()
	sheetRows, err := book.GetRows("place_of_safety")
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	for _, r := range sheetRows {
		if len(r) == 3 && r[0] != "code" {
			seen++
			if r[2] != uintText(got["place_of_safety"][r[0]]) {
				t.Errorf("XLSX place_of_safety %s = %s, the return %d", r[0], r[2], got["place_of_safety"][r[0]])
			}
		}
	}
	if seen != len(got["place_of_safety"]) {
		t.Errorf("the XLSX sheet has %d category rows, the table %d", seen, len(got["place_of_safety"]))
	}

	// Attacks: another force, a commissioner, a region, nobody, garbage.
	refusals := []struct {
		token, force, year string
		code               connect.Code
		says               string
	}{
		{metToken, force, "2025-26", connect.CodePermissionDenied, "city-of-london"},
		{nclToken, force, "2025-26", connect.CodePermissionDenied, ""},
		{londonToken, force, "2025-26", connect.CodePermissionDenied, ""},
		{cityToken, "metropolitan", "2025-26", connect.CodePermissionDenied, ""},
		{"", force, "2025-26", connect.CodeUnauthenticated, ""},
		{"not-a-token", force, "2025-26", connect.CodeUnauthenticated, ""},
		{cityToken, force, "2025-2026", connect.CodeInvalidArgument, "year"},
		{cityToken, force, "2025-27", connect.CodeInvalidArgument, "year"},
		{cityToken, "City of London'; DROP TABLE incidents", "2025-26", connect.CodeInvalidArgument, "force"},
	}
	for _, r := range refusals {
		_, err := h.getReturn(t, r.token, r.force, r.year, pathwayv1.ReturnFormat_RETURN_FORMAT_CSV)
		if connect.CodeOf(err) != r.code || !strings.Contains(err.Error(), r.says) {
			t.Errorf("%s asking for %s's %s return: %v, want %s saying %q", r.token, r.force, r.year, err, r.code, r.says)
		}
	}
	if n := h.count(t, "SELECT count() FROM incidents"); n == 0 {
		t.Error("the incidents are gone")
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a test's one-off fetch
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}

// zipFile returns the file name of the zip data.
func zipFile(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no %s in the pack", name)
	return nil
}

// rezip returns the zip data with file name's content replaced.
func rezip(t *testing.T, data []byte, name, content string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			_, err = io.WriteString(w, content)
		} else {
			var rc io.ReadCloser
			if rc, err = f.Open(); err == nil {
				_, err = io.Copy(w, rc)
				_ = rc.Close()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func uintText(n uint64) string { return strconv.FormatUint(n, 10) }
