package export

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// Row is one row of a force export as a force's systems hold it: the raw
// local identifiers and the coded content. It is what a Writer writes, e.g.
// for the simulator's sample exports.
type Row struct {
	// IncidentNumber is the force's raw incident number. It is required.
	IncidentNumber string
	// PersonID is the raw local person identifier; empty when no person was
	// identified.
	PersonID string
	// Record holds every other column. Its schema_version, force_id,
	// incident_ref and subject_token are ignored: a Reader sets them.
	Record *pathwayv1.IncidentRecord
}

// Writer writes rows in the force export format. The CSV header (every
// column, in the order of Columns) is written before the first row, or by
// Flush if there is none. Call Flush when done.
type Writer struct {
	format      Format
	csv         *csv.Writer
	buf         *bufio.Writer
	wroteHeader bool
}

// NewWriter returns a Writer of format f to w.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	switch f {
	case FormatCSV:
		return &Writer{format: f, csv: csv.NewWriter(w)}, nil
	case FormatNDJSON:
		return &Writer{format: f, buf: bufio.NewWriter(w)}, nil
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, f)
	}
}

// Write writes one row. It fails, writing nothing, if the row cannot be
// expressed in the format: no incident number, an enum value without a code,
// or a time with fractional seconds.
func (w *Writer) Write(row Row) error {
	if strings.TrimSpace(row.IncidentNumber) == "" {
		return fmt.Errorf("export: write: %w: Row.IncidentNumber is empty", ErrRequired)
	}
	if row.Record == nil {
		return errors.New("export: write: Row.Record is nil")
	}
	if w.format == FormatCSV {
		return w.writeCSV(row)
	}
	return w.writeNDJSON(row)
}

