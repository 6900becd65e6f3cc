package validate_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// FuzzIncident feeds arbitrary wire bytes to the validator. It must never
// panic, and a record it accepts must satisfy the invariants the store relies
// on.
func FuzzIncident(f *testing.F) {
	base, err := proto.Marshal(baseRecord(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(base)
	f.Add([]byte{})
	f.Add(append(append([]byte(nil), base...), 0xba, 0x3e, 0x01, 'x')) // unknown field 999
	v := newValidator(f)
	f.Fuzz(func(t *testing.T, wire []byte) {
		rec := &pathwayv1.IncidentRecord{}
		if proto.Unmarshal(wire, rec) != nil {
			return
		}
		r := v.Incident(rec)
		if !r.OK() {
			for _, e := range r.Errors {
				if e.GetCode() == "" || e.GetMessage() == "" {
					t.Fatalf("violation without code or message: %v", e)
				}
			}
			return
		}
		if len(rec.ProtoReflect().GetUnknown()) != 0 {
			t.Fatal("accepted a record with unknown fields")
		}
		if len(rec.GetIncidentRef()) != 64 || rec.GetRevision() == 0 || rec.GetTimeline().GetCallReceived() == nil {
			t.Fatalf("accepted a record without identity: ref=%q rev=%d", rec.GetIncidentRef(), rec.GetRevision())
		}
	})
}
