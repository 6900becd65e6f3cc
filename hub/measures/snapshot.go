package measures

import (
	"slices"
	"strconv"
	"strings"
	"time"
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

// SnapshotColumns are the columns of a snapshot's incidents table.
func SnapshotColumns() []string {
	cols := slices.DeleteFunc(incidentColumns(), func(c string) bool { return c == "incident_ref" })
	return append(cols, "h_handover_accepted", "h_assessment_started")
}

// SnapshotSelect is the SELECT that fills a snapshot (see hub/store's
// Snapshot) with the incidents of the given forces, none when forces is
// empty (the statement then only gives the table its columns). FINAL is applied in
// the innermost reads, which filter on nothing but the sorting key's first
// column, so no other condition sees a revision that is not the latest.
func SnapshotSelect(db string, forces []string, from time.Time) string {
	cond := "0"
	if len(forces) > 0 {
		cond = inList("force_id", forces)
	}
	var outer []string
	for _, c := range SnapshotColumns() {
		if c == "subject_token" {
			c = "if(incident_type = 's136', token, '') AS subject_token"
		}
		outer = append(outer, c)
	}
	inner := strings.Replace(strings.Join(incidentColumns(), ", "), "subject_token", "subject_token AS token", 1)
	health := "SELECT force_id, incident_ref, min(handover_accepted) AS h_handover_accepted, " +
		"min(assessment_started) AS h_assessment_started FROM " + db + ".health_updates FINAL WHERE " + cond +
		" GROUP BY force_id, incident_ref"
	q := "SELECT " + strings.Join(outer, ", ") + " FROM " +
		leftJoin("SELECT "+inner+" FROM "+db+".incidents FINAL WHERE "+cond, health, "force_id, incident_ref")
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
