// Package app is the hub's lifecycle: it connects to (or starts) ClickHouse,
// applies the migrations, loads the data-sharing agreements into the policy
// engine, builds the ingest, access and evidence services, the live pathway
// monitor and the share publisher, and serves the Connect API, the evidence
// pages, gRPC reflection and health checks on one HTTP server, and /metrics
// on another (loopback by default: it is for operators). Every long-running
// part is an actor in one run group (HTTP servers, policy watcher, SIGHUP
// reloader, monitor, publisher, signals); the first to stop stops the rest,
// and shutdown is graceful within a bound.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pathwayhub/pathwayhub/hub/api/access"
	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/api/ingest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/web/evidence"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	"github.com/pathwayhub/pathwayhub/policy"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
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

// Options configure Run.
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
	// publisher writes; PasswordsFile holds their passwords.
	UsersFile, PasswordsFile string
	// SharePrefix starts every share database and recipient user name.
	SharePrefix string
	// Publish publishes every share now (as the schedule would) and reports
	// what it did.
	Publish func(ctx context.Context) (share.Report, error)
	// Policy is the policy engine in force, e.g. to reload it or read its
	// revision.
	Policy *policy.Engine
}

// Run runs the hub until ctx is cancelled, a signal arrives (with
// HandleSignals), or a part fails. It returns nil after a clean shutdown.
func Run(ctx context.Context, opts Options) error {
	cfg := opts.Config
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	creds := opts.Credentials
	if creds == nil {
		if cfg.Credentials == "" {
			return errors.New("app: no credentials file configured (--credentials); without one nobody could submit")
		}
		var err error
		if creds, err = auth.Load(cfg.Credentials); err != nil {
			return fmt.Errorf("app: %w", err)
		}
	}

	if cfg.Agreements == "" {
		return errors.New("app: no agreements directory configured (--agreements); without one nothing may be shared")
	}
	var g run.Group
	chAddr := cfg.ClickHouse.Addr
	usersFile := cfg.Shares.UsersFile
	if chAddr == "" {
		srv, err := startManaged(ctx, cfg, logger)
		if err != nil {
			return err
		}
		chAddr = srv.Addr()
		// The hub connects as its own user; the default user's password
		// is in the server's directory (mode 0600), for operators.
		cfg.ClickHouse.Username, cfg.ClickHouse.Password = srv.HubCredentials()
		if usersFile == "" {
			usersFile = filepath.Join(srv.UsersDir(), "pathway-shares.xml")
		}
		// The managed server is the last thing to stop: its actor waits for
		// the context the other actors' shutdown cancels. If it dies
		// meanwhile, the actor starts it again (superviseManaged); the
		// hub answers unavailable until it is back.
		managed := &managedServer{srv: srv}
		chUp := prometheus.NewGauge(prometheus.GaugeOpts{Name: "pathwayhub_clickhouse_up", Help: "1 while the managed ClickHouse runs, 0 while it is being restarted."})
		chRestarts := prometheus.NewCounter(prometheus.CounterOpts{Name: "pathwayhub_clickhouse_restarts_total", Help: "Restarts of the managed ClickHouse after it died."})
		for _, c := range []prometheus.Collector{chUp, chRestarts} {
			if err := reg.Register(c); err != nil {
				_ = srv.Stop(context.WithoutCancel(ctx))
				return fmt.Errorf("app: %w", err)
			}
		}
		chUp.Set(1)
		stopCtx, stopManaged := context.WithCancel(context.WithoutCancel(ctx))
		g.Add(func() error {
			return superviseManaged(stopCtx, cfg, managed, logger, func(up bool) {
				if up {
					chUp.Set(1)
					chRestarts.Inc()
				} else {
					chUp.Set(0)
				}
			})
		}, func(error) { stopManaged() })
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
			defer cancel()
			if err := managed.get().Stop(sctx); err != nil {
				logger.Warn("stop managed clickhouse", "err", err)
			}
			_ = os.Remove(filepath.Join(cfg.DataDir, ClickHouseAddrFile))
		}()
	}

	conn, err := connectClickHouse(ctx, cfg, chAddr, logger)
	if err != nil {
		return err
	}
	defer conn.Close()

	if usersFile == "" {
		usersFile = filepath.Join(cfg.DataDir, "share-users.xml")
	}
	passwordsFile := cfg.Shares.PasswordsFile
	if passwordsFile == "" {
		passwordsFile = filepath.Join(cfg.DataDir, "share-passwords.yaml")
	}
	svc, err := build(ctx, cfg, opts, conn, reg, logger, usersFile, passwordsFile)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	signingKey, err := pack.LoadOrCreateKey(filepath.Join(cfg.DataDir, SigningKeyFile))
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	ev, err := evidence.New(evidence.Options{Conn: conn, Policy: svc.policy, Prefix: svc.publisher.Prefix(), Credentials: creds,
		SigningKey: signingKey, SecureCookies: cfg.BehindTLS, Logger: logger})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}

	mux := http.NewServeMux()
	authFailures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pathwayhub_auth_failures_total", Help: "API requests refused for a missing, unknown or revoked token, before their body was read.",
	})
	if err := reg.Register(authFailures); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	// Authentication comes first, in HTTP middleware: an anonymous request
	// is refused before admission, and before its body is read,
	// decompressed or decoded. The interceptor checks again per call.
	refusals := auth.NewRefusals(10*time.Second, func(n uint64) {
		logger.Warn("API requests refused: missing, unknown or revoked token", "refused", n)
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := svc.audit.Refused(actx, n, time.Now()); err != nil {
			logger.Warn("audit refused authentications", "err", err)
		}
	})
	authenticated := func(path string, h http.Handler) (string, http.Handler) {
		return path, creds.Middleware(h, func() { authFailures.Inc(); refusals.Add() })
	}
	authn := connect.WithInterceptors(creds.Interceptor())
	small := connect.WithReadMaxBytes(SmallRequestBytes)
	mux.Handle(authenticated(svc.ingest.Handler(authn)))
	mux.Handle(authenticated(svc.access.Handler(authn, small)))
	mux.Handle(authenticated(ev.Handler(authn, small)))
	mux.Handle("/evidence/", limitBody(ev.Pages()))
	reflector := grpcreflect.NewStaticReflector(pathwayv1connect.IngestServiceName, pathwayv1connect.AccessServiceName,
		pathwayv1connect.EvidenceServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(limited(grpcreflect.NewHandlerV1(reflector, small)))
	mux.Handle(limited(grpcreflect.NewHandlerV1Alpha(reflector, small)))
	mux.Handle(limited(grpchealth.NewHandler(healthChecker{conn: conn}, small)))
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	var lc net.ListenConfig
	metricsLn, err := lc.Listen(ctx, "tcp", cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("app: listen %s: %w", cfg.MetricsListen, err)
	}
	metricsServer := &http.Server{
		Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		_ = metricsLn.Close()
		return fmt.Errorf("app: listen %s: %w", cfg.Listen, err)
	}
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// A request's body must arrive within ReadTimeout; a response
		// (an evidence pack's PDF is the slowest) within WriteTimeout; an
		// idle keep-alive connection is closed after IdleTimeout.
		ReadTimeout:  cfg.RequestReadTimeout,
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  time.Minute,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		Protocols:    new(http.Protocols),
	}
	server.Protocols.SetHTTP1(true)
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
		server.Protocols.SetHTTP2(true)
		server.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		server.Handler = strictTransport(mux)
	} else {
		server.Protocols.SetUnencryptedHTTP2(true)
		if host, _, _ := net.SplitHostPort(cfg.Listen); !config.Loopback(host) {
			logger.Warn("serving without TLS on an address other machines can reach (--insecure-plaintext): "+
				"tokens and health data cross the network in the clear unless a proxy in front terminates TLS", "listen", cfg.Listen)
		}
	}
	info := Info{
		URL: scheme + "://" + ln.Addr().String(), MetricsURL: "http://" + metricsLn.Addr().String(),
		ClickHouseAddr: chAddr, ClickHouseUser: cfg.ClickHouse.Username, ClickHousePassword: cfg.ClickHouse.Password, Database: cfg.ClickHouse.Database,
		UsersFile: usersFile, PasswordsFile: passwordsFile, SharePrefix: cfg.Shares.Prefix, Publish: svc.publisher.PublishAll, Policy: svc.policy,
	}

	g.Add(func() error {
		logger.Info("hub serving", "url", info.URL, "clickhouse", chAddr, "database", info.Database, "credentials", creds.Len())
		if opts.Ready != nil {
			opts.Ready(info)
		}
		var err error
		if cfg.TLSCert != "" {
			err = server.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = server.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}, func(error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		if err := server.Shutdown(sctx); err != nil {
			logger.Warn("graceful shutdown incomplete", "err", err)
		}
	})
	g.Add(func() error {
		if err := metricsServer.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		_ = metricsServer.Shutdown(sctx)
	})
	runCtx, cancel := context.WithCancel(ctx)
	g.Add(func() error {
		<-runCtx.Done()
		return nil
	}, func(error) { cancel() })
	addContextActor(ctx, &g, svc.policy.Watch)
	credReloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pathwayhub_credentials_reloads_total", Help: "Reloads of the credentials file, by outcome (a failed one keeps the previous credentials).",
	}, []string{"outcome"})
	if err := reg.Register(credReloads); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	// A credentials file is reloaded when it changes and on SIGHUP: a
	// revoked token stops working for its next request, on the API and on
	// the evidence pages. A broken file keeps the previous credentials.
	reloaded := func(how string) func(error) {
		return func(err error) {
			if err != nil {
				credReloads.WithLabelValues("error").Inc()
				logger.Warn("credentials reload failed; the previous credentials stay in force", "on", how, "err", err)
				return
			}
			credReloads.WithLabelValues("ok").Inc()
			logger.Info("credentials reloaded", "on", how, "credentials", creds.Len())
		}
	}
	credFile := cfg.Credentials != "" && opts.Credentials == nil
	reloadCredentials := func() {
		if credFile {
			reloaded("SIGHUP")(creds.Reload(cfg.Credentials))
		}
	}
	if credFile {
		addContextActor(ctx, &g, func(ctx context.Context) error { return creds.Watch(ctx, cfg.Credentials, reloaded("file change")) })
	}
	addContextActor(ctx, &g, func(ctx context.Context) error {
		return reloadOnHangup(ctx, svc.policy, reloadCredentials, logger)
	})
	addContextActor(ctx, &g, svc.monitor.Run)
	addContextActor(ctx, &g, svc.publisher.Run)
	if opts.HandleSignals {
		g.Add(run.SignalHandler(runCtx, os.Interrupt, syscall.SIGTERM))
	}
	err = g.Run()
	// oklog/run's SignalError matches errors.As with a zero value (its
	// documented design error), so test with errors.Is and report the text.
	if errors.Is(err, run.ErrSignal) {
		logger.Info("stopped on signal", "reason", err.Error())
		return nil
	}
	logger.Info("hub stopped")
	return err
}

