package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/lease"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	"github.com/pathwayhub/pathwayhub/policy"
)

// ClickHouseAddrFile is the file, under the data directory, where a hub with a
// managed ClickHouse writes the server's native address, so operator tools
// (`pathwayhub stats`) can find it.
const ClickHouseAddrFile = "clickhouse.addr"

// SigningKeyFile is the hub's Ed25519 key that signs evidence packs, under
// the data directory (PEM, mode 0600), made on first start. Its public key
// is served at evidence.SigningKeyPath.
const SigningKeyFile = "signing.key"

// AuditHeadFile is the file, under the data directory, where the hub keeps
// the head of the decision audit's hash chain (seq and hash of the last
// row), for `pathwayhub audit verify --head` to find rows deleted from the
// chain's end.
const AuditHeadFile = "audit-head"

// Options configure New.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// Registry receives the hub's metrics and is served on /metrics; nil
	// means a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// Credentials, when non-nil, are used instead of Config.Credentials.
	Credentials *auth.Credentials
	// Ready, when non-nil, is called once the hub is serving.
	Ready func(Info)
	// Now is the validator's and receipt clock; nil means time.Now.
	Now func() time.Time
	// HandleSignals makes SIGINT and SIGTERM stop the hub.
	HandleSignals bool
}

// Info describes a running hub.
type Info struct {
	// URL is the base URL of the API, e.g. "http://127.0.0.1:8080".
	URL string
	// MetricsURL is the base URL of Prometheus's /metrics, on a listener of
	// its own, e.g. "http://127.0.0.1:9464".
	MetricsURL string
	// ClickHouseAddr is the native address of the ClickHouse in use, and
	// ClickHouseUser and ClickHousePassword the hub's login there.
	ClickHouseAddr, ClickHouseUser, ClickHousePassword string
	// Database is the raw database.
	Database string
	// UsersFile is the ClickHouse users.d file of recipient users the
	// publisher writes; PasswordsFile holds their passwords. On a cluster
	// the users are in ZooKeeper, under UsersNode, and UsersFile is empty.
	UsersFile, PasswordsFile, UsersNode string
	// SharePrefix starts every share database and recipient user name.
	SharePrefix string
	// Publish publishes every share now (as the schedule would) and reports
	// what it did.
	Publish func(ctx context.Context) (share.Report, error)
	// PublishFull rebuilds every share now, whatever changed.
	PublishFull func(ctx context.Context) (share.Report, error)
	// Policy is the policy engine in force, e.g. to reload it or read its
	// revision.
	Policy *policy.Engine
	// ZooKeeper lists, on a cluster, the coordination service's nodes
	// (where the publishing lease is), and ZooKeeperIdentity is the login.
	ZooKeeper         []string
	ZooKeeperIdentity string
}

// Hub is a hub built by New and served by Run.
type Hub struct {
	opts   Options
	cfg    config.Config
	logger *slog.Logger
	reg    *prometheus.Registry
	creds  *auth.Credentials

	managed    *managedServer // nil with an external ClickHouse
	chUp       prometheus.Gauge
	chRestarts prometheus.Counter

	conn        driver.Conn
	svc         parts
	server      *http.Server
	ln          net.Listener
	metrics     *http.Server
	metricsLn   net.Listener
	credReloads *prometheus.CounterVec
	info        Info

	closers []func() // run in reverse order by close
}

// Run builds the hub and serves it until ctx is cancelled, a signal arrives
// (with HandleSignals), or a part fails: New, then Hub.Run.
func Run(ctx context.Context, opts Options) error {
	h, err := New(ctx, opts)
	if err != nil {
		return err
	}
	return h.Run(ctx)
}

