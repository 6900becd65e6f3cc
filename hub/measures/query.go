package measures

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// source is the raw table a measure reads.
type source int

const (
	// fromIncidents reads the current revision of each incident record.
	fromIncidents source = iota
	// fromSubmissions reads the submissions log.
	fromSubmissions
)

// spec is how a measure is computed: which rows form its population, the
// timestamp whose month a row counts in, and the aggregates that give the
// numerator and denominator of each force × month.
type spec struct {
	from source
	// when is the defining timestamp column; rows where it is null are
	// left out.
	when string
	// where is the population: an SQL condition over one row.
	where func(th Thresholds) string
	// aggs are the aliased aggregate expressions of each force × month.
	aggs func(th Thresholds) string
	// numerator and denominator are expressions over the aggregates.
	numerator, denominator string
	// health joins the trusts' health updates (h_handover_accepted,
	// h_assessment_started).
	health bool
	// history joins every person's s136 detention times across all
	// forces (prior_detentions).
	history bool
	// perForce limits rows to the forces listed in a population table: the
	// measure is a rate over the force's whole area, so a LAD scope is
	// refused.
	perForce []string
	// perEvent, for a count, is what each event counted is worth (officer
	// hours per deployment avoided): the SQL yields events × perEvent.
	perEvent func(th Thresholds) float64
	// expectedPerCount, for a ratio, is each force's factor turning the
	// comparison group's count into the expected count: the SQL's
	// denominator is count × factor.
	expectedPerCount map[string]float64
}

// incidentColumns are the incidents columns the measures may read; the
// first five are read by every measure (keys, withdrawal and scope).
func incidentColumns() []string {
	return []string{
		"force_id", "incident_ref", "status", "lad_code", "region_code",
		"subject_token", "incident_type", "disposition", "age_band", "sex", "ethnicity", "ethnic_group",
		"first_pos_type", "transfer_pos_type", "hcp_consulted", "conveyance_method", "police_vehicle_reason",
		"call_received", "detained", "ambulance_requested_at", "ambulance_arrived", "arrived_at_pos",
		"handover_accepted", "police_left_pos", "assessment_started", "detention_ended",
		"extension_authorised", "extension_hours", "outcome",
	}
}

// columns returns the incidents columns the measure's SQL names, so that
// the innermost read touches no other column.
func (m Measure) columns(th Thresholds) string {
	text := strings.Join([]string{m.spec.when, m.spec.where(th), m.spec.aggs(th), m.spec.numerator, m.spec.denominator}, " ")
	all := incidentColumns()
	cols := all[:5:5]
	for _, c := range all[5:] {
		if strings.Contains(text, c) || (c == "subject_token" && m.spec.history) {
			cols = append(cols, c)
		}
	}
	return strings.Join(cols, ", ")
}

// Query returns one SELECT statement over database db's raw tables that
// yields one row per force and month with the columns
//
//	force_id String, month Date, numerator Float64, denominator Float64
//
// ordered by force_id then month. month is the first day of the UTC month
// of the measure's defining timestamp, and only rows whose defining
// timestamp t satisfies from ≤ t < to are counted. A force × month appears
// only when at least one row of the measure's population falls in it
// (for a proportion, one row of its denominator; for a median, one
// observation), so a missing month means zero. Withdrawn incidents are left
// out everywhere, and each incident is read at its latest revision.
//
// Count measures repeat the numerator as denominator; a median's numerator
// is the median in minutes and its denominator the number of observations.
// Use Value to form the measure's value.
//
// Scope values are checked against strict patterns and inlined as quoted
// literals; an invalid value is an error wrapping ErrInvalidScope. A scope
// the measure cannot honour is an error wrapping ErrScopeNotSupported.
func (m Measure) Query(db string, th Thresholds, scope Scope, from, to time.Time) (string, error) {
	return m.QueryFrom(db, "", th, scope, from, to)
}

// QueryFrom is Query with the incidents (their health updates joined in)
// read from a snapshot made by Snapshot in database snapshot, instead of
// from the raw database db with FINAL; the submissions log is still read
// from db. With an empty snapshot it is Query. For windows starting no
// earlier than the snapshot's from, the results are the same as Query's on
// the data the snapshot was taken from (for region and district scopes of
// the submission measures, see Snapshot), and much cheaper to get when many
// queries read the same data: the revisions are collapsed once, by
// Snapshot, rather than once per query.
func (m Measure) QueryFrom(db, snapshot string, th Thresholds, scope Scope, from, to time.Time) (string, error) {
	return m.query(db, snapshot, th, scope, from, to, false)
}

