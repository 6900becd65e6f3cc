package spc

import "math"

// rMean returns the mean of xs exactly as R's mean() computes it for doubles:
// a sum in extended precision, divided by n, then corrected by the mean of
// the residuals, and only then rounded to a double. A plain float64 sum can
// differ in the last bit, which decides whether a point lies exactly on the
// centre line or a limit. It returns NaN for no values, as R does.
func rMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	n := uint64(len(xs))
	var s ext
	for _, v := range xs {
		s = s.add(toExt(v))
	}
	s = s.quo(n)
	if f := s.float64(); math.IsInf(f, 0) {
		return f
	}
	minusS := s
	minusS.neg = !s.neg
	var t ext
	for _, v := range xs {
		t = t.add(toExt(v).add(minusS))
	}
	return s.add(t.quo(n)).float64()
}

// limits are one period's centre line and limits.
type limits struct {
	mean, meanMR         float64
	lpl, upl, nlpl, nupl float64
	movingRanges         []float64 // per point; NaN where there is none
	baseline             int       // points the limits come from
}

// periodLimits computes the centre line and limits of one period from its
// first baseline values.
func periodLimits(values []float64, opts Options) limits {
	l := limits{baseline: len(values)}
	if opts.FixAfterN > 0 && opts.FixAfterN < len(values) {
		l.baseline = opts.FixAfterN
	}
	base := values[:l.baseline]
	l.mean = rMean(base)

	l.movingRanges = make([]float64, len(values))
	kept := make([]float64, 0, len(base))
	for i := range l.movingRanges {
		l.movingRanges[i] = math.NaN()
		if i > 0 && i < len(base) {
			l.movingRanges[i] = math.Abs(base[i] - base[i-1])
			kept = append(kept, l.movingRanges[i])
		}
	}
	l.meanMR = rMean(kept)
	if !opts.NoOutlierScreening {
		// The explicit float64 conversions here and below keep each product
		// rounded on its own, as in R, so no platform may fuse it into an
		// add (the Go specification allows fusing otherwise).
		cut := float64(screenFactor * l.meanMR)
		kept = kept[:0]
		for i, mr := range l.movingRanges {
			if mr < cut {
				kept = append(kept, mr)
			} else {
				l.movingRanges[i] = math.NaN()
			}
		}
		l.meanMR = rMean(kept)
	}

	// The reference computes 2 × (2.66 / 3) in doubles at run time; a
	// constant expression would be evaluated exactly and could differ in
	// the last bit.
	limit := limitFactor
	near := 2 * (limit / 3)
	l.lpl = l.mean - float64(limit*l.meanMR)
	l.upl = l.mean + float64(limit*l.meanMR)
	l.nlpl = l.mean - float64(near*l.meanMR)
	l.nupl = l.mean + float64(near*l.meanMR)
	return l
}

// analysePeriod fills out with the analysis of one period's points.
func analysePeriod(points []Point, opts Options, out []PointResult) {
	values := make([]float64, len(points))
	for i, p := range points {
		values[i] = p.Value
	}
	l := periodLimits(values, opts)
	rtm := make([]int, len(points))
	closeTo := make([]bool, len(points))
	outside := make([]bool, len(points))
	for i, p := range points {
		y := p.Value
		outside[i] = y > l.upl || y < l.lpl
		rtm[i] = signOf(y - l.mean)
		closeTo[i] = !outside[i] && (y < l.nlpl || y > l.nupl)
		out[i] = PointResult{
			Point:           p,
			Baseline:        i < l.baseline,
			Mean:            l.mean,
			LPL:             l.lpl,
			UPL:             l.upl,
			NearLPL:         l.nlpl,
			NearUPL:         l.nupl,
			MeanMovingRange: l.meanMR,
			MovingRange:     l.movingRanges[i],
			OutsideLimits:   outside[i],
			RelativeToMean:  rtm[i],
			CloseToLimits:   closeTo[i],
		}
	}
	rules := specialCauses(values, rtm, closeTo, outside, opts)
	for i, r := range rules {
		out[i].Rule = r
		out[i].Type = pointType(r, opts.Improvement)
	}
}

// signOf returns the sign of d: 1, 0 or −1 (0 for NaN, which cannot occur
// as the values and the mean are finite).
func signOf(d float64) int {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	default:
		return 0
	}
}
