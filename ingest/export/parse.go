package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// None of the functions in this file may put a value into an error message:
// the value could be an identifier. (The standard library's parse errors
// quote their input, so they are never wrapped.)

// parseBool parses a yes/no cell: true, false, yes, no, 1 or 0, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%w: not one of true, false, yes, no, 1, 0 or empty", ErrInvalidBool)
	}
}

// parseUint parses a whole number that fits 32 bits.
func parseUint(s string) (uint32, error) {
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w: only the digits 0-9 are allowed", ErrInvalidNumber)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: too large (at most 4294967295)", ErrInvalidNumber)
	}
	return uint32(n), nil
}

// Layouts that recognise the commonest mistake: a timestamp with no zone.
var zonelessLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04"}

// parseTime parses an RFC 3339 timestamp with a zone ("Z" or an offset) and
// whole seconds, and returns it in UTC.
func parseTime(s string) (*timestamppb.Timestamp, error) {
	date, clock, _ := strings.Cut(s, "T")
	if strings.Contains(clock, ".") || strings.Contains(clock, ",") {
		return nil, fmt.Errorf("%w: fractional seconds are not allowed; give whole seconds, e.g. 2025-03-01T10:00:00Z", ErrInvalidTimestamp)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		for _, layout := range zonelessLayouts {
			if _, e := time.Parse(layout, s); e == nil {
				return nil, fmt.Errorf("%w: no time zone; end it with Z for UTC or an offset such as +01:00, e.g. 2025-03-01T10:00:00Z", ErrInvalidTimestamp)
			}
		}
		if len(date) == len("2006-01-02") && clock == "" {
			return nil, fmt.Errorf("%w: a date alone is not enough; give date, time and zone, e.g. 2025-03-01T10:00:00Z", ErrInvalidTimestamp)
		}
		return nil, fmt.Errorf("%w: not an RFC 3339 timestamp such as 2025-03-01T10:00:00Z or 2025-06-01T11:00:00+01:00", ErrInvalidTimestamp)
	}
	ts := timestamppb.New(t.UTC())
	if ts.CheckValid() != nil {
		return nil, fmt.Errorf("%w: the year must be between 0001 and 9999", ErrInvalidTimestamp)
	}
	return ts, nil
}

// parseCode upper-cases an ONS or ODS code and checks it against its pattern.
func parseCode(s string, c *column) (string, error) {
	v := strings.ToUpper(s)
	if !c.pattern.MatchString(v) {
		return "", fmt.Errorf("%w: %s", ErrInvalidCode, c.patternHelp)
	}
	return v, nil
}

// set stores v in the field at path, creating the parent messages.
func set(rec *pathwayv1.IncidentRecord, path []protoreflect.FieldDescriptor, v protoreflect.Value) {
	m := rec.ProtoReflect()
	for _, fd := range path[:len(path)-1] {
		m = m.Mutable(fd).Message()
	}
	m.Set(path[len(path)-1], v)
}

// newRecord returns an empty record with the fields the reader sets itself.
func (r *Reader) newRecord() *pathwayv1.IncidentRecord {
	return &pathwayv1.IncidentRecord{
		SchemaVersion: 1,
		ForceId:       r.forceID,
		Timeline:      &pathwayv1.Timeline{},
	}
}

// finish drops an extension that says nothing (all false or zero): an
// extension is present only when one of its columns is.
func finish(rec *pathwayv1.IncidentRecord) {
	if rec.Extension != nil && proto.Size(rec.Extension) == 0 {
		rec.Extension = nil
	}
}

