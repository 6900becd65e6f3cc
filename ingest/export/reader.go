package export

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// MaxLineBytes is the longest NDJSON line a Reader accepts. A longer line
// gives a *RowError wrapping ErrLineTooLong, and reading goes on with the
// next line.
const MaxLineBytes = 1 << 20

// forceIDPattern is the form of a data.police.uk force id.
var forceIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)

// Options configures a Reader.
type Options struct {
	// ForceID is the submitting force's data.police.uk id (e.g. "btp"). It is
	// written to every record's force_id; a file cannot set it. Empty leaves
	// force_id empty.
	ForceID string
	// Key is the region's shared key. It tokenises person_id into
	// subject_token and, unless IncidentKey is set, incident_number into
	// incident_ref. It is required.
	Key pseudo.Key
	// IncidentKey, when set, is the force's own key for incident_number.
	// The zero Key means "use Key".
	IncidentKey pseudo.Key
}

// Reader reads incident records from a force export, tokenising the raw
// identifiers as it goes. Build one with NewReader and call Next until it
// returns io.EOF.
type Reader struct {
	format      Format
	forceID     string
	key         pseudo.Key
	incidentKey pseudo.Key

	// CSV
	csv    *csv.Reader
	header []*column

	// NDJSON
	nd     *bufio.Reader
	ndLine int // lines consumed so far

	line int   // line on which the last row read starts
	err  error // sticky: io.EOF or a read failure
}

// NewReader returns a Reader of r in format f. For CSV it reads the header
// row at once: a missing header, an unknown, duplicate or refused column
// (such as surname or nhs_number), or a missing required column fails here,
// with every problem of the header joined into one error whose parts are
// *RowError values.
func NewReader(r io.Reader, f Format, opts Options) (*Reader, error) {
	if opts.ForceID != "" && !forceIDPattern.MatchString(opts.ForceID) {
		return nil, fmt.Errorf("export: Options.ForceID %q is not a data.police.uk force id (lower-case letters, digits and hyphens)", opts.ForceID)
	}
	if _, err := opts.Key.SubjectToken("0"); err != nil {
		return nil, fmt.Errorf("export: Options.Key: %w", err)
	}
	incidentKey := opts.IncidentKey
	if _, err := incidentKey.IncidentRef("0"); err != nil {
		incidentKey = opts.Key // the zero Key: use the shared key
	}
	rd := &Reader{format: f, forceID: opts.ForceID, key: opts.Key, incidentKey: incidentKey}
	switch f {
	case FormatCSV:
		rd.csv = csv.NewReader(r)
		rd.csv.FieldsPerRecord = -1 // counted here, to name the missing column
		if err := rd.readHeader(); err != nil {
			return nil, err
		}
	case FormatNDJSON:
		rd.nd = bufio.NewReaderSize(r, 64<<10)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, f)
	}
	return rd, nil
}

// Line returns the line on which the row most recently read by Next starts,
// whether Next returned a record or a *RowError. Use it to relate a record
// to its place in the file, e.g. when the hub rejects it.
func (r *Reader) Line() int { return r.line }

// Next returns the next record. A row that cannot be read gives a *RowError;
// the Reader stays usable and the next call goes on with the following row.
// At the end of the input Next returns io.EOF; any other error means the
// input could not be read, and is returned again by every later call.
//
// Every record has schema_version 1, force_id from Options, incident_ref
// (and subject_token when person_id is given) as tokens, and a timeline.
// Blank lines, and CSV rows whose fields are all empty, are skipped.
func (r *Reader) Next() (*pathwayv1.IncidentRecord, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.format == FormatCSV {
		return r.nextCSV()
	}
	return r.nextNDJSON()
}

// ---- CSV -------------------------------------------------------------------

// readHeader reads and checks the CSV header row.
func (r *Reader) readHeader() error {
	cells, err := r.csv.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("export: %w: the file is empty; a CSV export starts with a header row naming its columns", ErrNoHeader)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RowError{Line: pe.StartLine, Err: fmt.Errorf("%w: %w", ErrMalformed, pe.Err)}
	}
	if err != nil {
		return fmt.Errorf("export: read header: %w", err)
	}
	line, _ := r.csv.FieldPos(0)

	known := 0
	for _, cell := range cells {
		if _, ok := columnsByName[normaliseName(cell)]; ok {
			known++
		}
	}
	if known == 0 {
		// Most likely a data row: say nothing about its cells.
		return &RowError{Line: line, Err: fmt.Errorf("%w: the first row names none of the columns of the format; a CSV export starts with a header row naming its columns (incident_number, revision, status and so on)", ErrNoHeader)}
	}

	var errs []error
	r.header = make([]*column, len(cells))
	seen := make(map[*column]bool, len(cells))
	for i, cell := range cells {
		name := normaliseName(cell)
		c, ok := columnsByName[name]
		switch {
		case name == "":
			errs = append(errs, &RowError{Line: line, Err: fmt.Errorf("%w: header field %d is empty; every column needs a name", ErrUnknownColumn, i+1)})
		case !ok:
			errs = append(errs, nameProblem(line, strings.TrimPrefix(cell, "\ufeff"), "header field "+strconv.Itoa(i+1)))
		case seen[c]:
			errs = append(errs, &RowError{Line: line, Column: c.name, Err: fmt.Errorf("%w: the column appears more than once in the header", ErrDuplicateColumn)})
		default:
			seen[c] = true
			r.header[i] = c
		}
	}
	for _, c := range columns {
		if c.required && !seen[c] {
			errs = append(errs, &RowError{Line: line, Column: c.name, Err: ErrMissingColumn})
		}
	}
	return errors.Join(errs...)
}

