package share

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/policy"
)

// column is one column of a share table.
type column struct{ name, typ string }

// table is one share table to publish: either rows built in Go, or an
// INSERT … SELECT from the raw tables (query, whose column list matches).
type table struct {
	name    string
	columns []column
	orderBy string
	// partitionBy, when set, is the table's partition key.
	partitionBy string
	rows        [][]any
	// query, when set, fills the table: a SELECT of exactly columns.
	query string
}

func (t table) ddl(db, name string) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = c.name + " " + c.typ
	}
	order := t.orderBy
	if order == "" {
		order = "tuple()"
	}
	partition := ""
	if t.partitionBy != "" {
		partition = " PARTITION BY " + t.partitionBy
	}
	return fmt.Sprintf("CREATE TABLE %s.%s (%s) ENGINE = MergeTree%s ORDER BY %s", db, name, strings.Join(cols, ", "), partition, order)
}

func (t table) columnList() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// swapIn builds every data table beside the published one (name_next),
// fills it and, when hashed, hashes its content; then builds the
// publication table (meta, which records the hash); then renames each into
// place and drops what it replaced and any table no longer published.
func (p *Publisher) swapIn(ctx context.Context, db string, tables []table, meta func(*Publication) table, pub *Publication, hashed bool) error {
	conn := p.opts.Conn
	h := sha256.New()
	slices.SortFunc(tables, func(a, b table) int { return strings.Compare(a.name, b.name) })
	for _, t := range tables {
		if err := p.build(ctx, db, t, pub); err != nil {
			return err
		}
		if !hashed {
			continue
		}
		fmt.Fprintf(h, "table %s\n", t.name)
		if err := p.hashTable(ctx, h, db, t.name+"_next", t); err != nil {
			return err
		}
	}
	if hashed {
		pub.ContentHash = hex.EncodeToString(h.Sum(nil))
	}
	m := meta(pub)
	if err := p.build(ctx, db, m, pub); err != nil {
		return err
	}
	tables = append(tables, m)
	existing, err := p.tablesIn(ctx, db)
	if err != nil {
		return err
	}
	for _, t := range tables {
		next := t.name + "_next"
		if existing[t.name] {
			old := t.name + "_old"
			if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+db+"."+old); err != nil {
				return fmt.Errorf("share: %w", err)
			}
			if err := conn.Exec(ctx, fmt.Sprintf("RENAME TABLE %[1]s.%[2]s TO %[1]s.%[3]s, %[1]s.%[4]s TO %[1]s.%[2]s", db, t.name, old, next)); err != nil {
				return fmt.Errorf("share: swap %s.%s: %w", db, t.name, err)
			}
			if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+db+"."+old); err != nil {
				return fmt.Errorf("share: %w", err)
			}
		} else if err := conn.Exec(ctx, fmt.Sprintf("RENAME TABLE %[1]s.%[2]s TO %[1]s.%[3]s", db, next, t.name)); err != nil {
			return fmt.Errorf("share: publish %s.%s: %w", db, t.name, err)
		}
		delete(existing, t.name)
	}
	for name := range existing {
		if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+db+"."+name); err != nil {
			return fmt.Errorf("share: drop %s.%s: %w", db, name, err)
		}
	}
	return nil
}

// build creates and fills name_next for t.
func (p *Publisher) build(ctx context.Context, db string, t table, pub *Publication) error {
	next := t.name + "_next"
	if err := p.opts.Conn.Exec(ctx, "DROP TABLE IF EXISTS "+db+"."+next); err != nil {
		return fmt.Errorf("share: %s.%s: %w", db, next, err)
	}
	if err := p.opts.Conn.Exec(ctx, t.ddl(db, next)); err != nil {
		return fmt.Errorf("share: create %s.%s: %w", db, next, err)
	}
	n, err := p.fill(ctx, db, next, t)
	if err != nil {
		return err
	}
	pub.Rows[t.name] = n
	return nil
}

func (p *Publisher) fill(ctx context.Context, db, name string, t table) (uint64, error) {
	conn := p.opts.Conn
	if t.query != "" {
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s) %s", db, name, t.columnList(), t.query)); err != nil {
			return 0, fmt.Errorf("share: fill %s.%s: %w", db, name, err)
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+"."+name).Scan(&n); err != nil {
			return 0, fmt.Errorf("share: count %s.%s: %w", db, name, err)
		}
		return n, nil
	}
	if len(t.rows) == 0 {
		return 0, nil
	}
	b, err := conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", db, name, t.columnList()))
	if err != nil {
		return 0, fmt.Errorf("share: fill %s.%s: %w", db, name, err)
	}
	defer func() { _ = b.Abort() }()
	for _, r := range t.rows {
		if err := b.Append(r...); err != nil {
			return 0, fmt.Errorf("share: fill %s.%s: %w", db, name, err)
		}
	}
	if err := b.Send(); err != nil {
		return 0, fmt.Errorf("share: fill %s.%s: %w", db, name, err)
	}
	return uint64(len(t.rows)), nil
}

