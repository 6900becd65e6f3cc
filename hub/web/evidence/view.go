package evidence

import (
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/funnel"
	"github.com/pathwayhub/pathwayhub/hub/web/chart"
	"github.com/pathwayhub/pathwayhub/policy"
)

// forceName returns a unit's name for people: a force's, or in a national
// lead's comparison of regions a region's (measures.UnitName); else its id.
func forceName(id string) string {
	switch id {
	case "btp":
		return "British Transport Police"
	case "metropolitan":
		return "Metropolitan Police Service"
	case "city-of-london":
		return "City of London Police"
	default:
		return measures.UnitName(id)
	}
}

// page is what the page template renders.
type page struct {
	Report Report
	Title  string
	Period string
	Forces []string
	// Unit is what the columns are: "force", or "region" in a national
	// lead's comparison of regions.
	Unit   string
	Matrix []matrixRow
	// Months is the month-status grid: one row per force, the last
	// twelve months of the period as columns.
	Months   monthGrid
	Sections []section
	// PackURL is the pack download link, when packs may be made from the
	// page (not inside a pack).
	PackURL string
}

type monthGrid struct {
	Months []string
	Rows   []monthGridRow
}

type monthGridRow struct {
	Force  string
	States []string
}

// monthStateText words a month's state for the page.
var monthStateText = map[string]string{
	"provisional": "provisional", "approved": "approved", "revised_after_approval": "revised after approval",
}