func (r *Reader) nextCSV() (*pathwayv1.IncidentRecord, error) {
	for {
		fields, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			r.err = io.EOF
			return nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			r.line = pe.StartLine
			return nil, &RowError{Line: pe.StartLine, Err: fmt.Errorf("%w: %w", ErrMalformed, pe.Err)}
		}
		if err != nil {
			r.err = fmt.Errorf("export: read: %w", err)
			return nil, r.err
		}
		r.line, _ = r.csv.FieldPos(0)
		if allEmpty(fields) {
			continue
		}
		if len(fields) != len(r.header) {
			return nil, r.fieldCountError(len(fields))
		}
		rec := r.newRecord()
		for i, c := range r.header {
			if err := r.setText(rec, c, strings.TrimSpace(fields[i])); err != nil {
				return nil, &RowError{Line: r.line, Column: c.name, Err: err}
			}
		}
		finish(rec)
		return rec, nil
	}
}

// fieldCountError reports a ragged row, naming the first missing column
// when the row is short.
func (r *Reader) fieldCountError(n int) *RowError {
	err := fmt.Errorf("%w: the row has %d fields and the header %d", ErrFieldCount, n, len(r.header))
	if n < len(r.header) {
		return &RowError{Line: r.line, Column: r.header[n].name, Err: err}
	}
	return &RowError{Line: r.line, Err: err}
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// ---- NDJSON ----------------------------------------------------------------

func (r *Reader) nextNDJSON() (*pathwayv1.IncidentRecord, error) {
	for {
		data, tooLong, err := r.readLine()
		if errors.Is(err, io.EOF) {
			r.err = io.EOF
			return nil, io.EOF
		}
		if err != nil {
			r.err = fmt.Errorf("export: read: %w", err)
			return nil, r.err
		}
		r.ndLine++
		if tooLong {
			r.line = r.ndLine
			return nil, &RowError{Line: r.line, Err: fmt.Errorf("%w: longer than %d bytes", ErrLineTooLong, MaxLineBytes)}
		}
		if r.ndLine == 1 {
			data = bytes.TrimPrefix(data, []byte("\ufeff"))
		}
		data = bytes.TrimSpace(data)
		if len(data) == 0 {
			continue
		}
		r.line = r.ndLine
		rec, rowErr := r.parseObject(data)
		if rowErr != nil {
			return nil, rowErr
		}
		return rec, nil
	}
}

// readLine reads one line without its end, at most MaxLineBytes of it; for a
// longer line it reads on to the end of the line and reports tooLong. It
// returns io.EOF only when no bytes are left.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.nd.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxLineBytes+2 { // room for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(line) > 0 || tooLong {
				return line, tooLong, nil
			}
			return nil, false, io.EOF
		case err != nil:
			return nil, false, err
		}
		return line, tooLong, nil
	}
}

// parseObject turns one NDJSON line into a record.
func (r *Reader) parseObject(data []byte) (*pathwayv1.IncidentRecord, *RowError) {
	members, err := decodeObject(data)
	if err != nil {
		return nil, &RowError{Line: r.line, Err: err}
	}
	cols := make([]*column, len(members))
	seen := make(map[*column]bool, len(members))
	for i, m := range members {
		c, ok := columnsByName[normaliseName(m.key)]
		switch {
		case !ok:
			return nil, nameProblem(r.line, m.key, "key "+strconv.Itoa(i+1)+" of the object")
		case seen[c]:
			return nil, &RowError{Line: r.line, Column: c.name, Err: fmt.Errorf("%w: the key appears more than once", ErrDuplicateColumn)}
		}
		seen[c] = true
		cols[i] = c
	}
	for _, c := range columns {
		if c.required && !seen[c] {
			return nil, &RowError{Line: r.line, Column: c.name, Err: fmt.Errorf("%w: the key is missing", ErrRequired)}
		}
	}
	rec := r.newRecord()
	for i, m := range members {
		if err := r.setJSON(rec, cols[i], m.value); err != nil {
			return nil, &RowError{Line: r.line, Column: cols[i].name, Err: err}
		}
	}
	finish(rec)
	return rec, nil
}
