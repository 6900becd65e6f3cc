package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// CodeJSONInvalid is the code of a record that could not be decoded from
// JSON: a value of the wrong kind (free text where an enum belongs, -1 for
// a revision), bytes that are not UTF-8, or a key not in the standard.
const CodeJSONInvalid = "json.invalid"

// strictJSON is the Connect JSON codec with unknown fields refused.
// Connect's built-in JSON codec discards unknown keys, which would let a
// field that is not in the standard (a name, free text) reach the hub
// unnoticed and be silently dropped instead of reported.
//
// A submission's records are decoded one by one: a record that does not
// decode is rejected on its own, with its index and the field at fault
// (decodeErrors), and the others are judged as usual, as they are in binary
// protobuf. Only a body that is not a JSON object with a list of records,
// or a key at the top level that is not in the standard, fails the whole
// request.
type strictJSON struct {
	name string
	// failed holds, for each submission decoded, the records that did not
	// decode, until the handler takes them (decodeErrors).
	failed *sync.Map // proto.Message → undecoded
}

// undecoded are a submission's records that did not decode, by index, and
// when: an entry no handler took (the call failed between decoding and the
// handler) is dropped after a minute.
type undecoded struct {
	at     time.Time
	failed map[int]*pathwayv1.FieldViolation
}

// jsonCodecs returns the strict JSON codec under both names Connect uses for
// JSON, for connect.WithCodec.
func (s *Service) jsonCodecs() []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithCodec(strictJSON{name: "json", failed: &s.jsonFailed}),
		connect.WithCodec(strictJSON{name: "json; charset=utf-8", failed: &s.jsonFailed}),
	}
}

// decodeErrors takes the records of msg that did not decode from JSON, by
// index.
func (s *Service) decodeErrors(msg proto.Message) map[int]*pathwayv1.FieldViolation {
	v, ok := s.jsonFailed.LoadAndDelete(msg)
	if !ok {
		return nil
	}
	return v.(undecoded).failed
}

// Name implements connect.Codec.
func (c strictJSON) Name() string { return c.name }

// Marshal implements connect.Codec.
func (c strictJSON) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json codec: %T is not a proto message", v)
	}
	// Zero values are written too ("index": 0 for the first result), so a
	// reader in any language sees every field of a result.
	return protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
}

// Unmarshal implements connect.Codec, refusing unknown fields.
func (c strictJSON) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("json codec: %T is not a proto message", v)
	}
	if len(data) == 0 {
		return errors.New("empty JSON body")
	}
	switch req := m.(type) {
	case *pathwayv1.SubmitIncidentsRequest:
		return c.batch(data, req, "records", func() proto.Message {
			r := &pathwayv1.IncidentRecord{}
			req.Records = append(req.Records, r)
			return r
		})
	case *pathwayv1.SubmitHealthUpdatesRequest:
		return c.batch(data, req, "updates", func() proto.Message {
			u := &pathwayv1.HealthUpdate{}
			req.Updates = append(req.Updates, u)
			return u
		})
	}
	return protojson.UnmarshalOptions{DiscardUnknown: false}.Unmarshal(data, m)
}

// batch decodes a submission: its other fields strictly, then each entry of
// its list (key) into a new record (next) on its own.
func (c strictJSON) batch(data []byte, req proto.Message, key string, next func() proto.Message) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("the body is not a JSON object: %w", err)
	}
	list, ok := top[key]
	delete(top, key)
	rest, err := json.Marshal(top)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(rest, req); err != nil {
		return err
	}
	if !ok || bytes.Equal(bytes.TrimSpace(list), []byte("null")) {
		return nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(list, &entries); err != nil {
		return fmt.Errorf("%q is not a list: %w", key, err)
	}
	failed := map[int]*pathwayv1.FieldViolation{}
	for i, raw := range entries {
		rec := next()
		if err := protojson.Unmarshal(raw, rec); err != nil {
			proto.Reset(rec)
			field := fieldOf(err)
			if field == "" {
				field = notUTF8(raw)
			}
			failed[i] = &pathwayv1.FieldViolation{Field: field, Code: CodeJSONInvalid, Message: jsonProblem(err)}
		}
	}
	if len(failed) > 0 {
		now := time.Now()
		c.failed.Range(func(k, v any) bool {
			if now.Sub(v.(undecoded).at) > time.Minute {
				c.failed.Delete(k)
			}
			return true
		})
		c.failed.Store(req, undecoded{at: now, failed: failed})
	}
	return nil
}

var (
	fieldRE  = regexp.MustCompile(`(?:field|for enum field|for field) "?([A-Za-z_][A-Za-z0-9_.]*)"?`)
	offsetRE = regexp.MustCompile(`\(line \d+:\d+\): `)
	prefixRE = regexp.MustCompile(`^proto:[\s\x{00a0}]*`)
	valueRE  = regexp.MustCompile(`: .*$`)
	quotedRE = regexp.MustCompile(` value ".*"`)
)

// notUTF8 names the top-level key of a JSON object whose value holds bytes
// that are not UTF-8 (protojson's error does not say which), or "".
func notUTF8(raw []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for k, v := range m {
		if !utf8.Valid(v) {
			return k
		}
	}
	return ""
}

// fieldOf names the field a protojson error is about, when it says.
func fieldOf(err error) string {
	if m := fieldRE.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// jsonProblem is a protojson error without its byte position (which counts
// within the record, not the request) and without the values it quotes.
func jsonProblem(err error) string {
	msg := prefixRE.ReplaceAllString(offsetRE.ReplaceAllString(err.Error(), ""), "")
	msg = quotedRE.ReplaceAllString(valueRE.ReplaceAllString(msg, ""), " value")
	return "this record is not valid JSON for the standard: " + msg
}
