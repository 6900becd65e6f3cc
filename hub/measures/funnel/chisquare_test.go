package funnel

import (
	"math"
	"testing"
)

// TestChiSquareQuantileClosedForms checks the chi-square quantile where it
// has a closed form: with 2 degrees of freedom it is the exponential
// quantile −2·log(upper tail), and with 1 degree of freedom the square of
// the normal quantile.
func TestChiSquareQuantileClosedForms(t *testing.T) {
	t.Parallel()
	for _, p := range []float64{1e-6, 0.001, 0.025, 0.3, 0.5, 0.975, 0.999} {
		if got, want := chiSquareQuantile(p, 2, false), -2*math.Log1p(-p); !within(got, want, 1e-12) {
			t.Errorf("χ²(2) lower %v: got %.17g, want %.17g", p, got, want)
		}
		if got, want := chiSquareQuantile(p, 2, true), -2*math.Log(p); !within(got, want, 1e-12) {
			t.Errorf("χ²(2) upper %v: got %.17g, want %.17g", p, got, want)
		}
		z := math.Sqrt2 * math.Erfinv(p) // P(|Z| ≤ z) = p
		if got, want := chiSquareQuantile(p, 1, false), z*z; !within(got, want, 1e-10) {
			t.Errorf("χ²(1) lower %v: got %.17g, want %.17g", p, got, want)
		}
	}
}

// TestChiSquareQuantileRoundTrip checks that the quantile lands where the
// distribution function says, across the shapes a funnel uses (twice an
// expected count from 0.2 to 20,000).
func TestChiSquareQuantileRoundTrip(t *testing.T) {
	t.Parallel()
	for _, df := range []float64{0.4, 2.2, 7.5, 51.46, 1001, 40000.5} {
		for _, p := range []float64{0.001, 0.025, 0.5, 0.975} {
			for _, upper := range []bool{false, true} {
				x := chiSquareQuantile(p, df, upper)
				lower, up := regularisedGamma(df/2, x/2)
				got := lower
				if upper {
					got = up
				}
				if !within(got, p, 1e-11) {
					t.Errorf("df %v, p %v, upper %v: quantile %v has tail %v", df, p, upper, x, got)
				}
			}
		}
	}
}

// TestNormalQuantiles checks the two z constants against Erfinv.
func TestNormalQuantiles(t *testing.T) {
	t.Parallel()
	if want := math.Sqrt2 * math.Erfinv(0.95); !within(z95, want, 1e-15) {
		t.Errorf("z95 = %v, want %v", z95, want)
	}
	if want := math.Sqrt2 * math.Erfinv(0.998); !within(z998, want, 1e-15) {
		t.Errorf("z998 = %v, want %v", z998, want)
	}
}

func within(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(1, math.Abs(b))
}
