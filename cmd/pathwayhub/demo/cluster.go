package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/publish/lease"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/cluster"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
)

// startClusterHubs starts a local cluster (ZooKeeper and two ClickHouse
// replicas under <data-dir>/cluster, stopped when ctx ends) and two hubs on
// it, each its own process (`pathwayhub serve`, under <data-dir>/hub1 and
// hub2, logging there), each on its own replica and failing over to the
// other. It prints every process's id, so that any of them can be killed
// to watch the rest carry on. The publishing hub writes the recipients'
// users to ZooKeeper, where both servers read them, and keeps their
// passwords there.
func startClusterHubs(ctx context.Context, opts Options, credentials string) ([]app.Info, []chan error, error) {
	out := opts.Out
	fmt.Fprintln(out, "\nStarting a local cluster: ZooKeeper and two ClickHouse replicas of one shard…")
	db := opts.Config.ClickHouse.Database
	l, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(opts.Config.DataDir, "cluster"), Shards: 1, Replicas: 2, Database: db})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		l.Stop(stop)
	}()
	addrs := l.Addrs()
	fmt.Fprintf(out, "ZooKeeper %s (pid %d)\n", l.ZooKeeper.Addr(), l.ZooKeeper.Pid())
	for i, s := range l.Servers {
		fmt.Fprintf(out, "ClickHouse replica %d: %s (pid %d, data %s)\n", i+1, s.Addr(), s.Pid(), s.DataDir())
	}
	command := opts.HubCommand
	if len(command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		command = []string{exe}
	}
	agreements, err := filepath.Abs(opts.Config.Agreements)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	var infos []app.Info
	var dones []chan error
	for i := range 2 {
		info, done, err := startHubProcess(ctx, opts, command, hubSpec{
			n: i + 1, addr: addrs[i], failover: addrs[1-i], zookeeper: l.ZooKeeper.Addr(), identity: l.Identity,
			user: l.HubUser, password: l.HubPassword,
			credentials: credentials, agreements: agreements,
		})
		if err != nil {
			return nil, dones, err
		}
		infos, dones = append(infos, info), append(dones, done)
	}
	// The cluster stops after the hubs: the demo waits for it too.
	clusterDone := make(chan error, 1)
	go func() { <-stopped; clusterDone <- nil }()
	return infos, append(dones, clusterDone), nil
}

// hubSpec is one hub process of the cluster demo.
type hubSpec struct {
	n                                   int
	addr, failover, zookeeper, identity string
	user, password                      string
	credentials, agreements             string
}

// startHubProcess runs `<command> serve` as hub n of the cluster and
// returns once it answers. Its done channel reports nil when the demo
// stopped it; a hub that died before (killed, say) is reported in the
// narration, and the demo carries on with the other.
func startHubProcess(ctx context.Context, opts Options, command []string, h hubSpec) (app.Info, chan error, error) {
	dir := filepath.Join(opts.Config.DataDir, "hub"+strconv.Itoa(h.n))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return app.Info{}, nil, fmt.Errorf("demo: %w", err)
	}
	port, err := chserver.FreePort(ctx)
	if err != nil {
		return app.Info{}, nil, fmt.Errorf("demo: %w", err)
	}
	metrics, err := chserver.FreePort(ctx)
	if err != nil {
		return app.Info{}, nil, fmt.Errorf("demo: %w", err)
	}
	cfg := opts.Config
	args := append(slices.Clone(command[1:]), "serve",
		"--listen=127.0.0.1:"+strconv.Itoa(port), "--metrics-listen=127.0.0.1:"+strconv.Itoa(metrics),
		"--clickhouse="+h.addr, "--clickhouse-failover="+h.failover, "--clickhouse-cluster="+cluster.Name,
		"--clickhouse-database="+cfg.ClickHouse.Database, "--clickhouse-user="+h.user, "--zookeeper="+h.zookeeper,
		"--credentials="+h.credentials, "--agreements="+h.agreements, "--data-dir="+dir, "--log-level="+cfg.LogLevel)
	logPath := filepath.Join(dir, "hub.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return app.Info{}, nil, fmt.Errorf("demo: %w", err)
	}
	cmd := exec.CommandContext(ctx, command[0], args...)
	// When the demo ends, the hub shuts down gracefully (and is killed if
	// it has not within half a minute).
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Env = append(os.Environ(), "PATHWAYHUB_ZOOKEEPER_IDENTITY="+h.identity, "PATHWAYHUB_CLICKHOUSE_PASSWORD="+h.password)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return app.Info{}, nil, fmt.Errorf("demo: hub %d: %w", h.n, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); _ = logFile.Close() }()
	done := make(chan error, 1)
	go func() {
		err := <-exited
		switch {
		case ctx.Err() == nil:
			fmt.Fprintf(opts.Out, "\nHub %d (pid %d) exited: %v; the other hub carries on (log %s)\n", h.n, cmd.Process.Pid, err, logPath)
		case err != nil:
			fmt.Fprintf(opts.Out, "Hub %d (pid %d) stopped: %v (log %s)\n", h.n, cmd.Process.Pid, err, logPath)
		}
		done <- nil
	}()
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitServing(ctx, url, exited); err != nil {
		_ = cmd.Process.Kill()
		tail, _ := os.ReadFile(logPath)
		return app.Info{}, nil, fmt.Errorf("demo: hub %d: %w\n%s", h.n, err, tail[max(0, len(tail)-2000):])
	}
	prefix := cfg.Shares.Prefix
	if prefix == "" {
		prefix = share.DefaultPrefix
	}
	info := app.Info{
		URL: url, MetricsURL: "http://127.0.0.1:" + strconv.Itoa(metrics),
		ClickHouseAddr: h.addr, ClickHouseUser: h.user, ClickHousePassword: h.password, Database: cfg.ClickHouse.Database,
		PasswordsFile: filepath.Join(dir, "share-passwords.yaml"), UsersNode: coord.UsersNode(cfg.ClickHouse.Database),
		SharePrefix: prefix, ZooKeeper: []string{h.zookeeper}, ZooKeeperIdentity: h.identity,
	}
	fmt.Fprintf(opts.Out, "Hub %d is serving at %s (pid %d; ClickHouse %s, failing over to %s; log %s)\n",
		h.n, url, cmd.Process.Pid, h.addr, h.failover, logPath)
	return info, done, nil
}

