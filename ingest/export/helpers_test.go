package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/ingest/export"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

const testForce = "btp"

// keys returns the shared (regional) key and the force's own incident key.
func keys(tb testing.TB) (shared, incident pseudo.Key) {
	tb.Helper()
	s, err := pseudo.NewKey([]byte(strings.Repeat("s", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	i, err := pseudo.NewKey([]byte(strings.Repeat("i", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	return s, i
}

func testOptions(tb testing.TB) export.Options {
	tb.Helper()
	s, i := keys(tb)
	return export.Options{ForceID: testForce, Key: s, IncidentKey: i}
}

// result is what one call of Next gave.
type result struct {
	rec  *pathwayv1.IncidentRecord
	err  error
	line int
}

// readAll reads data to the end, failing on any error that is not a
// *RowError.
func readAll(tb testing.TB, f export.Format, data string) []result {
	tb.Helper()
	r, err := export.NewReader(strings.NewReader(data), f, testOptions(tb))
	if err != nil {
		tb.Fatalf("NewReader: %v", err)
	}
	var out []result
	for range 10000 {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		var rowErr *export.RowError
		if err != nil && !errors.As(err, &rowErr) {
			tb.Fatalf("Next: fatal error %v", err)
		}
		out = append(out, result{rec: rec, err: err, line: r.Line()})
	}
	tb.Fatal("reader never reached EOF")
	return nil
}

// row is one logical export row: column name to its text form.
type row map[string]string

// csvOf renders rows as CSV with the union of their columns as the header,
// sorted so the order differs from the canonical one.
func csvOf(tb testing.TB, rows ...row) string {
	tb.Helper()
	var header []string
	for _, r := range rows {
		for k := range r {
			if !slices.Contains(header, k) {
				header = append(header, k)
			}
		}
	}
	slices.Sort(header)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		tb.Fatal(err)
	}
	for _, r := range rows {
		cells := make([]string, len(header))
		for i, h := range header {
			cells[i] = r[h]
		}
		if err := w.Write(cells); err != nil {
			tb.Fatal(err)
		}
	}
	w.Flush()
	return b.String()
}

// ndjsonOf renders rows as NDJSON, every value a JSON string, except that
// overrides replace the value of a column with any JSON value.
func ndjsonOf(tb testing.TB, overrides map[string]any, rows ...row) string {
	tb.Helper()
	var b strings.Builder
	for _, r := range rows {
		obj := make(map[string]any, len(r))
		for k, v := range r {
			obj[k] = v
		}
		for k, v := range overrides {
			obj[k] = v
		}
		line, err := json.Marshal(obj)
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func (r row) with(kv ...string) row {
	out := make(row, len(r)+len(kv)/2)
	for k, v := range r {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (r row) without(names ...string) row {
	out := make(row, len(r))
	for k, v := range r {
		if !slices.Contains(names, k) {
			out[k] = v
		}
	}
	return out
}

// baseRow fills exactly the required columns.
func baseRow() row {
	return row{
		"incident_number":   "INC-0001",
		"revision":          "1",
		"status":            "open",
		"incident_type":     "s136",
		"rcrp_category":     "s136_handover",
		"rcrp_threshold":    "risk_to_life_or_serious_harm",
		"disposition":       "police_deployed",
		"age_band":          "25_34",
		"sex":               "female",
		"ethnicity":         "B",
		"lad_code":          "E09000007",
		"region_code":       "E12000007",
		"first_pos_type":    "hbpos",
		"conveyance_method": "ambulance",
		"call_received":     "2025-03-01T10:00:00Z",
	}
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
