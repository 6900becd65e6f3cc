package share

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/policy"
)

// neverShared are raw columns no record share carries, whatever an
// agreement says: the subject token links a person across forces, the
// payload is the record as submitted, the submission id is bookkeeping.
var neverShared = map[string]bool{"subject_token": true, "payload": true, "submission_id": true}

// recordTables builds a record grant's tables: the incidents of the forces in
// scope with the granted fields (force_id always included), and the live
// pathway state of their open incidents.
func (p *Publisher) recordTables(ctx context.Context, g policy.Grant, _ *Publication) ([]table, error) {
	if len(g.Forces) == 0 {
		return nil, fmt.Errorf("share: record grant %s names no force", g.Recipient)
	}
	types, err := p.rawColumns(ctx, "incidents")
	if err != nil {
		return nil, err
	}
	cols := []column{{"force_id", "String"}}
	for _, f := range g.Fields {
		if neverShared[f] {
			return nil, fmt.Errorf("share: record grant %s: field %q is never shared", g.Recipient, f)
		}
		typ, ok := types[f]
		if !ok || f == "force_id" {
			continue // e.g. trust_id, which lives in health_updates
		}
		cols = append(cols, column{f, typ})
	}
	incidents := table{name: "incidents", columns: cols}
	if slices.ContainsFunc(cols, func(c column) bool { return c.name == "incident_ref" }) {
		incidents.partitionBy = bucketKey
	}
	incidents.query = p.recordQuery(g, incidents, nil)
	return []table{incidents, p.liveTable(g)}, nil
}

// recordBuckets is how many partitions a record share's incidents table is
// split into by a hash of incident_ref, when the grant includes it: the
// supervisors' fast path refills only the partitions that hold the
// incidents a batch stored, a small part of a large force's share.
const recordBuckets = 32

// bucketKey is the partition key of a record share's incidents table: an
// incident's bucket, the same on every release.
var bucketKey = "cityHash64(incident_ref) % " + strconv.Itoa(recordBuckets)

// recordQuery is the SELECT that fills a record share's incidents table t:
// the latest revision of every incident of the grant's forces that is not
// withdrawn, or, given buckets, of those in the buckets only. The buckets
// are chosen before FINAL collapses revisions (PREWHERE), which is safe
// because they depend on the sorting key alone, and which makes a bucket's
// refill read a bucket's worth of rows.
func (p *Publisher) recordQuery(g policy.Grant, t table, buckets []int) string {
	cond := "force_id IN (" + sqltext.List(g.Forces) + ")"
	if buckets != nil {
		ids := make([]string, len(buckets))
		for i, b := range buckets {
			ids[i] = strconv.Itoa(b)
		}
		cond += " AND " + bucketKey + " IN (" + strings.Join(ids, ", ") + ")"
	}
	return fmt.Sprintf("SELECT %s FROM %s.incidents FINAL PREWHERE %s WHERE status != 'withdrawn'",
		t.columnList(), p.opts.Database, cond)
}

// rawColumns returns the column types of a raw table.
func (p *Publisher) rawColumns(ctx context.Context, table string) (map[string]string, error) {
	rows, err := p.opts.Conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", p.opts.Database, table)
	if err != nil {
		return nil, fmt.Errorf("share: columns of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("share: columns of %s: %w", table, err)
		}
		out[name] = typ
	}
	return out, rows.Err()
}

// liveTable is the live pathway state of the open incidents of the grant's
// forces, as the monitor last saw it: the same state Prometheus exports.
func (p *Publisher) liveTable(g policy.Grant) table {
	t := table{
		name: "live",
		columns: []column{
			{"force_id", "String"}, {"incident_ref", "String"}, {"lad_code", "String"}, {"first_pos_type", "String"},
			{"arrived_at_pos", "Nullable(DateTime)"}, {"stage", "String"}, {"state", "String"},
			{"elapsed_minutes", "Float64"}, {"due", "Nullable(DateTime)"}, {"evaluated_at", "DateTime"},
		},
		orderBy: "(force_id, incident_ref)",
	}
	if p.opts.Live == nil {
		return t
	}
	in := map[string]bool{}
	for _, f := range g.Forces {
		in[f] = true
	}
	for _, r := range p.opts.Live() {
		if !in[r.Incident.ForceID] {
			continue
		}
		t.rows = append(t.rows, liveRows(r)...)
	}
	return t
}

// liveRows flattens one monitored incident into a row per stage it is
// measured against (or one "none" row when no stage applies yet), with the
// columns of liveTable.
func liveRows(r monitor.Row) [][]any {
	inc := r.Incident
	arrived := nullTime(inc.ArrivedAtPos)
	if len(r.Flags) == 0 {
		return [][]any{{inc.ForceID, inc.IncidentRef, inc.LADCode, inc.FirstPosType, arrived, "none",
			string(monitor.StateOK), 0.0, (*time.Time)(nil), r.EvaluatedAt.UTC()}}
	}
	out := make([][]any, 0, len(r.Flags))
	for _, f := range r.Flags {
		out = append(out, []any{inc.ForceID, inc.IncidentRef, inc.LADCode, inc.FirstPosType, arrived, string(f.Stage),
			string(f.State), f.Elapsed.Minutes(), nullTime(f.Due), r.EvaluatedAt.UTC()})
	}
	return out
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