// strictTransport tells browsers to use HTTPS only for the hub (HSTS), for
// a year.
func strictTransport(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		h.ServeHTTP(w, r)
	})
}

// SmallRequestBytes bounds the body of every request but a submission:
// AccessService and EvidenceService calls, reflection, health checks and
// the evidence pages' forms.
const SmallRequestBytes = 64 << 10

// limitBody refuses a body larger than SmallRequestBytes (as read, before
// any decompression).
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, SmallRequestBytes)
		h.ServeHTTP(w, r)
	})
}

// limited is limitBody for a handler mounted at path.
func limited(path string, h http.Handler) (string, http.Handler) { return path, limitBody(h) }

// parts are the hub's services, built once ClickHouse is ready.
type parts struct {
	audit     *audit.Writer
	policy    *policy.Engine
	ingest    *ingest.Service
	access    *access.Service
	monitor   *monitor.Monitor
	publisher *share.Publisher
}

// build wires the services: every policy decision is audited to ClickHouse;
// ingest asks the policy and nudges the publisher; the publisher carries the
// monitor's live state into supervisors' shares.
func build(ctx context.Context, cfg config.Config, opts Options, conn driver.Conn, reg prometheus.Registerer, logger *slog.Logger, usersFile, passwordsFile string) (parts, error) {
	db := cfg.ClickHouse.Database
	var p parts
	var err error
	p.audit = audit.New(conn, db, filepath.Join(cfg.DataDir, AuditHeadFile))
	p.policy, err = policy.New(ctx, policy.Options{Measures: measures.IDs(),
		Dir: cfg.Agreements, Auditor: p.audit, Now: opts.Now,
		Logger: logger, Registerer: reg,
	})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	p.monitor, err = monitor.New(monitor.Options{
		Source: store.New(conn, db), Thresholds: cfg.Thresholds, Interval: cfg.MonitorInterval,
		Now: opts.Now, Registerer: reg, Logger: logger,
	})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	p.publisher, err = share.New(share.Options{
		Conn: conn, Database: db, Prefix: cfg.Shares.Prefix, Policy: p.policy, Thresholds: cfg.Thresholds,
		UsersFile: usersFile, PasswordsFile: passwordsFile, Months: cfg.Shares.Months, Rebase: cfg.Shares.SPCRebase, Interval: cfg.Shares.Interval,
		Live: p.monitor.Snapshot, Now: opts.Now, Logger: logger, Registerer: reg,
	})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	valid, err := validate.New(validate.Options{Skew: cfg.ClockSkew, Now: opts.Now})
	if err != nil {
		return p, fmt.Errorf("app: %w", err)
	}
	st := store.New(conn, db)
	// Batches stored by a hub that died before logging them are logged now,
	// before any new one, so the submissions log accounts for every row.
	if n, err := st.Reconcile(ctx); err != nil {
		return p, fmt.Errorf("app: %w", err)
	} else if n > 0 {
		logger.Warn("logged batches stored before a crash but never logged", "batches", n)
	}
	p.ingest, err = ingest.New(ingest.Options{
		Store: st, Validator: valid, Policy: p.policy, Stored: p.publisher.Notify,
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

// managedServer is the managed ClickHouse in use, replaced when it is
// restarted.
type managedServer struct {
	mu  sync.Mutex
	srv *chserver.Server
}

func (m *managedServer) get() *chserver.Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.srv
}

func (m *managedServer) set(s *chserver.Server) {
	m.mu.Lock()
	m.srv = s
	m.mu.Unlock()
}

// Restart backoff of the managed ClickHouse: the first wait, doubling to the
// longest.
const (
	managedRestartFirst = time.Second
	managedRestartMax   = 30 * time.Second
)

// superviseManaged waits until ctx ends; whenever the managed server dies
// first, it starts it again on the same ports and data, with a wait that
// doubles from a second to 30 s between failed starts. changed reports it
// down, and up again. The connection pool reconnects by itself; meanwhile
// ingest answers unavailable and the health check NOT_SERVING.
func superviseManaged(ctx context.Context, cfg config.Config, m *managedServer, logger *slog.Logger, changed func(up bool)) error {
	for {
		srv := m.get()
		select {
		case <-ctx.Done():
			return nil
		case <-srv.Done():
		}
		logger.Error("managed clickhouse died; restarting it", "err", srv.Err())
		changed(false)
		wait := managedRestartFirst
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			next, err := startManagedOn(ctx, cfg, logger, srv.TCPPort(), srv.HTTPPort())
			if err == nil {
				m.set(next)
				changed(true)
				logger.Info("managed clickhouse restarted", "addr", next.Addr())
				break
			}
			logger.Warn("managed clickhouse did not restart; trying again", "err", err, "in", min(wait*2, managedRestartMax))
			wait = min(wait*2, managedRestartMax)
		}
	}
}

// startManaged starts the embedded-default ClickHouse under cfg.DataDir.
func startManaged(ctx context.Context, cfg config.Config, logger *slog.Logger) (*chserver.Server, error) {
	return startManagedOn(ctx, cfg, logger, 0, 0)
}

// startManagedOn starts the managed ClickHouse on the given ports (0: any
// free one). A restart (ports given) keeps the users.d file the publisher
// wrote, so recipients keep their logins.
func startManagedOn(ctx context.Context, cfg config.Config, logger *slog.Logger, tcpPort, httpPort int) (*chserver.Server, error) {
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "clickhouse"))
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	logger.Info("starting managed clickhouse", "data_dir", dir)
	srv, err := chserver.Start(ctx, chserver.Options{DataDir: dir, TCPPort: tcpPort, HTTPPort: httpPort, KeepUsersD: tcpPort != 0,
		Logger: logger.With("component", "chserver")})
	if err != nil {
		return nil, fmt.Errorf("app: managed clickhouse: %w (install it with `make deps`, or point --clickhouse at a server)", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, ClickHouseAddrFile), []byte(srv.Addr()+"\n"), 0o644); err != nil {
		logger.Warn("write clickhouse address file", "err", err)
	}
	return srv, nil
}

