package validate_test

import (
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
)

// BenchmarkIncident measures validating one simulated incident: the proto
// field rules and the pathway rules. Each op is one record.
func BenchmarkIncident(b *testing.B) {
	key, err := pseudo.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	h, err := simulate.History(simulate.Options{Force: "metropolitan", Months: 1, Seed: 1, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	v, err := validate.New(validate.Options{Now: func() time.Time { return h.End }})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if r := v.Incident(h.Incidents[i%len(h.Incidents)]); !r.OK() {
			b.Fatalf("invalid: %v", r.Errors)
		}
		i++
	}
}
