package chart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// FormatNumber writes v with at most one decimal place and no trailing
// zeros, as the pages and packs show numbers: 12, 12.5, -0.3.
func FormatNumber(v float64) string {
	r := math.Round(v*10) / 10
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// coord writes an SVG coordinate with two decimals at most.
func coord(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// svgBuilder writes SVG elements. Every text it writes is escaped.
type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) open(box Box, class, title, desc string) {
	fmt.Fprintf(b, `<svg class="chart %s" role="img" viewBox="0 0 %s %s" width="%s" height="%s" xmlns="http://www.w3.org/2000/svg" aria-label="%s">`,
		class, coord(box.Width), coord(box.Height), coord(box.Width), coord(box.Height), html.EscapeString(title+". "+desc))
	fmt.Fprintf(b, `<title>%s</title><desc>%s</desc>`, html.EscapeString(title), html.EscapeString(desc))
}

func (b *svgBuilder) close() { b.WriteString(`</svg>`) }

func (b *svgBuilder) axes(box Box, xticks, yticks []Tick) {
	l, r, t, bo := coord(box.PlotLeft()), coord(box.PlotRight()), coord(box.PlotTop()), coord(box.PlotBottom())
	b.WriteString(`<g class="axes" aria-hidden="true">`)
	for _, tk := range yticks {
		y := coord(tk.At)
		fmt.Fprintf(b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, l, r, y, y)
		fmt.Fprintf(b, `<text class="ytick" x="%s" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`,
			coord(box.PlotLeft()-4), y, html.EscapeString(tk.Label))
	}
	for _, tk := range xticks {
		x := coord(tk.At)
		fmt.Fprintf(b, `<line class="tick" x1="%s" x2="%s" y1="%s" y2="%s"/>`, x, x, bo, coord(box.PlotBottom()+4))
		fmt.Fprintf(b, `<text class="xtick" x="%s" y="%s" text-anchor="middle">%s</text>`, x, coord(box.PlotBottom()+15), html.EscapeString(tk.Label))
	}
	fmt.Fprintf(b, `<path class="frame" d="M%s %sV%sH%s"/>`, l, t, bo, r)
	b.WriteString(`</g>`)
}

func (b *svgBuilder) line(ln Line, class string) {
	fmt.Fprintf(b, `<line class="%s" x1="%s" x2="%s" y1="%s" y2="%s"/>`, class, coord(ln.X1), coord(ln.X2), coord(ln.Y), coord(ln.Y))
}

func (b *svgBuilder) polyline(pts [][2]float64, class string) {
	fmt.Fprintf(b, `<polyline class="%s" points="`, class)
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(coord(p[0]) + "," + coord(p[1]))
	}
	b.WriteString(`"/>`)
}

// marker draws a point: a circle, square or hollow circle by its marker,
// with a tooltip of its label and value.
func (b *svgBuilder) marker(p Plotted) {
	tip := fmt.Sprintf(`<title>%s: %s</title>`, html.EscapeString(p.Label), FormatNumber(p.Value))
	x, y := coord(p.X), coord(p.Y)
	switch p.Marker {
	case MarkerConcern:
		fmt.Fprintf(b, `<rect class="pt pt-concern" x="%s" y="%s" width="8" height="8">%s</rect>`, coord(p.X-4), coord(p.Y-4), tip)
	case MarkerImprovement:
		fmt.Fprintf(b, `<circle class="pt pt-improvement" cx="%s" cy="%s" r="4.5">%s</circle>`, x, y, tip)
	case MarkerNeutral:
		fmt.Fprintf(b, `<circle class="pt pt-neutral" cx="%s" cy="%s" r="4.5">%s</circle>`, x, y, tip)
	default:
		fmt.Fprintf(b, `<circle class="pt pt-common" cx="%s" cy="%s" r="2.5">%s</circle>`, x, y, tip)
	}
}