// setText sets the field of column c from its text form. text has had its
// surrounding white space removed.
func (r *Reader) setText(rec *pathwayv1.IncidentRecord, c *column, text string) error {
	if text == "" {
		if c.required {
			return ErrRequired
		}
		return nil
	}
	switch c.kind {
	case kindIncidentNumber:
		ref, err := r.incidentKey.IncidentRef(text)
		if err != nil {
			return tokenError(err)
		}
		rec.IncidentRef = ref
	case kindPersonID:
		tok, err := r.key.SubjectToken(text)
		if err != nil {
			return tokenError(err)
		}
		rec.SubjectToken = tok
	case kindUint:
		n, err := parseUint(text)
		if err != nil {
			return err
		}
		if n == 0 && c.positive {
			return fmt.Errorf("%w: must be 1 or more", ErrInvalidNumber)
		}
		set(rec, c.path, protoreflect.ValueOfUint32(n))
	case kindEnum:
		n, err := c.enum.lookup(text)
		if err != nil {
			return err
		}
		set(rec, c.path, protoreflect.ValueOfEnum(n))
	case kindBool:
		b, err := parseBool(text)
		if err != nil {
			return err
		}
		set(rec, c.path, protoreflect.ValueOfBool(b))
	case kindCode:
		v, err := parseCode(text, c)
		if err != nil {
			return err
		}
		set(rec, c.path, protoreflect.ValueOfString(v))
	case kindTime:
		ts, err := parseTime(text)
		if err != nil {
			return err
		}
		set(rec, c.path, protoreflect.ValueOfMessage(ts.ProtoReflect()))
	case kindTransfers, kindPresence:
		entries, err := splitEntries(text, c.entryFields())
		if err != nil {
			return err
		}
		return setEntries(rec, c, entries)
	default:
		return fmt.Errorf("export: column %s has no parser", c.name)
	}
	return nil
}

// tokenError describes a failure to tokenise an identifier, without the
// identifier.
func tokenError(err error) error {
	if errors.Is(err, pseudo.ErrEmptyIdentifier) {
		return fmt.Errorf("%w: nothing is left once spaces, tabs, hyphens, dots and slashes are removed", ErrInvalidIdentifier)
	}
	return fmt.Errorf("%w: cannot tokenise: %w", ErrInvalidIdentifier, err)
}

// entryFields returns the entry fields of a list column.
func (c *column) entryFields() []*listField {
	if c.kind == kindPresence {
		return presenceFields
	}
	return transferFields
}

// entrySyntax is the compact syntax of a list column's entries, for messages.
func entrySyntax(fields []*listField) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return strings.Join(names, "|")
}

// splitEntries splits the compact list syntax: entries separated by ";",
// fields within an entry by "|", in the order of fields. Trailing optional
// fields may be left out; empty entries are skipped.
func splitEntries(text string, fields []*listField) ([][]string, error) {
	var entries [][]string
	n := 0
	for e := range strings.SplitSeq(text, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		n++
		parts := strings.Split(e, "|")
		if len(parts) > len(fields) {
			return nil, fmt.Errorf("%w: entry %d has %d fields; the syntax is %s", ErrInvalidList, n, len(parts), entrySyntax(fields))
		}
		values := make([]string, len(fields))
		for i, p := range parts {
			values[i] = strings.TrimSpace(p)
		}
		entries = append(entries, values)
	}
	return entries, nil
}

// setEntries parses the entries of a list column (each value in the order of
// the column's entry fields) and stores them.
func setEntries(rec *pathwayv1.IncidentRecord, c *column, entries [][]string) error {
	fields := c.entryFields()
	list := rec.ProtoReflect().Mutable(c.path[0]).List()
	for i, values := range entries {
		entry := list.NewElement().Message()
		desc := entry.Descriptor().Fields()
		for j, f := range fields {
			v, err := parseListValue(f, values[j])
			if err != nil {
				return fmt.Errorf("%w: entry %d, %s: %w", ErrInvalidList, i+1, f.name, err)
			}
			if v.IsValid() {
				entry.Set(desc.ByName(protoreflect.Name(f.name)), v)
			}
		}
		list.Append(protoreflect.ValueOfMessage(entry))
	}
	return nil
}

// parseListValue parses one field of a list entry; an empty optional value
// gives an invalid (unset) Value.
func parseListValue(f *listField, s string) (protoreflect.Value, error) {
	if s == "" {
		if f.required {
			return protoreflect.Value{}, ErrRequired
		}
		return protoreflect.Value{}, nil
	}
	switch f.kind {
	case kindTime:
		ts, err := parseTime(s)
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfMessage(ts.ProtoReflect()), nil
	case kindEnum:
		n, err := f.enum.lookup(s)
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfEnum(n), nil
	case kindCode:
		v := strings.ToUpper(s)
		if !f.pattern.MatchString(v) {
			return protoreflect.Value{}, fmt.Errorf("%w: %s", ErrInvalidCode, f.help)
		}
		return protoreflect.ValueOfString(v), nil
	default:
		return protoreflect.Value{}, fmt.Errorf("export: list field %s has no parser", f.name)
	}
}

// ---- NDJSON values ---------------------------------------------------------

