package replay_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb/replay"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb/sqlrecord"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
)

// The two engines every test here replays on: a real ClickHouse 18.16
// server and chDB. chDB allows one session per process.
var (
	old     *replay.HTTPServer
	current *replay.Embedded
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if os.Getenv("CHDB_LIB_PATH") == "" {
		fmt.Fprintln(os.Stderr, "replay: CHDB_LIB_PATH is not set: run the tests with `make test`, which installs chDB")
		return 1
	}
	dir, err := os.MkdirTemp("", "replay-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	srv, err := chserver.Start(ctx, chserver.Options{NoPasswords: true, DataDir: dir + "/ch", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay: start clickhouse:", err)
		return 1
	}
	defer func() { _ = srv.Stop(ctx) }()
	if current, err = replay.OpenEmbedded(dir + "/chdb"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer current.Close()
	old = replay.NewHTTPServer("ClickHouse 18.16", srv.HTTPPort())
	return m.Run()
}

// entries builds one process's log from statements; each is kind:sql.
func entries(stmts ...sqlrecord.Entry) map[string][]sqlrecord.Entry {
	for i := range stmts {
		stmts[i].At = int64(i)
		stmts[i].Caller = fmt.Sprintf("statement %d", i)
	}
	return map[string][]sqlrecord.Entry{"1": stmts}
}

func exec(db, sql string) sqlrecord.Entry {
	return sqlrecord.Entry{Kind: sqlrecord.KindExec, Database: db, SQL: sql}
}

func query(db, sql string) sqlrecord.Entry {
	return sqlrecord.Entry{Kind: sqlrecord.KindQuery, Database: db, SQL: sql}
}

