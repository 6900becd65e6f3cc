package export_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/ingest/export"
)

// wantRowError checks that err is a *RowError for line and column wrapping
// want, and that its message starts by naming them.
func wantRowError(t *testing.T, err error, line int, column string, want error) {
	t.Helper()
	var re *export.RowError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *RowError", err)
	}
	if re.Line != line || re.Column != column {
		t.Errorf("error at line %d column %q, want line %d column %q (%v)", re.Line, re.Column, line, column, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %q", err, want)
	}
	prefix := "line " + strconv.Itoa(line)
	switch {
	case strings.Contains(column, " "):
		prefix += ", column " + strconv.Quote(column)
	case column != "":
		prefix += ", column " + column
	}
	if !strings.HasPrefix(err.Error(), prefix+": ") {
		t.Errorf("message %q does not start with %q", err, prefix+": ")
	}
}

// TestBadCellIsRowErrorAndReadingContinues puts one bad value in the middle
// row of three and checks both encodings report it by line and column and
// then read the following row.
func TestBadCellIsRowErrorAndReadingContinues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, column, value string
		want                error
		message             string // a part the message must contain
	}{
		{"unknown enum code", "sex", "blue", export.ErrUnknownCode, "male, female, not_stated, not_known"},
		{"unknown ethnicity", "ethnicity", "Q", export.ErrUnknownCode, "A, B, C"},
		{"bad bool", "inspector_authorised", "maybe", export.ErrInvalidBool, "true, false, yes, no"},
		{"timestamp without zone", "detained", "2025-03-01T10:05:00", export.ErrInvalidTimestamp, "no time zone"},
		{"timestamp with space and no zone", "detained", "2025-03-01 10:05:00", export.ErrInvalidTimestamp, "no time zone"},
		{"fractional seconds", "detained", "2025-03-01T10:05:00.250Z", export.ErrInvalidTimestamp, "fractional seconds"},
		{"zero fractional seconds", "deployed", "2025-03-01T10:05:00.000+01:00", export.ErrInvalidTimestamp, "fractional seconds"},
		{"date only", "call_received", "2025-03-01", export.ErrInvalidTimestamp, "date alone"},
		{"not a timestamp", "arrived_at_pos", "yesterday", export.ErrInvalidTimestamp, "RFC 3339"},
		{"revision not a number", "revision", "two", export.ErrInvalidNumber, "digits"},
		{"revision negative", "revision", "-1", export.ErrInvalidNumber, "digits"},
		{"revision too large", "revision", "4294967296", export.ErrInvalidNumber, "too large"},
		{"revision zero", "revision", "0", export.ErrInvalidNumber, "1 or more"},
		{"year zero", "detained", "0000-01-01T00:00:00Z", export.ErrInvalidTimestamp, "year"},
		{"hours fractional", "extension_hours", "1.5", export.ErrInvalidNumber, "digits"},
		{"bad LAD", "lad_code", "Camden", export.ErrInvalidCode, "local authority district"},
		{"bad region", "region_code", "E13000001", export.ErrInvalidCode, "region"},
		{"bad ODS site", "pos_ods_site", "RV3-AA", export.ErrInvalidCode, "ODS site"},
		{"required value empty", "status", "", export.ErrRequired, "required"},
		{"incident number only punctuation", "incident_number", " -/. ", export.ErrInvalidIdentifier, "nothing is left"},
		{"person id only punctuation", "person_id", "--", export.ErrInvalidIdentifier, "nothing is left"},
		{"transfer with unknown type", "transfers", "2025-03-01T12:00:00Z|castle", export.ErrUnknownCode, "entry 1, pos_type"},
		{"transfer with too many fields", "transfers", "2025-03-01T12:00:00Z|hbpos|RV3|RV3AA|extra", export.ErrInvalidList, "arrived|pos_type|pos_ods_org|pos_ods_site"},
		{"transfer without time", "transfers", "|hbpos", export.ErrRequired, "entry 1, arrived"},
		{"presence entry without zone", "presence_log", "2025-03-01T12:00:00Z|nhs|requested|other;2025-03-01T12:30:00|police|left", export.ErrInvalidTimestamp, "entry 2, time"},
		{"presence entry with bad actor", "presence_log", "2025-03-01T12:00:00Z|ambulance|left", export.ErrUnknownCode, "police, nhs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			good := baseRow().with(c.column, "")
			if slices.Contains(export.RequiredColumns(), c.column) {
				good = baseRow()
			}
			bad := baseRow().with(c.column, c.value)
			for _, enc := range []struct {
				name  string
				f     export.Format
				data  string
				lines [3]int
			}{
				{"csv", export.FormatCSV, csvOf(t, good, bad, good), [3]int{2, 3, 4}},
				// A blank line before the last row: line numbers count it.
				{"ndjson", export.FormatNDJSON, ndjsonOf(t, nil, good, bad) + "\n" + ndjsonOf(t, nil, good), [3]int{1, 2, 4}},
			} {
				got := readAll(t, enc.f, enc.data)
				if len(got) != 3 {
					t.Fatalf("%s: %d results, want 3: %v", enc.name, len(got), got)
				}
				if got[0].err != nil || got[2].err != nil {
					t.Fatalf("%s: good rows failed: %v, %v", enc.name, got[0].err, got[2].err)
				}
				wantRowError(t, got[1].err, enc.lines[1], c.column, c.want)
				if !strings.Contains(got[1].err.Error(), c.message) {
					t.Errorf("%s: message %q does not contain %q", enc.name, got[1].err, c.message)
				}
				for i, r := range got {
					if r.line != enc.lines[i] {
						t.Errorf("%s: Line() after row %d = %d, want %d", enc.name, i+1, r.line, enc.lines[i])
					}
				}
			}
		})
	}
}

