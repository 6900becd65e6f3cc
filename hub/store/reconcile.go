package store

import (
	"context"
	"fmt"
)

// Reconcile logs, as submissions marked reconciled, every batch whose rows
// are stored but which has no submissions row: the hub died after storing
// it and before logging it. Run at start, before ingest, it makes the log
// account for every stored row after any crash, so the feed-health measures
// that read the log count what was stored. It returns the batches logged;
// running it again logs nothing more.
func (s *Store) Reconcile(ctx context.Context) (int, error) {
	var total int
	for _, t := range []struct{ kind, table, org, dataset string }{
		{"force", "incidents", "force_id", "incidents"},
		{"trust", "health_updates", "trust_id", "health_updates"},
	} {
		var n uint64
		missing := fmt.Sprintf("FROM %[1]s.%[2]s WHERE submission_id GLOBAL NOT IN (SELECT submission_id FROM %[1]s.submissions)", s.db, t.table)
		if err := s.conn.QueryRow(ctx, "SELECT uniqExact(submission_id) "+missing).Scan(&n); err != nil {
			return total, fmt.Errorf("store: reconcile %s: %w", t.table, err)
		}
		if n == 0 {
			continue
		}
		q := fmt.Sprintf("INSERT INTO %s.submissions (submission_id, org_kind, org_id, dataset, received_at, dry_run, records, accepted, updated, "+
			"unchanged, stale, rejected, lag_p50_seconds, lag_max_seconds, reconciled) "+
			"SELECT submission_id, '%s', any(%s), '%s', min(received_at), 0, toUInt32(count()), toUInt32(countIf(revision = 1)), "+
			"toUInt32(countIf(revision > 1)), 0, 0, 0, 0, 0, 1 %s GROUP BY submission_id", s.db, t.kind, t.org, t.dataset, missing)
		if err := s.conn.Exec(ctx, q); err != nil {
			return total, fmt.Errorf("store: reconcile %s: %w", t.table, err)
		}
		total += int(n)
	}
	return total, nil
}
