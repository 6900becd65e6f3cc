package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// The states of an approvals row.
const (
	ApprovalApproved = "approved"
	ApprovalReopened = "reopened"
)

// Approval is one sign-off or reopening of a month of a force's incidents
// (see schemas/migrations/0007_approvals.sql), or a month's latest.
type Approval struct {
	ForceID string
	// Month is the first day of the month, UTC.
	Month time.Time
	// State is ApprovalApproved or ApprovalReopened.
	State     string
	DecidedAt time.Time
	// Org, Agreement and Recipient are who decided, as which recipient of
	// which agreement; DecisionID the policy decision.
	Org, Agreement, Recipient, DecisionID string
	// ReopenReason is the code of why a month was reopened.
	ReopenReason string
}

// LogApproval appends a to the approvals log.
func (s *Store) LogApproval(ctx context.Context, a Approval) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".approvals (force_id, month, state, decided_at, decided_ns, org, agreement, recipient, decision_id, reopen_reason)")
	if err != nil {
		return fmt.Errorf("store: log approval: %w", err)
	}
	defer func() { _ = b.Abort() }()
	if err := b.Append(a.ForceID, a.Month.UTC(), a.State, a.DecidedAt.UTC(), uint64(a.DecidedAt.UnixNano()), a.Org, a.Agreement, a.Recipient, a.DecisionID, a.ReopenReason); err != nil {
		return fmt.Errorf("store: log approval: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: log approval: %w", err)
	}
	return nil
}

// Approvals returns, for each of forces, the latest approvals row of each
// of its months that has one, by month.
func (s *Store) Approvals(ctx context.Context, forces []string) (map[string]map[time.Time]Approval, error) {
	out := map[string]map[time.Time]Approval{}
	if len(forces) == 0 {
		return out, nil
	}
	rows, err := s.conn.Query(ctx, "SELECT force_id, month, argMax(state, decided_ns), max(decided_ns), argMax(org, decided_ns), "+
		"argMax(agreement, decided_ns), argMax(recipient, decided_ns), argMax(decision_id, decided_ns), argMax(reopen_reason, decided_ns) "+
		"FROM "+s.db+".approvals WHERE force_id IN "+sqltext.List(forces)+" GROUP BY force_id, month")
	if err != nil {
		return nil, fmt.Errorf("store: approvals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Approval
		var ns uint64
		if err := rows.Scan(&a.ForceID, &a.Month, &a.State, &ns, &a.Org, &a.Agreement, &a.Recipient, &a.DecisionID, &a.ReopenReason); err != nil {
			return nil, fmt.Errorf("store: approvals: %w", err)
		}
		a.Month, a.DecidedAt = a.Month.UTC(), time.Unix(0, int64(ns)).UTC()
		if out[a.ForceID] == nil {
			out[a.ForceID] = map[time.Time]Approval{}
		}
		out[a.ForceID][a.Month] = a
	}
	return out, rows.Err()
}

// ApprovedMonths returns the months of force approved now (not reopened
// since), each with when it was approved.
func (s *Store) ApprovedMonths(ctx context.Context, force string) (map[time.Time]time.Time, error) {
	all, err := s.Approvals(ctx, []string{force})
	if err != nil {
		return nil, err
	}
	out := map[time.Time]time.Time{}
	for m, a := range all[force] {
		if a.State == ApprovalApproved {
			out[m] = a.DecidedAt
		}
	}
	return out, nil
}

// MonthCounts returns, for force's months from from to to (first days,
// inclusive), the incidents of each (call_received in it, at their latest
// revision, withdrawn ones included) and, for each month in approvedAt,
// the incidents with a revision of it stored after that time: received in
// its second or later (the incidents table keeps seconds) with a revision
// reason, which ingest asks of every record for an approved month.
func (s *Store) MonthCounts(ctx context.Context, force string, from, to time.Time, approvedAt map[time.Time]time.Time) (incidents, revised map[time.Time]uint64, err error) {
	incidents, revised = map[time.Time]uint64{}, map[time.Time]uint64{}
	end := to.AddDate(0, 1, 0)
	window := " AND call_received >= toDateTime(" + strconv.FormatInt(from.Unix(), 10) + ") AND call_received < toDateTime(" + strconv.FormatInt(end.Unix(), 10) + ")"
	read := func(query string, into map[time.Time]uint64) error {
		rows, err := s.conn.Query(ctx, query)
		if err != nil {
			return fmt.Errorf("store: month counts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m time.Time
			var n uint64
			if err := rows.Scan(&m, &n); err != nil {
				return fmt.Errorf("store: month counts: %w", err)
			}
			into[m.UTC()] = n
		}
		return rows.Err()
	}
	force = sqltext.String(force)
	if err := read("SELECT toStartOfMonth(call_received, 'UTC') AS month, count() FROM (SELECT call_received FROM "+s.db+
		".incidents FINAL WHERE force_id = "+force+") WHERE 1 = 1"+window+" GROUP BY month", incidents); err != nil {
		return nil, nil, err
	}
	if len(approvedAt) == 0 {
		return incidents, revised, nil
	}
	// Each revision's own month, against that month's approval: a month
	// not approved compares with a time no revision has.
	var cases []string
	for m, at := range approvedAt {
		cases = append(cases, "toStartOfMonth(call_received, 'UTC') = toDate('"+m.Format(time.DateOnly)+"'), toDateTime("+strconv.FormatInt(at.Unix(), 10)+")")
	}
	since := "multiIf(" + strings.Join(cases, ", ") + ", toDateTime(4102444800))"
	if err := read("SELECT toStartOfMonth(call_received, 'UTC') AS month, uniqExact(incident_ref) FROM "+s.db+
		".incidents WHERE force_id = "+force+window+" AND revision_reason != '' AND received_at >= "+since+" GROUP BY month", revised); err != nil {
		return nil, nil, err
	}
	return incidents, revised, nil
}