// TestCSVRowProblems covers problems only CSV rows can have.
func TestCSVRowProblems(t *testing.T) {
	t.Parallel()
	good := csvOf(t, baseRow())
	header, goodLine, _ := strings.Cut(good, "\n")
	goodLine = strings.TrimSuffix(goodLine, "\n")
	shortLine := goodLine[:strings.LastIndex(goodLine, ",")]
	_, afterFirst, _ := strings.Cut(goodLine, ",")
	cases := []struct {
		name   string
		bad    string
		column string
		want   error
	}{
		// The header is sorted, so its last column is status.
		{"ragged: too few fields", shortLine, "status", export.ErrFieldCount},
		{"ragged: too many fields", goodLine + ",extra", "", export.ErrFieldCount},
		{"bare quote", `INC"9,` + afterFirst, "", export.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			data := header + "\n" + goodLine + "\n" + c.bad + "\n" + goodLine + "\n"
			got := readAll(t, export.FormatCSV, data)
			if len(got) != 3 || got[0].err != nil || got[2].err != nil {
				t.Fatalf("results %+v", got)
			}
			wantRowError(t, got[1].err, 3, c.column, c.want)
		})
	}

	t.Run("blank and all-empty rows are skipped", func(t *testing.T) {
		t.Parallel()
		empty := strings.Repeat(",", strings.Count(header, ","))
		got := readAll(t, export.FormatCSV, header+"\n\n"+empty+"\n"+goodLine+"\n")
		if len(got) != 1 || got[0].err != nil || got[0].line != 4 {
			t.Fatalf("results %+v", got)
		}
	})
	t.Run("byte-order mark and CRLF", func(t *testing.T) {
		t.Parallel()
		data := "\ufeff" + header + "\r\n" + goodLine + "\r\n"
		got := readAll(t, export.FormatCSV, data)
		if len(got) != 1 || got[0].err != nil {
			t.Fatalf("results %+v", got)
		}
	})
	t.Run("quoted field over two lines", func(t *testing.T) {
		t.Parallel()
		// Quote a value that spans two lines in the incident_number field.
		cols := strings.Split(header, ",")
		cells := strings.Split(goodLine, ",")
		for i, c := range cols {
			if c == "incident_number" {
				cells[i] = "\"INC\n0001\""
			}
		}
		data := header + "\n" + strings.Join(cells, ",") + "\n" + goodLine + "\n"
		got := readAll(t, export.FormatCSV, data)
		if len(got) != 2 || got[0].err != nil || got[1].err != nil {
			t.Fatalf("results %+v", got)
		}
		if got[0].line != 2 || got[1].line != 4 {
			t.Errorf("lines %d, %d; want 2, 4", got[0].line, got[1].line)
		}
	})
}

