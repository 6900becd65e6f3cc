package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/clustertest"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// TestClusterMigrationsAndFailover runs on a two-replica, one-shard
// cluster of 18.16 servers coordinated by ZooKeeper:
//   - the migrations applied ON CLUSTER through one replica give both the
//     same replicated local tables and Distributed tables, and applied
//     again through the other replica change nothing;
//   - incidents stored through one replica (synchronous distributed
//     inserts) are read back, collapsed, from the other;
//   - with the first replica killed (-9), a connection that lists both
//     goes on storing through the second, and the first, started again,
//     catches up: both hold every acknowledged incident once.
func TestClusterMigrationsAndFailover(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := clustertest.Start(t, 1, 2, "")
	// A local user who finds the servers' ports gets nowhere without a
	// password: neither the default user nor the hub's answers without one.
	for i, addr := range c.Addrs() {
		for _, user := range []string{"default", c.HubUser} {
			if conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Username: user}); err == nil {
				_ = conn.Close()
				t.Errorf("server %d let %s in without a password", i, user)
			}
		}
	}
	admin := c.Open(t, 0, "default")
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	const db = "pathway"
	applied, err := chdb.MigrateOnCluster(ctx, admin, db, clustertest.Name, migs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(migs) {
		t.Fatalf("applied %d of %d migrations", len(applied), len(migs))
	}
	other := c.Open(t, 1, "default")
	again, err := chdb.MigrateOnCluster(ctx, other, db, clustertest.Name, migs, nil)
	if err != nil || len(again) != 0 {
		t.Fatalf("migrating again through the other replica applied %d migrations (%v), want none", len(again), err)
	}
	for i, conn := range []driver.Conn{admin, other} {
		for table, engine := range map[string]string{
			"incidents_local": "ReplicatedReplacingMergeTree", "incidents": "Distributed",
			"changes_local": "ReplicatedMergeTree", "decisions": "Distributed",
		} {
			var got string
			if err := conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?", db, table).Scan(&got); err != nil || got != engine {
				t.Errorf("replica %d: %s.%s engine %q (%v), want %s", i, db, table, got, err, engine)
			}
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = 'decisions' AND name = 'row_hash'", db).Scan(&n); err != nil || n != 1 {
			t.Errorf("replica %d: decisions.row_hash: %d columns (%v), want the column a migration added", i, n, err)
		}
	}

	// Stored through replica 0, read on replica 1.
	st0 := store.New(c.Open(t, 0, db), db)
	recs := simulated(t, 60)
	insertIncidents(ctx, t, st0, time.Now(), recs[:20]...)
	conn1 := c.Open(t, 1, db)
	syncReplica(ctx, t, conn1, db+".incidents_local")
	assertStored(ctx, t, conn1, db, 20)

	// Replica 0 lost: a connection listing both stores through replica 1.
	c.Kill(t, 0)
	failover := store.New(c.Open(t, 1, db), db)
	insertIncidents(ctx, t, failover, time.Now(), recs[20:40]...)
	// The same batch again, as a client retrying an unanswered request:
	// the revisions collapse, nothing is counted twice.
	insertIncidents(ctx, t, failover, time.Now(), recs[20:40]...)
	assertStored(ctx, t, conn1, db, 40)

	// Replica 0 back: once its old session has expired it is active
	// again and fetches what it missed.
	c.Restart(t, 0)
	conn0 := c.Open(t, 0, db)
	clustertest.WaitFor(t, "the restarted replica to catch up", func() bool {
		var n uint64
		err := conn0.QueryRow(ctx, "SELECT count() FROM "+db+".incidents_local FINAL").Scan(&n)
		return err == nil && n >= 40
	})
	assertStored(ctx, t, conn0, db, 40)
}

// syncReplica waits until the replica conn reaches has fetched every part
// its table's log names.
func syncReplica(ctx context.Context, t *testing.T, conn driver.Conn, table string) {
	t.Helper()
	if err := conn.Exec(ctx, "SYSTEM SYNC REPLICA "+table); err != nil {
		t.Fatal(err)
	}
}

// assertStored checks, on the replica conn reaches (its local table, not
// the Distributed one, which might read the other replica), that it holds
// want incidents, each once after collapsing revisions.
func assertStored(ctx context.Context, t *testing.T, conn driver.Conn, db string, want uint64) {
	t.Helper()
	var distinct, collapsed uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(force_id, incident_ref), count() FROM "+db+".incidents_local FINAL").Scan(&distinct, &collapsed); err != nil {
		t.Fatal(err)
	}
	if distinct != want || collapsed != want {
		t.Errorf("replica holds %d incidents in %d rows after FINAL, want %d once each", distinct, collapsed, want)
	}
}
