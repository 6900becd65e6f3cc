package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
)

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
		return fmt.Errorf("store: snapshot: invalid database names %q, %q", db, snapshot)
	}
	if err := chdb.EnsureDatabase(ctx, conn, snapshot); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	forces, err := forceIDs(ctx, conn, db)
	if err != nil {
		return err
	}
	table := snapshot + ".incidents"
	if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	// The table takes its columns from the query, selecting no forces.
	create := "CREATE TABLE " + table + " ENGINE = MergeTree ORDER BY (region_code, force_id, lad_code) AS " +
		measures.SnapshotSelect(db, nil, from)
	if err := conn.Exec(ctx, create); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	cols := measures.SnapshotColumns()
	g, ctx := errgroup.WithContext(ctx)
	for part := range measures.SnapshotParts {
		var mine []string
		for i, f := range forces {
			if i%measures.SnapshotParts == part {
				mine = append(mine, f)
			}
		}
		if len(mine) == 0 {
			continue
		}
		g.Go(func() error {
			q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") " + measures.SnapshotSelect(db, mine, from)
			if err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("store: snapshot: %w", err)
			}
			return nil
		})
	}
	return g.Wait()
}

// forceIDs lists the forces with incidents in db.
func forceIDs(ctx context.Context, conn driver.Conn, db string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT force_id FROM "+db+".incidents ORDER BY force_id")
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, fmt.Errorf("store: snapshot: %w", err)
		}
		if err := (measures.Scope{Forces: []string{f}}).Validate(); err != nil {
			return nil, fmt.Errorf("store: snapshot: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
