package measures

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/chdb"
)

// Snapshot copies the latest revision of every incident and health update
// of the raw database db into tables incidents and health_updates of
// database snapshot (created if need be; earlier snapshot tables are
// replaced), with only the columns the measures read. QueryFrom then reads
// them without FINAL.
//
// Collapsing revisions with FINAL is what a measure query spends most of its
// time on; a publication runs one query per measure per recipient over the
// same data, so collapsing once per publication instead of once per query
// saves nearly all of that.
func Snapshot(ctx context.Context, conn driver.Conn, db, snapshot string) error {
	if !chdb.ValidIdentifier(db) || !chdb.ValidIdentifier(snapshot) || db == snapshot {
		return fmt.Errorf("measures: snapshot: invalid database names %q, %q", db, snapshot)
	}
	if err := chdb.EnsureDatabase(ctx, conn, snapshot); err != nil {
		return fmt.Errorf("measures: snapshot: %w", err)
	}
	tables := []struct{ name, columns, order string }{
		{"incidents", strings.Join(incidentColumns(), ", "), "force_id, incident_ref"},
		{"health_updates", "force_id, incident_ref, trust_id, handover_accepted, assessment_started", "force_id, incident_ref, trust_id"},
	}
	for _, t := range tables {
		stmts := []string{
			"DROP TABLE IF EXISTS " + snapshot + "." + t.name,
			"CREATE TABLE " + snapshot + "." + t.name + " ENGINE = MergeTree ORDER BY (" + t.order + ") AS SELECT " +
				t.columns + " FROM " + db + "." + t.name + " FINAL",
		}
		for _, q := range stmts {
			if err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("measures: snapshot %s: %w", t.name, err)
			}
		}
	}
	return nil
}
