package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/api/access"
	"github.com/pathwayhub/pathwayhub/hub/api/ingest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/follow"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	"github.com/pathwayhub/pathwayhub/policy"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// pinned is a connection to one server of a cluster, never failing over
// to another.
type pinned struct {
	server string
	conn   driver.Conn
}

// parts are the hub's services, built once ClickHouse is ready.
type parts struct {
	audit   *audit.Writer
	policy  *policy.Engine
	ingest  *ingest.Service
	access  *access.Service
	monitor *monitor.Monitor
	// publishers write the shares: one on the hub's connection, or on a
	// cluster one per server, each pinned to it, so that every server has
	// every share and a dashboard survives the loss of its server.
	// publisher is the first.
	publishers []*share.Publisher
	publisher  *share.Publisher
	// follower, on a cluster, tells the monitor and publishers of the
	// batches the other hubs stored; nil on one server.
	follower *follow.Follower
}

// build wires the services: every policy decision is audited to ClickHouse;
// ingest asks the policy, tells the live monitor which incidents it stored
// and nudges the publisher; the monitor, once it has read them, has the
// publisher's fast path write its forces' supervisors' shares (incidents and
// live state) at once, apart from the aggregate publication.
// usersTarget is where the publisher writes the recipients' users: a users.d
// file, or on a cluster ZooKeeper (coord.UsersNode); passwords is their
// passwords file (on a cluster, a copy of ZooKeeper's).
type usersTarget struct {
	file, passwords string
	coord           *coord.Session
}

func build(ctx context.Context, cfg config.Config, opts Options, conn driver.Conn, shareConns []pinned, reg prometheus.Registerer, logger *slog.Logger, users usersTarget) (parts, error) {
	db := cfg.ClickHouse.Database
	var p parts
	var err error
	if cfg.ClickHouse.Cluster == "" {
		p.audit = audit.New(conn, db, filepath.Join(cfg.DataDir, AuditHeadFile))
	} else {
		// Several hubs decide at once: each extends a chain of its own.
		chain, err := chainID(filepath.Join(cfg.DataDir, AuditChainFile))
		if err != nil {
			return p, fmt.Errorf("app: %w", err)
		}
		p.audit = audit.NewChain(conn, db, chain, filepath.Join(cfg.DataDir, AuditHeadFile))
	}
	p.policy, err = policy.New(ctx, policy.Options{Measures: measures.IDs(),
		Dir: cfg.Agreements, Auditor: p.audit, Now: opts.Now,
		Logger: logger, Registerer: reg,
	})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	p.monitor, err = monitor.New(monitor.Options{
		Source: store.New(conn, db), Thresholds: cfg.Thresholds, Interval: cfg.MonitorInterval, ReloadInterval: cfg.MonitorReload,
		Now: opts.Now, Registerer: reg, Logger: logger,
		Changed: func(c monitor.Change) {
			for _, pub := range p.publishers {
				pub.NotifyRecords(c)
			}
		},
	})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	if shareConns == nil {
		shareConns = []pinned{{conn: conn}}
	}
	var changesLag time.Duration // one server: the default
	if cfg.ClickHouse.Cluster != "" {
		changesLag = share.ClusterChangesLag
	}
	for _, sc := range shareConns {
		server, r, l := sc.server, reg, logger
		if server != "" {
			r, l = prometheus.WrapRegistererWith(prometheus.Labels{"server": server}, reg), logger.With("server", server)
		}
		pub, err := share.New(share.Options{
			Conn: sc.conn, Database: db, Prefix: cfg.Shares.Prefix, Policy: p.policy, Thresholds: cfg.Thresholds,
			UsersFile: users.file, PasswordsFile: users.passwords, Coord: users.coord, Months: cfg.Shares.Months, Rebase: cfg.Shares.SPCRebase, Interval: cfg.Shares.Interval,
			Debounce: cfg.Shares.Debounce, MaxDelay: cfg.Shares.MaxDelay, Workers: cfg.Shares.Workers, ChangesLag: changesLag,
			Live: p.monitor.Snapshot, Now: opts.Now, Logger: l, Registerer: r,
		})
		if err != nil {
			return p, fmt.Errorf("app: %w", err)
		}
		p.publishers = append(p.publishers, pub)
	}
	p.publisher = p.publishers[0]
	valid, err := validate.New(validate.Options{Skew: cfg.ClockSkew, Now: opts.Now})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	st := store.New(conn, db)
	if cfg.ClickHouse.Cluster != "" {
		// A batch stored through another hub reaches this one by
		// replication: read it as the hub's own.
		p.follower = follow.New(follow.Options{Store: st, Logger: logger, Stored: func(int) {
			p.monitor.ReadAll()
			for _, pub := range p.publishers {
				pub.Notify()
			}
		}})
	}
	// Batches stored by a hub that died before logging them are logged now,
	// before any new one, so the submissions log accounts for every row.
	if n, err := st.Reconcile(ctx); err != nil {
		return p, fmt.Errorf("app: %w", err)
	} else if n > 0 {
		logger.Warn("logged batches stored before a crash but never logged", "batches", n)
	}
	p.ingest, err = ingest.New(ingest.Options{
		Store: st, Validator: valid, Policy: p.policy,
		Stored: func(submissionID string, keys []store.IncidentKey) {
			if p.follower != nil {
				p.follower.Mine(submissionID)
			}
			p.monitor.Notify(keys)
			for _, pub := range p.publishers {
				pub.Notify()
			}
		},
		Logger: logger, Registerer: reg, Now: opts.Now, InflightBytes: cfg.IngestInflightBytes,
	})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	p.access = access.New(p.policy, cfg.Shares.Prefix, logger)
	return p, nil
}

