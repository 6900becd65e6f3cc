package apptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
)

// ExampleAgreements returns the directory of the example London
// agreements shipped in policy/agreements/london.
func ExampleAgreements(t testing.TB) string {
	t.Helper()
	return filepath.Join(AllExampleAgreements(t), "london")
}

// AllExampleAgreements returns policy/agreements: the London agreements
// and the national one (a national lead's comparison of regions).
func AllExampleAgreements(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("apptest: cannot locate the source tree")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "policy", "agreements")
}

// Option changes how a test hub starts.
type Option func(*settings)

type settings struct {
	cfg config.Config
	now func() time.Time
}

// WithConfig applies fn to the configuration before the hub starts.
func WithConfig(fn func(*config.Config)) Option { return func(s *settings) { fn(&s.cfg) } }

// WithClock gives the hub a clock of the test's (for receipt, validation,
// decisions and publications).
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// Start runs a hub against the ClickHouse at chAddr, in a new database whose
// name starts with "t_" and with share databases and users prefixed
// "s<same hex>_", and returns once it serves. By default it loads the example
// London agreements, keeps its files in a temporary directory, and writes
// the users.d file there (where no ClickHouse reads it). The hub logs
// warnings and errors to the test output. The database is dropped by the
// caller's own connection if it wants; Start leaves it for inspection until
// the server goes away.
func Start(t testing.TB, chAddr string, creds *auth.Credentials, opts ...Option) app.Info {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.ClickHouse.Addr = chAddr
	cfg.ClickHouse.Database = "t_" + hex.EncodeToString(b[:])
	cfg.Shares.Prefix = "s" + hex.EncodeToString(b[:]) + "_"
	cfg.DataDir = t.TempDir()
	cfg.Agreements = ExampleAgreements(t)
	cfg.ShutdownTimeout = 5 * time.Second
	set := settings{cfg: cfg}
	for _, o := range opts {
		o(&set)
	}
	cfg = set.cfg

	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	ready := make(chan app.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			Config: cfg, Credentials: creds, Registry: prometheus.NewRegistry(), Now: set.now,
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
			DropDatabases(t, chAddr, cfg.Shares.Prefix)
		})
		return info
	case err := <-done:
		cancel()
		t.Fatalf("hub did not start: %v", err)
		return app.Info{}
	}
}

// DropDatabases drops every database whose name starts with prefix, e.g. the
// share databases a test hub published. A server that is gone (a test may
// stop it on purpose) has nothing left to drop.
func DropDatabases(t testing.TB, chAddr, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := chdb.Open(ctx, chdb.Options{Addr: chAddr})
	if err != nil {
		t.Logf("drop %s*: clickhouse is gone: %v", prefix, err)
		return
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, "SELECT name FROM system.databases WHERE startsWith(name, ?)", prefix)
	if err != nil {
		t.Errorf("drop %s*: %v", prefix, err)
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		// A publication cut short by the hub's shutdown may still be
		// creating a table server-side; ClickHouse then asks to try again.
		var err error
		for range 10 {
			if err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+n); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("drop %s: %v", n, err)
		}
	}
}
