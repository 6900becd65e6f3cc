package sqlrecord_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb/sqlrecord"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

// Every kind of statement is logged as the server received it, with its
// data and the code that sent it.
func TestRecorder(t *testing.T) {
	srv := chservertest.Start(t)
	raw, db := chservertest.NewDatabase(t, srv)
	dir := t.TempDir()
	log, err := sqlrecord.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	conn := sqlrecord.Wrap(raw, log, db)
	ctx := t.Context()

	if err := conn.Exec(ctx, "CREATE TABLE "+db+".t (s String, n Nullable(UInt32), at DateTime, day Date, tags Array(String), x Float64) ENGINE = MergeTree ORDER BY s"); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".t (s, n, at, day, tags, x)")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	if err := b.Append("it's", nil, at, at, []string{"a", `b\c`}, 0.1); err != nil {
		t.Fatal(err)
	}
	if err := b.Append("two", uint32(7), at.Add(time.Hour), at, []string{}, 2.0/7); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".t WHERE s = ? AND at >= ?", "it's", at).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	refs, err := ext.NewTable("refs", ext.Column("ref", "String"))
	if err != nil {
		t.Fatal(err)
	}
	if err := refs.Append("two"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(sqlrecord.WithExternal(ctx, refs), "SELECT s FROM "+db+".t WHERE s IN refs")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := conn.Exec(ctx, "SELECT * FROM no_such_table"); err == nil {
		t.Fatal("a bad statement ran")
	}
	_ = conn.Close()

	got, err := sqlrecord.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d processes, want 1", len(got))
	}
	var es []sqlrecord.Entry
	for _, v := range got {
		es = v
	}
	want := []struct {
		kind, sql, err string
		rows           []string
		external       []string
	}{
		{kind: "exec", sql: "CREATE TABLE " + db + ".t"},
		{kind: "insert", sql: "INSERT INTO " + db + ".t (s, n, at, day, tags, x)", rows: []string{
			`('it\'s', NULL, '2026-03-01 09:30:00', '2026-03-01', ['a', 'b\\c'], 0.1)`,
			`('two', 7, '2026-03-01 10:30:00', '2026-03-01', [], 0.2857142857142857)`,
		}},
		{kind: "query", sql: "SELECT count() FROM " + db + ".t WHERE s = 'it\\'s' AND at >= toDateTime('2026-03-01 09:30:00'"},
		{kind: "query", sql: "SELECT s FROM " + db + ".t WHERE s IN refs", external: []string{"('two')"}},
		{kind: "exec", sql: "SELECT * FROM no_such_table", err: "no_such_table"},
	}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.Kind != w.kind || !strings.HasPrefix(e.SQL, w.sql) || e.Database != db {
			t.Errorf("entry %d = %s %q in %s, want %s %q", i, e.Kind, e.SQL, e.Database, w.kind, w.sql)
		}
		if strings.Join(e.Rows, "\n") != strings.Join(w.rows, "\n") {
			t.Errorf("entry %d rows = %q, want %q", i, e.Rows, w.rows)
		}
		if w.external != nil && (len(e.External) != 1 || e.External[0].Name != "refs" || e.External[0].Structure != "ref String" ||
			strings.Join(e.External[0].Rows, ",") != strings.Join(w.external, ",")) {
			t.Errorf("entry %d external = %+v, want refs %q", i, e.External, w.external)
		}
		if (w.err == "") != (e.Err == "") || !strings.Contains(e.Err, w.err) {
			t.Errorf("entry %d err = %q, want %q", i, e.Err, w.err)
		}
		if !strings.Contains(e.Caller, "hub/store/chdb/sqlrecord/record_test.go:") {
			t.Errorf("entry %d caller = %q, want this test", i, e.Caller)
		}
	}
}

// The log binds arguments with the driver's own function: what it holds is
// what the driver sends.
func TestBindIsTheDriversBinding(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	got, err := sqlrecord.Bind(time.UTC, "SELECT ?, ?, ?, ?, ? FROM t WHERE x IN ?",
		"it's", 42, at, []string{"a", "b"}, 0.5, clickhouse.GroupSet{Value: []any{"p", "q"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT 'it\\'s', 42, toDateTime('2026-03-01 09:30:00'), ['a', 'b'], cast(0.5, 'Float64') FROM t WHERE x IN ('p', 'q')"
	if got != want {
		t.Errorf("bind = %q\nwant   %q", got, want)
	}
}