// TestCSVHeaderProblems checks that NewReader refuses a bad header, naming
// every problem.
func TestCSVHeaderProblems(t *testing.T) {
	t.Parallel()
	base := strings.Join(export.RequiredColumns(), ",")
	cases := []struct {
		name    string
		header  string
		columns []string // the columns the errors name, in order
		want    error
	}{
		{"unknown column", base + ",colour", []string{"colour"}, export.ErrUnknownColumn},
		{"refused identifiers", base + ",name,first_name,surname,dob,date_of_birth,nhs_number,pnc_id,address,postcode,notes,free_text",
			[]string{"name", "first_name", "surname", "dob", "date_of_birth", "nhs_number", "pnc_id", "address", "postcode", "notes", "free_text"}, export.ErrIdentifierColumn},
		{"refused identifiers, other spellings", base + ",Date of Birth,NHSNumber,Forenames,home_phone,custody_number,Comments",
			[]string{"Date of Birth", "NHSNumber", "Forenames", "home_phone", "custody_number", "Comments"}, export.ErrIdentifierColumn},
		{"tokens instead of raw identifiers", base + ",incident_ref", []string{"incident_ref"}, export.ErrUnknownColumn},
		{"duplicate column", base + ",sex", []string{"sex"}, export.ErrDuplicateColumn},
		{"missing required columns", strings.Replace(base, "status,", "", 1) + ",Incident_Number ", []string{"incident_number", "status"}, nil},
		{"empty header cell", base + ",", []string{""}, export.ErrUnknownColumn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := export.NewReader(strings.NewReader(c.header+"\n"), export.FormatCSV, testOptions(t))
			if err == nil {
				t.Fatal("NewReader accepted the header")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %q does not wrap %q", err, c.want)
			}
			var joined interface{ Unwrap() []error }
			var parts []error
			if errors.As(err, &joined) {
				parts = joined.Unwrap()
			} else {
				parts = []error{err}
			}
			var names []string
			for _, p := range parts {
				var re *export.RowError
				if !errors.As(p, &re) {
					t.Fatalf("part %v is not a *RowError", p)
				}
				if re.Line != 1 {
					t.Errorf("%v: line %d, want 1", p, re.Line)
				}
				names = append(names, re.Column)
			}
			if strings.Join(names, "|") != strings.Join(c.columns, "|") {
				t.Errorf("errors name %q, want %q\n%v", names, c.columns, err)
			}
			if errors.Is(err, export.ErrIdentifierColumn) && !strings.Contains(err.Error(), "person_id") {
				t.Errorf("identifier message does not point to person_id: %v", err)
			}
		})
	}
}

func TestCSVNoHeader(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"empty file":         "",
		"data row first":     "CAD-SECRET-1234,PN-SECRET-77,1,open\n",
		"only blank lines":   "\n\n",
		"unterminated quote": "\"incident_number,status\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := export.NewReader(strings.NewReader(data), export.FormatCSV, testOptions(t))
			if err == nil {
				t.Fatal("NewReader accepted the file")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error echoes a cell: %v", err)
			}
		})
	}
}

