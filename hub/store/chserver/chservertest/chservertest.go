package chservertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// NotFoundMessage is the failure message used when no ClickHouse server
// binary is on PATH.
const NotFoundMessage = "clickhouse-server not found on PATH: run `make deps`"

// cleanupTimeout bounds stopping a server or dropping a database in cleanup.
const cleanupTimeout = 30 * time.Second

// sharedStopTimeout bounds stopping the server a whole package shared: after
// a package of integration tests (hundreds of share databases, background
// merges) a graceful stop of ClickHouse 18.16 on two busy cores was seen to
// take over 30 s.
const sharedStopTimeout = 2 * time.Minute

// Start starts a ClickHouse server with its data in t.TempDir() and
// registers its Stop with t.Cleanup. It fails the test, never skips it, when
// no server binary is on PATH.
func Start(t testing.TB) *chserver.Server {
	t.Helper()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := chserver.Start(t.Context(), chserver.Options{NoPasswords: true, DataDir: dir, Logger: logger})
	if errors.Is(err, chserver.ErrBinaryNotFound) {
		t.Fatal(NotFoundMessage)
	}
	if err != nil {
		t.Fatalf("start clickhouse: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop clickhouse: %v", err)
		}
	})
	return srv
}

// Main runs a test package against one shared ClickHouse server. Call it
// from TestMain as os.Exit(chservertest.Main(m, &srv)): it starts a server
// in a temporary directory, stores it in *srv, runs the tests, then stops the
// server and removes the directory. It returns the exit code for os.Exit; a
// missing server binary is a failure, not a skip.
func Main(m *testing.M, srv **chserver.Server) int {
	dir, err := os.MkdirTemp("", "chservertest-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "chservertest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := chserver.Start(context.Background(), chserver.Options{NoPasswords: true, DataDir: dir, Logger: logger})
	if errors.Is(err, chserver.ErrBinaryNotFound) {
		fmt.Fprintln(os.Stderr, NotFoundMessage)
		return 1
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chservertest: start clickhouse: %v\n", err)
		return 1
	}
	*srv = s
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), sharedStopTimeout)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "chservertest: stop clickhouse: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// NewDatabase creates a uniquely named database on srv, opens a chdb
// connection to it and, on cleanup, closes the connection and drops the
// database.
func NewDatabase(t testing.TB, srv *chserver.Server) (conn driver.Conn, database string) {
	t.Helper()
	ctx := t.Context()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random database name: %v", err)
	}
	database = "test_" + hex.EncodeToString(b[:])

	admin, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatalf("open clickhouse: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if err := chdb.EnsureDatabase(ctx, admin, database); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+database); err != nil {
			t.Errorf("drop database %s: %v", database, err)
		}
	})
	conn, err = chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Database: database})
	if err != nil {
		t.Fatalf("open database %s: %v", database, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, database
}

// NewRawDatabase is NewDatabase with the hub's raw tables created in it, by
// applying the migrations of schemas/migrations.
func NewRawDatabase(t testing.TB, srv *chserver.Server) (conn driver.Conn, database string) {
	t.Helper()
	conn, database = NewDatabase(t, srv)
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		t.Fatalf("load migrations: %v", err)
	}
	if _, err := chdb.Migrate(t.Context(), conn, database, migs, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate %s: %v", database, err)
	}
	return conn, database
}
