package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/ingest/export"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzCSV reads arbitrary CSV: no panic, every record well-formed, and no
// error message repeating the row's raw incident number.
func FuzzCSV(f *testing.F) {
	sample := readFile(f, sampleCSV)
	f.Add([]byte(sample))
	header, body, _ := strings.Cut(sample, "\n")
	// Each row on its own, too: small inputs fuzz (and minimise) faster.
	for line := range strings.SplitSeq(strings.TrimSpace(body), "\n") {
		f.Add([]byte(header + "\n" + line + "\n"))
	}
	f.Add([]byte(header + "\n" + strings.ReplaceAll(body, "false", "maybe")))
	f.Add([]byte(header + "\n" + strings.ReplaceAll(body, "Z,", ",")))
	f.Add([]byte(header + "\n\"unterminated\n"))
	f.Add([]byte(header + ",surname\n"))
	f.Add([]byte(strings.Join(export.RequiredColumns(), ",") + "\nINCIDENT-77,1,open,s136,s136_handover,crime,police_deployed,18_24,male,A,E09000001,E12000007,hbpos,ambulance,2025-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, export.FormatCSV, data, csvIncidentNumbers(data))
	})
}

// FuzzNDJSON is FuzzCSV for NDJSON.
func FuzzNDJSON(f *testing.F) {
	sample := readFile(f, sampleNDJSON)
	f.Add([]byte(sample))
	for line := range strings.SplitSeq(strings.TrimSpace(sample), "\n") {
		f.Add([]byte(line + "\n"))
	}
	f.Add([]byte(`{"incident_number":"INCIDENT-77","sex":"x"}` + "\n\n{}\n"))
	f.Add([]byte(`{"incident_number":"INCIDENT-77","transfers":[{"arrived":"2025-01-01T00:00:00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, export.FormatNDJSON, data, ndjsonIncidentNumbers(data))
	})
}

// checkReader reads data to the end and checks the invariants. incidents
// maps a line to the raw incident number of the row starting there, as an
// independent parser sees it.
func checkReader(t *testing.T, f export.Format, data []byte, incidents map[int]string) {
	t.Helper()
	opts := testOptions(t)
	r, err := export.NewReader(bytes.NewReader(data), f, opts)
	if err != nil {
		return // a bad CSV header; nothing more to read
	}
	vocabulary := strings.Join(export.Columns(), " ")
	lastLine := 0
	for range len(data) + 2 {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		var rowErr *export.RowError
		if err != nil && !errors.As(err, &rowErr) {
			t.Fatalf("fatal error from an in-memory reader: %v", err)
		}
		if r.Line() <= lastLine {
			t.Fatalf("line went from %d to %d", lastLine, r.Line())
		}
		lastLine = r.Line()
		if err != nil {
			if rowErr.Line != r.Line() {
				t.Fatalf("RowError line %d, Line() %d", rowErr.Line, r.Line())
			}
			raw := strings.TrimSpace(incidents[rowErr.Line])
			// Short values, and values that are column names, codes or keys,
			// can appear in a message by coincidence.
			if len(raw) >= 8 && !strings.Contains(vocabulary, raw) && !isCode(raw) && strings.Contains(err.Error(), raw) {
				t.Fatalf("error message repeats the incident number %q: %v", raw, err)
			}
			continue
		}
		if !hex64.MatchString(rec.GetIncidentRef()) {
			t.Fatalf("incident_ref %q is not 64 hex characters", rec.GetIncidentRef())
		}
		if tok := rec.GetSubjectToken(); tok != "" && !hex64.MatchString(tok) {
			t.Fatalf("subject_token %q is not 64 hex characters", tok)
		}
		if rec.GetSchemaVersion() != 1 || rec.GetForceId() != opts.ForceID || rec.GetTimeline() == nil {
			t.Fatalf("record schema_version %d force_id %q timeline %v", rec.GetSchemaVersion(), rec.GetForceId(), rec.GetTimeline())
		}
	}
	t.Fatal("the reader did not reach the end")
}

func isCode(s string) bool {
	for _, c := range append(export.Columns(), "transfers.pos_type", "presence_log.actor", "presence_log.action", "presence_log.reason") {
		for _, code := range export.Codes(c) {
			if strings.Contains(code, s) || strings.Contains(s, code) && len(code) > 3 {
				return true
			}
		}
	}
	return false
}

// csvIncidentNumbers returns the incident_number of each CSV row by its
// starting line, using encoding/csv.
func csvIncidentNumbers(data []byte) map[int]string {
	out := map[int]string{}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return out
	}
	col := -1
	for i, h := range header {
		if strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) == "incident_number" {
			col = i
		}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			continue
		}
		line, _ := r.FieldPos(0)
		if col >= 0 && col < len(rec) {
			out[line] = rec[col]
		}
	}
}

// ndjsonIncidentNumbers returns the incident_number of each NDJSON line,
// using encoding/json.
func ndjsonIncidentNumbers(data []byte) map[int]string {
	out := map[int]string{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		var obj map[string]any
		if json.Unmarshal(line, &obj) != nil {
			continue
		}
		raw, _ := obj["incident_number"].(string)
		for k := range obj {
			// An unknown key that reads like a name is echoed by design.
			if strings.Contains(k, strings.TrimSpace(raw)) {
				raw = ""
			}
		}
		out[i+1] = raw
	}
	return out
}