// TestNDJSONRowProblems covers problems only NDJSON lines can have.
func TestNDJSONRowProblems(t *testing.T) {
	t.Parallel()
	good := ndjsonOf(t, nil, baseRow())
	cases := []struct {
		name   string
		bad    string
		column string
		want   error
	}{
		{"unknown key", ndjsonOf(t, map[string]any{"colour": "red"}, baseRow()), "colour", export.ErrUnknownColumn},
		{"identifier key", ndjsonOf(t, map[string]any{"surname": "x"}, baseRow()), "surname", export.ErrIdentifierColumn},
		{"identifier key, spaced", ndjsonOf(t, map[string]any{"Date of Birth": "x"}, baseRow()), "Date of Birth", export.ErrIdentifierColumn},
		{"nhs number key", ndjsonOf(t, map[string]any{"nhs_number": "x"}, baseRow()), "nhs_number", export.ErrIdentifierColumn},
		{"duplicate key", strings.Replace(good, `{`, `{"sex":"male",`, 1), "sex", export.ErrDuplicateColumn},
		{"missing required key", ndjsonOf(t, nil, baseRow().without("region_code")), "region_code", export.ErrRequired},
		{"null required value", ndjsonOf(t, map[string]any{"age_band": nil}, baseRow()), "age_band", export.ErrRequired},
		{"number for a code", ndjsonOf(t, map[string]any{"sex": 1}, baseRow()), "sex", export.ErrMalformed},
		{"string for a list entry", ndjsonOf(t, map[string]any{"transfers": []any{"x"}}, baseRow()), "transfers", export.ErrMalformed},
		{"unknown key in a list entry", ndjsonOf(t, map[string]any{"presence_log": []any{map[string]any{"time": "2025-03-01T12:00:00Z", "actor": "nhs", "action": "left", "officer": "x"}}}, baseRow()), "presence_log", export.ErrUnknownColumn},
		{"identifier key in a list entry", ndjsonOf(t, map[string]any{"transfers": []any{map[string]any{"arrived": "2025-03-01T12:00:00Z", "pos_type": "hbpos", "notes": "x"}}}, baseRow()), "transfers", export.ErrIdentifierColumn},
		{"not JSON", "{\"incident_number\": \n", "", export.ErrMalformed},
		{"not an object", "[1,2,3]\n", "", export.ErrMalformed},
		{"two objects", strings.TrimSuffix(good, "\n") + "{}\n", "", export.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := readAll(t, export.FormatNDJSON, good+c.bad+good)
			if len(got) != 3 || got[0].err != nil || got[2].err != nil {
				t.Fatalf("results %+v", got)
			}
			wantRowError(t, got[1].err, 2, c.column, c.want)
		})
	}

	t.Run("line too long", func(t *testing.T) {
		t.Parallel()
		long := `{"incident_number":"` + strings.Repeat("9", export.MaxLineBytes) + "\"}\n"
		got := readAll(t, export.FormatNDJSON, good+long+good)
		if len(got) != 3 || got[0].err != nil || got[2].err != nil {
			t.Fatalf("results: %d", len(got))
		}
		wantRowError(t, got[1].err, 2, "", export.ErrLineTooLong)
		if got[2].line != 3 {
			t.Errorf("line after the long line = %d, want 3", got[2].line)
		}
	})
	t.Run("last line without newline", func(t *testing.T) {
		t.Parallel()
		got := readAll(t, export.FormatNDJSON, good+strings.TrimSuffix(good, "\n"))
		if len(got) != 2 || got[1].err != nil || got[1].line != 2 {
			t.Fatalf("results %+v", got)
		}
	})
}