// setup makes database d with table t holding three incidents and two
// health updates, inserted as batch inserts with their rows.
func setup() []sqlrecord.Entry {
	return []sqlrecord.Entry{
		exec("", "CREATE DATABASE d"),
		exec("d", "CREATE TABLE d.t (force_id String, incident_ref String, detained DateTime, rate Float64) ENGINE = MergeTree ORDER BY (force_id, incident_ref)"),
		exec("d", "CREATE TABLE d.h (force_id String, incident_ref String, handover Nullable(DateTime)) ENGINE = MergeTree ORDER BY (force_id, incident_ref)"),
		{Kind: sqlrecord.KindInsert, Database: "d", SQL: "INSERT INTO d.t (force_id, incident_ref, detained, rate)", Rows: []string{
			"('btp', 'a', '2026-01-01 10:00:00', 0.1)", "('btp', 'b', '2026-01-02 11:00:00', 2.857142857142857)", "('met', 'c', '2026-02-01 00:00:00', 0)",
		}},
		{Kind: sqlrecord.KindInsert, Database: "d", SQL: "INSERT INTO d.h (force_id, incident_ref, handover)", Rows: []string{
			"('btp', 'a', '2026-01-01 11:00:00')", "('met', 'c', NULL)",
		}},
	}
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name     string
		stmts    []sqlrecord.Entry
		findings []string // what each finding says, in order
		compared int
	}{
		{
			name: "the same rows on both engines",
			stmts: []sqlrecord.Entry{
				query("d", "SELECT force_id, count(), sum(rate) FROM d.t GROUP BY force_id"),
				query("d", "SELECT incident_ref, handover FROM (SELECT force_id, incident_ref FROM d.t) AS i ANY LEFT JOIN (SELECT force_id, incident_ref, handover FROM d.h) AS h USING (force_id, incident_ref) ORDER BY incident_ref"),
				query("d", "SELECT rate / 7 FROM t ORDER BY rate"),
				{Kind: sqlrecord.KindQuery, Database: "d", SQL: "SELECT force_id, incident_ref FROM d.t WHERE incident_ref IN refs ORDER BY incident_ref",
					External: []sqlrecord.External{{Name: "refs", Structure: "ref String", Rows: []string{"('a')", "('c')"}}}},
			},
			compared: 4,
		},
		{
			name: "a joined subquery without an alias",
			stmts: []sqlrecord.Entry{
				query("d", "SELECT incident_ref, handover FROM (SELECT force_id, incident_ref FROM d.t) ANY LEFT JOIN (SELECT force_id, incident_ref, handover FROM d.h) USING (force_id, incident_ref)"),
			},
			findings: []string{"fails on chDB"},
		},
		{
			name: "a float printed as text",
			stmts: []sqlrecord.Entry{
				query("d", "SELECT concat(incident_ref, ':', toString(rate)) FROM d.t ORDER BY incident_ref"),
			},
			findings: []string{"rows differ"},
			compared: 1,
		},
		{
			name: "a mutation is waited for, as its sender did",
			stmts: []sqlrecord.Entry{
				exec("d", "ALTER TABLE d.t DELETE WHERE incident_ref = 'a'"),
				query("d", "SELECT count() FROM d.t"),
			},
			compared: 1,
		},
		{
			name: "replay order: a partition replaced from a table empty in the replay",
			stmts: []sqlrecord.Entry{
				exec("d", "CREATE TABLE d.s AS d.t"),
				exec("d", "ALTER TABLE d.t REPLACE PARTITION tuple() FROM d.s"),
			},
			findings: []string{},
		},
		{
			name: "facts about the engine run but are not compared",
			stmts: []sqlrecord.Entry{
				query("", "SELECT version()"),
				query("", "SELECT no_such_function()"),
			},
			findings: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := replay.Run(entries(append(setup(), tt.stmts...)...), old, current, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.BothFailed) > 0 && !strings.Contains(tt.name, "facts") && !strings.Contains(tt.name, "replay order") {
				t.Errorf("failed on both engines: %+v", rep.BothFailed)
			}
			if rep.Rows != 5 {
				t.Errorf("Rows = %d, want the 5 inserted", rep.Rows)
			}
			if rep.Compared != tt.compared {
				t.Errorf("Compared = %d, want %d", rep.Compared, tt.compared)
			}
			if len(rep.Findings) != len(tt.findings) {
				t.Fatalf("findings = %+v, want %d", rep.Findings, len(tt.findings))
			}
			for i, f := range rep.Findings {
				if !strings.Contains(f.What, tt.findings[i]) || f.Entry.Caller == "" {
					t.Errorf("finding %d = %q (sent by %q), want one saying %q", i, f.What, f.Entry.Caller, tt.findings[i])
				}
			}
		})
	}
}

func TestCompare(t *testing.T) {
	header := "a\tx\nString\tFloat64\n"
	tests := []struct {
		name    string
		a, b    string
		ordered bool
		want    string // "" or a part of the difference
	}{
		{"same", header + "p\t1.5\n", header + "p\t1.5\n", true, ""},
		{"float column to 1e-9", header + "p\t2.8571428571428568\n", header + "p\t2.857142857142857\n", true, ""},
		{"float column beyond 1e-9", header + "p\t2.8571\n", header + "p\t2.8572\n", true, "row 1"},
		{"float text in a string column", "s\nString\n2.8571428571428568\n", "s\nString\n2.857142857142857\n", true, "row 1"},
		{"floats in an array", "a\nArray(Float64)\n[0.1,0.30000000000000004]\n", "a\nArray(Float64)\n[0.1,0.3]\n", true, ""},
		{"rows in another order, unordered", header + "p\t1\nq\t2\n", header + "q\t2\np\t1\n", false, ""},
		{"rows in another order, ordered", header + "p\t1\nq\t2\n", header + "q\t2\np\t1\n", true, "row 1"},
		{"a row more", header + "p\t1\n", header + "p\t1\nq\t2\n", false, "1 rows against 2"},
		{"other types", "a\nUInt32\n1\n", "a\nUInt64\n1\n", false, "column types"},
		{"no result set", "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := replay.Compare(tt.a, tt.b, tt.ordered)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Compare = %q, want %q", got, tt.want)
			}
		})
	}
}
