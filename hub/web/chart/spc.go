package chart

import (
	"html/template"
	"strings"
)

// Marker is how a plotted point is drawn. Each marker has its own shape and
// fill, so a chart printed in greyscale still tells them apart.
type Marker string

// The markers of an SPC chart, by the point's SPC type.
const (
	// MarkerCommon is common-cause variation: a small grey dot.
	MarkerCommon Marker = "common"
	// MarkerImprovement is special cause in the improving direction: a
	// large filled circle.
	MarkerImprovement Marker = "improvement"
	// MarkerConcern is special cause in the concerning direction: a large
	// filled square.
	MarkerConcern Marker = "concern"
	// MarkerNeutral is special cause of a measure with no better direction:
	// a large hollow circle.
	MarkerNeutral Marker = "neutral"
)

// MarkerFor returns the marker of an SPC point type as the share publishes
// it (spc_type).
func MarkerFor(spcType string) Marker {
	switch {
	case spcType == "special_cause_improvement":
		return MarkerImprovement
	case spcType == "special_cause_concern":
		return MarkerConcern
	case strings.HasPrefix(spcType, "special_cause_neutral"):
		return MarkerNeutral
	default:
		return MarkerCommon
	}
}

// SPCPoint is one month of a series to plot. A nil Value (suppressed or
// undefined) is left out; nil limits leave a gap in their lines.
type SPCPoint struct {
	// Label names the x position, e.g. "2026-03".
	Label string
	Value *float64
	// Mean, LPL and UPL are the centre line and process limits at this point.
	Mean, LPL, UPL *float64
	// Type is the point's SPC type, e.g. "special_cause_concern".
	Type string
}

// Plotted is one point placed on a chart.
type Plotted struct {
	X, Y   float64
	Value  float64
	Label  string
	Marker Marker
}

// Line is a horizontal segment of a centre line or limit, from X1 to X2 at
// Y, carrying the value it shows.
type Line struct {
	X1, X2, Y float64
	Value     float64
}

// Tick is an axis tick: a coordinate and its label.
type Tick struct {
	At    float64
	Label string
}

// SPCLayout is an SPC chart with every element placed.
type SPCLayout struct {
	Box Box
	// X maps a point's index to x; Y maps a value to y.
	X, Y Scale
	// Points are the plotted values, in order.
	Points []Plotted
	// Mean, LPL and UPL are the centre line and process limits: one segment
	// per run of consecutive points with the same value (a new run starts
	// where the limits are rebased).
	Mean, LPL, UPL []Line
	// Target is the target line across the plot, when there is a target.
	Target *Line
	// XTicks label months; YTicks label values.
	XTicks, YTicks []Tick
}

// SPCBox returns the default size of an SPC chart.
func SPCBox() Box { return Box{Width: 360, Height: 200, Left: 44, Right: 24, Top: 10, Bottom: 34} }

// LayoutSPC places an SPC chart's points, lines and ticks in box. Point i
// is at x = X.Map(i), the x scale running from the first to the last point
// across the plot area (one point sits in the middle); the y scale spans the
// round ticks that cover every value, limit and the target.
func LayoutSPC(points []SPCPoint, target *float64, box Box) SPCLayout {
	l := SPCLayout{Box: box}
	n := len(points)
	l.X = Scale{Domain: [2]float64{0, float64(max(n-1, 0))}, Range: [2]float64{box.PlotLeft(), box.PlotRight()}}
	var all []float64
	for _, p := range points {
		for _, v := range []*float64{p.Value, p.Mean, p.LPL, p.UPL} {
			if v != nil {
				all = append(all, *v)
			}
		}
	}
	if target != nil {
		all = append(all, *target)
	}
	lo, hi, ok := extent(all)
	if !ok {
		lo, hi = 0, 1
	}
	ticks := Ticks(lo, hi, 5)
	l.Y = Scale{Domain: [2]float64{ticks[0], ticks[len(ticks)-1]}, Range: [2]float64{box.PlotBottom(), box.PlotTop()}}
	for _, t := range ticks {
		l.YTicks = append(l.YTicks, Tick{At: l.Y.Map(t), Label: FormatNumber(t)})
	}
	every := max(1, (n+5)/6)
	for i, p := range points {
		x := l.X.Map(float64(i))
		if (n-1-i)%every == 0 { // counted back from the last month, which is always labelled
			l.XTicks = append(l.XTicks, Tick{At: x, Label: p.Label})
		}
		if p.Value != nil {
			l.Points = append(l.Points, Plotted{X: x, Y: l.Y.Map(*p.Value), Value: *p.Value, Label: p.Label, Marker: MarkerFor(p.Type)})
		}
	}
	half := 0.0
	if n > 1 {
		half = (l.X.Map(1) - l.X.Map(0)) / 2
	} else {
		half = (box.PlotRight() - box.PlotLeft()) / 4
	}
	l.Mean = runs(points, func(p SPCPoint) *float64 { return p.Mean }, l.X, l.Y, half)
	l.LPL = runs(points, func(p SPCPoint) *float64 { return p.LPL }, l.X, l.Y, half)
	l.UPL = runs(points, func(p SPCPoint) *float64 { return p.UPL }, l.X, l.Y, half)
	if target != nil {
		l.Target = &Line{X1: box.PlotLeft(), X2: box.PlotRight(), Y: l.Y.Map(*target), Value: *target}
	}
	return l
}

// runs turns a per-point line value into segments, one per run of equal
// consecutive values; a run of one point is drawn half a step either side.
func runs(points []SPCPoint, get func(SPCPoint) *float64, xs, ys Scale, half float64) []Line {
	var out []Line
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		v := *get(points[start])
		x1, x2 := xs.Map(float64(start)), xs.Map(float64(end))
		if start == end {
			x1, x2 = x1-half, x2+half
		}
		out = append(out, Line{X1: x1, X2: x2, Y: ys.Map(v), Value: v})
		start = -1
	}
	for i, p := range points {
		v := get(p)
		switch {
		case v == nil:
			flush(i - 1)
		case start >= 0 && *get(points[start]) != *v:
			flush(i - 1)
			start = i
		case start < 0:
			start = i
		}
	}
	flush(len(points) - 1)
	return out
}

// SVG writes the chart. title is its accessible name (the <title>) and desc
// its text alternative (the <desc>, e.g. the latest value and signal).
func (l SPCLayout) SVG(title, desc string) template.HTML {
	var b svgBuilder
	b.open(l.Box, "spc", title, desc)
	b.axes(l.Box, l.XTicks, l.YTicks)
	for _, ln := range l.LPL {
		b.line(ln, "limit")
	}
	for _, ln := range l.UPL {
		b.line(ln, "limit")
	}
	for _, ln := range l.Mean {
		b.line(ln, "mean")
	}
	if l.Target != nil {
		b.line(*l.Target, "target")
	}
	if len(l.Points) > 1 {
		pts := make([][2]float64, len(l.Points))
		for i, p := range l.Points {
			pts[i] = [2]float64{p.X, p.Y}
		}
		b.polyline(pts, "series")
	}
	for _, p := range l.Points {
		b.marker(p)
	}
	b.close()
	return template.HTML(b.String()) //nolint:gosec // built from escaped text and numbers only
}
