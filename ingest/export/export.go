package export

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Format is an encoding of the force export format.
type Format int

// The two encodings of the same logical row.
const (
	// FormatCSV is RFC 4180 CSV with a header row naming the columns.
	FormatCSV Format = iota + 1
	// FormatNDJSON is newline-delimited JSON: one JSON object per line.
	FormatNDJSON
)

// String returns the format's name: "csv" or "ndjson".
func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatNDJSON:
		return "ndjson"
	default:
		return "format(" + strconv.Itoa(int(f)) + ")"
	}
}

// ErrUnknownFormat is returned for a format name, file extension or Format
// value that is not one of the supported encodings.
var ErrUnknownFormat = errors.New("export: unknown format")

// ParseFormat returns the Format named by name: "csv", "ndjson" or "jsonl"
// (case-insensitive).
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "csv":
		return FormatCSV, nil
	case "ndjson", "jsonl":
		return FormatNDJSON, nil
	default:
		return 0, fmt.Errorf("%w %q: use csv or ndjson", ErrUnknownFormat, name)
	}
}

// FormatFromPath returns the Format implied by a file name's extension:
// .csv for CSV, .ndjson or .jsonl for NDJSON (case-insensitive).
func FormatFromPath(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		return FormatCSV, nil
	case ".ndjson", ".jsonl":
		return FormatNDJSON, nil
	default:
		return 0, fmt.Errorf("%w: cannot tell the format of %s from its extension; name it .csv, .ndjson or .jsonl", ErrUnknownFormat, filepath.Base(path))
	}
}

// Errors a RowError (or a header error from NewReader) may wrap. Test for them
// with errors.Is.
var (
	// ErrIdentifierColumn means a column (or NDJSON key) looks like a direct
	// identifier, which may never be submitted.
	ErrIdentifierColumn = errors.New("column may not be submitted")
	// ErrUnknownColumn means a column (or NDJSON key) is not part of the format.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrDuplicateColumn means a column (or NDJSON key) appears twice.
	ErrDuplicateColumn = errors.New("duplicate column")
	// ErrMissingColumn means the CSV header lacks a required column.
	ErrMissingColumn = errors.New("required column missing from the header")
	// ErrNoHeader means the first CSV row is not a header row.
	ErrNoHeader = errors.New("no header row")
	// ErrRequired means a required value is empty or missing.
	ErrRequired = errors.New("a value is required")
	// ErrUnknownCode means a code is not one of the column's allowed values.
	ErrUnknownCode = errors.New("unknown code")
	// ErrInvalidCode means an ONS or ODS code does not have the required form.
	ErrInvalidCode = errors.New("invalid code")
	// ErrInvalidBool means a yes/no value is not one of true, false, yes, no,
	// 1, 0 or empty.
	ErrInvalidBool = errors.New("invalid yes/no value")
	// ErrInvalidNumber means a value is not a whole number in range.
	ErrInvalidNumber = errors.New("invalid whole number")
	// ErrInvalidTimestamp means a value is not an RFC 3339 timestamp with a
	// time zone and whole seconds.
	ErrInvalidTimestamp = errors.New("invalid timestamp")
	// ErrInvalidList means a transfers or presence_log value is malformed.
	ErrInvalidList = errors.New("invalid list")
	// ErrInvalidIdentifier means a raw identifier is empty once normalised.
	ErrInvalidIdentifier = errors.New("invalid identifier")
	// ErrFieldCount means a CSV row has a different number of fields from the
	// header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrMalformed means a row is not well-formed CSV or JSON.
	ErrMalformed = errors.New("malformed row")
	// ErrLineTooLong means an NDJSON line is longer than MaxLineBytes.
	ErrLineTooLong = errors.New("line too long")
)

// RowError is a problem with one row of an export (or, from NewReader, with
// the CSV header). It names the line and the column but never holds or prints
// the offending value.
type RowError struct {
	// Line is the 1-based line of the file on which the row starts.
	Line int
	// Column is the column or NDJSON key the problem is in; empty when the
	// problem concerns the whole row.
	Column string
	// Err is the problem; it wraps one of the Err* values of this package.
	Err error
}

// Error formats the error as "line 12, column detained: ...".
func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString("line ")
	b.WriteString(strconv.Itoa(e.Line))
	if e.Column != "" {
		b.WriteString(", column ")
		b.WriteString(displayName(e.Column))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid row")
	}
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *RowError) Unwrap() error { return e.Err }

// columnLike matches names that read like column names. Only such names are
// ever repeated in an error message: anything else might be a data value
// (a header row that is really a data row, or a stray JSON key).
var columnLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// displayName returns a column name as an error message shows it.
func displayName(name string) string {
	if columnLike.MatchString(name) {
		return name
	}
	return strconv.Quote(name)
}