// withHubLogs adds to err the end of each hub process's log, under dir:
// what the hubs were doing when the demo gave up on them.
func withHubLogs(err error, dir string) error {
	var b strings.Builder
	for n := 1; n <= 2; n++ {
		path := filepath.Join(dir, "hub"+strconv.Itoa(n), "hub.log")
		tail, rerr := os.ReadFile(path)
		if rerr != nil {
			continue
		}
		fmt.Fprintf(&b, "\n--- the end of %s:\n%s", path, tail[max(0, len(tail)-3000):])
	}
	return fmt.Errorf("%w%s", err, b.String())
}

// waitServing waits until the hub at url answers, or its process exits.
func waitServing(ctx context.Context, url string, exited <-chan error) error {
	deadline := time.Now().Add(3 * time.Minute) // migrations ON CLUSTER may take a while on a busy machine
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/evidence/signing-key.pem", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before serving: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errors.New("did not answer within 3 minutes")
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
	return app.Info{}, fmt.Errorf("demo: no hub took the publishing lease")
}

// waitForShares waits for the publishing hub, in its own process, to
// publish what the history changed (it does so a few seconds after the
// last batch, stored by since), then reports the latest publication of
// every share and what one commissioner sees.
func waitForShares(ctx context.Context, out io.Writer, info app.Info, since time.Time) error {
	conn, err := chdb.Open(ctx, chdb.Options{Addr: info.ClickHouseAddr, Database: info.Database, Username: info.ClickHouseUser,
		Password: info.ClickHousePassword, Cluster: true})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer conn.Close()
	// Published since the history went in, and quiet for a few seconds.
	var last uint64
	quiet := 0
	for deadline := time.Now().Add(3 * time.Minute); quiet < 4; {
		if time.Now().After(deadline) {
			return errors.New("demo: the publishing hub published nothing within 3 minutes of the history")
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM publications WHERE published_at >= toDateTime(?)", since.Unix()).Scan(&n); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if n > 0 && n == last {
			quiet++
		} else {
			quiet = 0
		}
		last = n
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	rows, err := conn.Query(ctx, `SELECT recipient, argMax(agreement, published_at), share_table, argMax(row_count, published_at),
		argMax(content_hash, published_at) FROM publications GROUP BY recipient, share_table ORDER BY recipient, share_table`)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer rows.Close()
	byRecipient := map[string]*share.Publication{}
	var order []string
	for rows.Next() {
		var recipient, agreement, table, hash string
		var n uint64
		if err := rows.Scan(&recipient, &agreement, &table, &n, &hash); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		p := byRecipient[recipient]
		if p == nil {
			p = &share.Publication{Recipient: recipient, Agreement: agreement, Rows: map[string]uint64{}}
			byRecipient[recipient] = p
			order = append(order, recipient)
		}
		p.Rows[table] = n
		if hash != "" {
			p.ContentHash = hash
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(out, "\nShares published by the lease holder (the latest publication of each):")
	var rep share.Report
	for _, r := range order {
		rep.Published = append(rep.Published, *byRecipient[r])
	}
	if err := writePublished(out, rep); err != nil {
		return err
	}
	return printViews(ctx, out, info, rep)
}
