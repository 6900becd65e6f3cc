package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// LogChanges writes the changes log rows of a batch about to be stored as
// submissionID (see schemas/migrations/0005_changes.sql): for each force, the
// first month the batch may change, from the earliest of earliest[force]
// (the batch's own call_received times, for incidents) and the call_received
// of every revision stored for keys. Call it before storing the batch.
func (s *Store) LogChanges(ctx context.Context, submissionID string, keys []IncidentKey, earliest map[string]time.Time) error {
	first := make(map[string]time.Time, len(earliest))
	for f, t := range earliest {
		first[f] = t
	}
	if len(keys) > 0 {
		kctx, err := withKeys(ctx, keys)
		if err != nil {
			return fmt.Errorf("store: log changes: %w", err)
		}
		rows, err := s.conn.Query(kctx, "SELECT force_id, min(call_received) FROM "+s.db+".incidents WHERE "+inKeys+" GROUP BY force_id")
		if err != nil {
			return fmt.Errorf("store: log changes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var f string
			var at time.Time
			if err := rows.Scan(&f, &at); err != nil {
				return fmt.Errorf("store: log changes: %w", err)
			}
			if cur, ok := first[f]; !ok || at.Before(cur) {
				first[f] = at
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: log changes: %w", err)
		}
	}
	if len(first) == 0 {
		return nil // a trust's updates to incidents the hub does not hold yet
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".changes (submission_id, force_id, from_month)")
	if err != nil {
		return fmt.Errorf("store: log changes: %w", err)
	}
	defer func() { _ = b.Abort() }()
	for f, t := range first {
		u := t.UTC()
		if err := b.Append(submissionID, f, time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return fmt.Errorf("store: log changes: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: log changes: %w", err)
	}
	return nil
}

// Changes are what the changes log holds since a time: for each force, the
// first month its stored batches may have changed.
type Changes struct {
	// From is the first changed month of each force with changes, and
	// Latest when its last change was logged.
	From, Latest map[string]time.Time
	// ReadAt is the server's clock when the log was read: pass it, less a
	// second, as since next time.
	ReadAt time.Time
}

// ChangesSince reads the changes log rows logged at or after since (every
// row when since is zero).
func (s *Store) ChangesSince(ctx context.Context, since time.Time) (Changes, error) {
	out := Changes{From: map[string]time.Time{}, Latest: map[string]time.Time{}}
	if err := s.conn.QueryRow(ctx, "SELECT now()").Scan(&out.ReadAt); err != nil {
		return out, fmt.Errorf("store: changes: %w", err)
	}
	rows, err := s.conn.Query(ctx, "SELECT force_id, min(from_month), max(logged_at) FROM "+s.db+".changes WHERE logged_at >= ? GROUP BY force_id", since.UTC())
	if err != nil {
		return out, fmt.Errorf("store: changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		var m, latest time.Time
		if err := rows.Scan(&f, &m, &latest); err != nil {
			return out, fmt.Errorf("store: changes: %w", err)
		}
		out.From[f], out.Latest[f] = m.UTC(), latest.UTC()
	}
	return out, rows.Err()
}

// ApprovalChange starts the submission id of the changes-log row an
// approval or reopening of a month writes (hub/api/approvals): the month's
// shares must be published again, though no batch was stored.
const ApprovalChange = "approval-"

// StoredBatches reads the batches the changes log holds from since on
// whose submissions are logged too, so stored (a changes row is written
// before its batch is stored, the submissions row after): each with the
// time its first changes row was logged. ReadAt is the server's clock
// before the read. A hub of a cluster reads it to learn what the other
// hubs stored (hub/publish/follow).
func (s *Store) StoredBatches(ctx context.Context, since time.Time) (batches map[string]time.Time, readAt time.Time, err error) {
	if err := s.conn.QueryRow(ctx, "SELECT now()").Scan(&readAt); err != nil {
		return nil, readAt, fmt.Errorf("store: stored batches: %w", err)
	}
	rows, err := s.conn.Query(ctx, "SELECT submission_id, min(logged_at) FROM "+s.db+".changes WHERE logged_at >= ? GROUP BY submission_id", since.UTC())
	if err != nil {
		return nil, readAt, fmt.Errorf("store: stored batches: %w", err)
	}
	defer rows.Close()
	logged := map[string]time.Time{}
	first := readAt
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, readAt, fmt.Errorf("store: stored batches: %w", err)
		}
		logged[id] = at.UTC()
		if at.Before(first) {
			first = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, readAt, fmt.Errorf("store: stored batches: %w", err)
	}
	batches = map[string]time.Time{}
	for id, at := range logged {
		if strings.HasPrefix(id, ApprovalChange) {
			batches[id] = at // an approval stores nothing but its row
			delete(logged, id)
		}
	}
	if len(logged) == 0 {
		return batches, readAt, nil
	}
	// A batch is received before its changes row is logged; a minute
	// covers the clocks of the hub (received_at) and the server (logged_at).
	subs, err := s.conn.Query(ctx, "SELECT DISTINCT submission_id FROM "+s.db+".submissions WHERE received_at >= ? AND dry_run = 0",
		first.Add(-time.Minute).UTC())
	if err != nil {
		return nil, readAt, fmt.Errorf("store: stored batches: %w", err)
	}
	defer subs.Close()
	for subs.Next() {
		var id string
		if err := subs.Scan(&id); err != nil {
			return nil, readAt, fmt.Errorf("store: stored batches: %w", err)
		}
		if at, ok := logged[id]; ok {
			batches[id] = at
		}
	}
	return batches, readAt, subs.Err()
}

// SyncReplicas waits until this server's replicas of the tables a batch
// writes (incidents, health updates, the changes log) hold every part the
// cluster's replication log announced when it was called: what another
// replica stored before then can be read here after. Only on a cluster,
// where each is the replicated table <name>_local.
func (s *Store) SyncReplicas(ctx context.Context) error {
	for _, t := range []string{"incidents", "health_updates", "changes"} {
		if err := s.conn.Exec(ctx, "SYSTEM SYNC REPLICA "+s.db+"."+t+"_local"); err != nil {
			return fmt.Errorf("store: sync replica %s: %w", t, err)
		}
	}
	return nil
}
