package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
)

// startManaged starts the managed ClickHouse, registers its gauges and has
// close stop it. The hub connects as its own user; the default user's
// password is in the server's directory (mode 0600), for operators.
func (h *Hub) startManaged(ctx context.Context) (*chserver.Server, error) {
	srv, err := startManagedOn(ctx, h.cfg, h.logger, 0, 0)
	if err != nil {
		return nil, err
	}
	h.managed = &managedServer{srv: srv}
	h.closers = append(h.closers, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.ShutdownTimeout)
		defer cancel()
		if err := h.managed.get().Stop(sctx); err != nil {
			h.logger.Warn("stop managed clickhouse", "err", err)
		}
		_ = os.Remove(filepath.Join(h.cfg.DataDir, ClickHouseAddrFile))
	})
	h.cfg.ClickHouse.Username, h.cfg.ClickHouse.Password = srv.HubCredentials()
	h.chUp = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pathwayhub_clickhouse_up", Help: "1 while the managed ClickHouse runs, 0 while it is being restarted."})
	h.chRestarts = prometheus.NewCounter(prometheus.CounterOpts{Name: "pathwayhub_clickhouse_restarts_total", Help: "Restarts of the managed ClickHouse after it died."})
	for _, c := range []prometheus.Collector{h.chUp, h.chRestarts} {
		if err := h.reg.Register(c); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	h.chUp.Set(1)
	return srv, nil
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
