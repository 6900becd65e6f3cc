package sqlrecord

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// EnvDir is the environment variable that turns recording on: when it names
// a directory, every connection chdb.Open returns appends its statements to
// a file there. `make test` sets it; never set it where real data flows.
const EnvDir = "PATHWAYHUB_SQL_RECORD"

// Kinds of statement in the log.
const (
	// KindExec is a statement run for its effect (DDL, INSERT … SELECT,
	// ALTER, RENAME, DROP): only whether it succeeds is compared.
	KindExec = "exec"
	// KindQuery is a statement whose rows the caller reads: Query,
	// QueryRow and Select. Its rows are compared.
	KindQuery = "query"
	// KindInsert is a batch insert: SQL holds the INSERT … (columns) head
	// and Rows the data, one VALUES tuple per row.
	KindInsert = "insert"
)

// Entry is one statement in the log.
type Entry struct {
	// Process identifies the test process that sent the statement. Each
	// process's statements are replayed on their own, in order.
	Process string `json:"process"`
	// At orders the statements of one process: the time a statement
	// started (for an insert, when its data was sent), in nanoseconds.
	At int64 `json:"at"`
	// Kind is KindExec, KindQuery or KindInsert.
	Kind string `json:"kind"`
	// Database is the connection's current database.
	Database string `json:"db"`
	// SQL is the statement as the server received it.
	SQL string `json:"sql"`
	// Rows are an insert's rows, each a parenthesised VALUES tuple.
	Rows []string `json:"rows,omitempty"`
	// External are the external tables the statement reads.
	External []External `json:"external,omitempty"`
	// Caller names the code that sent the statement: the innermost frames
	// outside this package and the driver, innermost first.
	Caller string `json:"caller"`
	// Err is the error the original server answered with; empty on
	// success.
	Err string `json:"err,omitempty"`
}

// External is a table sent with a query as ClickHouse external data.
type External struct {
	// Name is the table name the query uses.
	Name string `json:"name"`
	// Structure lists the columns, "name Type, …".
	Structure string `json:"structure"`
	// Rows are the table's rows, each a parenthesised VALUES tuple.
	Rows []string `json:"rows"`
}

// Log is a file of entries shared by every connection that writes to it.
type Log struct {
	process string
	mu      sync.Mutex
	f       *os.File
}

// Create opens a new log file in dir for this process. process names the
// process in every entry.
func Create(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlrecord: %w", err)
	}
	process := strconv.Itoa(os.Getpid())
	name := fmt.Sprintf("%s-%d.jsonl", process, time.Now().UnixNano())
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlrecord: %w", err)
	}
	return &Log{process: process, f: f}, nil
}

// Close closes the file.
func (l *Log) Close() error { return l.f.Close() }

// Open opens the log named by EnvDir for a new connection, or returns nil
// when recording is off.
func Open() (*Log, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return nil, nil
	}
	return Create(dir)
}

// write appends e as one line. Each line goes in one write, so a process
// that exits without closing loses nothing already recorded.
func (l *Log) write(e *Entry) {
	e.Process = l.process
	b, err := json.Marshal(e)
	if err != nil {
		b, _ = json.Marshal(Entry{Process: l.process, At: e.At, Kind: e.Kind, Database: e.Database, SQL: e.SQL, Caller: e.Caller, Err: "sqlrecord: " + err.Error()})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.Write(append(b, '\n'))
}

// Wrap returns conn with every statement recorded to log, which it closes
// with the connection. database is the connection's current database.
func Wrap(conn driver.Conn, log *Log, database string) driver.Conn {
	tz := time.UTC
	if v, err := conn.ServerVersion(); err == nil && v.Timezone != nil {
		tz = v.Timezone
	}
	return &recorder{Conn: conn, log: log, db: database, tz: tz}
}

// recorder is a driver.Conn that records what passes through it. Methods it
// does not override (Ping, Stats, Close, …) go straight to the connection.
type recorder struct {
	driver.Conn
	log *Log
	db  string
	tz  *time.Location
}

type externalKey struct{}

// WithExternal returns ctx carrying the external tables t for the query that
// is run with it, both for the driver and for the log. Use it instead of
// clickhouse.WithExternalTable, so that a replay can send the same data.
func WithExternal(ctx context.Context, t ...*ext.Table) context.Context {
	prev, _ := ctx.Value(externalKey{}).([]*ext.Table)
	ctx = context.WithValue(ctx, externalKey{}, append(prev[:len(prev):len(prev)], t...))
	return clickhouse.Context(ctx, clickhouse.WithExternalTable(t...))
}

func (r *recorder) entry(ctx context.Context, kind, query string, args []any) *Entry {
	e := &Entry{At: time.Now().UnixNano(), Kind: kind, Database: r.db, Caller: caller()}
	sql, err := bind(r.tz, query, args...)
	if err != nil {
		sql, e.Err = query, "bind: "+err.Error()
	}
	e.SQL = sql
	if tables, ok := ctx.Value(externalKey{}).([]*ext.Table); ok {
		for _, t := range tables {
			x := External{Name: t.Name(), Structure: t.Structure()}
			x.Rows, err = tupleRows(t.Block().Columns)
			if err != nil {
				e.Err = "sqlrecord: " + err.Error()
			}
			e.External = append(e.External, x)
		}
	}
	return e
}

func (r *recorder) done(e *Entry, err error) {
	if err != nil && e.Err == "" {
		e.Err = err.Error()
	}
	r.log.write(e)
}

// Close closes the connection and the log.
func (r *recorder) Close() error {
	err := r.Conn.Close()
	_ = r.log.Close()
	return err
}

// Exec records the statement as KindExec.
func (r *recorder) Exec(ctx context.Context, query string, args ...any) error {
	e := r.entry(ctx, KindExec, query, args)
	err := r.Conn.Exec(ctx, query, args...)
	r.done(e, err)
	return err
}

// Query records the statement as KindQuery.
func (r *recorder) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	e := r.entry(ctx, KindQuery, query, args)
	rows, err := r.Conn.Query(ctx, query, args...)
	r.done(e, err)
	return rows, err
}

