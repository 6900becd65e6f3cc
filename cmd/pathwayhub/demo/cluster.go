package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/publish/lease"
	"github.com/pathwayhub/pathwayhub/hub/store/cluster"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
)

// startClusterHubs starts a local cluster (ZooKeeper and two ClickHouse
// replicas under <data-dir>/cluster, stopped when ctx ends) and two hubs
// on it, each on its own replica and failing over to the other; the second
// keeps its files under <data-dir>/hub2 and listens on free ports. The
// publishing hub writes the recipients' users to ZooKeeper, where both
// servers read them, and keeps their passwords there.
func startClusterHubs(ctx context.Context, opts Options, creds *auth.Credentials) ([]app.Info, []chan error, error) {
	out := opts.Out
	fmt.Fprintln(out, "\nStarting a local cluster: ZooKeeper and two ClickHouse replicas of one shard…")
	l, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(opts.Config.DataDir, "cluster"), Shards: 1, Replicas: 2,
		Database: opts.Config.ClickHouse.Database})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	go func() {
		<-ctx.Done()
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		l.Stop(stop)
	}()
	addrs := l.Addrs()
	var infos []app.Info
	var dones []chan error
	for i := range 2 {
		cfg := opts.Config
		cfg.ClickHouse.Addr, cfg.ClickHouse.Failover = addrs[i], addrs[1-i]
		cfg.ClickHouse.Cluster, cfg.ClickHouse.ZooKeeper = cluster.Name, l.ZooKeeper.Addr()
		cfg.ClickHouse.Username, cfg.ClickHouse.Password = "default", ""
		cfg.ClickHouse.ZooKeeperIdentity = l.Identity
		if i == 1 {
			cfg.DataDir = filepath.Join(opts.Config.DataDir, "hub2")
			cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
		}
		info, done, err := startHub(ctx, cfg, opts.Logger, creds)
		if err != nil {
			return nil, dones, err
		}
		fmt.Fprintf(out, "Hub %d is serving at %s (ClickHouse %s, failing over to %s; database %s)\n", i+1, info.URL, addrs[i], addrs[1-i], info.Database)
		infos, dones = append(infos, info), append(dones, done)
	}
	return infos, dones, nil
}

// leaseHolder waits for one of the hubs to hold the publishing lease, says
// which, and returns it.
func leaseHolder(ctx context.Context, out io.Writer, infos []app.Info, db string) (app.Info, error) {
	zk := infos[0].ZooKeeper
	for range 300 {
		id, err := lease.Holder(zk, infos[0].ZooKeeperIdentity, coord.LeasePath(db))
		if err == nil {
			for i, info := range infos {
				if id != "" && strings.HasSuffix(id, info.URL) {
					fmt.Fprintf(out, "\nHub %d holds the publishing lease (%s): it publishes a copy of every share on both replicas.\n", i+1, id)
					return info, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return app.Info{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return app.Info{}, fmt.Errorf("demo: no hub took the publishing lease in 30 s")
}