// New builds the hub: the credentials, ClickHouse (started when managed)
// with the migrations applied, the policy, the services and the two
// listeners. Nothing is served until Run. On error, what was started is
// stopped again.
func New(ctx context.Context, opts Options) (_ *Hub, err error) {
	h := &Hub{opts: opts, cfg: opts.Config, logger: opts.Logger, reg: opts.Registry}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.reg == nil {
		h.reg = prometheus.NewRegistry()
		h.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if h.creds = opts.Credentials; h.creds == nil {
		if h.cfg.Credentials == "" {
			return nil, errors.New("app: no credentials file configured (--credentials); without one nobody could submit")
		}
		if h.creds, err = auth.Load(h.cfg.Credentials); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	if h.cfg.Agreements == "" {
		return nil, errors.New("app: no agreements directory configured (--agreements); without one nothing may be shared")
	}

	chAddr, usersFile := h.cfg.ClickHouse.Addr, h.cfg.Shares.UsersFile
	if chAddr == "" {
		srv, err := h.startManaged(ctx)
		if err != nil {
			return nil, err
		}
		chAddr = srv.Addr()
		if usersFile == "" {
			usersFile = filepath.Join(srv.UsersDir(), "pathway-shares.xml")
		}
	}
	if h.conn, err = connectClickHouse(ctx, h.cfg, chAddr, h.logger); err != nil {
		return nil, err
	}
	h.closers = append(h.closers, func() { _ = h.conn.Close() })
	if usersFile == "" {
		usersFile = filepath.Join(h.cfg.DataDir, "share-users.xml")
	}
	passwordsFile := h.cfg.Shares.PasswordsFile
	if passwordsFile == "" {
		passwordsFile = filepath.Join(h.cfg.DataDir, "share-passwords.yaml")
	}
	users := usersTarget{file: usersFile, passwords: passwordsFile}
	var shareConns []pinned
	if h.cfg.ClickHouse.Cluster != "" {
		if shareConns, err = h.pinnedConns(ctx); err != nil {
			return nil, err
		}
		// On a cluster the recipients' users go to ZooKeeper, where every
		// server reads them, and their passwords are kept there for
		// whichever hub publishes; the file is then only a copy.
		sess, err := coord.Dial(h.cfg.ClickHouse.ZooKeeperAddrs(), h.cfg.ClickHouse.ZooKeeperIdentity, lease.DefaultSessionTimeout)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		h.closers = append(h.closers, sess.Close)
		usersFile = ""
		users = usersTarget{passwords: passwordsFile, coord: sess}
	}
	if h.svc, err = build(ctx, h.cfg, opts, h.conn, shareConns, h.reg, h.logger, users); err != nil {
		return nil, err
	}
	mux, err := h.routes(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.listen(ctx, mux); err != nil {
		return nil, err
	}
	h.info = Info{
		URL: h.info.URL, MetricsURL: h.info.MetricsURL,
		ClickHouseAddr: chAddr, ClickHouseUser: h.cfg.ClickHouse.Username, ClickHousePassword: h.cfg.ClickHouse.Password,
		Database: h.cfg.ClickHouse.Database, UsersFile: usersFile, PasswordsFile: passwordsFile, SharePrefix: h.cfg.Shares.Prefix,
		Publish: h.publishAll(false), PublishFull: h.publishAll(true), Policy: h.svc.policy,
		ZooKeeper: h.cfg.ClickHouse.ZooKeeperAddrs(), ZooKeeperIdentity: h.cfg.ClickHouse.ZooKeeperIdentity,
	}
	if users.coord != nil {
		h.info.UsersNode = coord.UsersNode(h.cfg.ClickHouse.Database)
	}
	h.credReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pathwayhub_credentials_reloads_total", Help: "Reloads of the credentials file, by outcome (a failed one keeps the previous credentials).",
	}, []string{"outcome"})
	if err := h.reg.Register(h.credReloads); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return h, nil
}

// publish runs the share publisher (aggregate publications and the
// supervisors' fast path) until ctx is done.
func (h *Hub) publish(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, pub := range h.svc.publishers {
		g.Go(func() error { return pub.Run(ctx) })
		g.Go(func() error { return pub.RunRecords(ctx) })
	}
	return g.Wait()
}

// publishAll returns what publishes every share now (every share whatever
// changed, when full) on every server that has shares, and reports the
// first server's publication.
func (h *Hub) publishAll(full bool) func(context.Context) (share.Report, error) {
	return func(ctx context.Context) (share.Report, error) {
		var first share.Report
		var errs []error
		for i, pub := range h.svc.publishers {
			publish := pub.PublishAll
			if full {
				publish = pub.PublishFull
			}
			rep, err := publish(ctx)
			if i == 0 {
				first = rep
			}
			errs = append(errs, err)
		}
		return first, errors.Join(errs...)
	}
}

// pinnedConns opens, on a cluster, a connection to each of its servers
// (the configured one and the failover ones) that never fails over: each
// server's shares are written through its own. A server that is down at
// start is connected to when it is back.
func (h *Hub) pinnedConns(ctx context.Context) ([]pinned, error) {
	var out []pinned
	for _, addr := range append([]string{h.cfg.ClickHouse.Addr}, h.cfg.ClickHouse.FailoverAddrs()...) {
		conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Database: h.cfg.ClickHouse.Database,
			Username: h.cfg.ClickHouse.Username, Password: h.cfg.ClickHouse.Password, Cluster: true, Lazy: true,
			Settings: chdb.ClusterSettings()})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		h.closers = append(h.closers, func() { _ = conn.Close() })
		out = append(out, pinned{server: addr, conn: conn})
	}
	return out, nil
}

