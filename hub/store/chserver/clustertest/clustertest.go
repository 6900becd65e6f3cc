package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/zkserver"
)

// Name is the cluster's name in ON CLUSTER and Distributed tables.
const Name = "pathway"

// Cluster is a running test cluster.
type Cluster struct {
	ZooKeeper *zkserver.Server
	// Servers are shard by shard, each shard's replicas in order.
	Servers []*chserver.Server
	// Shards and Replicas are the layout.
	Shards, Replicas int

	mu   sync.Mutex
	opts []chserver.Options
}

// Start starts ZooKeeper and shards×replicas ClickHouse servers (password-less
// default users, test servers only), and stops them all when t ends.
func Start(t testing.TB, shards, replicas int) *Cluster {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	zk, err := zkserver.Start(ctx, zkserver.Options{DataDir: filepath.Join(dir, "zookeeper")})
	if err != nil {
		t.Fatalf("clustertest: %v (run `make deps`)", err)
	}
	t.Cleanup(zk.Kill)
	c := &Cluster{ZooKeeper: zk, Shards: shards, Replicas: replicas}
	layout := make([][]chserver.Endpoint, shards)
	ports := make([]int, 0, shards*replicas)
	for s := range shards {
		for range replicas {
			p, err := chserver.FreePort(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ports = append(ports, p)
			layout[s] = append(layout[s], chserver.Endpoint{Host: "127.0.0.1", Port: p})
		}
	}
	for i, p := range ports {
		inter, err := chserver.FreePort(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, r := i/replicas, i%replicas
		c.opts = append(c.opts, chserver.Options{
			DataDir: filepath.Join(dir, fmt.Sprintf("s%dr%d", s+1, r+1)), TCPPort: p, NoPasswords: true,
			Cluster: &chserver.Cluster{
				Name: Name, Shards: layout, ZooKeeper: []chserver.Endpoint{{Host: "127.0.0.1", Port: zk.Port()}},
				Shard: fmt.Sprintf("%02d", s+1), Replica: fmt.Sprintf("s%dr%d", s+1, r+1), InterserverPort: inter,
				// ZooKeeper's least (two ticks): a killed replica is back
				// soon after it restarts.
				SessionTimeout: 4 * time.Second,
			},
		})
	}
	c.Servers = make([]*chserver.Server, len(c.opts))
	var wg sync.WaitGroup
	errs := make([]error, len(c.opts))
	for i := range c.opts {
		wg.Go(func() { c.Servers[i], errs[i] = chserver.Start(ctx, c.opts[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("clustertest: server %d: %v", i, err)
		}
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, s := range c.Servers {
			_ = s.Kill()
			if t.Failed() {
				// What the servers said, for the failure's story.
				if raw, err := os.ReadFile(filepath.Join(s.DataDir(), "log", "clickhouse-server.err.log")); err == nil {
					t.Logf("server %d error log (last 3000 bytes):\n%s", i, raw[max(0, len(raw)-3000):])
				}
			}
		}
	})
	return c
}

// Addrs are the servers' native addresses, in Servers' order.
func (c *Cluster) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Addr()
	}
	return out
}

// Kill kills server i at once (SIGKILL), as a lost machine.
func (c *Cluster) Kill(t testing.TB, i int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Servers[i].Kill(); err != nil {
		t.Fatalf("clustertest: kill server %d: %v", i, err)
	}
}

// Restart starts server i again on its data, after Kill.
func (c *Cluster) Restart(t testing.TB, i int) {
	t.Helper()
	s, err := chserver.Start(t.Context(), c.opts[i])
	if err != nil {
		t.Fatalf("clustertest: restart server %d: %v", i, err)
	}
	c.mu.Lock()
	c.Servers[i] = s
	c.mu.Unlock()
}

// WaitFor polls cond until it holds, failing
// the test after a minute: a bound on a functional wait (replication
// catching up), not a measure of speed.
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
// failing over to the others in order.
func (c *Cluster) Open(t testing.TB, i int, db string) driver.Conn {
	t.Helper()
	addrs := c.Addrs()
	failover := append(append([]string{}, addrs[i+1:]...), addrs[:i]...)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := chdb.Open(ctx, chdb.Options{Addr: addrs[i], Failover: failover, Database: db, Cluster: true,
		Settings: chdb.ClusterSettings()})
	if err != nil {
		t.Fatalf("clustertest: open server %d: %v", i, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