// newMonthGrid lays out the last twelve months of the report's month
// statuses, a row per force.
func newMonthGrid(r Report) monthGrid {
	var g monthGrid
	if len(r.Months) == 0 {
		return g
	}
	first := r.To.AddDate(0, -11, 0)
	if first.Before(r.From) {
		first = r.From
	}
	var months []time.Time
	for m := first; !m.After(r.To); m = m.AddDate(0, 1, 0) {
		months = append(months, m)
		g.Months = append(g.Months, m.Format("Jan 2006"))
	}
	byForce := map[string]map[time.Time]string{}
	for _, ms := range r.Months {
		if byForce[ms.Force] == nil {
			byForce[ms.Force] = map[time.Time]string{}
		}
		byForce[ms.Force][ms.Month] = ms.State
	}
	for _, f := range slices.Sorted(maps.Keys(byForce)) {
		row := monthGridRow{Force: f}
		for _, m := range months {
			st := monthStateText[byForce[f][m]]
			if st == "" {
				st = "provisional"
			}
			row.States = append(row.States, st)
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

type matrixRow struct {
	ID, Title string
	Cells     []matrixCell
}

type matrixCell struct {
	Force                string
	Has                  bool
	Variation, Assurance string
}

type section struct {
	Measure Measure
	Charts  []figure
	Funnel  *figure
	Table   table
}

type figure struct {
	ID, Caption, Alt string
	SVG              template.HTML
	// Variation and Assurance are the series' icons (SPC charts only).
	Variation, Assurance string
}

type table struct {
	Caption string
	Forces  []string
	Columns []string // sub-columns per force
	Rows    []tableRow
}

type tableRow struct {
	Month string
	Cells []tableCell
}

type tableCell struct {
	Text       string
	Count      bool // a disclosure-controlled count
	Suppressed bool
}

// newPage builds the page of a report.
func newPage(r Report, packURL string) page {
	p := page{
		Report:  r,
		Title:   "Evidence for " + r.Recipient,
		Period:  r.From.Format("January 2006") + " to " + r.To.Format("January 2006"),
		PackURL: packURL,
		Unit:    "force",
		Months:  newMonthGrid(r),
	}
	if r.Provenance.Role == policy.RoleNationalLead {
		p.Unit = "region"
	}
	seen := map[string]bool{}
	for _, m := range r.Measures {
		for _, s := range m.Series {
			if !seen[s.Force] {
				seen[s.Force] = true
				p.Forces = append(p.Forces, s.Force)
			}
		}
	}
	p.Forces = slices.Sorted(maps.Keys(seen))
	funnels := map[string]Funnel{}
	for _, f := range r.Funnels {
		funnels[f.MeasureID] = f
	}
	for _, m := range r.Measures {
		row := matrixRow{ID: m.ID, Title: m.Title}
		for _, force := range p.Forces {
			c := matrixCell{Force: force}
			for _, s := range m.Series {
				if s.Force == force {
					c = matrixCell{Force: force, Has: true, Variation: s.Variation, Assurance: s.Assurance}
				}
			}
			row.Cells = append(row.Cells, c)
		}
		p.Matrix = append(p.Matrix, row)
		sec := section{Measure: m, Table: measureTable(m)}
		for _, s := range m.Series {
			sec.Charts = append(sec.Charts, spcFigure(m, s))
		}
		if f, ok := funnels[m.ID]; ok {
			fig := funnelFigure(m, f)
			sec.Funnel = &fig
		}
		p.Sections = append(p.Sections, sec)
	}
	return p
}

// unitSuffix writes a value with its unit: "45.2%", "38 minutes".
func withUnit(v float64, unit string) string {
	if unit == "%" {
		return chart.FormatNumber(v) + "%"
	}
	return chart.FormatNumber(v) + " " + unit
}

func spcFigure(m Measure, s Series) figure {
	// Every measure is at least 0 and a percentage at most 100: limits
	// beyond are drawn at the bound (the text alternative gives them as
	// published).
	hi := math.Inf(1)
	if m.Unit == "%" {
		hi = 100
	}
	pts := make([]chart.SPCPoint, len(s.Points))
	for i, p := range s.Points {
		pts[i] = chart.SPCPoint{Label: month(p.Month), Value: p.Value, Mean: p.Mean, LPL: clamp(p.LPL, 0, hi), UPL: clamp(p.UPL, 0, hi), Type: p.Type}
	}
	title := fmt.Sprintf("%s: %s, %s", m.Title, forceName(s.Force), "SPC chart")
	alt := spcAlt(m, s)
	id := "spc-" + m.ID + "-" + s.Force
	return figure{
		ID: id, Alt: alt, Variation: s.Variation, Assurance: s.Assurance,
		Caption: fmt.Sprintf("%s, %s (%s), by month; limits computed from the published values. %s", m.Title, forceName(s.Force), m.Unit, alt),
		SVG:     chart.LayoutSPC(pts, m.Target, chart.SPCBox()).SVG(title, alt),
	}
}

// clamp returns v limited to [lo, hi]; nil stays nil.
func clamp(v *float64, lo, hi float64) *float64 {
	if v == nil {
		return nil
	}
	c := math.Min(math.Max(*v, lo), hi)
	return &c
}

// spcAlt is the text alternative of an SPC chart: the latest value, its
// signal, and the limits.
func spcAlt(m Measure, s Series) string {
	var b strings.Builder
	last, ok := s.Latest()
	if !ok {
		b.WriteString("No value can be shown in the period: every month is suppressed or undefined.")
		return b.String()
	}
	if n := s.Points[len(s.Points)-1]; n.Month.After(last.Month) {
		fmt.Fprintf(&b, "%s is suppressed or undefined. ", n.Month.Format("January 2006"))
	}
	fmt.Fprintf(&b, "Latest value %s in %s: %s.", withUnit(*last.Value, m.Unit), last.Month.Format("January 2006"), signalText(last.Type))
	if last.Mean != nil && last.LPL != nil && last.UPL != nil {
		fmt.Fprintf(&b, " Centre %s, process limits %s to %s.", chart.FormatNumber(*last.Mean), chart.FormatNumber(*last.LPL), chart.FormatNumber(*last.UPL))
	}
	fmt.Fprintf(&b, " Series: %s.", chart.VariationLabel(s.Variation))
	return b.String()
}

func signalText(t string) string {
	switch t {
	case "special_cause_improvement":
		return "special cause, improvement"
	case "special_cause_concern":
		return "special cause, concern"
	case "special_cause_neutral_high":
		return "special cause, high"
	case "special_cause_neutral_low":
		return "special cause, low"
	case "common_cause":
		return "common cause"
	default:
		return "no SPC signal"
	}
}

// funnelResult rebuilds the funnel's limits from the published target and
// over-dispersion, so the curves are drawn with the same formula that
// placed each force (the published limits are at each force's own
// denominator only).
func funnelResult(m Measure, f Funnel) funnel.Result {
	mult := m.Multiplier
	if mult == 0 {
		mult = 1
	}
	return funnel.Result{Kind: funnel.Proportion, Multiplier: mult, Target: f.Target / mult, Phi: f.Phi, Tau2: f.Tau2, Adjusted: f.Adjusted}
}

func funnelFigure(m Measure, f Funnel) figure {
	res := funnelResult(m, f)
	limits := func(n float64) (float64, float64, float64, float64) {
		l := res.Limits(n)
		return l.Lower95, l.Upper95, l.Lower998, l.Upper998
	}
	var units []chart.FunnelUnit
	var parts, hidden []string
	for _, u := range f.Units {
		if u.Suppressed || u.Value == nil || u.Denominator == nil {
			hidden = append(hidden, forceName(u.Force))
			continue
		}
		units = append(units, chart.FunnelUnit{Label: u.Force, Denominator: *u.Denominator, Value: *u.Value, Marker: funnelMarker(m.Direction, u.Position998)})
		parts = append(parts, fmt.Sprintf("%s %s of %s, %s", forceName(u.Force), withUnit(*u.Value, m.Unit), chart.FormatNumber(*u.Denominator), positionText(u.Position998)))
	}
	alt := fmt.Sprintf("Funnel plot for %s: centre %s.", f.Month.Format("January 2006"), withUnit(f.Target, m.Unit))
	if len(parts) > 0 {
		alt += " " + strings.Join(parts, "; ") + "."
	}
	if len(hidden) > 0 {
		alt += " Not shown (suppressed): " + strings.Join(hidden, ", ") + "."
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if m.Unit == "%" {
		lo, hi = 0, 100
	}
	id := "funnel-" + m.ID
	title := m.Title + ": funnel plot comparing forces"
	return figure{
		ID: id, Alt: alt,
		Caption: fmt.Sprintf("%s by force against its denominator, %s, with 95%% and 99.8%% limits computed from the published counts of the forces shown. %s", m.Title, f.Month.Format("January 2006"), alt),
		SVG:     chart.LayoutFunnel(units, f.Target, limits, lo, hi, chart.FunnelBox()).SVG(id, title, alt),
	}
}

func funnelMarker(direction, position string) chart.Marker {
	if position != "high" && position != "low" {
		return chart.MarkerCommon
	}
	switch {
	case direction == "neutral":
		return chart.MarkerNeutral
	case (direction == "higher") == (position == "high"):
		return chart.MarkerImprovement
	default:
		return chart.MarkerConcern
	}
}

func positionText(p string) string {
	switch p {
	case "high":
		return "above the 99.8% limit"
	case "low":
		return "below the 99.8% limit"
	default:
		return "within the 99.8% limits"
	}
}

// columnsOf are a measure kind's table columns per force, and which of
// them hold disclosure-controlled counts.
func columnsOf(kind string) (names []string, counts []bool) {
	switch kind {
	case "count":
		return []string{"count"}, []bool{true}
	case "proportion":
		return []string{"value", "numerator", "denominator"}, []bool{false, true, true}
	case "rate":
		return []string{"value", "numerator", "population"}, []bool{false, true, false}
	case "median":
		return []string{"value", "observations"}, []bool{false, true}
	default: // ratio
		return []string{"value", "observed", "expected"}, []bool{false, true, false}
	}
}

// cellsOf returns a point's table cells in columnsOf order.
func cellsOf(kind string, p *Point) []tableCell {
	names, counts := columnsOf(kind)
	if p == nil {
		out := make([]tableCell, len(names))
		for i := range out {
			out[i] = tableCell{Text: "–"}
		}
		return out
	}
	var vals []*float64
	switch kind {
	case "count":
		vals = []*float64{p.Value}
	case "median":
		vals = []*float64{p.Value, p.Denominator}
	default:
		vals = []*float64{p.Value, p.Numerator, p.Denominator}
	}
	out := make([]tableCell, len(names))
	for i, v := range vals {
		c := tableCell{Count: counts[i], Text: "–"}
		switch {
		case v != nil:
			c.Text = chart.FormatNumber(*v)
		case p.Suppressed:
			c.Suppressed = true
			c.Text = "[c]"
		}
		out[i] = c
	}
	return out
}

func measureTable(m Measure) table {
	names, _ := columnsOf(m.Kind)
	t := table{Caption: fmt.Sprintf("%s (%s) by force and month, as published", m.Title, m.Unit), Columns: names}
	months := map[time.Time]map[string]*Point{}
	for _, s := range m.Series {
		t.Forces = append(t.Forces, s.Force)
		for i := range s.Points {
			p := &s.Points[i]
			if months[p.Month] == nil {
				months[p.Month] = map[string]*Point{}
			}
			months[p.Month][s.Force] = p
		}
	}
	var order []time.Time
	for mo := range months {
		order = append(order, mo)
	}
	sortTimes(order)
	for _, mo := range order {
		row := tableRow{Month: month(mo)}
		for _, f := range t.Forces {
			row.Cells = append(row.Cells, cellsOf(m.Kind, months[mo][f])...)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func sortTimes(ts []time.Time) { slices.SortFunc(ts, time.Time.Compare) }
