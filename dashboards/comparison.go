package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/xychart"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// funnelMethod says how a funnel plot is made.
const funnelMethod = "a funnel plot (Spiegelhalter 2005) of the latest month in the time range. Each point is a " +
	"force: its value against the number of people or events it is based on (the denominator). The centre line " +
	"is the pooled proportion of the forces shown, from their published counts; the funnels are the 95% and 99.8% control limits, sin²(asin√p₀ ± " +
	"z·√(1/(4n) + τ²)) with z = 1.96 and 3.09, where τ² allows for over-dispersion between forces when there " +
	"are enough of them (0 otherwise). A force outside the 99.8% funnel differs by more than chance alone " +
	"would explain; inside, differences are noise. Forces are not ranked: position inside the funnel means " +
	"nothing. Points are the published (rounded) counts; a suppressed force has no point and is not pooled. A month " +
	"is plotted only when at least three forces' counts are published."

// rateFunnelMethod says how a funnel plot of a rate is made.
const rateFunnelMethod = "a funnel plot of the latest month in the time range, comparing rates as a ratio of " +
	"counts (FunnelPlotR's RC method). Each point is a unit: its rate against its residents (the denominator). The " +
	"centre line is the pooled rate of the units shown, from their published counts; the funnels are the 95% and " +
	"99.8% control limits, r₀ × exp(± z·√(1/(4n) + τ²)) with z = 1.96 and 3.09 on the log scale, where τ² allows " +
	"for over-dispersion between units when there are enough of them (0 otherwise). A unit outside the 99.8% " +
	"funnel differs by more than chance alone would explain. Units are not ranked. Points are the published " +
	"(rounded) counts; a suppressed unit has no point and is not pooled. A month is plotted only when at least " +
	"three units' counts are published."

// funnelMethodFor is how audience a's funnel plot of m is made.
func funnelMethodFor(a Audience, m measures.Measure) string {
	method := funnelMethod
	if m.Kind == measures.Rate {
		method = rateFunnelMethod
	}
	if a.byRegion() {
		method += " Here each unit is a region (an incident counts where it began), British Transport Police apart."
	}
	return method
}

// latestFunnelMonth selects the last month of measure id's funnel table in
// the time range that has a plot (some force's counts published).
func latestFunnelMonth(a Audience, id string) string {
	return fmt.Sprintf("(SELECT max(month) FROM %s.funnel WHERE measure_id = %s AND isNotNull(target) AND %s)", a.Database, sqltext.String(id), monthFilter)
}

// funnelPointsSQL is one point per force (or region).
func funnelPointsSQL(a Audience, m measures.Measure) string {
	label, filter := "force_id", forceFilter
	if a.byRegion() {
		label, filter = regionName+" AS region", regionFilter
	}
	return fmt.Sprintf("SELECT denominator, value, %s\nFROM %s.funnel\nWHERE measure_id = %s AND suppressed = 0 AND %s\n  AND month = %s\nORDER BY denominator",
		label, a.Database, sqltext.String(m.ID), filter, latestFunnelMonth(a, m.ID))
}

// funnelSteps is how many points draw each funnel limit.
const funnelSteps = 150

// funnelLimitsSQL draws the funnel: funnelSteps steps of n from just above 0
// to 1.2 × the largest published denominator, with the limits at each: on
// the arcsine scale for a proportion, on the log scale for a rate.
func funnelLimitsSQL(a Audience, m measures.Measure) string {
	mult := strconv.FormatFloat(m.Multiplier, 'g', -1, 64)
	limit := func(sign, z string) string {
		return fmt.Sprintf("%s * pow(sin(least(pi() / 2, greatest(0, asin(sqrt(p0)) %s %s * sqrt(1 / (4 * n) + t2)))), 2)", mult, sign, z)
	}
	if m.Kind == measures.Rate {
		limit = func(sign, z string) string {
			return fmt.Sprintf("%s * exp(log(p0) %s %s * sqrt(1 / (4 * n) + t2))", mult, sign, z)
		}
	}
	steps := strconv.Itoa(funnelSteps)
	return "SELECT n,\n  " + limit("-", "3.090232") + " AS lower998,\n  " + limit("-", "1.959964") + " AS lower95,\n" +
		"  p0 * " + mult + " AS centre,\n  " + limit("+", "1.959964") + " AS upper95,\n  " + limit("+", "3.090232") + " AS upper998\n" +
		"FROM (\n  SELECT p0, t2, (arrayJoin(range(" + steps + ")) + 1) * largest * 1.2 / " + steps + " AS n\n" +
		"  FROM (\n    SELECT any(target) / " + mult + " AS p0, if(any(adjusted) = 1, any(tau2), 0) AS t2, " +
		"greatest(1, max(ifNull(denominator, 0))) AS largest\n" +
		"    FROM " + a.Database + ".funnel\n    WHERE measure_id = " + sqltext.String(m.ID) + " AND month = " + latestFunnelMonth(a, m.ID) + "\n  )\n  WHERE isNotNull(p0)\n)\nORDER BY n"
}

// funnelPanel is the funnel plot of a proportion or rate measure.
func funnelPanel(a Audience, m measures.Measure) *xychart.PanelBuilder {
	return xychart.NewPanelBuilder().Title(m.Title).Description(describe(m, funnelMethodFor(a, m))).
		Unit(grafanaUnit(m.Unit)).Span(12).Height(10).
		WithTarget(query(a, funnelPointsSQL(a, m)).RefID("A")).
		WithTarget(query(a, funnelLimitsSQL(a, m)).RefID("B")).
		// Auto mapping: in each frame the first number is x and the others y
		// (the published schema cannot express manual mapping's matchers).
		Mapping(xychart.SeriesMappingAuto).
		Show(xychart.XYShowModePoints).PointSize(xychart.NewXychartFieldConfigPointSizeBuilder().Fixed(2)).
		Legend(legend()).Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		// The limits are drawn as dense small dots (funnelSteps of them), the
		// forces as large points: the published schema allows only
		// object-valued override properties, which the point size is.
		WithOverride(fields("value"), []dashboard.DynamicConfigValue{
			fixedColour(colourImprovement), {Id: "custom.pointSize", Value: map[string]any{"fixed": 10}},
		}).
		WithOverride(fields("centre"), coloured("green")).
		WithOverride(fields("lower95", "upper95"), coloured("#f2cc0c")).
		WithOverride(fields("lower998", "upper998"), coloured("red"))
}

// Comparison is the force comparison dashboard for an aggregate audience: a
// funnel plot of each proportion measure, forces as points. There are no
// ranking tables, by design.
func Comparison(a Audience) (Dashboard, error) {
	b := newDashboard(a.ID+"-comparison", "Force comparison · "+a.ID,
		"Funnel plots comparing forces on each proportion and rate measure, for "+a.ID, "comparison", a.Role).
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
