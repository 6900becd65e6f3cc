package store

import (
	"context"
	"fmt"
	"time"
)

// Submission is one row of the submissions log: who sent a batch, when, what
// happened to its records, and how late the data was. It holds no record
// content.
type Submission struct {
	ID         string
	OrgKind    string
	OrgID      string
	Dataset    string // "incidents" or "health_updates"
	ReceivedAt time.Time
	DryRun     bool
	Records    uint32
	Accepted   uint32
	Updated    uint32
	Unchanged  uint32
	Stale      uint32
	Rejected   uint32
	// LagP50 and LagMax are the median and largest time from each stored
	// record's latest event to its receipt.
	LagP50 time.Duration
	LagMax time.Duration
}

// Rejection is one broken rule of one rejected record: field path and code
// only, never content.
type Rejection struct {
	RecordIndex uint32
	Field       string
	Code        string
}

// logEntry is one submission with its rejections, for a group write.
type logEntry struct {
	sub        Submission
	rejections []Rejection
}

// LogSubmission writes the submission and its rejections. Concurrent calls
// are group-committed, as InsertIncidents's are.
func (s *Store) LogSubmission(ctx context.Context, sub Submission, rejections []Rejection) error {
	return s.logs.Do(ctx, []logEntry{{sub: sub, rejections: rejections}})
}

func (s *Store) writeLogs(ctx context.Context, entries []logEntry) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".submissions (submission_id, org_kind, org_id, dataset, received_at, dry_run, records, accepted, updated, unchanged, stale, rejected, lag_p50_seconds, lag_max_seconds)")
	if err != nil {
		return fmt.Errorf("store: log submission: %w", err)
	}
	defer func() { _ = b.Abort() }()
	rejected := 0
	for _, e := range entries {
		sub := e.sub
		if err := b.Append(sub.ID, sub.OrgKind, sub.OrgID, sub.Dataset, sub.ReceivedAt.UTC(), flag(sub.DryRun),
			sub.Records, sub.Accepted, sub.Updated, sub.Unchanged, sub.Stale, sub.Rejected,
			int64(sub.LagP50/time.Second), int64(sub.LagMax/time.Second)); err != nil {
			return fmt.Errorf("store: log submission: %w", err)
		}
		rejected += len(e.rejections)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: log submission: %w", err)
	}
	if rejected == 0 {
		return nil
	}
	rb, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".rejections (submission_id, org_id, dataset, received_at, record_index, field, code)")
	if err != nil {
		return fmt.Errorf("store: log rejections: %w", err)
	}
	defer func() { _ = rb.Abort() }()
	for _, e := range entries {
		sub := e.sub
		for _, r := range e.rejections {
			if err := rb.Append(sub.ID, sub.OrgID, sub.Dataset, sub.ReceivedAt.UTC(), r.RecordIndex, r.Field, r.Code); err != nil {
				return fmt.Errorf("store: log rejections: %w", err)
			}
		}
	}
	if err := rb.Send(); err != nil {
		return fmt.Errorf("store: log rejections: %w", err)
	}
	return nil
}

// MonthCount is the number of incidents a force has stored for one month of
// call_received.
type MonthCount struct {
	ForceID   string
	Month     time.Time
	Incidents uint64
	S136      uint64
}

// MonthlyCounts returns incidents per force and month, counting each
// incident once at its highest revision and leaving out withdrawn ones.
func (s *Store) MonthlyCounts(ctx context.Context) ([]MonthCount, error) {
	q := `SELECT force_id, toStartOfMonth(call_received) AS month, count() AS incidents, countIf(incident_type = 's136') AS s136
FROM (
    SELECT force_id, incident_ref,
        argMax(call_received, revision) AS call_received,
        argMax(incident_type, revision) AS incident_type,
        argMax(status, revision) AS status
    FROM ` + s.db + `.incidents
    GROUP BY force_id, incident_ref
)
WHERE status != 'withdrawn'
GROUP BY force_id, month
ORDER BY force_id, month`
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: monthly counts: %w", err)
	}
	defer rows.Close()
	var out []MonthCount
	for rows.Next() {
		var c MonthCount
		if err := rows.Scan(&c.ForceID, &c.Month, &c.Incidents, &c.S136); err != nil {
			return nil, fmt.Errorf("store: monthly counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: monthly counts: %w", err)
	}
	return out, nil
}
