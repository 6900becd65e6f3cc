package chdb

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// DatabasePlaceholder is replaced in migration statements by the target
// database name when Migrate applies them.
const DatabasePlaceholder = "${db}"

// Migration is one versioned schema change loaded from a file named
// NNNN_name.sql.
type Migration struct {
	// Version is the file's numeric prefix; versions start at 1 and have
	// no gaps.
	Version int
	// Name is the part of the file name between the prefix and ".sql".
	Name string
	// Statements are the file's SQL statements without their trailing
	// semicolons, still containing DatabasePlaceholder.
	Statements []string
	// Checksum is the hex SHA-256 of the file's contents.
	Checksum string
}

var migrationFileRE = regexp.MustCompile(`^([0-9]+)_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads every *.sql file in the root of fsys and returns the
// migrations ordered by version. Files must be named NNNN_name.sql; versions
// must start at 1 and be consecutive, so duplicates and gaps are errors. A
// file holds one or more statements, each ended by a line whose last
// non-blank character is ";". Lines starting with "--" are dropped. Files
// that do not end in ".sql" are ignored.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("chdb: load migrations: %w", err)
	}
	byVersion := make(map[int]string)
	var migs []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("chdb: load migrations: file %q is not named NNNN_name.sql", e.Name())
		}
		version, err := strconv.Atoi(m[1])
		if err != nil || version < 1 {
			return nil, fmt.Errorf("chdb: load migrations: file %q: bad version", e.Name())
		}
		if prev, ok := byVersion[version]; ok {
			return nil, fmt.Errorf("chdb: load migrations: duplicate version %d in %q and %q", version, prev, e.Name())
		}
		byVersion[version] = e.Name()
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("chdb: load migrations: %w", err)
		}
		stmts, err := splitStatements(string(data))
		if err != nil {
			return nil, fmt.Errorf("chdb: load migrations: file %q: %w", e.Name(), err)
		}
		sum := sha256.Sum256(data)
		migs = append(migs, Migration{
			Version:    version,
			Name:       m[2],
			Statements: stmts,
			Checksum:   hex.EncodeToString(sum[:]),
		})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	for i, m := range migs {
		if m.Version != i+1 {
			return nil, fmt.Errorf("chdb: load migrations: gap: expected version %d, found %d", i+1, m.Version)
		}
	}
	return migs, nil
}

// splitStatements splits a migration file into statements.
func splitStatements(src string) ([]string, error) {
	var (
		stmts []string
		cur   []string
	)
	flush := func() {
		s := strings.TrimSpace(strings.Join(cur, "\n"))
		cur = cur[:0]
		if s != "" {
			stmts = append(stmts, s)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		if strings.HasSuffix(line, ";") {
			cur = append(cur, strings.TrimSuffix(line, ";"))
			flush()
			continue
		}
		cur = append(cur, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("split statements: %w", err)
	}
	flush()
	if len(stmts) == 0 {
		return nil, fmt.Errorf("no statements")
	}
	return stmts, nil
}

// Migrate brings database up to date with migs, which must be ordered by
// version as LoadMigrations returns them. It creates the database and its
// schema_migrations table if needed, refuses to run when a recorded
// migration's checksum differs from the given one or when the database
// records a version unknown to migs, then applies every unrecorded migration
// in order, recording each after all its statements succeed. It returns the
// migrations it applied; a second run applies nothing. Migrate does not guard
// against concurrent runs on the same database.
func Migrate(ctx context.Context, conn driver.Conn, database string, migs []Migration, logger *slog.Logger) (applied []Migration, err error) {
	return migrate(ctx, conn, database, "", migs, logger)
}

// MigrateOnCluster is Migrate for a ClickHouse cluster named cluster, run
// through any one of its servers: the database is created ON CLUSTER, each
// statement is rewritten by OnCluster (replicated local tables with
// Distributed tables over them), and the migrations applied are recorded
// in a schema_migrations table replicated to every server of every shard,
// so that running it again through any server applies nothing. A column a
// migration adds that is already there (a run that failed half way) is not
// added again.
func MigrateOnCluster(ctx context.Context, conn driver.Conn, database, cluster string, migs []Migration, logger *slog.Logger) (applied []Migration, err error) {
	if !sqltext.ValidIdent(cluster) {
		return nil, fmt.Errorf("chdb: migrate: cluster name %q is not an identifier", cluster)
	}
	return migrate(ctx, conn, database, cluster, migs, logger)
}

func migrate(ctx context.Context, conn driver.Conn, database, cluster string, migs []Migration, logger *slog.Logger) (applied []Migration, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if !sqltext.ValidIdent(database) {
		return nil, fmt.Errorf("chdb: migrate: invalid database name %q", database)
	}
	table := database + ".schema_migrations"
	create := []string{
		"CREATE DATABASE IF NOT EXISTS " + database,
		"CREATE TABLE IF NOT EXISTS " + table +
			" (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY version",
	}
	if cluster != "" {
		create = []string{
			"CREATE DATABASE IF NOT EXISTS " + database + " ON CLUSTER " + cluster,
			"CREATE TABLE IF NOT EXISTS " + table + " ON CLUSTER " + cluster +
				" (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = ReplicatedMergeTree(" +
				"'/clickhouse/tables/all/" + database + "/schema_migrations', '{replica}') ORDER BY version",
			// What other servers recorded reaches this one first.
			"SYSTEM SYNC REPLICA " + table,
		}
	}
	for _, q := range create {
		if err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("chdb: migrate: %w", err)
		}
	}
	recorded, err := recordedMigrations(ctx, conn, table)
	if err != nil {
		return nil, fmt.Errorf("chdb: migrate: %w", err)
	}
	known := make(map[int]bool, len(migs))
	for _, m := range migs {
		known[m.Version] = true
		if sum, ok := recorded[m.Version]; ok && sum != m.Checksum {
			return nil, fmt.Errorf("chdb: migrate: migration %d (%s) was changed after it was applied: checksum %s recorded, %s now", m.Version, m.Name, sum, m.Checksum)
		}
	}
	for v := range recorded {
		if !known[v] {
			return nil, fmt.Errorf("chdb: migrate: database %s records migration %d, which this build does not know", database, v)
		}
	}
	for _, m := range migs {
		if _, ok := recorded[m.Version]; ok {
			continue
		}
		start := time.Now()
		for i, stmt := range m.Statements {
			qs := []string{strings.ReplaceAll(stmt, DatabasePlaceholder, database)}
			if cluster != "" {
				hasForce := func(db, table string) (bool, error) { return hasColumn(ctx, conn, db, table, "force_id") }
				if qs, err = OnCluster(qs[0], cluster, hasForce); err != nil {
					return applied, fmt.Errorf("chdb: migrate: migration %d (%s) statement %d: %w", m.Version, m.Name, i+1, err)
				}
			}
			for _, q := range qs {
				if cluster != "" {
					done, err := columnExists(ctx, conn, q)
					if err != nil {
						return applied, fmt.Errorf("chdb: migrate: migration %d (%s) statement %d: %w", m.Version, m.Name, i+1, err)
					}
					if done {
						continue
					}
				}
				if err := conn.Exec(ctx, q); err != nil {
					return applied, fmt.Errorf("chdb: migrate: migration %d (%s) statement %d: %w", m.Version, m.Name, i+1, err)
				}
			}
		}
		if err := recordMigration(ctx, conn, table, m); err != nil {
			return applied, fmt.Errorf("chdb: migrate: %w", err)
		}
		logger.InfoContext(ctx, "applied migration", "database", database, "cluster", cluster,
			"version", m.Version, "name", m.Name, "duration", time.Since(start))
		applied = append(applied, m)
	}
	return applied, nil
}

// columnExists reports whether q adds a column (ALTER TABLE db.t [ON
// CLUSTER c] ADD COLUMN name …) that the table, on the server conn reaches,
// already has.
func columnExists(ctx context.Context, conn driver.Conn, q string) (bool, error) {
	m := addColumnRE.FindStringSubmatch(q)
	if m == nil {
		return false, nil
	}
	return hasColumn(ctx, conn, m[1], m[2], m[3])
}

// hasColumn reports whether table db.table, on the server conn reaches, has
// column name.
func hasColumn(ctx context.Context, conn driver.Conn, db, table, name string) (bool, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?", db, table, name).Scan(&n)
	return n > 0, err
}

var addColumnRE = regexp.MustCompile(`^ALTER TABLE (\w+)\.(\w+) (?:ON CLUSTER \w+ )?ADD COLUMN (\w+) `)

// recordedMigrations returns the checksums recorded in table by version.
func recordedMigrations(ctx context.Context, conn driver.Conn, table string) (map[int]string, error) {
	rows, err := conn.Query(ctx, "SELECT version, checksum FROM "+table+" ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	out := make(map[int]string)
	for rows.Next() {
		var (
			version  uint32
			checksum string
		)
		if err := rows.Scan(&version, &checksum); err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		out[int(version)] = checksum
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

// recordMigration inserts m into table.
func recordMigration(ctx context.Context, conn driver.Conn, table string, m Migration) error {
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" (version, name, checksum, applied_at)")
	if err != nil {
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	if err := batch.Append(uint32(m.Version), m.Name, m.Checksum, time.Now().UTC().Truncate(time.Second)); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	return nil
}
