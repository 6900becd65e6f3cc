// Package apptest runs a real hub for tests: app.Run on a loopback port
// against a given ClickHouse, with a fresh database and in-memory credentials,
// stopped and cleaned up when the test ends.
package apptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/auth"
	"github.com/pathwayhub/pathwayhub/hub/config"
)

// Start runs a hub against the ClickHouse at chAddr, in a new database whose
// name starts with "t_", and returns once it serves. The hub logs warnings and
// errors to the test output. The database is dropped by the caller's own
// connection if it wants; Start leaves it for inspection until the server
// goes away.
func Start(t testing.TB, chAddr string, creds *auth.Credentials) app.Info {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ClickHouse.Addr = chAddr
	cfg.ClickHouse.Database = "t_" + hex.EncodeToString(b[:])
	cfg.ShutdownTimeout = 5 * time.Second

	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	ready := make(chan app.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			Config: cfg, Credentials: creds, Registry: prometheus.NewRegistry(),
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
			Ready:  func(i app.Info) { ready <- i },
		})
	}()
	select {
	case info := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("hub stopped with error: %v", err)
			}
		})
		return info
	case err := <-done:
		cancel()
		t.Fatalf("hub did not start: %v", err)
		return app.Info{}
	}
}
