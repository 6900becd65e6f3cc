package dashboards

import (
	"fmt"

	"github.com/pathwayhub/pathwayhub/hub/measures"
)

// hasFeed reports whether the audience is granted the feed measures, and so
// gets the feed health dashboard (and the rejections table).
func (a Audience) hasFeed() bool {
	return a.has("feed_timeliness") || a.has("feed_completeness")
}

// Feed is the feed health dashboard for an aggregate audience granted the
// feed measures: submissions, lag, rejections by reason, the months each
// force has approved, and field completeness, per force.
func Feed(a Audience) (Dashboard, error) {
	b := newDashboard(a.ID+"-feed", "Feed health · "+a.ID,
		"How promptly and completely each force's data reaches the hub, for "+a.ID, "feed", a.Role).
		WithVariable(forceVariable(a, "measures"))
	if m, ok := measures.ByID("feed_timeliness"); ok && a.has(m.ID) {
		b.WithPanel(timeSeries("Submissions by force",
			"The number of submissions (batches) each force sent in the month that stored at least one record; "+
				"dry runs are left out. A force that stops submitting shows a fall to zero or a gap. Method: the "+
				"denominator of the measure feed_timeliness, by month of receipt, one line per force."+disclosureNote,
			"short", 12, 8,
			series(a, fmt.Sprintf("SELECT %s, force_id, denominator AS submissions\nFROM %s.measures\nWHERE measure_id = 'feed_timeliness' AND %s AND %s\nORDER BY time, force_id",
				monthTime, a.Database, monthFilter, forceFilter))))
		b.WithPanel(timeSeries("Lag from event to receipt by force",
			describe(m, byForceMethod), grafanaUnit(m.Unit), 12, 8, series(a, byForceSQL(a, m.ID))))
	}
	b.WithPanel(timeSeries("Rejections by reason",
		"Records the hub refused at the door, by the rule they broke: the field and the rule's code (for "+
			"example a missing required field, or a police station recorded for an under-18). One record can "+
			"break several rules. Each force must fix and resubmit its rejected records. Method: the rules "+
			"broken in each month's submissions, summed over the chosen forces, one line per field and rule."+
			disclosureNote,
		"short", 12, 8,
		series(a, fmt.Sprintf("SELECT %s, concat(field, ': ', code) AS reason, sum(rejections) AS rejections\nFROM %s.feed_rejections\nWHERE %s AND %s AND suppressed = 0\nGROUP BY month, reason\nORDER BY time, reason",
			monthTime, a.Database, monthFilter, forceFilter))))
	b.WithPanel(tablePanel("Rejections by force and reason, in the time range",
		"The rules broken by each force's refused records over the chosen time range, most frequent first. "+
			"Method: the sum of the published monthly counts."+disclosureNote, 12, 8,
		query(a, fmt.Sprintf("SELECT force_id AS force, field, code, sum(rejections) AS rejections\nFROM %s.feed_rejections\nWHERE %s AND %s AND suppressed = 0\nGROUP BY force_id, field, code\nORDER BY rejections DESC, force, field, code",
			a.Database, monthFilter, forceFilter))))
	b.WithPanel(monthStatusPanel(a, true, 24, 8))
	if m, ok := measures.ByID("feed_completeness"); ok && a.has(m.ID) {
		b.WithPanel(timeSeries("Field completeness by force",
			describe(m, byForceMethod), grafanaUnit(m.Unit), 24, 8, series(a, byForceSQL(a, m.ID))).Min(0).Max(100))
	}
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: feed %s: %w", a.ID, err)
	}
	return d, nil
}