// connectClickHouse opens the pool and applies the migrations.
func connectClickHouse(ctx context.Context, cfg config.Config, addr string, logger *slog.Logger) (driver.Conn, error) {
	chOpts := chdb.Options{Addr: addr, Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password}
	admin, err := chdb.Open(ctx, chOpts)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	applied, err := chdb.Migrate(ctx, admin, cfg.ClickHouse.Database, migs, logger)
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

// Migrate applies the migrations to the configured ClickHouse and returns how
// many it applied.
func Migrate(ctx context.Context, cfg config.Config, logger *slog.Logger) (int, error) {
	if cfg.ClickHouse.Addr == "" {
		return 0, errors.New("app: migrate needs --clickhouse (the managed server is migrated when the hub starts)")
	}
	admin, err := chdb.Open(ctx, chdb.Options{Addr: cfg.ClickHouse.Addr, Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password})
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	defer admin.Close()
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	applied, err := chdb.Migrate(ctx, admin, cfg.ClickHouse.Database, migs, logger)
	return len(applied), err
}

// VerifyAudit checks the decision audit's hash chain in the raw database
// (audit.Verify): at cfg's --clickhouse, or the managed server a running hub
// named in its data directory. The chain must reach the head the hub keeps
// in the data directory (AuditHeadFile), when that file is there.
func VerifyAudit(ctx context.Context, cfg config.Config) (rows int, problems []audit.Problem, err error) {
	addr := cfg.ClickHouse.Addr
	if addr == "" {
		raw, err := os.ReadFile(filepath.Join(cfg.DataDir, ClickHouseAddrFile))
		if err != nil {
			return 0, nil, errors.New("app: audit verify needs --clickhouse, or a running hub's managed server in --data-dir")
		}
		addr = strings.TrimSpace(string(raw))
		if cfg.ClickHouse.Password == "" {
			pw, err := os.ReadFile(filepath.Join(cfg.DataDir, "clickhouse", chserver.DefaultPasswordFile))
			if err != nil {
				return 0, nil, fmt.Errorf("app: the managed ClickHouse's default password: %w", err)
			}
			cfg.ClickHouse.Username, cfg.ClickHouse.Password = "default", strings.TrimSpace(string(pw))
		}
	}
	conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password})
	if err != nil {
		return 0, nil, fmt.Errorf("app: %w", err)
	}
	defer conn.Close()
	var headSeq uint64
	var headHash string
	if seq, hash, err := audit.ReadHead(filepath.Join(cfg.DataDir, AuditHeadFile)); err == nil {
		headSeq, headHash = seq, hash
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, nil, fmt.Errorf("app: %w", err)
	}
	return audit.Verify(ctx, conn, cfg.ClickHouse.Database, headSeq, headHash)
}

// healthChecker reports the ingest service serving while ClickHouse answers.
type healthChecker struct{ conn driver.Conn }

// Check implements grpchealth.Checker.
func (h healthChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	switch req.Service {
	case "", pathwayv1connect.IngestServiceName, pathwayv1connect.AccessServiceName, pathwayv1connect.EvidenceServiceName:
	default:
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %q", req.Service))
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.conn.Ping(pctx); err != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}
