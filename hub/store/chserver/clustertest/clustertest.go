package clustertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/cluster"
)

// Name is the cluster's name in ON CLUSTER and Distributed tables.
const Name = cluster.Name

// Cluster is a running test cluster.
type Cluster struct {
	*cluster.Local
}

// Start starts ZooKeeper and shards×replicas ClickHouse servers (see
// hub/store/cluster) for hubs of raw database db, and kills them all when t
// ends, printing the servers' error logs when it failed.
func Start(t testing.TB, shards, replicas int, db string) *Cluster {
	t.Helper()
	l, err := cluster.Start(t.Context(), cluster.Options{Dir: t.TempDir(), Shards: shards, Replicas: replicas, Database: db})
	if err != nil {
		t.Fatalf("clustertest: %v (run `make deps`)", err)
	}
	t.Cleanup(func() {
		l.Kill()
		if !t.Failed() {
			return
		}
		// What the servers said, for the failure's story.
		for i, s := range l.Servers {
			if raw, err := os.ReadFile(filepath.Join(s.DataDir(), "log", "clickhouse-server.err.log")); err == nil {
				t.Logf("server %d error log (last 3000 bytes):\n%s", i, raw[max(0, len(raw)-3000):])
			}
		}
	})
	return &Cluster{Local: l}
}

// Kill kills server i at once (SIGKILL), as a lost machine.
func (c *Cluster) Kill(t testing.TB, i int) {
	t.Helper()
	if err := c.KillServer(i); err != nil {
		t.Fatalf("clustertest: kill server %d: %v", i, err)
	}
}

// Restart starts server i again on its data, after Kill.
func (c *Cluster) Restart(t testing.TB, i int) {
	t.Helper()
	if err := c.Local.Restart(t.Context(), i); err != nil {
		t.Fatal(err)
	}
}

// WaitFor polls cond until it holds, failing the test after a minute: a
// bound on a functional wait (replication catching up), not a measure of
// speed.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("clustertest: waited a minute for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Open opens a connection to server i's database db (which must exist),
// failing over to the others in order, as the hub's user.
func (c *Cluster) Open(t testing.TB, i int, db string) driver.Conn {
	t.Helper()
	addrs := c.Addrs()
	failover := append(append([]string{}, addrs[i+1:]...), addrs[:i]...)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := chdb.Open(ctx, chdb.Options{Addr: addrs[i], Failover: failover, Database: db, Cluster: true,
		Username: c.HubUser, Password: c.HubPassword, Settings: chdb.ClusterSettings()})
	if err != nil {
		t.Fatalf("clustertest: open server %d: %v", i, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
