// Package app is the hub's lifecycle: it connects to (or starts) ClickHouse,
// applies the migrations, builds the ingest service, and serves the Connect
// API, gRPC reflection, health checks and /metrics on one HTTP server. Every
// long-running part is an actor in one run group; the first to stop stops the
// rest, and shutdown is graceful within a bound.
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
	"path/filepath"
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

	"github.com/pathwayhub/pathwayhub/hub/auth"
	"github.com/pathwayhub/pathwayhub/hub/chdb"
	"github.com/pathwayhub/pathwayhub/hub/chserver"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/ingest"
	"github.com/pathwayhub/pathwayhub/ingest/store"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// ClickHouseAddrFile is the file, under the data directory, where a hub with a
// managed ClickHouse writes the server's native address, so operator tools
// (`pathwayctl stats`) can find it.
const ClickHouseAddrFile = "clickhouse.addr"

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
	// ClickHouseAddr is the native address of the ClickHouse in use.
	ClickHouseAddr string
	// Database is the raw database.
	Database string
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

	var g run.Group
	chAddr := cfg.ClickHouse.Addr
	if chAddr == "" {
		srv, err := startManaged(ctx, cfg, logger)
		if err != nil {
			return err
		}
		chAddr = srv.Addr()
		// The managed server is the last thing to stop: its actor waits for
		// the context the other actors' shutdown cancels.
		stopCtx, stopManaged := context.WithCancel(context.WithoutCancel(ctx))
		g.Add(func() error {
			select {
			case <-srv.Done():
				return fmt.Errorf("app: managed clickhouse exited: %w", srv.Err())
			case <-stopCtx.Done():
				return nil
			}
		}, func(error) { stopManaged() })
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
			defer cancel()
			if err := srv.Stop(sctx); err != nil {
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

	valid, err := validate.New(validate.Options{Skew: cfg.ClockSkew, Now: opts.Now})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	svc, err := ingest.New(ingest.Options{
		Store: store.New(conn, cfg.ClickHouse.Database), Validator: valid,
		Logger: logger, Registerer: reg, Now: opts.Now,
	})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle(svc.Handler(connect.WithInterceptors(creds.Interceptor())))
	reflector := grpcreflect.NewStaticReflector(pathwayv1connect.IngestServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle(grpchealth.NewHandler(healthChecker{conn: conn}))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("app: listen %s: %w", cfg.Listen, err)
	}
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		Protocols:         new(http.Protocols),
	}
	server.Protocols.SetHTTP1(true)
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
		server.Protocols.SetHTTP2(true)
		server.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		server.Protocols.SetUnencryptedHTTP2(true)
	}
	info := Info{URL: scheme + "://" + ln.Addr().String(), ClickHouseAddr: chAddr, Database: cfg.ClickHouse.Database}

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
	runCtx, cancel := context.WithCancel(ctx)
	g.Add(func() error {
		<-runCtx.Done()
		return nil
	}, func(error) { cancel() })
	if opts.HandleSignals {
		g.Add(run.SignalHandler(runCtx, os.Interrupt, syscall.SIGTERM))
	}
	err = g.Run()
	var sig run.SignalError
	if errors.As(err, &sig) {
		logger.Info("stopping on signal", "signal", sig.Signal.String())
		return nil
	}
	logger.Info("hub stopped")
	return err
}

// startManaged starts the embedded-default ClickHouse under cfg.DataDir.
func startManaged(ctx context.Context, cfg config.Config, logger *slog.Logger) (*chserver.Server, error) {
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "clickhouse"))
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	logger.Info("starting managed clickhouse", "data_dir", dir)
	srv, err := chserver.Start(ctx, chserver.Options{DataDir: dir, Logger: logger.With("component", "chserver")})
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

// healthChecker reports the ingest service serving while ClickHouse answers.
type healthChecker struct{ conn driver.Conn }

// Check implements grpchealth.Checker.
func (h healthChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	switch req.Service {
	case "", pathwayv1connect.IngestServiceName:
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
