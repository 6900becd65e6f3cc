package measures_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// loadHistory stores 24 months of simulated history of every simulated
// force and returns the number of incidents stored.
func loadHistory(ctx context.Context, b *testing.B, conn driver.Conn, db string) int {
	b.Helper()
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := chdb.Migrate(ctx, conn, db, migs, nil); err != nil {
		b.Fatal(err)
	}
	key, err := pseudo.NewKey(bytes.Repeat([]byte{7}, pseudo.MinKeyBytes))
	if err != nil {
		b.Fatal(err)
	}
	s := store.New(conn, db)
	n := 0
	received := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, force := range simulate.Forces() {
		recs, err := simulate.History(simulate.Options{Force: force, Seed: 1, Key: key})
		if err != nil {
			b.Fatal(err)
		}
		rows := make([]store.Incident, len(recs.Incidents))
		for i, r := range recs.Incidents {
			rows[i] = store.Incident{Record: r}
		}
		if err := s.InsertIncidents(ctx, force, received, rows); err != nil {
			b.Fatal(err)
		}
		health := make([]store.HealthUpdate, len(recs.HealthUpdates))
		for i, h := range recs.HealthUpdates {
			health[i] = store.HealthUpdate{TrustID: h.TrustID, Update: h.Update}
		}
		if err := s.InsertHealthUpdates(ctx, force+"-health", received, health); err != nil {
			b.Fatal(err)
		}
		n += len(rows)
	}
	return n
}

// BenchmarkCatalogue runs each measure of the catalogue over 24 months of
// simulated history of the three simulated forces, one sub-benchmark per
// measure.
func BenchmarkCatalogue(b *testing.B) {
	conn, db := chservertest.NewDatabase(b, srv)
	ctx := b.Context()
	n := loadHistory(ctx, b, conn, db)
	th := measures.DefaultThresholds()
	from, to := time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range measures.Catalogue() {
		q, err := m.Query(db, th, measures.Scope{}, from, to)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(m.ID, func(b *testing.B) {
			rowsOut := 0
			for b.Loop() {
				rowsOut = 0
				rows, err := conn.Query(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					rowsOut++
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
			b.ReportMetric(float64(n), "incidents")
			b.ReportMetric(float64(rowsOut), "rows")
		})
	}
}