// Flush writes any buffered data (and, for a CSV file with no rows, the
// header) to the underlying writer.
func (w *Writer) Flush() error {
	if w.format == FormatCSV {
		if err := w.header(); err != nil {
			return err
		}
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
			return fmt.Errorf("export: write: %w", err)
		}
		return nil
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

func (w *Writer) header() error {
	if w.wroteHeader {
		return nil
	}
	w.wroteHeader = true
	if err := w.csv.Write(Columns()); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

func (w *Writer) writeCSV(row Row) error {
	cells := make([]string, len(columns))
	for i, c := range columns {
		v, err := cellText(row, c)
		if err != nil {
			return fmt.Errorf("export: write column %s: %w", c.name, err)
		}
		cells[i] = v
	}
	if err := w.header(); err != nil {
		return err
	}
	if err := w.csv.Write(cells); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

// writeNDJSON writes one object holding the columns that have a value, in
// canonical order: numbers and yes/no values as JSON numbers and booleans,
// lists as arrays of objects, everything else as strings.
func (w *Writer) writeNDJSON(row Row) error {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	member := func(key string, value any) error {
		v, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("export: write column %s: %w", key, err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
		return nil
	}
	for _, c := range columns {
		var value any
		switch c.kind {
		case kindTransfers, kindPresence:
			entries, err := listObjects(row.Record, c)
			if err != nil {
				return fmt.Errorf("export: write column %s: %w", c.name, err)
			}
			if len(entries) > 0 {
				value = entries
			}
		case kindBool:
			if v, _ := get(row.Record, c.path); v.Bool() {
				value = true
			}
		case kindUint:
			if v, _ := get(row.Record, c.path); v.Uint() != 0 {
				value = v.Uint()
			}
		default:
			text, err := cellText(row, c)
			if err != nil {
				return fmt.Errorf("export: write column %s: %w", c.name, err)
			}
			if text != "" {
				value = text
			}
		}
		if value == nil {
			continue
		}
		if err := member(c.name, value); err != nil {
			return err
		}
	}
	b.WriteString("}\n")
	if _, err := w.buf.Write(b.Bytes()); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

// get returns the value of the field at path (the field's default when it or
// a parent message is unset) and whether the field is set.
func get(rec *pathwayv1.IncidentRecord, path []protoreflect.FieldDescriptor) (protoreflect.Value, bool) {
	m := rec.ProtoReflect()
	last := path[len(path)-1]
	for _, fd := range path[:len(path)-1] {
		if !m.Has(fd) {
			return last.Default(), false
		}
		m = m.Get(fd).Message()
	}
	return m.Get(last), m.Has(last)
}

// cellText returns the CSV text of column c for row.
func cellText(row Row, c *column) (string, error) {
	switch c.kind {
	case kindIncidentNumber:
		return row.IncidentNumber, nil
	case kindPersonID:
		return row.PersonID, nil
	case kindUint:
		v, _ := get(row.Record, c.path)
		return strconv.FormatUint(v.Uint(), 10), nil
	case kindBool:
		v, _ := get(row.Record, c.path)
		return strconv.FormatBool(v.Bool()), nil
	case kindCode:
		v, _ := get(row.Record, c.path)
		return v.String(), nil
	case kindEnum:
		v, _ := get(row.Record, c.path)
		return enumText(c.enum, v.Enum())
	case kindTime:
		v, ok := get(row.Record, c.path)
		if !ok {
			return "", nil
		}
		ts, _ := v.Message().Interface().(*timestamppb.Timestamp)
		return timeText(ts)
	case kindTransfers, kindPresence:
		return listText(row.Record, c)
	default:
		return "", fmt.Errorf("column %s has no formatter", c.name)
	}
}

func enumText(t *codeTable, n protoreflect.EnumNumber) (string, error) {
	if n == 0 {
		return "", nil
	}
	code, ok := t.byNumber[n]
	if !ok {
		return "", fmt.Errorf("%w: %s has no value %d", ErrUnknownCode, t.desc.Name(), n)
	}
	return code, nil
}

// timeText formats a timestamp as RFC 3339 in UTC; nil gives "".
func timeText(ts *timestamppb.Timestamp) (string, error) {
	if ts == nil {
		return "", nil
	}
	if ts.GetNanos() != 0 {
		return "", fmt.Errorf("%w: fractional seconds cannot be written", ErrInvalidTimestamp)
	}
	return ts.AsTime().UTC().Format(time.RFC3339), nil
}

// entryTexts returns the text of each field of each entry of a list column.
func entryTexts(rec *pathwayv1.IncidentRecord, c *column) ([][]string, error) {
	fields := c.entryFields()
	list := rec.ProtoReflect().Get(c.path[0]).List()
	out := make([][]string, list.Len())
	for i := range list.Len() {
		entry := list.Get(i).Message()
		desc := entry.Descriptor().Fields()
		values := make([]string, len(fields))
		for j, f := range fields {
			v := entry.Get(desc.ByName(protoreflect.Name(f.name)))
			var err error
			switch f.kind {
			case kindTime:
				var ts *timestamppb.Timestamp
				if entry.Has(desc.ByName(protoreflect.Name(f.name))) {
					ts, _ = v.Message().Interface().(*timestamppb.Timestamp)
				}
				values[j], err = timeText(ts)
			case kindEnum:
				values[j], err = enumText(f.enum, v.Enum())
			default:
				values[j] = v.String()
			}
			if err != nil {
				return nil, fmt.Errorf("entry %d, %s: %w", i+1, f.name, err)
			}
		}
		out[i] = values
	}
	return out, nil
}

// listText formats a list column in the compact syntax.
func listText(rec *pathwayv1.IncidentRecord, c *column) (string, error) {
	entries, err := entryTexts(rec, c)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(entries))
	for i, values := range entries {
		for len(values) > 0 && values[len(values)-1] == "" {
			values = values[:len(values)-1]
		}
		parts[i] = strings.Join(values, "|")
	}
	return strings.Join(parts, ";"), nil
}

// listObjects formats a list column in the NDJSON array form: one ordered
// object per entry, holding its non-empty fields.
func listObjects(rec *pathwayv1.IncidentRecord, c *column) ([]json.RawMessage, error) {
	entries, err := entryTexts(rec, c)
	if err != nil {
		return nil, err
	}
	fields := c.entryFields()
	out := make([]json.RawMessage, len(entries))
	for i, values := range entries {
		var b bytes.Buffer
		b.WriteByte('{')
		for j, v := range values {
			if v == "" {
				continue
			}
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(fields[j].name)
			s, _ := json.Marshal(v)
			b.Write(k)
			b.WriteByte(':')
			b.Write(s)
		}
		b.WriteByte('}')
		out[i] = b.Bytes()
	}
	return out, nil
}
