package measures

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
)

// HistoryLookback is how far before a window repeat_detention looks for a
// person's earlier detentions.
const HistoryLookback = 365 * 24 * time.Hour

// SnapshotParts is how many statements fill a snapshot at once, each over
// its own share of the forces. ClickHouse 18.16 collapses revisions (FINAL)
// in one thread per query, so one statement would use one core.
const SnapshotParts = 4

// timeColumns are the incidents columns a measure may take its defining
// timestamp from; a snapshot keeps an incident when any is recent enough.
// (extension_authorised is a UInt8 flag, not a time: it was listed here once,
// as a condition that was always false.)
var timeColumns = []string{
	"call_received", "detained", "ambulance_requested_at", "ambulance_arrived", "arrived_at_pos",
	"handover_accepted", "police_left_pos", "assessment_started", "detention_ended",
}

// Snapshot copies into table incidents of database snapshot (created if
// need be; an earlier snapshot table is replaced) the latest revision of
// each incident of the raw database db that windows starting at from or
// later can count, with only what the measures read. QueryFrom then reads
// it without FINAL. A zero from keeps every incident.
//
// Collapsing revisions with FINAL is what a measure query spends most of its
// time on; a publication runs one query per measure per recipient over the
// same data, so collapsing once per publication instead of once per query
// saves nearly all of that. The copy is also made small and cheap to read,
// because at national scale writing it is the publication's largest cost:
//   - an incident is kept only when one of its timestamps falls on or after
//     from less HistoryLookback (repeat detention looks back that far);
//   - each incident carries its trusts' health updates, joined once here
//     (h_handover_accepted, h_assessment_started), so the copy needs no
//     incident_ref, the widest column;
//   - subject_token, the next widest, is kept only on s136 detentions, the
//     only incidents repeat detention (its only reader) looks at;
//   - it is sorted by region, force and district, so a query scoped to a
//     region or a force reads only that part of it (QueryFrom puts the scope
//     into the innermost read);
//   - it is filled by SnapshotParts statements at once, each over a share
//     of the forces (a condition on the sorting key, safe with FINAL).
//
// For region and district scopes, the submission measures take a force's
// place from its incidents in the snapshot, so from the window and the year
// before rather than from all history.
func Snapshot(ctx context.Context, conn driver.Conn, db, snapshot string, from time.Time) error {
	if !sqltext.ValidIdent(db) || !sqltext.ValidIdent(snapshot) || db == snapshot {
		return fmt.Errorf("measures: snapshot: invalid database names %q, %q", db, snapshot)
	}
	if err := chdb.EnsureDatabase(ctx, conn, snapshot); err != nil {
		return fmt.Errorf("measures: snapshot: %w", err)
	}
	forces, err := forceIDs(ctx, conn, db)
	if err != nil {
		return err
	}
	table := snapshot + ".incidents"
	if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		return fmt.Errorf("measures: snapshot: %w", err)
	}
	// The table takes its columns from the query, selecting no forces.
	create := "CREATE TABLE " + table + " ENGINE = MergeTree ORDER BY (region_code, force_id, lad_code) AS " +
		snapshotSelect(db, "0", from)
	if err := conn.Exec(ctx, create); err != nil {
		return fmt.Errorf("measures: snapshot: %w", err)
	}
	cols := snapshotColumns()
	g, ctx := errgroup.WithContext(ctx)
	for part := range SnapshotParts {
		var mine []string
		for i, f := range forces {
			if i%SnapshotParts == part {
				mine = append(mine, f)
			}
		}
		if len(mine) == 0 {
			continue
		}
		g.Go(func() error {
			q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") " + snapshotSelect(db, inList("force_id", mine), from)
			if err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("measures: snapshot: %w", err)
			}
			return nil
		})
	}
	return g.Wait()
}

// snapshotColumns are the columns of a snapshot's incidents table.
func snapshotColumns() []string {
	cols := slices.DeleteFunc(incidentColumns(), func(c string) bool { return c == "incident_ref" })
	return append(cols, "h_handover_accepted", "h_assessment_started")
}

// snapshotSelect is the SELECT that fills a snapshot with the incidents of
// the forces matching forces (a condition on force_id). FINAL is applied in
// the innermost reads, which filter on nothing but the sorting key's first
// column, so no other condition sees a revision that is not the latest.
func snapshotSelect(db, forces string, from time.Time) string {
	var outer []string
	for _, c := range snapshotColumns() {
		if c == "subject_token" {
			c = "if(incident_type = 's136', token, '') AS subject_token"
		}
		outer = append(outer, c)
	}
	inner := strings.Replace(strings.Join(incidentColumns(), ", "), "subject_token", "subject_token AS token", 1)
	health := "SELECT force_id, incident_ref, min(handover_accepted) AS h_handover_accepted, " +
		"min(assessment_started) AS h_assessment_started FROM " + db + ".health_updates FINAL WHERE " + forces +
		" GROUP BY force_id, incident_ref"
	q := "SELECT " + strings.Join(outer, ", ") + " FROM " +
		leftJoin("SELECT "+inner+" FROM "+db+".incidents FINAL WHERE "+forces, health, "force_id, incident_ref")
	if !from.IsZero() {
		since := "toDateTime(" + strconv.FormatInt(from.Add(-HistoryLookback).Unix(), 10) + ")"
		conds := make([]string, len(timeColumns))
		for i, c := range timeColumns {
			conds[i] = c + " >= " + since
		}
		q += " WHERE " + strings.Join(conds, " OR ")
	}
	return q
}

// forceIDs lists the forces with incidents in db.
func forceIDs(ctx context.Context, conn driver.Conn, db string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT force_id FROM "+db+".incidents ORDER BY force_id")
	if err != nil {
		return nil, fmt.Errorf("measures: snapshot: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, fmt.Errorf("measures: snapshot: %w", err)
		}
		if !forcePattern.MatchString(f) {
			return nil, fmt.Errorf("measures: snapshot: force id %q: %w", f, ErrInvalidScope)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
