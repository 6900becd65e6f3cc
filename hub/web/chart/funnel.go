package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
)

// FunnelUnit is one force to place on a funnel plot.
type FunnelUnit struct {
	Label       string
	Denominator float64
	Value       float64
	// Marker draws the unit: MarkerCommon within the 99.8% limits, and
	// outside them MarkerImprovement, MarkerConcern or MarkerNeutral by the
	// measure's direction.
	Marker Marker
}

// LimitsFunc gives the funnel limits at denominator n: 95% and 99.8%, lower
// and upper, on the scale of the plotted values.
type LimitsFunc func(n float64) (lower95, upper95, lower998, upper998 float64)

// FunnelLayout is a funnel plot with every element placed.
type FunnelLayout struct {
	Box Box
	// X maps a denominator to x; Y maps a value to y.
	X, Y Scale
	// Points are the units, in the order given.
	Points []Plotted
	// Centre is the centre line (the target) across the plot.
	Centre Line
	// Lower95, Upper95, Lower998 and Upper998 are the limit curves, sampled
	// along the x axis, as SVG coordinates.
	Lower95, Upper95, Lower998, Upper998 [][2]float64
	XTicks, YTicks                       []Tick
}

// FunnelBox returns the default size of a funnel plot.
func FunnelBox() Box { return Box{Width: 440, Height: 240, Left: 44, Right: 24, Top: 10, Bottom: 34} }

// funnelSamples is how many denominators each limit curve is computed at.
const funnelSamples = 48

// LayoutFunnel places a funnel plot: x from 0 to the round tick at or above
// the largest denominator (× 1.1), y over the round ticks covering every
// value, the centre and the limits at the smallest denominator plotted (or
// at a tenth of the x range, if larger), clipped to [lo, hi] when given
// (0 and 100 for percentages). The limit curves are sampled from a fiftieth
// of the x range to its end.
func LayoutFunnel(units []FunnelUnit, centre float64, limits LimitsFunc, lo, hi float64, box Box) FunnelLayout {
	l := FunnelLayout{Box: box}
	maxDen := 0.0
	minDen := math.Inf(1)
	for _, u := range units {
		maxDen = math.Max(maxDen, u.Denominator)
		minDen = math.Min(minDen, u.Denominator)
	}
	if maxDen <= 0 {
		maxDen, minDen = 1, 1
	}
	xt := Ticks(0, maxDen*1.1, 5)
	l.X = Scale{Domain: [2]float64{0, xt[len(xt)-1]}, Range: [2]float64{box.PlotLeft(), box.PlotRight()}}
	for _, t := range xt {
		l.XTicks = append(l.XTicks, Tick{At: l.X.Map(t), Label: FormatNumber(t)})
	}
	xmax := xt[len(xt)-1]
	at := math.Max(minDen, xmax/10)
	l95, u95, l998, u998 := limits(at)
	vals := []float64{centre, l95, u95, l998, u998}
	for _, u := range units {
		vals = append(vals, u.Value)
	}
	vlo, vhi, _ := extent(vals)
	vlo, vhi = math.Max(vlo, lo), math.Min(vhi, hi)
	yt := Ticks(vlo, vhi, 5)
	l.Y = Scale{Domain: [2]float64{yt[0], yt[len(yt)-1]}, Range: [2]float64{box.PlotBottom(), box.PlotTop()}}
	for _, t := range yt {
		l.YTicks = append(l.YTicks, Tick{At: l.Y.Map(t), Label: FormatNumber(t)})
	}
	for i := range funnelSamples {
		n := xmax/50 + (xmax-xmax/50)*float64(i)/float64(funnelSamples-1)
		a, b, c, d := limits(n)
		x := l.X.Map(n)
		l.Lower95 = append(l.Lower95, [2]float64{x, l.Y.Map(a)})
		l.Upper95 = append(l.Upper95, [2]float64{x, l.Y.Map(b)})
		l.Lower998 = append(l.Lower998, [2]float64{x, l.Y.Map(c)})
		l.Upper998 = append(l.Upper998, [2]float64{x, l.Y.Map(d)})
	}
	l.Centre = Line{X1: box.PlotLeft(), X2: box.PlotRight(), Y: l.Y.Map(centre), Value: centre}
	for _, u := range units {
		l.Points = append(l.Points, Plotted{X: l.X.Map(u.Denominator), Y: l.Y.Map(u.Value), Value: u.Value, Label: u.Label, Marker: u.Marker})
	}
	return l
}

// SVG writes the funnel plot; id must be unique in the page (it names the
// clip path that keeps the curves inside the plot).
func (l FunnelLayout) SVG(id, title, desc string) template.HTML {
	var b svgBuilder
	b.open(l.Box, "funnel", title, desc)
	clip := "clip-" + id
	fmt.Fprintf(&b, `<defs><clipPath id="%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>`, html.EscapeString(clip),
		coord(l.Box.PlotLeft()), coord(l.Box.PlotTop()), coord(l.Box.PlotRight()-l.Box.PlotLeft()), coord(l.Box.PlotBottom()-l.Box.PlotTop()))
	b.axes(l.Box, l.XTicks, l.YTicks)
	fmt.Fprintf(&b, `<g clip-path="url(#%s)">`, html.EscapeString(clip))
	b.polyline(l.Lower998, "limit998")
	b.polyline(l.Upper998, "limit998")
	b.polyline(l.Lower95, "limit95")
	b.polyline(l.Upper95, "limit95")
	b.WriteString(`</g>`)
	b.line(l.Centre, "mean")
	for _, p := range l.Points {
		b.marker(p)
		fmt.Fprintf(&b, `<text class="unit-label" x="%s" y="%s">%s</text>`, coord(p.X+6), coord(p.Y-6), html.EscapeString(p.Label))
	}
	b.close()
	return template.HTML(b.String()) //nolint:gosec // built from escaped text and numbers only
}
