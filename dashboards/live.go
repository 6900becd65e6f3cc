package dashboards

import (
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// liveMethod says where the live state comes from.
const liveMethod = " Method: the hub's live pathway monitor re-reads the force's open incidents every few " +
	"seconds and the share publisher copies its state into this share's live table after every batch it " +
	"stores (and on its schedule); the dashboard refreshes itself every 30 seconds. Thresholds are the " +
	"region's configuration: the detention clock is 24 hours from arrival at the place of safety plus any " +
	"authorised extension, with warnings 4 hours and 1 hour before; handover target 60 minutes (warning at " +
	"45); ambulance wait 30 minutes."

// stateMappings colour the monitor's states.
func stateMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"breached":    {Color: ptr("red"), Text: ptr("breached")},
			"approaching": {Color: ptr("orange"), Text: ptr("approaching")},
			"ok":          {Color: ptr("green"), Text: ptr("ok")},
		},
	}}}
}

// openIncidentsSQL is one row per open incident with its clocks.
func openIncidentsSQL(a Audience) string {
	return "SELECT incident_ref, lad_code, first_pos_type, arrived_at,\n" +
		"  if(isNull(arrived_at), NULL, (toInt64(toUInt32(now())) - toInt64(toUInt32(assumeNotNull(arrived_at)))) / 60) AS minutes_since_arrival,\n" +
		"  clock_24h, if(isNull(clock_due), NULL, (toInt64(toUInt32(assumeNotNull(clock_due))) - toInt64(toUInt32(now()))) / 3600) AS hours_left_on_clock,\n" +
		"  handover, handover_minutes, ambulance_wait, ambulance_wait_minutes, escalation\n" +
		"FROM (\n" +
		"  SELECT incident_ref, any(lad_code) AS lad_code, any(first_pos_type) AS first_pos_type, any(arrived_at_pos) AS arrived_at,\n" +
		"    anyIf(state, stage = 'detention_clock') AS clock_24h, anyIf(due, stage = 'detention_clock') AS clock_due,\n" +
		"    anyIf(state, stage = 'handover') AS handover, anyIf(elapsed_minutes, stage = 'handover') AS handover_minutes,\n" +
		"    anyIf(state, stage = 'ambulance_wait') AS ambulance_wait, anyIf(elapsed_minutes, stage = 'ambulance_wait') AS ambulance_wait_minutes,\n" +
		"    anyIf(state, stage = 'local_escalation') AS escalation\n" +
		"  FROM " + a.Database + ".live\n  GROUP BY incident_ref\n)\nORDER BY minutes_since_arrival DESC, incident_ref"
}

// Live is the live pathway dashboard for a force's supervisors: their own
// force's open incidents against the detention clock, the handover target
// and the ambulance wait, and those approaching or breaching a threshold.
func Live(a Audience) (Dashboard, error) {
	b := newDashboard(a.ID+"-live", "Live pathway · "+a.ID,
		"Open incidents of the force against the legal and agreed clocks, for "+a.ID, "live", a.Role).
		Refresh("30s").Time("now-24h", "now")
	count := func(title, what, cond string) {
		b.WithPanel(statPanel(title, what+liveMethod, "short", 6, 4,
			query(a, "SELECT uniqExactIf(incident_ref, "+cond+") AS incidents FROM "+a.Database+".live")))
	}
	count("Open incidents", "The force's incidents that are open now.", "1")
	count("Breaching a threshold", "Open incidents past at least one threshold: the detention clock, the handover "+
		"target, the ambulance wait or the local escalation point.", "state = 'breached'")
	count("Approaching a threshold", "Open incidents within the warning window of at least one threshold.", "state = 'approaching'")
	b.WithPanel(statPanel("Age of this view",
		"How long ago the monitor last evaluated the incidents shown. Above a few minutes, the hub or its feed "+
			"needs attention."+liveMethod, "s", 6, 4,
		query(a, "SELECT toInt64(toUInt32(now())) - toInt64(toUInt32(max(evaluated_at))) AS age_seconds FROM "+a.Database+".live")))
	open := tablePanel("Open incidents",
		"Every open incident of the force: where (local authority district and first place of safety), time "+
			"since arrival at the place of safety (in minutes), the state of the 24-hour detention clock and "+
			"the hours left on it, the handover to health staff (state and minutes waited), the ambulance wait "+
			"(state and minutes), and the local escalation point. Longest since arrival first."+liveMethod,
		24, 10, query(a, openIncidentsSQL(a))).Mappings(stateMappings())
	b.WithPanel(open)
	b.WithPanel(tablePanel("Approaching or breaching",
		"The thresholds each open incident is approaching or has breached, breaches first, then by when the "+
			"threshold falls due. 'elapsed' is the minutes since the clock started; 'due' is when the "+
			"threshold is (or was) reached."+liveMethod, 24, 8,
		query(a, fmt.Sprintf("SELECT incident_ref, stage, state, round(elapsed_minutes) AS elapsed_minutes, due\nFROM %s.live\nWHERE state IN ('approaching', 'breached')\nORDER BY state = 'breached' DESC, due, incident_ref",
			a.Database))).Mappings(stateMappings()))
	if slices.Contains(a.Fields, "arrived_at_pos") {
		b.WithPanel(timeSeries("Arrivals at a place of safety",
			"How many of the force's detainees arrived at a place of safety, in each interval of the chosen time "+
				"range (open and closed incidents). Method: the force's incident records in this share, counted by "+
				"their arrival time, in buckets of the panel's interval.", "short", 24, 7,
			series(a, "SELECT toDateTime(intDiv(toUInt32(assumeNotNull(arrived_at_pos)), $__interval_s) * $__interval_s) AS time, count() AS arrivals\n"+
				"FROM "+a.Database+".incidents\nWHERE isNotNull(arrived_at_pos) AND $__timeFilter(arrived_at_pos)\nGROUP BY time\nORDER BY time")).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(60))
	}
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: live %s: %w", a.ID, err)
	}
	return d, nil
}