// hashTable feeds the table's content to h: its rows as canonical text
// (canonicalCell), sorted. Reading back what was written (rather than what
// was meant to be) makes the hash describe exactly what the recipient can
// read. The text is made here, not by ClickHouse, so that the hash is the
// same on every release: toString(Float64) prints 17 significant digits on
// 18.16 and the shortest round-trip form on current releases.
func (p *Publisher) hashTable(ctx context.Context, h hash.Hash, db, name string, t table) error {
	rows, err := p.opts.Conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s.%s", t.columnList(), db, name))
	if err != nil {
		return fmt.Errorf("share: hash %s.%s: %w", db, name, err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	dest := make([]any, len(types))
	var lines []string
	var sb strings.Builder
	for rows.Next() {
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("share: hash %s.%s: %w", db, name, err)
		}
		sb.Reset()
		for i, d := range dest {
			if i > 0 {
				sb.WriteByte('\t')
			}
			canonicalCell(&sb, reflect.ValueOf(d).Elem(), types[i].DatabaseTypeName())
		}
		lines = append(lines, sb.String())
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("share: hash %s.%s: %w", db, name, err)
	}
	slices.Sort(lines)
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return nil
}

// canonicalCell writes v, a value of a column of ClickHouse type chType, in
// one canonical text: NULL as \N; floats in the shortest form that reads
// back as the same number; DateTime as "2006-01-02 15:04:05" and Date as
// "2006-01-02", in UTC; arrays as [a,b]; strings with backslash, tab and
// newline escaped, so that a row is always one line.
func canonicalCell(sb *strings.Builder, v reflect.Value, chType string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			sb.WriteString(`\N`)
			return
		}
		v = v.Elem()
	}
	base := strings.TrimSuffix(strings.TrimPrefix(chType, "Nullable("), ")")
	switch x := v.Interface().(type) {
	case time.Time:
		if strings.HasPrefix(base, "DateTime") {
			sb.WriteString(x.UTC().Format(time.DateTime))
		} else {
			sb.WriteString(x.UTC().Format(time.DateOnly))
		}
		return
	case string:
		sb.WriteString(cellEscaper.Replace(x))
		return
	}
	switch v.Kind() {
	case reflect.Float32:
		sb.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 32))
	case reflect.Float64:
		sb.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		sb.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		sb.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Bool:
		sb.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Slice, reflect.Array:
		elem := strings.TrimSuffix(strings.TrimPrefix(base, "Array("), ")")
		sb.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				sb.WriteByte(',')
			}
			canonicalCell(sb, v.Index(i), elem)
		}
		sb.WriteByte(']')
	default:
		fmt.Fprint(sb, v.Interface())
	}
}

var cellEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)

func (p *Publisher) tablesIn(ctx context.Context, db string) (map[string]bool, error) {
	rows, err := p.opts.Conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ?", db)
	if err != nil {
		return nil, fmt.Errorf("share: list %s: %w", db, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("share: list %s: %w", db, err)
		}
		if !strings.HasSuffix(name, "_next") && !strings.HasSuffix(name, "_old") {
			out[name] = true
		}
	}
	return out, rows.Err()
}

// publicationTable is the one-row table that tells a recipient what it holds,
// under which agreement and policy revision, and the content hash of the
// data tables.
func publicationTable(g policy.Grant, pub *Publication) table {
	return table{
		name: "publication",
		columns: []column{
			{"publication_id", "String"}, {"recipient", "String"}, {"agreement", "String"}, {"role", "String"},
			{"purpose", "String"}, {"granularity", "String"}, {"decision_id", "String"}, {"policy_revision", "String"},
			{"published_at", "DateTime"}, {"data_cutoff", "DateTime"},
			{"disclosure_threshold", "UInt32"}, {"rounding_base", "UInt32"}, {"content_hash", "String"},
		},
		rows: [][]any{{
			pub.ID, pub.Recipient, pub.Agreement, g.Role, g.Purpose, g.Granularity, pub.DecisionID, pub.PolicyRevision,
			pub.PublishedAt.UTC(), pub.DataCutoff.UTC(), uint32(max(g.Threshold, 0)), uint32(max(g.Rounding, 0)), pub.ContentHash,
		}},
	}
}

// monthStart returns the first instant of t's month, UTC.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
