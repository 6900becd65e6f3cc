package export_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/pathwayhub/pathwayhub/ingest/export"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
)

// The integrators' documentation of the format must agree with the code.
const formatDoc = "../../schemas/export-format.md"

// docRow returns the table row of the document that starts with cell.
func docRow(t *testing.T, doc, cell string) string {
	t.Helper()
	for line := range strings.SplitSeq(doc, "\n") {
		if strings.HasPrefix(line, "| "+cell+" |") {
			return line
		}
	}
	t.Errorf("%s has no table row for %s", formatDoc, cell)
	return ""
}

func TestDocListsEveryColumnAndCode(t *testing.T) {
	t.Parallel()
	doc := readFile(t, formatDoc)
	required := map[string]bool{}
	for _, c := range export.RequiredColumns() {
		required[c] = true
	}
	columnsSection := doc[strings.Index(doc, "## 3. Columns"):strings.Index(doc, "## 4. Codes")]
	codesSection := doc[strings.Index(doc, "## 4. Codes"):strings.Index(doc, "## 5. Lists")]
	for _, c := range export.Columns() {
		row := docRow(t, columnsSection, "`"+c+"`")
		if got := strings.Contains(row, "| yes |"); got != required[c] {
			t.Errorf("column %s: documented as required %v, is required %v", c, got, required[c])
		}
		if codes := export.Codes(c); codes != nil {
			row := docRow(t, codesSection, "`"+c+"`")
			for _, code := range codes {
				if !strings.Contains(row, "`"+code+"`") {
					t.Errorf("column %s: code %s is not documented", c, code)
				}
			}
		}
	}
	for _, field := range []string{"actor", "action", "reason"} {
		row := docRow(t, codesSection, "`presence_log`: `"+field+"`")
		for _, code := range export.Codes("presence_log." + field) {
			if !strings.Contains(row, "`"+code+"`") {
				t.Errorf("presence_log %s: code %s is not documented", field, code)
			}
		}
	}
}

// TestDocExamplesParse reads the CSV and NDJSON examples of the document:
// both must parse without error and give the same records.
func TestDocExamplesParse(t *testing.T) {
	t.Parallel()
	doc := readFile(t, formatDoc)
	block := func(lang string) string {
		m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("no %s example", lang)
		}
		return m[1]
	}
	fromCSV := readAll(t, export.FormatCSV, block("csv"))
	fromNDJSON := readAll(t, export.FormatNDJSON, block("ndjson"))
	if len(fromCSV) == 0 || len(fromCSV) != len(fromNDJSON) {
		t.Fatalf("%d CSV and %d NDJSON rows", len(fromCSV), len(fromNDJSON))
	}
	for i := range fromCSV {
		if fromCSV[i].err != nil || fromNDJSON[i].err != nil {
			t.Fatalf("example row %d: %v / %v", i+1, fromCSV[i].err, fromNDJSON[i].err)
		}
		if !proto.Equal(fromCSV[i].rec, fromNDJSON[i].rec) {
			t.Errorf("example row %d differs:\n csv    %v\n ndjson %v", i+1, fromCSV[i].rec, fromNDJSON[i].rec)
		}
	}
}

// TestDocTestVector checks the documented tokens against package pseudo.
func TestDocTestVector(t *testing.T) {
	t.Parallel()
	doc := readFile(t, formatDoc)
	key, err := pseudo.NewKey([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := key.SubjectToken("485 777 3456")
	incident, _ := key.IncidentRef("BTP/25/004127")
	for _, tok := range []string{subject, incident} {
		if !strings.Contains(doc, "`"+tok+"`") {
			t.Errorf("%s does not give the token %s", formatDoc, tok)
		}
	}
}

// TestDocRefusedColumnsAreRefused checks every name the document gives as a
// refused identifier column is refused.
func TestDocRefusedColumnsAreRefused(t *testing.T) {
	t.Parallel()
	doc := readFile(t, formatDoc)
	start := strings.Index(doc, "## 7. Refused columns")
	end := strings.Index(doc, "Some near misses")
	if start < 0 || end < start {
		t.Fatal("section 7 not found")
	}
	names := regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(doc[start:end], -1)
	if len(names) < 30 {
		t.Fatalf("only %d names found in section 7", len(names))
	}
	base := strings.Join(export.RequiredColumns(), ",")
	for _, m := range names {
		name := m[1]
		if name == "person_id" || name == "id" || name == "number" || name == "ref" || name == "reference" {
			continue // the advice, and suffixes on their own
		}
		_, err := export.NewReader(strings.NewReader(base+","+name+"\n"), export.FormatCSV, testOptions(t))
		if !errors.Is(err, export.ErrIdentifierColumn) {
			t.Errorf("column %s: %v, want it refused as an identifier", name, err)
		}
	}
}
