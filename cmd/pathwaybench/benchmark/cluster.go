package benchmark

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store/cluster"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Cluster is what the cluster step measured: the same ingest and a full
// publication on a hub over one server and on a hub over a two-replica
// cluster (18.16 servers and ZooKeeper on this machine).
type Cluster struct {
	Clients   int `json:"clients"`
	BatchSize int `json:"batch_size"`
	Records   int `json:"records"`
	// Single and Replicated are the two hubs' figures.
	Single     ClusterRun `json:"single"`
	Replicated ClusterRun `json:"replicated"`
}

// ClusterRun is one hub's ingest and publication.
type ClusterRun struct {
	RecordsPerSecond   float64 `json:"records_per_second"`
	Batch              Latency `json:"batch"`
	FullPublishSeconds float64 `json:"full_publish_seconds"`
}

// runCluster measures ingest at the largest batch size of the run and a
// full publication, first on a hub over the run's one server, then on a hub
// over a local two-replica cluster (whose every insert waits for its
// replica, and whose publication writes every share on both servers).
func runCluster(ctx context.Context, e *env) error {
	size := e.cfg.BatchSizes[len(e.cfg.BatchSizes)-1]
	clients := make([]client, min(e.cfg.Clients, len(nationalForces)-1))
	creds := &auth.Credentials{}
	for i := range clients {
		tok, _, err := auth.NewToken()
		if err != nil {
			return err
		}
		clients[i] = client{force: nationalForces[i].id, token: tok}
		creds.Add(tok, auth.Org{Kind: auth.KindForce, ID: nationalForces[i].id})
	}
	pool, err := basePool(min(e.cfg.RecordsPerClient, 4000))
	if err != nil {
		return err
	}
	res := Cluster{Clients: len(clients), BatchSize: size}
	e.progress("cluster: starting ZooKeeper and two ClickHouse replicas")
	l, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(e.cfg.Dir, "cluster"), Shards: 1, Replicas: 2, Database: "bench_cluster"})
	if err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		l.Stop(stop)
	}()
	addrs := l.Addrs()
	for _, run := range []struct {
		name, dir string
		out       *ClusterRun
		set       func(*config.Config)
	}{
		{"one server", "single", &res.Single, func(c *config.Config) { c.ClickHouse.Addr, c.ClickHouse.Database = e.srv.Addr(), "bench_single" }},
		{"two replicas", "replicated", &res.Replicated, func(c *config.Config) {
			c.ClickHouse.Addr, c.ClickHouse.Failover, c.ClickHouse.Database = addrs[0], addrs[1], "bench_cluster"
			c.ClickHouse.Cluster, c.ClickHouse.ZooKeeper, c.ClickHouse.ZooKeeperIdentity = cluster.Name, l.ZooKeeper.Addr(), l.Identity
			c.ClickHouse.Username, c.ClickHouse.Password = l.HubUser, l.HubPassword
		}},
	} {
		cfg := config.Default()
		cfg.Listen, cfg.MetricsListen, cfg.LogLevel = "127.0.0.1:0", "127.0.0.1:0", "warn"
		cfg.DataDir = filepath.Join(e.cfg.Dir, "cluster-hub-"+run.dir)
		cfg.Agreements = filepath.Join(e.cfg.Dir, "agreements")
		run.set(&cfg)
		if err := e.clusterRun(ctx, cfg, creds, clients, pool, size, run.out, &res.Records); err != nil {
			return fmt.Errorf("%s: %w", run.name, err)
		}
		e.progress("cluster: %s: %.0f rec/s at batch %d, full publication %.1f s", run.name, run.out.RecordsPerSecond, size, run.out.FullPublishSeconds)
	}
	e.report.Cluster = &res
	return nil
}

// clusterRun runs one hub with cfg, submits the batches and publishes every
// share once.
func (e *env) clusterRun(ctx context.Context, cfg config.Config, creds *auth.Credentials, clients []client,
	pool []*pathwayv1.IncidentRecord, size int, out *ClusterRun, records *int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan app.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Config: cfg, Logger: e.cfg.Logger, Credentials: creds, Ready: func(i app.Info) { ready <- i }})
	}()
	var info app.Info
	select {
	case info = <-ready:
	case err := <-done:
		return fmt.Errorf("hub: %w", err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			e.progress("cluster: the hub stopped with: %v", err)
		}
	}()
	rpc := pathwayv1connect.NewIngestServiceClient(&http.Client{Timeout: 10 * time.Minute}, info.URL)
	batches := makeBatches(pool, clients, size, e.cfg.RecordsPerClient)
	lat, wall, err := concurrently(ctx, batches, func(ctx context.Context, c client, b []*pathwayv1.IncidentRecord) error {
		return submit(ctx, rpc, c.token, b)
	})
	if err != nil {
		return err
	}
	n := 0
	for _, bs := range batches {
		for _, b := range bs {
			n += len(b)
		}
	}
	*records = n
	out.RecordsPerSecond, out.Batch = float64(n)/wall.Seconds(), summarise(lat)
	start := time.Now()
	if _, err := info.PublishFull(ctx); err != nil {
		return fmt.Errorf("full publication: %w", err)
	}
	out.FullPublishSeconds = time.Since(start).Seconds()
	return nil
}
