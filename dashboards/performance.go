package dashboards

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// spcMethod says how an SPC chart is made.
const spcMethod = "an XmR statistical process control chart (NHS England 'Making Data Count'). The centre " +
	"line is the mean of the baseline months (the first 12, or fewer as trial limits, restarting at known " +
	"change dates); the process limits are the mean ± 2.66 × the mean moving range. Points are coloured " +
	"when they show special cause variation: a point beyond a limit, a run of 7 rising or falling, 2 of 3 " +
	"beyond two-thirds of the way to a limit, or 7 on one side of the centre. Blue is an improvement, " +
	"orange a concern, purple a change in a measure where neither way is better; uncoloured points are " +
	"common cause variation, the system's usual noise. SPC is computed from the published (rounded) values; " +
	"a suppressed month is left out and shows no point."

// variationIcons and assuranceIcons render spc_summary's codes for people.
var (
	variationIcons = [][2]string{
		{"common_cause", "● common cause"},
		{"improvement_high", "⬆ improving (higher)"},
		{"improvement_low", "⬇ improving (lower)"},
		{"concern_high", "⬆ concern (higher)"},
		{"concern_low", "⬇ concern (lower)"},
		{"neutral_high", "⬆ special cause (higher)"},
		{"neutral_low", "⬇ special cause (lower)"},
		{"suppressed", "suppressed"},
	}
	assuranceIcons = [][2]string{
		{"consistent_pass", "✔ will meet target"},
		{"consistent_fail", "✘ will miss target"},
		{"inconsistent", "? may or may not meet target"},
	}
)

// transformSQL renders a ClickHouse transform() of col through pairs,
// keeping values not listed.
func transformSQL(col string, pairs [][2]string) string {
	from := make([]string, len(pairs))
	to := make([]string, len(pairs))
	for i, p := range pairs {
		from[i], to[i] = sqltext.String(p[0]), sqltext.String(p[1])
	}
	return fmt.Sprintf("transform(%s, [%s], [%s], %s)", col, strings.Join(from, ", "), strings.Join(to, ", "), col)
}

// summarySQL is the Making Data Count summary matrix: a row per force, a
// column per measure, each cell the variation icon and the assurance icon.
func summarySQL(a Audience) string {
	cols := make([]string, len(a.Measures))
	for i, m := range a.Measures {
		cols[i] = fmt.Sprintf("  anyIf(cell, measure_id = %s) AS `%s`", sqltext.String(m.ID), m.Title)
	}
	cell := fmt.Sprintf("if(assurance IN ('', 'suppressed'), %s, concat(%s, '  ', %s))",
		transformSQL("variation", variationIcons), transformSQL("variation", variationIcons), transformSQL("assurance", assuranceIcons))
	return fmt.Sprintf("SELECT force_id AS force,\n%s\nFROM (SELECT measure_id, force_id, %s AS cell FROM %s.spc_summary)\nWHERE %s\nGROUP BY force_id\nORDER BY force_id",
		strings.Join(cols, ",\n"), cell, a.Database, forceFilter)
}

// spcSQL is one force's SPC chart of measure m: the values, centre and
// limits, and the special-cause points as their own series.
func spcSQL(a Audience, m measures.Measure) string {
	target := ""
	if m.Target != nil {
		target = ", toFloat64(" + strconv.FormatFloat(*m.Target, 'g', -1, 64) + ") AS `" + seriesTarget + "`"
	}
	return fmt.Sprintf("SELECT %s, value AS `"+seriesValue+"`, spc_mean AS `"+seriesCentre+"`,\n"+
		"  spc_lpl AS `"+seriesLower+"`, spc_upl AS `"+seriesUpper+"`,\n"+
		"  if(spc_type = 'special_cause_improvement', value, NULL) AS `"+seriesImprovement+"`,\n"+
		"  if(spc_type = 'special_cause_concern', value, NULL) AS `"+seriesConcern+"`,\n"+
		"  if(startsWith(spc_type, 'special_cause_neutral'), value, NULL) AS `"+seriesNeutral+"`%s\n"+
		"FROM %s.measures\nWHERE measure_id = %s AND force_id = '${force}' AND %s\nORDER BY time",
		monthTime, target, a.Database, sqltext.String(m.ID), monthFilter)
}