// QueryRow records the statement as KindQuery.
func (r *recorder) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	e := r.entry(ctx, KindQuery, query, args)
	row := r.Conn.QueryRow(ctx, query, args...)
	r.done(e, row.Err())
	return row
}

// Select records the statement as KindQuery.
func (r *recorder) Select(ctx context.Context, dest any, query string, args ...any) error {
	e := r.entry(ctx, KindQuery, query, args)
	err := r.Conn.Select(ctx, dest, query, args...)
	r.done(e, err)
	return err
}

// PrepareBatch returns a batch whose data is recorded when it is sent.
func (r *recorder) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := r.Conn.PrepareBatch(ctx, query, opts...)
	if err != nil {
		e := r.entry(ctx, KindInsert, query, nil)
		r.done(e, err)
		return nil, err
	}
	return &batch{Batch: b, r: r, query: query}, nil
}

// batch records its rows, as the driver holds them, each time they go to
// the server.
type batch struct {
	driver.Batch
	r     *recorder
	query string
}

func (b *batch) record(send func() error) error {
	// An insert carries no external tables, so no context is needed.
	e := b.r.entry(context.Background(), KindInsert, b.query, nil)
	rows, rerr := tupleRows(b.Columns())
	e.Rows = rows
	if rerr != nil {
		e.Err = "sqlrecord: " + rerr.Error()
	}
	err := send()
	if len(e.Rows) > 0 || err != nil {
		b.r.done(e, err)
	}
	return err
}

// Send records the rows, then sends them.
func (b *batch) Send() error { return b.record(b.Batch.Send) }

// Flush records the rows so far, then sends them.
func (b *batch) Flush() error { return b.record(b.Batch.Flush) }

// tupleRows renders the rows held in cols as VALUES tuples.
func tupleRows(cols []column.Interface) ([]string, error) {
	if len(cols) == 0 {
		return nil, nil
	}
	n := cols[0].Rows()
	out := make([]string, 0, n)
	var sb strings.Builder
	for i := range n {
		sb.Reset()
		sb.WriteByte('(')
		for j, c := range cols {
			if j > 0 {
				sb.WriteString(", ")
			}
			lit, err := Literal(c.Row(i, false), string(c.Type()))
			if err != nil {
				return out, fmt.Errorf("column %s row %d: %w", c.Name(), i, err)
			}
			sb.WriteString(lit)
		}
		sb.WriteByte(')')
		out = append(out, sb.String())
	}
	return out, nil
}

// caller names the innermost frames outside this package, the driver and
// the runtime: where the statement came from.
func caller() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for len(out) < 3 {
		f, more := frames.Next()
		if !strings.Contains(f.Function, "/hub/store/chdb/sqlrecord.") &&
			!strings.Contains(f.Function, "clickhouse-go") &&
			!strings.HasPrefix(f.Function, "runtime.") {
			out = append(out, fmt.Sprintf("%s (%s:%d)", shortFunc(f.Function), shortFile(f.File), f.Line))
		}
		if !more {
			break
		}
	}
	return strings.Join(out, " < ")
}

const module = "github.com/pathwayhub/pathwayhub/"

// root is the source tree's top folder: this file is
// <root>/hub/store/chdb/sqlrecord/record.go.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return strings.TrimSuffix(file, filepath.FromSlash("hub/store/chdb/sqlrecord/record.go"))
}()

func shortFunc(fn string) string { return strings.TrimPrefix(fn, module) }

func shortFile(file string) string { return strings.TrimPrefix(file, root) }
