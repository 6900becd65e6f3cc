package store_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// newStore returns a Store over a fresh migrated database.
func newStore(tb testing.TB) (*store.Store, driver.Conn) {
	tb.Helper()
	conn, db := chservertest.NewDatabase(tb, shared)
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := chdb.Migrate(tb.Context(), conn, db, migs, slog.New(slog.DiscardHandler)); err != nil {
		tb.Fatal(err)
	}
	return store.New(conn, db), conn
}

// simulated returns n valid Met incidents from the simulator.
func simulated(tb testing.TB, n int) []*pathwayv1.IncidentRecord {
	tb.Helper()
	key, err := pseudo.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	h, err := simulate.History(simulate.Options{Force: "metropolitan", Months: 8, End: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), Seed: 1, Key: key})
	if err != nil {
		tb.Fatal(err)
	}
	if len(h.Incidents) < n {
		tb.Fatalf("only %d simulated incidents", len(h.Incidents))
	}
	return h.Incidents[:n]
}

func freshRefs(recs []*pathwayv1.IncidentRecord) []string {
	ref := make([]byte, 32)
	refs := make([]string, len(recs))
	for i, r := range recs {
		_, _ = rand.Read(ref)
		r.IncidentRef = hex.EncodeToString(ref)
		refs[i] = r.IncidentRef
	}
	return refs
}

// BenchmarkInsertIncidents measures one insert of a batch of new incidents.
func BenchmarkInsertIncidents(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			st, _ := newStore(b)
			recs := simulated(b, n)
			rows := make([]store.Incident, len(recs))
			for i, r := range recs {
				r.ForceId = "metropolitan"
				rows[i] = store.Incident{Record: r}
			}
			received := time.Now().UTC().Truncate(time.Second)
			for b.Loop() {
				b.StopTimer()
				freshRefs(recs)
				b.StartTimer()
				if err := st.InsertIncidents(b.Context(), "sub", received, rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkIncidentRevisions measures the revision lookup of a batch of
// 1,000 refs the hub has not seen, against a table of growing size.
func BenchmarkIncidentRevisions(b *testing.B) {
	st, _ := newStore(b)
	recs := simulated(b, 1000)
	rows := make([]store.Incident, len(recs))
	for i, r := range recs {
		r.ForceId = "metropolitan"
		rows[i] = store.Incident{Record: r}
	}
	received := time.Now().UTC().Truncate(time.Second)
	for range 20 {
		freshRefs(recs)
		if err := st.InsertIncidents(b.Context(), "sub", received, rows); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		b.StopTimer()
		refs := freshRefs(recs)
		b.StartTimer()
		if _, err := st.IncidentRevisions(b.Context(), "metropolitan", refs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogSubmission measures writing one submissions-log row.
func BenchmarkLogSubmission(b *testing.B) {
	st, _ := newStore(b)
	sub := store.Submission{ID: "s", OrgKind: "force", OrgID: "metropolitan", Dataset: "incidents", ReceivedAt: time.Now()}
	for b.Loop() {
		if err := st.LogSubmission(b.Context(), sub, nil); err != nil {
			b.Fatal(err)
		}
	}
}
