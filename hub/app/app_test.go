package app_test

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/auth"
	"github.com/pathwayhub/pathwayhub/hub/chserver"
	"github.com/pathwayhub/pathwayhub/hub/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/hub/config"
)

var srv *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &srv)) }

// TestSIGTERMStopsTheHubCleanly sends the process a real SIGTERM, as an
// orchestrator does, and expects Run to return nil: no error, no panic.
func TestSIGTERMStopsTheHubCleanly(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.ClickHouse.Addr = srv.Addr()
	cfg.ClickHouse.Database = "t_sigterm"
	cfg.Shares.Prefix = "s_sigterm_"
	cfg.DataDir = t.TempDir()
	cfg.Agreements = apptest.ExampleAgreements(t)
	cfg.ShutdownTimeout = 5 * time.Second

	// Our own subscription keeps the signal from killing the test process
	// before the hub's handler is listening.
	mine := make(chan os.Signal, 8)
	signal.Notify(mine, syscall.SIGTERM)
	defer signal.Stop(mine)

	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- app.Run(t.Context(), app.Options{
			Config: cfg, Credentials: &auth.Credentials{}, Registry: prometheus.NewRegistry(), HandleSignals: true,
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
			Ready:  func(app.Info) { close(ready) },
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("hub did not start: %v", err)
	}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run after SIGTERM: %v", err)
			}
			return
		case <-tick.C: // the hub's handler may not have been listening yet
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		case <-deadline:
			t.Fatal("the hub did not stop on SIGTERM")
		}
	}
}