// leaseID names this hub in the publishing lease: host, process and the
// address it serves.
func (h *Hub) leaseID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d %s", host, os.Getpid(), h.info.URL)
}

// Info describes the hub New built.
func (h *Hub) Info() Info { return h.info }

// Run serves the hub until ctx is cancelled, a signal arrives (with
// HandleSignals), or a part fails, then shuts every part down and stops
// what New started. It returns nil after a clean shutdown. Every
// long-running part is an actor in one run group; the first to stop stops
// the rest.
func (h *Hub) Run(ctx context.Context) error {
	defer h.close()
	var g run.Group
	if h.managed != nil {
		// The managed server is the last thing to stop (close stops it):
		// its actor only restarts it if it dies (superviseManaged); the
		// hub answers unavailable until it is back.
		stopCtx, stopManaged := context.WithCancel(context.WithoutCancel(ctx))
		g.Add(func() error {
			return superviseManaged(stopCtx, h.cfg, h.managed, h.logger, func(up bool) {
				if up {
					h.chUp.Set(1)
					h.chRestarts.Inc()
				} else {
					h.chUp.Set(0)
				}
			})
		}, func(error) { stopManaged() })
	}
	h.addServers(ctx, &g)
	runCtx, cancel := context.WithCancel(ctx)
	g.Add(func() error {
		<-runCtx.Done()
		return nil
	}, func(error) { cancel() })
	addContextActor(ctx, &g, h.svc.policy.Watch)
	h.addCredentialReloads(ctx, &g)
	addContextActor(ctx, &g, h.svc.monitor.Run)
	if h.svc.follower != nil {
		addContextActor(ctx, &g, h.svc.follower.Run)
	}
	if zk := h.cfg.ClickHouse.ZooKeeperAddrs(); h.cfg.ClickHouse.Cluster != "" {
		// Several hubs share a cluster; one publishes at a time.
		addContextActor(ctx, &g, func(ctx context.Context) error {
			return lease.Run(ctx, lease.Options{Servers: zk, Identity: h.cfg.ClickHouse.ZooKeeperIdentity,
				Path: coord.LeasePath(h.cfg.ClickHouse.Database), ID: h.leaseID(), Logger: h.logger}, h.publish)
		})
	} else {
		addContextActor(ctx, &g, h.publish)
	}
	if h.opts.HandleSignals {
		g.Add(run.SignalHandler(runCtx, os.Interrupt, syscall.SIGTERM))
	}
	err := g.Run()
	// oklog/run's SignalError matches errors.As with a zero value (its
	// documented design error), so test with errors.Is and report the text.
	if errors.Is(err, run.ErrSignal) {
		h.logger.Info("stopped on signal", "reason", err.Error())
		return nil
	}
	h.logger.Info("hub stopped")
	return err
}

// close stops what New started, last first.
func (h *Hub) close() {
	for i := len(h.closers) - 1; i >= 0; i-- {
		h.closers[i]()
	}
	h.closers = nil
}

// addCredentialReloads reloads the credentials file when it changes and on
// SIGHUP (with the policy): a revoked token stops working for its next
// request, on the API and on the evidence pages. A broken file keeps the
// previous credentials.
func (h *Hub) addCredentialReloads(ctx context.Context, g *run.Group) {
	reloaded := func(how string) func(error) {
		return func(err error) {
			if err != nil {
				h.credReloads.WithLabelValues("error").Inc()
				h.logger.Warn("credentials reload failed; the previous credentials stay in force", "on", how, "err", err)
				return
			}
			h.credReloads.WithLabelValues("ok").Inc()
			h.logger.Info("credentials reloaded", "on", how, "credentials", h.creds.Len())
		}
	}
	credFile := h.cfg.Credentials != "" && h.opts.Credentials == nil
	reloadCredentials := func() {
		if credFile {
			reloaded("SIGHUP")(h.creds.Reload(h.cfg.Credentials))
		}
	}
	if credFile {
		addContextActor(ctx, g, func(ctx context.Context) error { return h.creds.Watch(ctx, h.cfg.Credentials, reloaded("file change")) })
	}
	addContextActor(ctx, g, func(ctx context.Context) error {
		return reloadOnHangup(ctx, h.svc.policy, reloadCredentials, h.logger)
	})
}
