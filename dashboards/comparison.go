package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/xychart"

	"github.com/pathwayhub/pathwayhub/hub/measures"
)

// funnelMethod says how a funnel plot is made.
const funnelMethod = "a funnel plot (Spiegelhalter 2005) of the latest month in the time range. Each point is a " +
	"force: its value against the number of people or events it is based on (the denominator). The centre line " +
	"is the pooled proportion of all forces; the funnels are the 95% and 99.8% control limits, sin²(asin√p₀ ± " +
	"z·√(1/(4n) + τ²)) with z = 1.96 and 3.09, where τ² allows for over-dispersion between forces when there " +
	"are enough of them (0 otherwise). A force outside the 99.8% funnel differs by more than chance alone " +
	"would explain; inside, differences are noise. Forces are not ranked: position inside the funnel means " +
	"nothing. Points are the published (rounded) counts; a suppressed force has no point."

// latestFunnelMonth selects the last month of measure id's funnel table in
// the time range.
func latestFunnelMonth(a Audience, id string) string {
	return fmt.Sprintf("(SELECT max(month) FROM %s.funnel WHERE measure_id = %s AND %s)", a.Database, quote(id), monthFilter)
}

// funnelPointsSQL is one point per force.
func funnelPointsSQL(a Audience, m measures.Measure) string {
	return fmt.Sprintf("SELECT denominator, value, force_id\nFROM %s.funnel\nWHERE measure_id = %s AND suppressed = 0 AND %s\n  AND month = %s\nORDER BY denominator",
		a.Database, quote(m.ID), forceFilter, latestFunnelMonth(a, m.ID))
}

// funnelLimitsSQL draws the funnel: 60 steps of n from just above 0 to 1.2 ×
// the largest published denominator, with the limits at each.
func funnelLimitsSQL(a Audience, m measures.Measure) string {
	mult := strconv.FormatFloat(m.Multiplier, 'g', -1, 64)
	limit := func(sign, z string) string {
		return fmt.Sprintf("%s * pow(sin(least(pi() / 2, greatest(0, asin(sqrt(p0)) %s %s * sqrt(1 / (4 * n) + t2)))), 2)", mult, sign, z)
	}
	return fmt.Sprintf("SELECT n,\n  %s AS lower998,\n  %s AS lower95,\n  p0 * %s AS centre,\n  %s AS upper95,\n  %s AS upper998\n"+
		"FROM (\n  SELECT p0, t2, arrayJoin(arrayMap(i -> (i + 1) * top * 1.2 / 60, range(60))) AS n\n"+
		"  FROM (\n    SELECT any(target) / %s AS p0, if(any(adjusted) = 1, any(tau2), 0) AS t2, greatest(1, max(ifNull(denominator, 0))) AS top\n"+
		"    FROM %s.funnel\n    WHERE measure_id = %s AND month = %s\n  )\n)\nORDER BY n",
		limit("-", "3.090232"), limit("-", "1.959964"), mult, limit("+", "1.959964"), limit("+", "3.090232"),
		mult, a.Database, quote(m.ID), latestFunnelMonth(a, m.ID))
}

// matcher is an xychart field or frame matcher.
func matcher(id string, options any) *xychart.MatcherConfigBuilder {
	return xychart.NewMatcherConfigBuilder().Id(id).Options(options)
}

// xySeries maps field y of frame against field x of the same frame.
func xySeries(name string, frame int, x, y string) cog.Builder[xychart.XYSeriesConfig] {
	return xychart.NewXYSeriesConfigBuilder().
		Name(xychart.NewXychartXYSeriesConfigNameBuilder().Fixed(name)).
		Frame(xychart.NewXychartXYSeriesConfigFrameBuilder().Matcher(matcher("byIndex", frame))).
		X(xychart.NewXychartXYSeriesConfigXBuilder().Matcher(matcher("byName", x))).
		Y(xychart.NewXychartXYSeriesConfigYBuilder().Matcher(matcher("byName", y)))
}

// line are override properties that draw an xychart field as a line.
func line(colour string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{fixedColour(colour), {Id: "custom.show", Value: "lines"}}
}

// funnelPanel is the funnel plot of a proportion measure.
func funnelPanel(a Audience, m measures.Measure) *xychart.PanelBuilder {
	return xychart.NewPanelBuilder().Title(m.Title).Description(describe(m, funnelMethod)).
		Unit(grafanaUnit(m.Unit)).Span(12).Height(10).
		WithTarget(query(a, funnelPointsSQL(a, m)).RefID("A")).
		WithTarget(query(a, funnelLimitsSQL(a, m)).RefID("B")).
		Mapping(xychart.SeriesMappingManual).
		Series([]cog.Builder[xychart.XYSeriesConfig]{
			xySeries("Forces", 0, "denominator", "value"),
			xySeries("99.8% lower limit", 1, "n", "lower998"),
			xySeries("95% lower limit", 1, "n", "lower95"),
			xySeries("Centre (all forces)", 1, "n", "centre"),
			xySeries("95% upper limit", 1, "n", "upper95"),
			xySeries("99.8% upper limit", 1, "n", "upper998"),
		}).
		Show(xychart.XYShowModePoints).PointSize(xychart.NewXychartFieldConfigPointSizeBuilder().Fixed(8)).
		Legend(legend()).Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		OverrideByName("value", []dashboard.DynamicConfigValue{fixedColour(colourImprovement)}).
		OverrideByName("centre", line("green")).
		OverrideByName("lower95", line("#f2cc0c")).OverrideByName("upper95", line("#f2cc0c")).
		OverrideByName("lower998", line("red")).OverrideByName("upper998", line("red"))
}

// Comparison is the force comparison dashboard for an aggregate audience: a
// funnel plot of each proportion measure, forces as points. There are no
// ranking tables, by design.
func Comparison(a Audience) (dashboard.Dashboard, error) {
	b := newDashboard(a.ID+"-comparison", "Force comparison · "+a.ID,
		"Funnel plots comparing forces on each proportion measure, for "+a.ID, "comparison", a.Role).
		WithVariable(forceVariable(a, "funnel"))
	b.WithPanel(textPanel("How to read these charts",
		"Each chart compares forces on one measure **without ranking them**. A force's point sits at its value "+
			"(up) and the size of its caseload (across). Forces with few cases vary more by chance, so the limits "+
			"fan out to the left. Only a point **outside the red 99.8% funnel** is a difference worth asking "+
			"about; outside the yellow 95% funnel is a hint to watch. The charts show the last complete month in "+
			"the chosen time range.", 24, 4))
	for _, m := range a.funnelMeasures() {
		b.WithPanel(funnelPanel(a, m))
	}
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: comparison %s: %w", a.ID, err)
	}
	return d, nil
}
