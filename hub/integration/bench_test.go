package integration_test

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/api/ingest"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// benchBatch is the batch size of the ingest benchmarks.
const benchBatch = 1000

// benchRecords returns benchBatch valid Met incidents from the simulator.
func benchRecords(b *testing.B) []*pathwayv1.IncidentRecord {
	b.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		b.Fatal(err)
	}
	key, err := pseudo.NewKey(secret)
	if err != nil {
		b.Fatal(err)
	}
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	var h simulate.Records
	h, err = simulate.History(simulate.Options{Force: "metropolitan", Months: 1, End: end, Seed: 1, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	if len(h.Incidents) < benchBatch {
		b.Fatalf("only %d simulated incidents", len(h.Incidents))
	}
	return h.Incidents[:benchBatch]
}

// benchService builds the ingest service over a fresh database, with or
// without the policy (audited to ClickHouse, as in the hub).
func benchService(b *testing.B, withPolicy bool) (*ingest.Service, *policy.Engine) {
	b.Helper()
	conn, db := chservertest.NewDatabase(b, shared)
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := chdb.Migrate(b.Context(), conn, db, migs, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	valid, err := validate.New(validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	opts := ingest.Options{Store: store.New(conn, db), Validator: valid}
	var engine *policy.Engine
	if withPolicy {
		engine, err = policy.New(b.Context(), policy.Options{Measures: measures.IDs(), Dir: apptest.ExampleAgreements(b), Auditor: audit.New(conn, db, "")})
		if err != nil {
			b.Fatal(err)
		}
		opts.Policy = engine
	}
	svc, err := ingest.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	return svc, engine
}

// BenchmarkIngestPolicy measures a 1,000-record batch of new incidents
// through validation, (optionally) the policy with its audit row, the
// revision lookup and the ClickHouse insert, with the policy off and on.
func BenchmarkIngestPolicy(b *testing.B) {
	for _, tc := range []struct {
		name   string
		policy bool
	}{{"policy=off", false}, {"policy=on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			svc, _ := benchService(b, tc.policy)
			recs := benchRecords(b)
			ctx := auth.WithOrg(b.Context(), auth.Org{Kind: auth.KindForce, ID: "metropolitan"})
			ref := make([]byte, 32)
			b.ResetTimer()
			for b.Loop() {
				for _, r := range recs { // new incidents every batch, as a live feed sends
					_, _ = rand.Read(ref)
					r.IncidentRef = hex.EncodeToString(ref)
				}
				resp, err := svc.SubmitIncidents(ctx, connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: recs}))
				if err != nil {
					b.Fatal(err)
				}
				if resp.Msg.GetCounts().GetAccepted() != benchBatch {
					b.Fatalf("accepted %d of %d", resp.Msg.GetCounts().GetAccepted(), benchBatch)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkDecisionsPerBatch measures the design choice in ingest: one
// audited policy decision per (organisation, dataset, scope) of a batch,
// against one per record, for a batch of 1,000 records.
func BenchmarkDecisionsPerBatch(b *testing.B) {
	_, engine := benchService(b, true)
	in := policy.Input{Action: policy.ActionSubmit, Org: "force/metropolitan", Dataset: policy.DatasetIncidents, Force: "metropolitan"}
	for _, tc := range []struct {
		name      string
		decisions int
	}{{"one-per-batch", 1}, {"one-per-record", benchBatch}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				for range tc.decisions {
					if d, err := engine.Decide(b.Context(), in); err != nil || !d.Allow {
						b.Fatalf("decide: %v %v", d.Reasons, err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/batch")
		})
	}
}