// member is one key and value of a JSON object, in order of appearance.
type member struct {
	key   string
	value json.RawMessage
}

// decodeObject decodes exactly one JSON object, keeping its members in order
// (so duplicate keys can be detected). Syntax errors are reported by byte
// offset only.
func decodeObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: expected a JSON object", ErrMalformed)
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: invalid JSON object key", ErrMalformed)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(err)
		}
		members = append(members, member{key: key, value: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one JSON value on the line", ErrMalformed)
	}
	return members, nil
}

// syntaxError reports a JSON decoding error without the text around it.
func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: invalid JSON at byte %d of the line", ErrMalformed, se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the JSON object is incomplete", ErrMalformed)
	}
	return fmt.Errorf("%w: invalid JSON", ErrMalformed)
}

// jsonText converts the JSON value of a scalar column (or list entry field)
// to its text form: a string as it is, null as empty, and — where the column
// takes them — true/false for yes/no columns and numbers for number and
// identifier columns.
func jsonText(k kind, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("%w: missing JSON value", ErrMalformed)
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: invalid JSON string", ErrMalformed)
		}
		return strings.TrimSpace(s), nil
	case bytes.Equal(raw, []byte("null")):
		return "", nil
	case (c == 't' || c == 'f') && k == kindBool:
		return string(raw), nil
	case (c == '-' || (c >= '0' && c <= '9')) && (k == kindUint || k == kindIncidentNumber || k == kindPersonID):
		return string(raw), nil
	}
	switch k {
	case kindBool:
		return "", fmt.Errorf("%w: expected true, false, a string or null", ErrMalformed)
	case kindUint:
		return "", fmt.Errorf("%w: expected a whole number, a string or null", ErrMalformed)
	default:
		return "", fmt.Errorf("%w: expected a string or null", ErrMalformed)
	}
}

// setJSON sets the field of column c from its NDJSON value.
func (r *Reader) setJSON(rec *pathwayv1.IncidentRecord, c *column, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if (c.kind == kindTransfers || c.kind == kindPresence) && len(raw) > 0 && raw[0] == '[' {
		entries, err := jsonEntries(raw, c.entryFields())
		if err != nil {
			return err
		}
		return setEntries(rec, c, entries)
	}
	text, err := jsonText(c.kind, raw)
	if err != nil {
		return err
	}
	return r.setText(rec, c, text)
}

// jsonEntries reads the JSON array form of a list column: an array of
// objects whose keys are the entry field names. It returns the values in
// the order of fields, like splitEntries.
func jsonEntries(raw json.RawMessage, fields []*listField) ([][]string, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("%w: invalid JSON array", ErrInvalidList)
	}
	entries := make([][]string, 0, len(elems))
	for i, elem := range elems {
		members, err := decodeObject(elem)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidList, i+1, err)
		}
		values := make([]string, len(fields))
		seen := make([]bool, len(fields))
	members:
		for _, m := range members {
			key := normaliseName(m.key)
			for j, f := range fields {
				if f.name != key {
					continue
				}
				if seen[j] {
					return nil, fmt.Errorf("%w: entry %d: %w: %s", ErrInvalidList, i+1, ErrDuplicateColumn, f.name)
				}
				seen[j] = true
				k := f.kind
				if k == kindEnum {
					k = kindCode // codes are strings in JSON
				}
				v, err := jsonText(k, m.value)
				if err != nil {
					return nil, fmt.Errorf("%w: entry %d, %s: %w", ErrInvalidList, i+1, f.name, err)
				}
				values[j] = v
				continue members
			}
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidList, i+1, unknownKeyError(m.key, fields))
		}
		entries = append(entries, values)
	}
	return entries, nil
}

// unknownKeyError describes an unknown key inside a list entry, echoing the
// key only when it reads like a name.
func unknownKeyError(key string, fields []*listField) error {
	name := strings.TrimSpace(key)
	ident := looksLikeIdentifier(squash(name))
	shown := "a key that is not shown (it does not look like a name)"
	if columnLike.MatchString(name) || (ident && safeToEcho(name)) {
		shown = "key " + strconv.Quote(name)
	}
	if ident {
		return fmt.Errorf("%s: %w: %s", shown, ErrIdentifierColumn, identifierMessage)
	}
	return fmt.Errorf("%s: %w: the keys of an entry are %s", shown, ErrUnknownColumn, strings.ReplaceAll(entrySyntax(fields), "|", ", "))
}
