package store

import (
	"context"
	"fmt"
	"slices"
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
		"FROM "+s.db+".approvals WHERE force_id IN ("+sqltext.List(forces)+") GROUP BY force_id, month")
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

// monthIncidents returns, for force's months from from to to (first
// days, inclusive), the incidents of each: call_received in it, at their
// latest revision, withdrawn ones included.
func (s *Store) monthIncidents(ctx context.Context, force string, from, to time.Time) (map[time.Time]uint64, error) {
	out := map[time.Time]uint64{}
	err := s.monthsRead(ctx, "SELECT toStartOfMonth(call_received, 'UTC') AS month, count() FROM (SELECT call_received FROM "+s.db+
		".incidents FINAL WHERE force_id = "+sqltext.String(force)+") WHERE 1 = 1"+callWindow(from, to)+" GROUP BY month", out)
	return out, err
}

// revisedAfterApproval counts, for each month in approvedAt, the incidents
// with a revision of it stored after that time: received in its second or
// later (the incidents table keeps seconds) with a revision reason, which
// ingest asks of every record for an approved month.
func (s *Store) revisedAfterApproval(ctx context.Context, force string, from, to time.Time, approvedAt map[time.Time]time.Time) (map[time.Time]uint64, error) {
	// Each revision's own month, against that month's approval: a month
	// not approved compares with a time no revision has.
	var cases []string
	for m, at := range approvedAt {
		cases = append(cases, "toStartOfMonth(call_received, 'UTC') = toDate('"+m.Format(time.DateOnly)+"'), toDateTime("+strconv.FormatInt(at.Unix(), 10)+")")
	}
	slices.Sort(cases)
	since := "multiIf(" + strings.Join(cases, ", ") + ", toDateTime(4102444800))"
	out := map[time.Time]uint64{}
	err := s.monthsRead(ctx, "SELECT toStartOfMonth(call_received, 'UTC') AS month, uniqExact(incident_ref) FROM "+s.db+
		".incidents WHERE force_id = "+sqltext.String(force)+callWindow(from, to)+" AND revision_reason != '' AND received_at >= "+since+" GROUP BY month", out)
	return out, err
}

// callWindow is the condition on call_received for months from to to.
func callWindow(from, to time.Time) string {
	return " AND call_received >= toDateTime(" + strconv.FormatInt(from.Unix(), 10) + ") AND call_received < toDateTime(" +
		strconv.FormatInt(to.AddDate(0, 1, 0).Unix(), 10) + ")"
}

// monthsRead runs query, whose rows are a month and a count, into into.
func (s *Store) monthsRead(ctx context.Context, query string, into map[time.Time]uint64) error {
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

// The states of a month, as MonthStatuses gives them.
const (
	MonthProvisional          = "provisional"
	MonthApproved             = "approved"
	MonthRevisedAfterApproval = "revised_after_approval"
)

// MonthStatus is where one month of a force's incidents stands.
type MonthStatus struct {
	Month time.Time
	// State is MonthProvisional, MonthApproved or MonthRevisedAfterApproval.
	State string
	// Latest is the month's latest approvals row; nil when it has none.
	Latest *Approval
	// Incidents are the month's incidents; Revised those with a revision
	// stored after its approval (while it is approved).
	Incidents, Revised uint64
}

// MonthStatuses returns the status of each of force's months from from to
// to (first days, inclusive), oldest first, with the incidents of each.
func (s *Store) MonthStatuses(ctx context.Context, force string, from, to time.Time) ([]MonthStatus, error) {
	byForce, err := s.MonthStates(ctx, []string{force}, from, to)
	if err != nil {
		return nil, err
	}
	incidents, err := s.monthIncidents(ctx, force, from, to)
	if err != nil {
		return nil, err
	}
	out := byForce[force]
	for i := range out {
		out[i].Incidents = incidents[out[i].Month]
	}
	return out, nil
}

// MonthStates returns, for each of forces, the status of each of its
// months from from to to (first days, inclusive), oldest first, without
// the incidents of each (Incidents is 0): what a share publishes. It
// reads the approvals log once, and the incidents only of the forces
// with a month of the period approved.
func (s *Store) MonthStates(ctx context.Context, forces []string, from, to time.Time) (map[string][]MonthStatus, error) {
	all, err := s.Approvals(ctx, forces)
	if err != nil {
		return nil, err
	}
	out := map[string][]MonthStatus{}
	for _, force := range forces {
		approvedAt := map[time.Time]time.Time{}
		for m, a := range all[force] {
			if a.State == ApprovalApproved && !m.Before(from) && !m.After(to) {
				approvedAt[m] = a.DecidedAt
			}
		}
		var revised map[time.Time]uint64
		if len(approvedAt) > 0 {
			if revised, err = s.revisedAfterApproval(ctx, force, from, to, approvedAt); err != nil {
				return nil, err
			}
		}
		for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
			st := MonthStatus{Month: m, State: MonthProvisional}
			if a, ok := all[force][m]; ok {
				st.Latest = &a
				if a.State == ApprovalApproved {
					st.State, st.Revised = MonthApproved, revised[m]
					if st.Revised > 0 {
						st.State = MonthRevisedAfterApproval
					}
				}
			}
			out[force] = append(out[force], st)
		}
	}
	return out, nil
}

// SubmittingForces returns the forces that have sent any batch.
func (s *Store) SubmittingForces(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT org_id FROM "+s.db+".submissions WHERE org_kind = 'force' ORDER BY org_id")
	if err != nil {
		return nil, fmt.Errorf("store: submitting forces: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, fmt.Errorf("store: submitting forces: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
