package funnel

import "math"

// chiSquareQuantile returns x with P(X ≤ x) = p (upper false) or
// P(X > x) = p (upper true) for X chi-square with df degrees of freedom
// (df > 0, 0 < p < 1). Naming the tail keeps the precision of small upper
// probabilities.
func chiSquareQuantile(p, df float64, upper bool) float64 {
	return 2 * gammaQuantile(p, df/2, upper)
}

// gammaQuantile inverts the regularised incomplete gamma function of shape
// a by safeguarded Newton steps from the Wilson–Hilferty approximation,
// bisecting whenever a step leaves the bracket known to hold the root.
func gammaQuantile(p, a float64, upper bool) float64 {
	lowerP := p
	if upper {
		lowerP = 1 - p
	}
	// f is the signed tail error at x: negative below the root.
	f := func(x float64) float64 {
		lo, hi := regularisedGamma(a, x)
		if upper {
			return p - hi
		}
		return lo - p
	}
	lgam, _ := math.Lgamma(a)
	density := func(x float64) float64 { return math.Exp((a-1)*math.Log(x) - x - lgam) }

	x := wilsonHilferty(lowerP, a)
	lo, hi := 0.0, math.Inf(1)
	for range 500 {
		fx := f(x)
		if fx == 0 {
			return x
		}
		if fx < 0 {
			lo = x
		} else {
			hi = x
		}
		next := x - fx/density(x)
		if !(next > lo && next < hi) {
			next = bisect(lo, hi)
		}
		if math.Abs(next-x) <= 1e-15*x {
			return next
		}
		x = next
	}
	return x
}

func bisect(lo, hi float64) float64 {
	if math.IsInf(hi, 1) {
		return 2*lo + 1
	}
	return lo + (hi-lo)/2
}

// wilsonHilferty is the cube-root normal approximation to the gamma
// quantile of shape a at lower probability p, kept positive.
func wilsonHilferty(p, a float64) float64 {
	z := math.Sqrt2 * math.Erfinv(2*p-1)
	c := 1 / (9 * a)
	x := a * math.Pow(1-c+z*math.Sqrt(c), 3)
	if !(x > 0) || math.IsInf(x, 0) {
		return math.Max(a, 1e-3)
	}
	return x
}

// regularisedGamma returns P(a, x) and Q(a, x) = 1 − P(a, x), each computed
// directly where it is the smaller: by the power series below x = a + 1
// and by the Legendre continued fraction (modified Lentz) above.
func regularisedGamma(a, x float64) (lower, upper float64) {
	if x <= 0 {
		return 0, 1
	}
	lgam, _ := math.Lgamma(a)
	prefix := math.Exp(a*math.Log(x) - x - lgam)
	if x < a+1 {
		p := prefix * gammaSeries(a, x)
		return p, 1 - p
	}
	q := prefix * gammaFraction(a, x)
	return 1 - q, q
}

// gammaSeries is Σₖ xᵏ / (a(a+1)…(a+k)).
func gammaSeries(a, x float64) float64 {
	term := 1 / a
	sum := term
	for k := 1; k < 100000; k++ {
		term *= x / (a + float64(k))
		sum += term
		if math.Abs(term) < math.Abs(sum)*1e-17 {
			break
		}
	}
	return sum
}

// gammaFraction is the continued fraction 1/(x+1−a− 1·(1−a)/(x+3−a− …)).
func gammaFraction(a, x float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 100000; i++ {
		fi := float64(i)
		an := -fi * (fi - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < 1e-16 {
			break
		}
	}
	return h
}