// QueryByRegion is QueryFrom with one row per region and month instead of
// per force: an incident counts in the region it began in (region_code),
// British Transport Police's apart, as the unit NationalForce, since it
// polices the railway across every region. The column is still named
// force_id. A rate is over the region's residents (Regions), and leaves
// British Transport Police out as it does by force. The submission
// measures, which have no place, and the ratios of a force's groups to its
// own population are not defined by region: an error wrapping
// ErrScopeNotSupported.
func (m Measure) QueryByRegion(db, snapshot string, th Thresholds, scope Scope, from, to time.Time) (string, error) {
	if m.spec.from == fromSubmissions || m.spec.expectedPerCount != nil {
		return "", fmt.Errorf("measures: %s: not defined per region: %w", m.ID, ErrScopeNotSupported)
	}
	return m.query(db, snapshot, th, scope, from, to, true)
}

func (m Measure) query(db, snapshot string, th Thresholds, scope Scope, from, to time.Time, byRegion bool) (string, error) {
	if m.spec.aggs == nil {
		return "", fmt.Errorf("measures: %q is not a catalogue measure", m.ID)
	}
	src, err := newSources(db, snapshot)
	if err != nil {
		return "", fmt.Errorf("measures: %s: %w", m.ID, err)
	}
	if err := th.Validate(); err != nil {
		return "", fmt.Errorf("measures: %s: %w", m.ID, err)
	}
	if err := scope.Validate(); err != nil {
		return "", fmt.Errorf("measures: %s: %w", m.ID, err)
	}
	if !from.Before(to) {
		return "", fmt.Errorf("measures: %s: from %s is not before to %s", m.ID, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	if m.spec.perForce != nil && len(scope.LADs) > 0 {
		return "", fmt.Errorf("measures: %s: populations are held per force area, not per district: %w", m.ID, ErrScopeNotSupported)
	}
	var grouped string
	unit := "force_id"
	switch m.spec.from {
	case fromIncidents:
		if byRegion {
			unit = "unit AS force_id"
		}
		grouped = m.incidentsGrouped(src, th, scope, from, to, byRegion)
	case fromSubmissions:
		grouped = m.submissionsGrouped(src, th, scope, from, to)
	default:
		return "", fmt.Errorf("measures: %s: unknown source %d", m.ID, m.spec.from)
	}
	return "SELECT " + unit + ", month, toFloat64(" + m.spec.numerator + ") AS numerator, toFloat64(" +
		m.spec.denominator + ") AS denominator\nFROM (\n" + grouped + "\n)\nORDER BY force_id, month", nil
}

// sources are the table expressions a measure reads: the raw tables with
// FINAL, or a snapshot's (collapsed: one row per incident already).
type sources struct {
	incidents, health, submissions string
	collapsed                      bool
}

// newSources reads raw database db, or the snapshot in database snapshot
// when it is not empty.
func newSources(db, snapshot string) (sources, error) {
	if !sqltext.ValidIdent(db) {
		return sources{}, fmt.Errorf("invalid database name %q", db)
	}
	src := sources{incidents: db + ".incidents FINAL", health: db + ".health_updates FINAL", submissions: db + ".submissions"}
	if snapshot != "" {
		if !sqltext.ValidIdent(snapshot) {
			return sources{}, fmt.Errorf("invalid snapshot database name %q", snapshot)
		}
		src.incidents, src.collapsed = snapshot+".incidents", true
	}
	return src, nil
}

// incidentsGrouped is the per force × month aggregation over the current
// incidents, joined as the measure needs (per unit × month, byRegion; see
// QueryByRegion). FINAL is applied in the innermost
// subquery, which filters on nothing but the sorting key, so that no
// condition on a non-key column can be evaluated before the revisions are
// collapsed. A snapshot has no revisions to collapse and is sorted by
// region, force and district, so there the innermost read takes the whole
// scope and reads only its part of the table.
func (m Measure) incidentsGrouped(src sources, th Thresholds, scope Scope, from, to time.Time, byRegion bool) string {
	cols := m.columns(th)
	if src.collapsed {
		// The snapshot has no incident_ref: it joined the health updates
		// already (h_handover_accepted, h_assessment_started).
		cols = strings.Replace(cols, "incident_ref, ", "", 1)
		if m.spec.health {
			cols += ", h_handover_accepted, h_assessment_started"
		}
	}
	inner := "SELECT " + cols + " FROM " + src.incidents
	switch {
	case src.collapsed && len(scope.conditions()) > 0:
		inner += " WHERE " + strings.Join(scope.conditions(), " AND ")
	case len(scope.Forces) > 0:
		inner += " WHERE " + inList("force_id", scope.Forces)
	}
	if m.spec.health && !src.collapsed {
		health := "SELECT force_id, incident_ref, min(handover_accepted) AS h_handover_accepted, " +
			"min(assessment_started) AS h_assessment_started FROM " + src.health
		if len(scope.Forces) > 0 {
			health += " WHERE " + inList("force_id", scope.Forces)
		}
		health += " GROUP BY force_id, incident_ref"
		cols += ", h_handover_accepted, h_assessment_started"
		inner = "SELECT " + cols + " FROM " + leftJoin(inner, health, "force_id, incident_ref")
	}
	conds := []string{"status != 'withdrawn'"}
	conds = append(conds, timeConds(m.spec.when, from, to)...)
	conds = append(conds, scope.conditions()...)
	switch {
	case m.spec.perForce != nil && byRegion:
		// Every region's population is known; the railway has none.
		conds = append(conds, "force_id != '"+NationalForce+"'")
	case m.spec.perForce != nil:
		conds = append(conds, inList("force_id", m.spec.perForce))
	}
	conds = append(conds, "("+m.spec.where(th)+")")
	if m.spec.history {
		inner = m.withHistory(src, cols, inner, conds, from, to)
	}
	unit, group := "force_id", "force_id"
	if byRegion {
		unit, group = regionUnit+" AS unit", "unit"
	}
	return "SELECT " + unit + ", toStartOfMonth(assumeNotNull(" + m.spec.when + "), 'UTC') AS month, " + m.spec.aggs(th) +
		"\nFROM (" + inner + ")\nWHERE " + strings.Join(conds, "\n  AND ") + "\nGROUP BY " + group + ", month"
}

// withHistory joins each detention the measure counts with the person's
// s136 detention times (prior_detentions), as Unix seconds. Only what can
// matter is joined: the detentions are filtered to the measure's window and
// scope first, and the history holds, for those people only, the s136
// detentions by any force from 365 days before the window to its end. The
// join used to run over every incident and every person's whole history,
// which took minutes per recipient at national scale.
func (m Measure) withHistory(src sources, cols, inner string, conds []string, from, to time.Time) string {
	counted := "SELECT " + cols + " FROM (" + inner + ") WHERE " + strings.Join(conds, " AND ")
	history := "SELECT subject_token, groupArray(toUInt32(assumeNotNull(detained))) AS prior_detentions " +
		"FROM (SELECT subject_token, status, incident_type, detained FROM " + src.incidents + ") " +
		"WHERE status != 'withdrawn' AND incident_type = 's136' AND subject_token != '' AND isNotNull(detained) " +
		"AND " + strings.Join(timeConds("detained", from.AddDate(0, 0, -365), to)[1:], " AND ") + " " +
		"AND subject_token IN (SELECT subject_token FROM (" + counted + ")) " +
		"GROUP BY subject_token"
	return "SELECT " + cols + ", prior_detentions FROM " + leftJoin(counted, history, "subject_token")
}

// leftJoin joins the rows of the subquery right to those of left on the
// columns using, keeping every left row and one right row at most. Both
// subqueries are named: current releases refuse a joined subquery without
// an alias (code 206), which 18.16 accepts either way.
func leftJoin(left, right, using string) string {
	return "(" + left + ") AS l ANY LEFT JOIN (" + right + ") AS r USING (" + using + ")"
}

// submissionsGrouped is the per force × month aggregation over the
// submissions log.
func (m Measure) submissionsGrouped(src sources, th Thresholds, scope Scope, from, to time.Time) string {
	conds := []string{"org_kind = 'force'"}
	conds = append(conds, timeConds(m.spec.when, from, to)...)
	conds = append(conds, src.submitters("org_id", scope)...)
	conds = append(conds, "("+m.spec.where(th)+")")
	return "SELECT org_id AS force_id, toStartOfMonth(" + m.spec.when + ", 'UTC') AS month, " + m.spec.aggs(th) +
		"\nFROM " + src.submissions + "\nWHERE " + strings.Join(conds, "\n  AND ") + "\nGROUP BY force_id, month"
}

// submitters returns the conditions that keep, of rows whose column col is
// a submitting force's id, the forces in scope. Submissions carry no place,
// so a region or LAD scope keeps the forces that have any current incident
// in it. The scope must have been validated.
func (src sources) submitters(col string, scope Scope) []string {
	var conds []string
	if len(scope.Forces) > 0 {
		conds = append(conds, inList(col, scope.Forces))
	}
	if len(scope.Regions) > 0 || len(scope.LADs) > 0 {
		place := Scope{Regions: scope.Regions, LADs: scope.LADs}.conditions()
		// GLOBAL: on a cluster the outer table is Distributed and the
		// snapshot local to the publishing server; the subquery runs there
		// once and its forces go to every shard (on one server it is IN).
		conds = append(conds, col+" GLOBAL IN (SELECT force_id FROM (SELECT force_id, status, region_code, lad_code FROM "+
			src.incidents+") WHERE status != 'withdrawn' AND "+strings.Join(place, " AND ")+" GROUP BY force_id)")
	}
	return conds
}

// SubmittersIn returns an SQL condition on column col, a submitting force's
// id in a table beside the submissions log (such as rejections), that keeps
// the forces in scope as the feed measures do: for a region or LAD scope,
// the forces with any current incident there, read from the snapshot in
// database snapshot when it is not empty, else from raw database db. It is
// "1" for an empty scope, and an error wrapping ErrInvalidScope for an
// invalid one.
func SubmittersIn(col, db, snapshot string, scope Scope) (string, error) {
	if !sqltext.ValidIdent(col) {
		return "", fmt.Errorf("measures: invalid column name %q", col)
	}
	src, err := newSources(db, snapshot)
	if err != nil {
		return "", fmt.Errorf("measures: %w", err)
	}
	if err := scope.Validate(); err != nil {
		return "", fmt.Errorf("measures: %w", err)
	}
	conds := src.submitters(col, scope)
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), nil
}

// timeConds bounds the defining timestamp to [from, to), as whole seconds
// since the epoch so the server's time zone plays no part.
func timeConds(when string, from, to time.Time) []string {
	return []string{
		"isNotNull(" + when + ")",
		when + " >= toDateTime(" + strconv.FormatInt(ceilSecond(from), 10) + ")",
		when + " < toDateTime(" + strconv.FormatInt(ceilSecond(to), 10) + ")",
	}
}

// ceilSecond is t in whole seconds since the epoch, rounded up: stored
// times are whole seconds, so t ≤ x exactly when ceilSecond(t) ≤ x.
func ceilSecond(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// The SQL building blocks the catalogue is written in.
const (
	isS136      = "incident_type = 's136'"
	isDetention = "incident_type IN ('s136', 's135_1', 's135_2')"
	usedStation = "(first_pos_type = 'police_station' OR has(transfer_pos_type, 'police_station'))"
	handover    = "ifNull(handover_accepted, h_handover_accepted)"
	assessment  = "ifNull(assessment_started, h_assessment_started)"

	// medianOfSorted is the median of sorted a of length n ≥ 1: the middle
	// value, or the mean of the two middle values when n is even.
	medianOfSorted = "if(n % 2 = 1, a[intDiv(n + 1, 2)], (a[intDiv(n, 2)] + a[intDiv(n, 2) + 1]) / 2)"
	// p90OfSorted is the 90th percentile of sorted a by the nearest-rank
	// method: the value at rank ⌈0.9·n⌉.
	p90OfSorted = "a[intDiv(9 * n + 9, 10)]"
	// counted is the aggregate of a count measure.
	counted = "count() AS n"
)

// sortedValues collects a median's observations of value for a force ×
// month in ascending order, as a with length n.
func sortedValues(value string) string {
	return "arraySort(groupArray(" + value + ")) AS a, length(a) AS n"
}

// minutes is the time from a to b in minutes (fractional), for rows where
// both are known.
func minutes(a, b string) string {
	return "(toInt64(assumeNotNull(" + b + ")) - toInt64(assumeNotNull(" + a + "))) / 60"
}

// known is the condition that both timestamps are recorded.
func known(a, b string) string {
	return "isNotNull(" + a + ") AND isNotNull(" + b + ")"
}

// fixed wraps a constant SQL fragment as a threshold-independent builder.
func fixed(sql string) func(Thresholds) string {
	return func(Thresholds) string { return sql }
}

// seconds renders a threshold as whole seconds.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// float renders a number as an SQL Float64 literal.
func float(v float64) string {
	return "toFloat64(" + sqltext.Float(v) + ")"
}

// forceLookup renders the value of column force_id in table as an SQL
// transform; forces not in the table give 0.
func forceLookup(table map[string]float64) string {
	forces := slices.Sorted(maps.Keys(table))
	vals := make([]string, len(forces))
	for i, f := range forces {
		vals[i] = float(table[f])
	}
	return "transform(force_id, [" + sqltext.List(forces) + "], [" + strings.Join(vals, ", ") + "], toFloat64(0))"
}