// The series of an SPC chart, named as its legend shows them.
const (
	seriesValue       = "Monthly value"
	seriesCentre      = "Centre (mean)"
	seriesLower       = "Lower process limit"
	seriesUpper       = "Upper process limit"
	seriesImprovement = "Special cause: improvement"
	seriesConcern     = "Special cause: concern"
	seriesNeutral     = "Special cause: neither better nor worse"
	seriesTarget      = "Target"
)

// dashed are override properties that draw a series as a dashed line.
func dashed(colour string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		fixedColour(colour),
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
	}
}

// coloured are override properties that colour a series. The special-cause
// series hold a value only at their months, so they show as points over
// the monthly line.
func coloured(colour string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{fixedColour(colour)}
}

// Performance is the pathway performance dashboard for an aggregate
// audience: a Making Data Count summary matrix (forces × measures, with
// variation and assurance icons), then one SPC chart per measure and force.
func Performance(a Audience) (Dashboard, error) {
	b := newDashboard(a.ID+"-performance", "Pathway performance · "+a.ID,
		"Statistical process control of every measure in the share, force by force, for "+a.ID, "performance", a.Role).
		WithVariable(forceVariable(a, "measures"))
	matrix := tablePanel("Making Data Count summary",
		"One row per force, one column per measure. Each cell shows the variation icon of the force's latest "+
			"month (common cause, or special cause improving, concerning, or neither for measures where no "+
			"direction is better) and, for measures with a target, the assurance icon: whether the process "+
			"limits say the target will reliably be met, reliably missed, or may go either way. Method: NHS "+
			"England 'Making Data Count' rules on the XmR chart below each measure; 'suppressed' where the latest "+
			"month's count was too small to publish.", 24, 8,
		query(a, summarySQL(a)))
	matrix.Mappings(summaryMappings())
	b.WithPanel(matrix)
	for _, m := range a.Measures {
		b.WithRow(dashboard.NewRowBuilder(m.Title))
		b.WithPanel(spcPanel(a, m, "force", spcMethod, spcSQL(a, m)))
	}
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: performance %s: %w", a.ID, err)
	}
	return d, nil
}

// spcPanel is the SPC chart of measure m from sql, repeated for each value
// of variable (one unit's chart each).
func spcPanel(a Audience, m measures.Measure, variable, method, sql string) *timeseries.PanelBuilder {
	p := timeSeries(m.Title+" · ${"+variable+"}", describe(m, method+disclosureNote), grafanaUnit(m.Unit), 12, 8, series(a, sql)).
		Repeat(variable).RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(2).
		ShowPoints(common.VisibilityModeAlways).PointSize(7).
		WithOverride(fields(seriesValue), coloured(colourCommon)).
		WithOverride(fields(seriesCentre), dashed("green")).
		WithOverride(fields(seriesLower, seriesUpper), dashed(colourLimit)).
		WithOverride(fields(seriesImprovement), coloured(colourImprovement)).
		WithOverride(fields(seriesConcern), coloured(colourConcern)).
		WithOverride(fields(seriesNeutral), coloured(colourNeutral))
	if m.Target != nil {
		p.WithOverride(fields(seriesTarget), dashed("red"))
	}
	return p
}

// summaryMappings colour the summary cells by their variation.
func summaryMappings() []dashboard.ValueMapping {
	rule := func(pattern, colour string) dashboard.ValueMapping {
		return dashboard.ValueMapping{RegexMap: &dashboard.RegexMap{
			Type:    dashboard.MappingTypeRegexToText,
			Options: dashboard.DashboardRegexMapOptions{Pattern: pattern, Result: dashboard.ValueMappingResult{Color: ptr(colour)}},
		}}
	}
	return []dashboard.ValueMapping{
		rule(".*concern.*", colourConcern),
		rule(".*improving.*", colourImprovement),
		rule(".*special cause.*", colourNeutral),
	}
}
