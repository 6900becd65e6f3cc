package ingest

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// strictJSON is the Connect JSON codec with unknown fields refused. Connect's
// built-in JSON codec discards unknown keys, which would let a field that is
// not in the standard — a name, free text — reach the hub unnoticed and be
// silently dropped instead of reported. In JSON the whole request fails with
// invalid_argument naming the key, and nothing is stored; in binary protobuf
// unknown fields survive decoding and are rejected per record by the
// validator.
type strictJSON struct{ name string }

// JSONCodecs returns the strict JSON codec under both names Connect uses for
// JSON, for connect.WithCodec.
func JSONCodecs() []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithCodec(strictJSON{name: "json"}),
		connect.WithCodec(strictJSON{name: "json; charset=utf-8"}),
	}
}

// Name implements connect.Codec.
func (c strictJSON) Name() string { return c.name }

// Marshal implements connect.Codec.
func (c strictJSON) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json codec: %T is not a proto message", v)
	}
	return protojson.Marshal(m)
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
	return protojson.UnmarshalOptions{DiscardUnknown: false}.Unmarshal(data, m)
}
