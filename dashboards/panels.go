package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/text"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/pathwayhub/pathwayhub/hub/measures"
)

// The SQL fragments panels share.
const (
	// forceFilter keeps the forces chosen in the force variable, or every
	// force when it is All.
	forceFilter = "$__conditionalAll(force_id IN (${force:singlequote}), $force)"
	// monthTime is a month as the time column of a time series.
	monthTime = "toDateTime(month) AS time"
	// monthFilter keeps the months in the dashboard's time range.
	monthFilter = "$__dateFilter(month)"
)

// Colours of SPC point types, as NHS "Making Data Count" uses them.
const (
	colourImprovement = "blue"
	colourConcern     = "orange"
	colourNeutral     = "purple"
	colourCommon      = "text"
	colourLimit       = "#8e8e8e"
)

// grafanaUnit maps a catalogue unit to a Grafana unit id.
func grafanaUnit(unit string) string {
	switch unit {
	case "%":
		return "percent"
	case "minutes":
		return "m"
	case "officer hours":
		return "h"
	case "per 100,000 residents":
		return "suffix: per 100k"
	default:
		return "short"
	}
}

// describe is a panel description: what the measure is, then how the
// panel shows it.
func describe(m measures.Measure, method string) string {
	better := map[measures.Direction]string{
		measures.Higher:  "Higher is better.",
		measures.Lower:   "Lower is better.",
		measures.Neutral: "Neither higher nor lower is better in itself.",
	}[m.Direction]
	return m.Definition + " " + better + " Method: " + method
}

// disclosureNote says what disclosure control did to the numbers.
const disclosureNote = " Counts are after the agreement's disclosure control: small counts are suppressed " +
	"(shown as gaps) and the rest rounded, so totals may not add up exactly."

// tooltip is a multi-series tooltip, which the timeseries schema needs set.
func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone)
}

// legend is a legend below the chart.
func legend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).
		Placement(common.LegendPlacementBottom).ShowLegend(true).Calcs([]string{})
}

// timeSeries is a line chart of one or more targets.
func timeSeries(title, description, unit string, w, h uint32, targets ...cog.Builder[variants.Dataquery]) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Span(w).Height(h).Targets(targets).Tooltip(tooltip()).Legend(legend()).
		LineWidth(2).FillOpacity(0).ShowPoints(common.VisibilityModeAuto).
		SpanNulls(common.BoolOrFloat64{Bool: ptr(false)})
}

// statPanel is a big number.
func statPanel(title, description, unit string, w, h uint32, target cog.Builder[variants.Dataquery]) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Span(w).Height(h).WithTarget(target).Orientation(common.VizOrientationAuto).
		GraphMode(common.BigValueGraphModeNone).ColorMode(common.BigValueColorModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

// tablePanel is a table of rows.
func tablePanel(title, description string, w, h uint32, target cog.Builder[variants.Dataquery]) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(description).
		Span(w).Height(h).WithTarget(target).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{})).
		CellHeight(common.TableCellHeightSm)
}

// textPanel is a note in Markdown.
func textPanel(title, markdown string, w, h uint32) *text.PanelBuilder {
	return text.NewPanelBuilder().Title(title).Span(w).Height(h).
		Mode(text.TextModeMarkdown).Content(markdown)
}

// fields matches fields by name. Grafana's byNames matcher is used rather
// than byName because its options are an object, as the published dashboard
// schema requires of every matcher's options (and of every override value,
// so overrides here set only object-valued properties: colour, line style).
func fields(names ...string) dashboard.MatcherConfig {
	return dashboard.MatcherConfig{Id: "byNames", Options: map[string]any{"mode": "include", "names": names}}
}

// fixedColour is a field override's colour.
func fixedColour(c string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}
}

func ptr[T any](v T) *T { return &v }
