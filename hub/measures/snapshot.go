package measures

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/chdb"
)

// HistoryLookback is how far before a window repeat_detention looks for a
// person's earlier detentions.
const HistoryLookback = 365 * 24 * time.Hour

// timeColumns are the incidents columns a measure may take its defining
// timestamp from; a snapshot keeps an incident when any is recent enough.
var timeColumns = []string{
	"call_received", "detained", "ambulance_requested_at", "ambulance_arrived", "arrived_at_pos",
	"handover_accepted", "police_left_pos", "assessment_started", "detention_ended", "extension_authorised",
}

// Snapshot copies the latest revision of the incidents and health updates
// of the raw database db that windows starting at from or later can count
// into tables incidents and health_updates of database snapshot (created if
// need be; earlier snapshot tables are replaced), with only the columns the
// measures read. QueryFrom then reads them without FINAL. A zero from keeps
// every incident.
//
// Collapsing revisions with FINAL is what a measure query spends most of its
// time on; a publication runs one query per measure per recipient over the
// same data, so collapsing once per publication instead of once per query
// saves nearly all of that. Two more things make each query read less:
//   - an incident is kept only when one of its timestamps falls on or after
//     from less HistoryLookback (repeat detention looks back that far), so
//     years of history before the published window are not read again by
//     every measure of every recipient;
//   - the copy is sorted by region, force and district, so a query scoped to
//     a region or a force reads only that part of it (QueryFrom puts the
//     scope into the innermost read).
//
// For region and district scopes, the submission measures take a force's
// place from its incidents in the snapshot, so from the window and the year
// before rather than from all history.
func Snapshot(ctx context.Context, conn driver.Conn, db, snapshot string, from time.Time) error {
	if !chdb.ValidIdentifier(db) || !chdb.ValidIdentifier(snapshot) || db == snapshot {
		return fmt.Errorf("measures: snapshot: invalid database names %q, %q", db, snapshot)
	}
	if err := chdb.EnsureDatabase(ctx, conn, snapshot); err != nil {
		return fmt.Errorf("measures: snapshot: %w", err)
	}
	recent := ""
	if !from.IsZero() {
		since := "toDateTime(" + strconv.FormatInt(from.Add(-HistoryLookback).Unix(), 10) + ")"
		conds := make([]string, len(timeColumns))
		for i, c := range timeColumns {
			conds[i] = c + " >= " + since
		}
		recent = " WHERE " + strings.Join(conds, " OR ")
	}
	// FINAL is applied before the filter, in a subquery: a condition on
	// columns outside the sorting key must see only the latest revision.
	tables := []struct{ name, columns, order, where string }{
		{"incidents", strings.Join(incidentColumns(), ", "), "region_code, force_id, lad_code, incident_ref", recent},
		{"health_updates", "force_id, incident_ref, trust_id, handover_accepted, assessment_started", "force_id, incident_ref, trust_id", ""},
	}
	for _, t := range tables {
		stmts := []string{
			"DROP TABLE IF EXISTS " + snapshot + "." + t.name,
			"CREATE TABLE " + snapshot + "." + t.name + " ENGINE = MergeTree ORDER BY (" + t.order + ") AS SELECT " +
				t.columns + " FROM (SELECT " + t.columns + " FROM " + db + "." + t.name + " FINAL)" + t.where,
		}
		for _, q := range stmts {
			if err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("measures: snapshot %s: %w", t.name, err)
			}
		}
	}
	return nil
}
