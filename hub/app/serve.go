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
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pathwayhub/pathwayhub/hub/api/approvals"
	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/api/returns"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/web/evidence"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// routes builds the API's handlers: authentication first, in HTTP
// middleware, so an anonymous request is refused before admission and
// before its body is read, decompressed or decoded (the interceptor checks
// again per call); every handler but ingest reads at most
// SmallRequestBytes.
func (h *Hub) routes(ctx context.Context) (*http.ServeMux, error) {
	if err := os.MkdirAll(h.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	signingKey, err := pack.LoadOrCreateKey(filepath.Join(h.cfg.DataDir, SigningKeyFile))
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	ev, err := evidence.New(evidence.Options{Conn: h.conn, Policy: h.svc.policy, Prefix: h.svc.publisher.Prefix(), Credentials: h.creds,
		SigningKey: signingKey, SecureCookies: h.cfg.BehindTLS, Logger: h.logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	authFailures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pathwayhub_auth_failures_total", Help: "API requests refused for a missing, unknown or revoked token, before their body was read.",
	})
	if err := h.reg.Register(authFailures); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	refusals := auth.NewRefusals(10*time.Second, func(n uint64) {
		h.logger.Warn("API requests refused: missing, unknown or revoked token", "refused", n)
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := h.svc.audit.Refused(actx, n, time.Now()); err != nil {
			h.logger.Warn("audit refused authentications", "err", err)
		}
	})
	authenticated := func(path string, handler http.Handler) (string, http.Handler) {
		return path, h.creds.Middleware(handler, func() { authFailures.Inc(); refusals.Add() })
	}
	authn := connect.WithInterceptors(h.creds.Interceptor())
	small := connect.WithReadMaxBytes(SmallRequestBytes)
	ret, err := returns.New(returns.Options{Conn: h.conn, Database: h.cfg.ClickHouse.Database, Policy: h.svc.policy,
		SigningKey: signingKey, Logger: h.logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	appr, err := approvals.New(store.New(h.conn, h.cfg.ClickHouse.Database), h.svc.policy, nil, h.logger, func() {
		for _, pub := range h.svc.publishers {
			pub.Notify()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(authenticated(h.svc.ingest.Handler(authn)))
	mux.Handle(authenticated(h.svc.access.Handler(authn, small)))
	mux.Handle(authenticated(ev.Handler(authn, small)))
	mux.Handle(authenticated(ret.Handler(authn, small)))
	mux.Handle(authenticated(appr.Handler(authn, small)))
	mux.Handle("/evidence/", limitBody(ev.Pages()))
	reflector := grpcreflect.NewStaticReflector(pathwayv1connect.IngestServiceName, pathwayv1connect.AccessServiceName,
		pathwayv1connect.EvidenceServiceName, pathwayv1connect.ReturnServiceName, pathwayv1connect.ApprovalServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(limited(grpcreflect.NewHandlerV1(reflector, small)))
	mux.Handle(limited(grpcreflect.NewHandlerV1Alpha(reflector, small)))
	mux.Handle(limited(grpchealth.NewHandler(healthChecker{conn: h.conn}, small)))
	return mux, nil
}

// listen opens the API's and /metrics's listeners and builds their servers,
// with timeouts: a request's body must arrive within RequestReadTimeout, a
// response (an evidence pack's PDF is the slowest) within five minutes, and
// an idle keep-alive connection is closed after a minute.
func (h *Hub) listen(ctx context.Context, mux *http.ServeMux) error {
	var lc net.ListenConfig
	var err error
	if h.metricsLn, err = lc.Listen(ctx, "tcp", h.cfg.MetricsListen); err != nil {
		return fmt.Errorf("app: listen %s: %w", h.cfg.MetricsListen, err)
	}
	h.closers = append(h.closers, func() { _ = h.metricsLn.Close() })
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{Registry: h.reg}))
	h.metrics = &http.Server{
		Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(h.logger.Handler(), slog.LevelWarn),
	}
	if h.ln, err = lc.Listen(ctx, "tcp", h.cfg.Listen); err != nil {
		return fmt.Errorf("app: listen %s: %w", h.cfg.Listen, err)
	}
	h.closers = append(h.closers, func() { _ = h.ln.Close() })
	h.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       h.cfg.RequestReadTimeout,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(h.logger.Handler(), slog.LevelWarn),
		Protocols:         new(http.Protocols),
	}
	h.server.Protocols.SetHTTP1(true)
	scheme := "http"
	if h.cfg.TLSCert != "" {
		scheme = "https"
		h.server.Protocols.SetHTTP2(true)
		h.server.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		h.server.Handler = strictTransport(mux)
	} else {
		h.server.Protocols.SetUnencryptedHTTP2(true)
		if host, _, _ := net.SplitHostPort(h.cfg.Listen); !config.Loopback(host) {
			h.logger.Warn("serving without TLS on an address other machines can reach (--insecure-plaintext): "+
				"tokens and health data cross the network in the clear unless a proxy in front terminates TLS", "listen", h.cfg.Listen)
		}
	}
	h.info.URL = scheme + "://" + h.ln.Addr().String()
	h.info.MetricsURL = "http://" + h.metricsLn.Addr().String()
	return nil
}

// addServers adds the API and /metrics servers to g; each shuts down
// gracefully within ShutdownTimeout.
func (h *Hub) addServers(ctx context.Context, g *run.Group) {
	shutdown := func(srv *http.Server) func(error) {
		return func(error) {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.ShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				h.logger.Warn("graceful shutdown incomplete", "err", err)
			}
		}
	}
	g.Add(func() error {
		h.logger.Info("hub serving", "url", h.info.URL, "clickhouse", h.info.ClickHouseAddr, "database", h.info.Database, "credentials", h.creds.Len())
		if h.opts.Ready != nil {
			h.opts.Ready(h.info)
		}
		var err error
		if h.cfg.TLSCert != "" {
			err = h.server.ServeTLS(h.ln, h.cfg.TLSCert, h.cfg.TLSKey)
		} else {
			err = h.server.Serve(h.ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}, shutdown(h.server))
	g.Add(func() error {
		if err := h.metrics.Serve(h.metricsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, shutdown(h.metrics))
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

// healthChecker reports the ingest service serving while ClickHouse answers.
type healthChecker struct{ conn driver.Conn }

// Check implements grpchealth.Checker.
func (h healthChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	switch req.Service {
	case "", pathwayv1connect.IngestServiceName, pathwayv1connect.AccessServiceName, pathwayv1connect.EvidenceServiceName,
		pathwayv1connect.ReturnServiceName, pathwayv1connect.ApprovalServiceName:
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
