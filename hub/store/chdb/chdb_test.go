package chdb_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

// srv is the ClickHouse server shared by every test in this package.
var srv *chserver.Server

func TestMain(m *testing.M) {
	os.Exit(chservertest.Main(m, &srv))
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		wantErr   string
		wantNames []string
		wantStmts [][]string
	}{
		{
			name: "ordered by version, comments dropped, statements split",
			fsys: fstest.MapFS{
				"0002_second.sql": file("-- second\nCREATE TABLE ${db}.b (x UInt8)\n  ENGINE = Memory;\nINSERT INTO ${db}.b (x) SELECT 1;\n"),
				"0001_first.sql":  file("CREATE TABLE ${db}.a (x UInt8) ENGINE = Memory;"),
				"0010_tenth.sql":  file("SELECT 10"),
				"README.md":       file("not a migration"),
				"0003_three.sql":  file("SELECT 3;"),
				"0004_four.sql":   file("SELECT 4;"),
				"0005_five.sql":   file("SELECT 5;"),
				"0006_six.sql":    file("SELECT 6;"),
				"0007_seven.sql":  file("SELECT 7;"),
				"0008_eight.sql":  file("SELECT 8;"),
				"0009_nine.sql":   file("SELECT 9;"),
			},
			wantNames: []string{"first", "second", "three", "four", "five", "six", "seven", "eight", "nine", "tenth"},
			wantStmts: [][]string{
				{"CREATE TABLE ${db}.a (x UInt8) ENGINE = Memory"},
				{"CREATE TABLE ${db}.b (x UInt8)\n  ENGINE = Memory", "INSERT INTO ${db}.b (x) SELECT 1"},
			},
		},
		{
			name:    "duplicate version",
			fsys:    fstest.MapFS{"0001_a.sql": file("SELECT 1;"), "001_b.sql": file("SELECT 1;")},
			wantErr: "duplicate version 1",
		},
		{
			name:    "gap",
			fsys:    fstest.MapFS{"0001_a.sql": file("SELECT 1;"), "0003_c.sql": file("SELECT 1;")},
			wantErr: "expected version 2, found 3",
		},
		{
			name:    "does not start at 1",
			fsys:    fstest.MapFS{"0002_b.sql": file("SELECT 1;")},
			wantErr: "expected version 1, found 2",
		},
		{
			name:    "version zero",
			fsys:    fstest.MapFS{"0000_zero.sql": file("SELECT 1;")},
			wantErr: "bad version",
		},
		{
			name:    "bad name",
			fsys:    fstest.MapFS{"first.sql": file("SELECT 1;")},
			wantErr: "not named NNNN_name.sql",
		},
		{
			name:    "only comments",
			fsys:    fstest.MapFS{"0001_empty.sql": file("-- nothing\n\n")},
			wantErr: "no statements",
		},
		{
			name:      "empty directory",
			fsys:      fstest.MapFS{},
			wantNames: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migs, err := chdb.LoadMigrations(tt.fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, m := range migs {
				names = append(names, m.Name)
				if m.Version != i+1 {
					t.Errorf("migs[%d].Version = %d", i, m.Version)
				}
				if len(m.Checksum) != 64 {
					t.Errorf("migs[%d].Checksum = %q", i, m.Checksum)
				}
				if i < len(tt.wantStmts) && !reflect.DeepEqual(m.Statements, tt.wantStmts[i]) {
					t.Errorf("migs[%d].Statements = %q, want %q", i, m.Statements, tt.wantStmts[i])
				}
			}
			if !reflect.DeepEqual(names, tt.wantNames) {
				t.Errorf("names = %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestLoadMigrationsChecksumTracksContent(t *testing.T) {
	a, err := chdb.LoadMigrations(fstest.MapFS{"0001_a.sql": file("SELECT 1;")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := chdb.LoadMigrations(fstest.MapFS{"0001_a.sql": file("SELECT 2;")})
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Checksum == b[0].Checksum {
		t.Fatal("different contents have the same checksum")
	}
}

var schemaV1 = fstest.MapFS{
	"0001_incidents.sql": file(`-- Police incidents.
CREATE TABLE ${db}.incidents (
    id String,
    occurred_at DateTime,
    agency String
) ENGINE = MergeTree
ORDER BY (agency, occurred_at, id);
`),
	"0002_seed.sql": file("INSERT INTO ${db}.incidents (id, occurred_at, agency)\nSELECT toString(number), toDateTime('2024-01-01 00:00:00'), 'pd' FROM system.numbers LIMIT 3;\n"),
}

func versions(migs []chdb.Migration) []int {
	var v []int
	for _, m := range migs {
		v = append(v, m.Version)
	}
	return v
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	conn, db := chservertest.NewDatabase(t, srv)
	migs, err := chdb.LoadMigrations(schemaV1)
	if err != nil {
		t.Fatal(err)
	}

	applied, err := chdb.Migrate(ctx, conn, db, migs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(applied); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Fatalf("first run applied %v, want [1 2]", got)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".incidents").Scan(&n); err != nil || n != 3 {
		t.Fatalf("incidents count = %d, %v; want 3", n, err)
	}

	applied, err = chdb.Migrate(ctx, conn, db, migs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second run applied %v, want nothing", versions(applied))
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".incidents").Scan(&n); err != nil || n != 3 {
		t.Fatalf("incidents count after second run = %d, %v; want 3", n, err)
	}

	// A new migration is applied on its own.
	v2 := fstest.MapFS{"0003_more.sql": file("ALTER TABLE ${db}.incidents ADD COLUMN city String;")}
	for k, v := range schemaV1 {
		v2[k] = v
	}
	migs2, err := chdb.LoadMigrations(v2)
	if err != nil {
		t.Fatal(err)
	}
	applied, err = chdb.Migrate(ctx, conn, db, migs2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(applied); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("third run applied %v, want [3]", got)
	}
	var recorded uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".schema_migrations").Scan(&recorded); err != nil || recorded != 3 {
		t.Fatalf("schema_migrations rows = %d, %v; want 3", recorded, err)
	}
}

func TestMigrateRefuses(t *testing.T) {
	tests := []struct {
		name    string
		later   fstest.MapFS
		wantErr string
	}{
		{
			name: "checksum mismatch",
			later: fstest.MapFS{
				"0001_incidents.sql": schemaV1["0001_incidents.sql"],
				"0002_seed.sql":      file("SELECT 'edited';"),
			},
			wantErr: "migration 2 (seed) was changed",
		},
		{
			name:    "unknown recorded version",
			later:   fstest.MapFS{"0001_incidents.sql": schemaV1["0001_incidents.sql"]},
			wantErr: "records migration 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			conn, db := chservertest.NewDatabase(t, srv)
			migs, err := chdb.LoadMigrations(schemaV1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := chdb.Migrate(ctx, conn, db, migs, nil); err != nil {
				t.Fatal(err)
			}
			later, err := chdb.LoadMigrations(tt.later)
			if err != nil {
				t.Fatal(err)
			}
			applied, err := chdb.Migrate(ctx, conn, db, later, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if len(applied) != 0 {
				t.Fatalf("applied %v despite the error", versions(applied))
			}
		})
	}
}

func TestMigrateStatementError(t *testing.T) {
	ctx := t.Context()
	conn, db := chservertest.NewDatabase(t, srv)
	migs, err := chdb.LoadMigrations(fstest.MapFS{
		"0001_ok.sql":  file("CREATE TABLE ${db}.t (x UInt8) ENGINE = Memory;"),
		"0002_bad.sql": file("CREATE TABLE ${db}.t2 (x NoSuchType) ENGINE = Memory;"),
	})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := chdb.Migrate(ctx, conn, db, migs, nil)
	if err == nil || !strings.Contains(err.Error(), "migration 2 (bad) statement 1") {
		t.Fatalf("err = %v", err)
	}
	if got := versions(applied); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("applied %v, want [1]", got)
	}
	var recorded []uint32
	rows, err := conn.Query(ctx, "SELECT version FROM "+db+".schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, v)
	}
	if !reflect.DeepEqual(recorded, []uint32{1}) {
		t.Fatalf("recorded %v, want [1]", recorded)
	}
}

func TestEnsureDatabase(t *testing.T) {
	ctx := t.Context()
	conn, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, name := range []string{"Bad", "1db", "a-b", "x; DROP DATABASE default", ""} {
		if err := chdb.EnsureDatabase(ctx, conn, name); err == nil {
			t.Errorf("EnsureDatabase(%q) succeeded", name)
		}
	}
	name := "ensure_db_test"
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name) })
	for range 2 {
		if err := chdb.EnsureDatabase(ctx, conn, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Database: name}); err != nil {
		t.Fatalf("open created database: %v", err)
	}
	if _, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Database: "no_such_db"}); err == nil {
		t.Fatal("Open of a missing database succeeded")
	}
}