// addContextActor adds an actor that runs fn until the group stops.
func addContextActor(parent context.Context, g *run.Group, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	g.Add(func() error { return fn(ctx) }, func(error) { cancel() })
}

// reloadOnHangup reloads the credentials and the policy on each SIGHUP
// until ctx is done. A bad bundle is logged and leaves the policy in force
// (Reload is atomic).
func reloadOnHangup(ctx context.Context, engine *policy.Engine, reloadCredentials func(), logger *slog.Logger) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			reloadCredentials()
			if err := engine.Reload(ctx); err != nil {
				logger.Warn("policy reload on SIGHUP failed; the previous policy stays in force", "err", err)
			} else {
				logger.Info("policy reloaded on SIGHUP", "revision", engine.Revision())
			}
		}
	}
}

// AuditChainFile is the file, in the data directory of a hub on a cluster, naming the
// decision audit's chain this hub extends (made at its first start).
const AuditChainFile = "audit-chain"

// chainID reads the chain name in file, or makes a random one there.
func chainID(file string) (string, error) {
	if raw, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		return strings.TrimSpace(string(raw)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := "hub-" + strings.ToLower(rand.Text())
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(id+"\n"), 0o600); err != nil {
		return "", err
	}
	return id, nil
}

// migrate applies the migrations through admin: on the cluster when cfg
// names one, else on the one server.
func migrate(ctx context.Context, cfg config.Config, admin driver.Conn, logger *slog.Logger) ([]chdb.Migration, error) {
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		return nil, err
	}
	if cfg.ClickHouse.Cluster != "" {
		return chdb.MigrateOnCluster(ctx, admin, cfg.ClickHouse.Database, cfg.ClickHouse.Cluster, migs, logger)
	}
	return chdb.Migrate(ctx, admin, cfg.ClickHouse.Database, migs, logger)
}

// onClusterTimeout bounds the wait for the answer to a migration ON
// CLUSTER: ClickHouse's own distributed_ddl_task_timeout (180 s) and a
// margin.
const onClusterTimeout = 200 * time.Second

// connectClickHouse opens the pool and applies the migrations.
func connectClickHouse(ctx context.Context, cfg config.Config, addr string, logger *slog.Logger) (driver.Conn, error) {
	chOpts := chdb.Options{Addr: addr, Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password,
		Failover: cfg.ClickHouse.FailoverAddrs()}
	if cfg.ClickHouse.Cluster != "" {
		chOpts.Cluster, chOpts.Settings = true, chdb.ClusterSettings()
	}
	adminOpts := chOpts
	if cfg.ClickHouse.Cluster != "" {
		// A statement ON CLUSTER answers once every server has run it
		// (18.16 waits up to its distributed_ddl_task_timeout, 180 s), so
		// the migrations wait as long for an answer: a busy server's DDL
		// worker may take more than the usual minute.
		adminOpts.ReadTimeout = onClusterTimeout
	}
	admin, err := chdb.Open(ctx, adminOpts)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	applied, err := migrate(ctx, cfg, admin, logger)
	_ = admin.Close()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if len(applied) > 0 {
		logger.Info("migrations applied", "count", len(applied), "database", cfg.ClickHouse.Database)
	}
	chOpts.Database = cfg.ClickHouse.Database
	conn, err := chdb.Open(ctx, chOpts)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return conn, nil
}