// TestIdentifiersNeverInErrors feeds rows whose raw identifiers are
// distinctive, with errors of every kind (including identifiers pasted into
// the wrong column), and checks no error message repeats them in any form.
func TestIdentifiersNeverInErrors(t *testing.T) {
	t.Parallel()
	const incident, person = "INC-SECRET-7731", "PERSON-SECRET-4410"
	forms := []string{incident, person, "INCSECRET7731", "PERSONSECRET4410", "SECRET"}
	ids := baseRow().with("incident_number", incident, "person_id", person)

	var csvRows []row
	for _, column := range []string{"sex", "ethnicity", "detained", "revision", "lad_code", "pos_ods_org", "inspector_authorised", "transfers", "presence_log"} {
		csvRows = append(csvRows, ids.with(column, person), ids.with(column, incident))
	}
	csvRows = append(csvRows,
		ids.with("transfers", "2025-03-01T12:00:00Z|"+person),
		ids.with("presence_log", incident+"|police|left"),
		ids.with("person_id", "--", "sex", "x"),
		ids.with("status", ""),
	)
	ndjsonLines := ndjsonOf(t, nil, csvRows...) +
		ndjsonOf(t, map[string]any{person: "x"}, ids) +
		ndjsonOf(t, map[string]any{"transfers": []any{map[string]any{incident: person}}}, ids) +
		ndjsonOf(t, map[string]any{"sex": []any{incident}}, ids) +
		`{"incident_number":"` + incident + `","person_id":"` + person + `",}` + "\n" +
		`{"incident_number":"` + incident + `" "` + person + "\n"

	var msgs []string
	for _, enc := range []struct {
		f    export.Format
		data string
	}{
		{export.FormatCSV, csvOf(t, csvRows...)},
		{export.FormatNDJSON, ndjsonLines},
	} {
		results := readAll(t, enc.f, enc.data)
		errCount := 0
		for _, r := range results {
			if r.err != nil {
				errCount++
				msgs = append(msgs, r.err.Error())
			}
		}
		if errCount != len(results) {
			t.Errorf("%v: %d of %d rows failed; every row has an error", enc.f, errCount, len(results))
		}
	}
	// A header that is really a data row, and a header with identifier-like
	// and odd names.
	for _, header := range []string{
		incident + "," + person + ",1,open\n",
		strings.Join(export.RequiredColumns(), ",") + "," + person + "," + incident + ",surname\n",
	} {
		_, err := export.NewReader(strings.NewReader(header), export.FormatCSV, testOptions(t))
		if err == nil {
			t.Fatalf("header %q accepted", header)
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs {
		for _, f := range forms {
			if strings.Contains(strings.ToUpper(m), f) {
				t.Errorf("error message contains %q: %s", f, m)
			}
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	shared, _ := keys(t)
	data := csvOf(t, baseRow())
	if _, err := export.NewReader(strings.NewReader(data), export.FormatCSV, export.Options{ForceID: "btp"}); err == nil {
		t.Error("NewReader accepted options without a key")
	}
	if _, err := export.NewReader(strings.NewReader(data), export.FormatCSV, export.Options{ForceID: "BTP!", Key: shared}); err == nil {
		t.Error("NewReader accepted a malformed force id")
	}
	if _, err := export.NewReader(strings.NewReader(data), export.Format(9), export.Options{Key: shared}); !errors.Is(err, export.ErrUnknownFormat) {
		t.Errorf("NewReader with an unknown format: %v", err)
	}
	// Without IncidentKey, the shared key tokenises the incident number.
	r, err := export.NewReader(strings.NewReader(data), export.FormatCSV, export.Options{Key: shared})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := shared.IncidentRef("INC-0001")
	if rec.GetIncidentRef() != want || rec.GetForceId() != "" {
		t.Errorf("incident_ref %s force_id %q; want the shared key's token and no force", rec.GetIncidentRef(), rec.GetForceId())
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]export.Format{
		"/x/incidents.csv": export.FormatCSV, "a.CSV": export.FormatCSV,
		"b.ndjson": export.FormatNDJSON, "c.JSONL": export.FormatNDJSON,
	} {
		if got, err := export.FormatFromPath(path); err != nil || got != want {
			t.Errorf("FormatFromPath(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
	for _, path := range []string{"d.json", "e.csv.gz", "noext"} {
		if _, err := export.FormatFromPath(path); !errors.Is(err, export.ErrUnknownFormat) {
			t.Errorf("FormatFromPath(%q) error = %v", path, err)
		}
	}
	for name, want := range map[string]export.Format{"csv": export.FormatCSV, "NDJSON": export.FormatNDJSON, "jsonl": export.FormatNDJSON} {
		if got, err := export.ParseFormat(name); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := export.ParseFormat("xml"); !errors.Is(err, export.ErrUnknownFormat) {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
	if export.FormatCSV.String() != "csv" || export.FormatNDJSON.String() != "ndjson" {
		t.Error("Format.String")
	}
}
