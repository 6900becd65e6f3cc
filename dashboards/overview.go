package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// byForceMethod says how a by-force chart is made.
const byForceMethod = "the published monthly value for each force in the share, one line per force, " +
	"by calendar month (UTC)."

// byForceSQL is a measure's monthly value, one series per force.
func byForceSQL(a Audience, measureID string) string {
	return fmt.Sprintf("SELECT %s, force_id, value\nFROM %s.measures\nWHERE measure_id = %s AND %s AND %s\nORDER BY time, force_id",
		monthTime, a.Database, sqltext.String(measureID), monthFilter, forceFilter)
}

// Overview is the regional overview for an aggregate audience: demand by
// force and across the share's whole scope over time, the mix of s136
// detentions and RCRP calls handled without deployment, and rates per
// 100,000 residents where they are defined.
func Overview(a Audience) (Dashboard, error) {
	b := newDashboard(a.ID+"-overview", "Regional overview · "+a.ID,
		"Demand for police mental-health response by force over time, for "+a.ID+" ("+a.Purpose+")", "overview", a.Role).
		WithVariable(forceVariable(a, "measures")).
		WithVariable(measureVariable(a))
	b.WithPanel(publicationPanel(a,
		"The publication this dashboard reads: the recipient, the agreement and policy decision it rests on, "+
			"when it was published and the last complete month it covers (data cut-off), and the disclosure "+
			"control applied (counts up to the threshold suppressed, the rest rounded to the base). Method: the "+
			"publication table the hub writes with every share."))
	b.WithPanel(monthStatusPanel(a, true, 24, 6))
	if a.has("s136_detentions") {
		m, _ := measures.ByID("s136_detentions")
		b.WithPanel(statPanel("s136 detentions, latest month",
			describe(m, "the sum over the chosen forces of the last published month's detentions."+disclosureNote),
			"short", 6, 6,
			query(a, fmt.Sprintf("SELECT sum(value) AS detentions\nFROM %[1]s.measures\nWHERE measure_id = 's136_detentions' AND %[2]s\n  AND month = (SELECT max(month) FROM %[1]s.measures WHERE measure_id = 's136_detentions')",
				a.Database, forceFilter))))
		b.WithPanel(statPanel("s136 detentions in the chosen period",
			describe(m, "the sum over the chosen forces of the published monthly detentions, for the months that "+
				"start within the dashboard's time range."+disclosureNote),
			"short", 6, 6,
			query(a, fmt.Sprintf("SELECT sum(value) AS detentions\nFROM %s.measures\nWHERE measure_id = 's136_detentions' AND %s\n  AND month >= toDate($__fromTime) AND month <= toDate($__toTime)",
				a.Database, forceFilter))))
		b.WithPanel(timeSeries("Demand: s136 detentions by force and in all",
			describe(m, byForceMethod+" The line 'all forces in scope' is the sum over the chosen forces: the share's "+
				"whole region or districts."+disclosureNote),
			grafanaUnit(m.Unit), 12, 9,
			series(a, fmt.Sprintf("SELECT time, force_id, value FROM (\n  SELECT %[1]s, force_id, value FROM %[2]s.measures\n  WHERE measure_id = 's136_detentions' AND %[3]s AND %[4]s\n  UNION ALL\n  SELECT %[1]s, 'all forces in scope' AS force_id, sum(value) AS value FROM %[2]s.measures\n  WHERE measure_id = 's136_detentions' AND %[3]s AND %[4]s\n  GROUP BY month\n)\nORDER BY time, force_id",
				monthTime, a.Database, monthFilter, forceFilter))))
	}
	if a.has("s136_detentions") && a.has("rcrp_deployments_avoided") {
		b.WithPanel(timeSeries("The s136 and RCRP mix",
			"Two sides of the same demand, month by month, summed over the chosen forces: people detained under "+
				"section 136, and Right Care, Right Person calls the police handled without deploying officers "+
				"(referred to a partner, advice only or no further action). As RCRP beds in, more calls are "+
				"handled without deployment. Method: the sum of the published monthly counts of the measures "+
				"s136_detentions and rcrp_deployments_avoided."+disclosureNote,
			"short", 24, 8,
			series(a, fmt.Sprintf("SELECT %s, if(measure_id = 's136_detentions', 's136 detentions', 'RCRP calls not deployed') AS kind, sum(value) AS value\nFROM %s.measures\nWHERE measure_id IN ('s136_detentions', 'rcrp_deployments_avoided') AND %s AND %s\nGROUP BY month, kind\nORDER BY time, kind",
				monthTime, a.Database, monthFilter, forceFilter))))
	}
	for _, id := range []string{"rcrp_deployments_avoided", "ed_first_pos", "detention_rate", "officer_hours_released"} {
		m, ok := measures.ByID(id)
		if !ok || !a.has(id) {
			continue
		}
		method := byForceMethod
		if m.Kind == measures.Rate {
			method += " Rates are defined only for territorial forces with a documented resident population, so " +
				"British Transport Police has no line."
		}
		b.WithPanel(timeSeries(m.Title+" by force", describe(m, method+disclosureNote), grafanaUnit(m.Unit), 12, 8,
			series(a, byForceSQL(a, m.ID))))
	}
	b.WithPanel(timeSeries("Any measure by force: ${measure}",
		"The measure chosen at the top of the dashboard, by force and month. What each measure means is in the "+
			"'Measures' table below. Method: "+byForceMethod+disclosureNote, "short", 24, 9,
		series(a, fmt.Sprintf("SELECT %s, force_id, value\nFROM %s.measures\nWHERE measure_id = '${measure}' AND %s AND %s\nORDER BY time, force_id",
			monthTime, a.Database, monthFilter, forceFilter))))
	b.WithPanel(tablePanel("Measures",
		"Every measure in this share: its definition, unit, which way is better, and its numerator and "+
			"denominator in plain words. Method: the catalogue table published with the share, from the hub's one "+
			"measure catalogue.", 24, 10,
		query(a, "SELECT measure_id, title, unit, direction, definition, numerator_definition, denominator_definition\nFROM "+
			a.Database+".catalogue\nORDER BY measure_id")))
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: overview %s: %w", a.ID, err)
	}
	return d, nil
}

// measureVariable is the single-select measure variable of an aggregate
// share, listing its catalogue.
func measureVariable(a Audience) *dashboard.QueryVariableBuilder {
	q := "SELECT measure_id FROM " + a.Database + ".catalogue ORDER BY measure_id"
	first := "s136_detentions"
	if len(a.Measures) > 0 && !a.has(first) {
		first = a.Measures[0].ID
	}
	return dashboard.NewQueryVariableBuilder("measure").Label("Measure").
		Description("The measure the 'any measure' chart shows.").
		Datasource(datasourceRef(a)).Query(dashboard.StringOrMap{String: &q}).Definition(q).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).Sort(dashboard.VariableSortAlphabeticalAsc).
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{String: &first},
			Value:    dashboard.StringOrArrayOfString{String: &first},
		})
}
