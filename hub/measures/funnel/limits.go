package funnel

import "math"

// Standard normal quantiles for the two pairs of limits: Φ⁻¹(0.975) and
// Φ⁻¹(0.999). FunnelPlotR writes them to 7 significant figures (1.959964,
// 3.090232); the exact values move its limits by less than 1e-7.
const (
	z95  = 1.959963984540054
	z998 = 3.090232306167813
)

// Limits are the funnel limits at one denominator, multiplied by the
// Multiplier like the plotted values.
type Limits struct {
	Lower95  float64
	Upper95  float64
	Lower998 float64
	Upper998 float64
}

// Limits returns the limits in use at denominator n (a population for
// proportions, an expected count for ratios, the denominator count for
// ratios of counts): the over-dispersion-adjusted limits when r.Adjusted,
// else the unadjusted ones. A chart draws the funnel by calling it along
// the x axis. For n ≤ 0 every limit is NaN.
func (r Result) Limits(n float64) Limits {
	if r.Adjusted {
		return r.AdjustedLimits(n)
	}
	return r.UnadjustedLimits(n)
}

// AdjustedLimits returns the limits at denominator n with the between-unit
// variance Tau2 added (the "OD" limits); with Tau2 = 0 they are the normal
// approximation on the comparison scale.
func (r Result) AdjustedLimits(n float64) Limits {
	if !(n > 0) {
		return nanLimits()
	}
	sd := math.Sqrt(r.se(n)*r.se(n) + r.Tau2)
	return r.normalLimits(sd)
}

// UnadjustedLimits returns the limits at denominator n without
// over-dispersion: for proportions the normal approximation on the
// arcsine-square-root scale, for ratios of counts on the log scale, and
// for ratios the exact Poisson limits.
func (r Result) UnadjustedLimits(n float64) Limits {
	if !(n > 0) {
		return nanLimits()
	}
	if r.Kind == Ratio {
		return r.poissonLimits(n)
	}
	return r.normalLimits(r.se(n))
}

func nanLimits() Limits {
	nan := math.NaN()
	return Limits{Lower95: nan, Upper95: nan, Lower998: nan, Upper998: nan}
}

// normalLimits back-transforms target ± z·sd from the comparison scale.
func (r Result) normalLimits(sd float64) Limits {
	var lower, upper func(z float64) float64
	switch {
	case r.Kind == Proportion:
		theta := math.Asin(math.Sqrt(r.Target))
		lower = func(z float64) float64 { return proportionBound(theta - z*sd) }
		upper = func(z float64) float64 { return proportionBound(theta + z*sd) }
	case r.Kind == RatioOfCounts:
		// exp(log(target) ± z·sd) with sd² = 1/(4n) + τ². The within-unit
		// part 1/(2√n) is the square-root scale's standard error, not that
		// of the log ratio the z-scores use (UnitResult.ZSE), so a unit
		// can be flagged with a small |Z| or pass with a large one. This is
		// FunnelPlotR's method, kept so that the flags agree with it.
		centre := math.Log(r.Target)
		lower = func(z float64) float64 { return math.Exp(centre - z*sd) }
		upper = func(z float64) float64 { return math.Exp(centre + z*sd) }
	case r.Scale == SqrtScale:
		// FunnelPlotR draws 1 ± z·sd here without squaring it back from the
		// square-root scale, so its limits and flags are not on the scale
		// of the plotted ratio. They are squared here (a negative lower
		// bound is 0 before squaring), which keeps Z, the limits and the
		// flags in agreement.
		lower = func(z float64) float64 { b := math.Max(0, 1-z*sd); return b * b }
		upper = func(z float64) float64 { b := 1 + z*sd; return b * b }
	default:
		lower = func(z float64) float64 { return math.Exp(-z * sd) }
		upper = func(z float64) float64 { return math.Exp(z * sd) }
	}
	m := r.Multiplier
	return Limits{
		Lower95:  m * lower(z95),
		Upper95:  m * upper(z95),
		Lower998: m * lower(z998),
		Upper998: m * upper(z998),
	}
}

// proportionBound maps a bound on the arcsine-square-root scale back to a
// proportion. A bound below 0 (or above π/2) means the limit is 0 (or 1):
// sin² would fold it back into [0, 1] and draw a limit that moves the
// wrong way with the denominator. FunnelPlotR reaches the same answer by
// comparing each point of its plotting grid with the next one, which can
// leave one small non-zero lower limit just before the bound crosses 0;
// here the rule is exact at every denominator.
func proportionBound(theta float64) float64 {
	switch {
	case theta <= 0:
		return 0
	case theta >= math.Pi/2:
		return 1
	default:
		s := math.Sin(theta)
		return s * s
	}
}

// poissonLimits are the exact Poisson limits for an observed count around
// expected n: the chi-square quantiles χ²(p; 2n)/2n below and
// χ²(1 − p; 2(n+1))/2n above.
func (r Result) poissonLimits(n float64) Limits {
	m := r.Multiplier * r.Target / n
	return Limits{
		Lower95:  m * chiSquareQuantile(0.025, 2*n, false) / 2,
		Upper95:  m * chiSquareQuantile(0.025, 2*(n+1), true) / 2,
		Lower998: m * chiSquareQuantile(0.001, 2*n, false) / 2,
		Upper998: m * chiSquareQuantile(0.001, 2*(n+1), true) / 2,
	}
}
