package chart

import (
	"math"
)

// Scale maps a domain interval linearly onto a range interval, e.g. values
// onto SVG y coordinates (a range may run backwards, as y does).
type Scale struct {
	// Domain is the interval of data values.
	Domain [2]float64
	// Range is the interval of SVG coordinates it maps onto.
	Range [2]float64
}

// Map returns the coordinate of v. A degenerate domain (one value) maps to
// the middle of the range.
func (s Scale) Map(v float64) float64 {
	d0, d1 := s.Domain[0], s.Domain[1]
	r0, r1 := s.Range[0], s.Range[1]
	if d1 == d0 {
		return (r0 + r1) / 2
	}
	return r0 + (v-d0)/(d1-d0)*(r1-r0)
}

// Box is a chart's size and margins, in SVG user units; the plot area is
// what the margins leave.
type Box struct {
	Width, Height            float64
	Left, Right, Top, Bottom float64
}

// PlotLeft returns the x of the plot area's left edge.
func (b Box) PlotLeft() float64 { return b.Left }

// PlotRight returns the x of the plot area's right edge.
func (b Box) PlotRight() float64 { return b.Width - b.Right }

// PlotTop returns the y of the plot area's top edge.
func (b Box) PlotTop() float64 { return b.Top }

// PlotBottom returns the y of the plot area's bottom edge.
func (b Box) PlotBottom() float64 { return b.Height - b.Bottom }

// Ticks returns about n evenly spaced round values (steps of 1, 2 or 5 ×
// a power of ten) whose span covers [lo, hi]: the first tick is at or below
// lo and the last at or above hi. Equal bounds are widened by one either
// side (or by a tenth of their size), so a flat series still has an axis.
func Ticks(lo, hi float64, n int) []float64 {
	if n < 2 {
		n = 2
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return []float64{0, 1}
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if lo == hi {
		pad := math.Abs(lo) / 10
		if pad == 0 {
			pad = 1
		}
		lo, hi = lo-pad, hi+pad
	}
	step := niceStep((hi - lo) / float64(n-1))
	first := math.Floor(lo/step) * step
	last := math.Ceil(hi/step) * step
	var out []float64
	for i := 0; ; i++ {
		v := first + float64(i)*step
		// Round away binary noise (0.1 × 3 = 0.30000000000000004).
		v = math.Round(v/step) * step
		out = append(out, v)
		if v >= last-step/1e6 {
			break
		}
	}
	return out
}

// niceStep returns the smallest of 1, 2, 5 or 10 × 10^k that is at least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// extent returns the least and greatest of vs, ignoring NaNs; ok is false
// when there is none.
func extent(vs []float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
		ok = true
	}
	return lo, hi, ok
}
