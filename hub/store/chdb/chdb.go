package chdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb/sqlrecord"
)

// Default values applied by Open for zero fields of Options.
const (
	DefaultDatabase    = "default"
	DefaultUsername    = "default"
	DefaultDialTimeout = 5 * time.Second
	DefaultReadTimeout = 60 * time.Second
)

// Options configures a connection pool opened by Open.
type Options struct {
	// Addr is the native protocol address, "host:port". It is required.
	Addr string
	// Failover lists more servers of the same cluster ("host:port"): a
	// connection goes to the first of Addr and these that answers.
	Failover []string
	// Settings are ClickHouse settings sent with every query (a cluster's
	// hub sets insert_distributed_sync, say).
	Settings map[string]any
	// Lazy skips the check that the server answers: the connection is
	// made when first used (a cluster's server that is down at start).
	Lazy bool
	// Cluster marks a connection to a cluster's server, whose statements
	// (ON CLUSTER, replicated engines) the tests do not record for the
	// replay on chDB, which has no cluster.
	Cluster bool
	// Database is the database the connections use; it must exist.
	// Empty means "default". Use EnsureDatabase through a connection to
	// "default" to create it first.
	Database string
	// Username is the ClickHouse user; empty means "default".
	Username string
	// Password is the user's password; it may be empty.
	Password string
	// DialTimeout bounds establishing a connection; zero means 5s.
	DialTimeout time.Duration
	// ReadTimeout bounds each read from the server; zero means 60s.
	ReadTimeout time.Duration
	// MaxOpenConns caps the pool size; zero keeps the driver's default.
	MaxOpenConns int
	// Logger, when non-nil, receives the driver's log records. Against
	// servers older than the driver's minimum it logs an "unsupported
	// clickhouse version" warning, which is expected and harmless.
	Logger *slog.Logger
}

// Open opens a native-protocol connection pool to ClickHouse, applies the
// defaults documented on Options and checks the server with Ping. The
// returned connection must be closed by the caller.
func Open(ctx context.Context, opts Options) (driver.Conn, error) {
	if opts.Addr == "" {
		return nil, errors.New("chdb: open: empty address")
	}
	if opts.Database == "" {
		opts.Database = DefaultDatabase
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	co := &clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     append([]string{opts.Addr}, opts.Failover...),
		Settings: opts.Settings,
		Auth: clickhouse.Auth{
			Database: opts.Database,
			Username: opts.Username,
			Password: opts.Password,
		},
		DialTimeout:  opts.DialTimeout,
		ReadTimeout:  opts.ReadTimeout,
		MaxOpenConns: opts.MaxOpenConns,
		Logger:       opts.Logger,
	}
	if opts.MaxOpenConns > 0 && opts.MaxOpenConns < 5 {
		co.MaxIdleConns = opts.MaxOpenConns
	}
	conn, err := clickhouse.Open(co)
	if err != nil {
		return nil, fmt.Errorf("chdb: open %s: %w", opts.Addr, err)
	}
	if !opts.Lazy {
		if err := conn.Ping(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("chdb: ping %s: %w", opts.Addr, err)
		}
	}
	if opts.Cluster {
		return conn, nil
	}
	// The tests record every statement for the replay on a current release
	// (sqlrecord.EnvDir); outside them this is off.
	log, err := sqlrecord.Open()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("chdb: open %s: %w", opts.Addr, err)
	}
	if log != nil {
		return sqlrecord.Wrap(conn, log, opts.Database), nil
	}
	return conn, nil
}

// EnsureDatabase creates the database name if it does not exist. The name
// must match ^[a-z_][a-z0-9_]*$.
func EnsureDatabase(ctx context.Context, conn driver.Conn, name string) error {
	if !sqltext.ValidIdent(name) {
		return fmt.Errorf("chdb: ensure database: invalid name %q", name)
	}
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
		return fmt.Errorf("chdb: create database %s: %w", name, err)
	}
	return nil
}

// WithExternal returns ctx carrying the tables t as ClickHouse external data
// for the query run with it. Use it rather than clickhouse.WithExternalTable,
// so that the tests' statement log holds the data too.
func WithExternal(ctx context.Context, t ...*ext.Table) context.Context {
	return sqlrecord.WithExternal(ctx, t...)
}
