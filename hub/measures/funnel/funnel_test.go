package funnel_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/measures/funnel"
)

func TestAnalyseRejectsBadInput(t *testing.T) {
	t.Parallel()
	good := []funnel.Unit{{ID: "A", Numerator: 5, Denominator: 50}, {ID: "B", Numerator: 9, Denominator: 60}}
	prop := funnel.Options{Kind: funnel.Proportion, Adjust: true}
	tests := []struct {
		name  string
		units []funnel.Unit
		opts  funnel.Options
	}{
		{"no units", nil, prop},
		{"kind not set", good, funnel.Options{}},
		{"unknown kind", good, funnel.Options{Kind: 7}},
		{"unknown scale", good, funnel.Options{Kind: funnel.Ratio, Scale: 3}},
		{"unknown flag level", good, funnel.Options{Kind: funnel.Proportion, FlagLevel: 9}},
		{"winsorise too large", good, funnel.Options{Kind: funnel.Proportion, Winsorise: 0.5}},
		{"winsorise negative", good, funnel.Options{Kind: funnel.Proportion, Winsorise: -0.1}},
		{"multiplier negative", good, funnel.Options{Kind: funnel.Proportion, Multiplier: -100}},
		{"multiplier infinite", good, funnel.Options{Kind: funnel.Proportion, Multiplier: math.Inf(1)}},
		{"empty ID", []funnel.Unit{{Numerator: 1, Denominator: 2}}, prop},
		{"negative numerator", []funnel.Unit{{ID: "A", Numerator: -1, Denominator: 2}}, prop},
		{"NaN numerator", []funnel.Unit{{ID: "A", Numerator: math.NaN(), Denominator: 2}}, prop},
		{"zero denominator", []funnel.Unit{{ID: "A", Numerator: 0, Denominator: 0}}, prop},
		{"infinite denominator", []funnel.Unit{{ID: "A", Numerator: 1, Denominator: math.Inf(1)}}, prop},
		{"proportion above 1", []funnel.Unit{{ID: "A", Numerator: 3, Denominator: 2}, {ID: "B", Numerator: 1, Denominator: 2}}, prop},
		{"proportion above 1 after summing", []funnel.Unit{
			{ID: "A", Numerator: 3, Denominator: 4}, {ID: "A", Numerator: 3, Denominator: 1}, {ID: "B", Numerator: 1, Denominator: 2},
		}, prop},
		{"one unit cannot show over-dispersion", good[:1], prop},
		{"zero observed on the log scale not trimmed", []funnel.Unit{
			{ID: "A", Numerator: 0, Denominator: 5}, {ID: "B", Numerator: 4, Denominator: 5},
		}, funnel.Options{Kind: funnel.Ratio, Adjust: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := funnel.Analyse(tt.units, tt.opts)
			if !errors.Is(err, funnel.ErrInput) {
				t.Fatalf("Analyse error = %v, want one wrapping ErrInput", err)
			}
		})
	}
}

func TestAnalyseAcceptsEdgeInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		units []funnel.Unit
		opts  funnel.Options
	}{
		{"one unit without adjustment", []funnel.Unit{{ID: "A", Numerator: 3, Denominator: 10}},
			funnel.Options{Kind: funnel.Proportion}},
		{"proportion of 0 and of 1", []funnel.Unit{
			{ID: "A", Numerator: 0, Denominator: 10}, {ID: "B", Numerator: 10, Denominator: 10}, {ID: "C", Numerator: 4, Denominator: 9},
		}, funnel.Options{Kind: funnel.Proportion, Adjust: true}},
		{"ratio above 1 and fractional expected", []funnel.Unit{
			{ID: "A", Numerator: 30, Denominator: 12.5}, {ID: "B", Numerator: 3, Denominator: 7.25},
		}, funnel.Options{Kind: funnel.Ratio, Scale: funnel.SqrtScale, Adjust: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := funnel.Analyse(tt.units, tt.opts)
			if err != nil {
				t.Fatalf("Analyse: %v", err)
			}
			for _, u := range res.Units {
				l := u.Limits
				if !(l.Lower998 <= l.Lower95 && l.Lower95 <= res.Centre() && res.Centre() <= l.Upper95 && l.Upper95 <= l.Upper998) {
					t.Errorf("unit %s: limits %+v not nested around centre %v", u.ID, l, res.Centre())
				}
			}
		})
	}
}

func TestAnalyseSumsAndSortsUnits(t *testing.T) {
	t.Parallel()
	res, err := funnel.Analyse([]funnel.Unit{
		{ID: "north", Numerator: 4, Denominator: 40},
		{ID: "east", Numerator: 10, Denominator: 50},
		{ID: "north", Numerator: 6, Denominator: 60},
	}, funnel.Options{Kind: funnel.Proportion})
	if err != nil {
		t.Fatal(err)
	}
	want := []funnel.UnitResult{
		{ID: "east", Numerator: 10, Denominator: 50, Ratio: 0.2},
		{ID: "north", Numerator: 10, Denominator: 100, Ratio: 0.1},
	}
	if len(res.Units) != len(want) {
		t.Fatalf("got %d units, want %d", len(res.Units), len(want))
	}
	for i, w := range want {
		g := res.Units[i]
		if g.ID != w.ID || g.Numerator != w.Numerator || g.Denominator != w.Denominator || g.Ratio != w.Ratio {
			t.Errorf("unit %d = %s %v/%v = %v, want %s %v/%v = %v",
				i, g.ID, g.Numerator, g.Denominator, g.Ratio, w.ID, w.Numerator, w.Denominator, w.Ratio)
		}
	}
	if res.Target != 20.0/150 {
		t.Errorf("target = %v, want %v", res.Target, 20.0/150)
	}
}

// overDispersed is a fixed set of 30 units whose proportions (or ratios
// to expected) spread far more than chance allows, with one unit far above
// the rest and one far below.
func overDispersed(kind funnel.Kind) []funnel.Unit {
	units := make([]funnel.Unit, 30)
	for i := range units {
		den := float64(40 + 97*i%1900)
		rate := 0.35 + 0.25*math.Sin(float64(i)*1.7)
		if kind == funnel.Ratio {
			rate = 1 + 0.6*math.Sin(float64(i)*1.7)
		}
		switch i {
		case 12: // far above
			rate = 0.97
			if kind == funnel.Ratio {
				rate = 4
			}
		case 21: // far below
			rate = 0.02
			if kind == funnel.Ratio {
				rate = 0.1
			}
		}
		units[i] = funnel.Unit{ID: fmt.Sprintf("F%02d", i), Numerator: math.Round(den * rate), Denominator: den}
	}
	return units
}

var shapes = []struct {
	name string
	opts funnel.Options
}{
	{"proportion", funnel.Options{Kind: funnel.Proportion}},
	{"log ratio", funnel.Options{Kind: funnel.Ratio, Scale: funnel.LogScale}},
	{"sqrt ratio", funnel.Options{Kind: funnel.Ratio, Scale: funnel.SqrtScale}},
}

// TestAdjustedFlagsAgreeWithZ checks that the over-dispersion-adjusted
// limits are the back-transformed z limits: a unit is outside them exactly
// when its adjusted z-score is beyond ±z. This is what ties the plotted
// funnel to the z-scores on every scale.
func TestAdjustedFlagsAgreeWithZ(t *testing.T) {
	t.Parallel()
	const z95, z998 = 1.959963984540054, 3.090232306167813
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			opts := s.opts
			opts.Adjust = true
			res, err := funnel.Analyse(overDispersed(opts.Kind), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Adjusted || !(res.Phi > 1) || !(res.Tau2 > 0) {
				t.Fatalf("adjusted = %v, phi = %v, tau2 = %v: want over-dispersion found", res.Adjusted, res.Phi, res.Tau2)
			}
			flagged := 0
			for _, u := range res.Units {
				if want := zFlag(u.AdjustedZ, z95); u.Flag95 != want {
					t.Errorf("%s: 95%% flag %v, adjusted z %v gives %v", u.ID, u.Flag95, u.AdjustedZ, want)
				}
				if want := zFlag(u.AdjustedZ, z998); u.Flag998 != want {
					t.Errorf("%s: 99.8%% flag %v, adjusted z %v gives %v", u.ID, u.Flag998, u.AdjustedZ, want)
				}
				if u.Outlier != (u.Flag998 != funnel.Within) {
					t.Errorf("%s: outlier %v with 99.8%% flag %v", u.ID, u.Outlier, u.Flag998)
				}
				if u.Outlier {
					flagged++
				}
			}
			if flagged == 0 {
				t.Error("no unit flagged: the data set no longer tests the flags")
			}
		})
	}
}

func zFlag(z, limit float64) funnel.Flag {
	switch {
	case z < -limit:
		return funnel.Low
	case z > limit:
		return funnel.High
	default:
		return funnel.Within
	}
}

// TestLimitsDrawAFunnel checks the curve a chart draws: nested limits that
// narrow towards the centre as the denominator grows, the per-unit limits
// on the same curve, and proportion limits held inside [0, 1].
func TestLimitsDrawAFunnel(t *testing.T) {
	t.Parallel()
	for _, s := range shapes {
		for _, adjust := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s adjust=%v", s.name, adjust), func(t *testing.T) {
				t.Parallel()
				opts := s.opts
				opts.Adjust = adjust
				res, err := funnel.Analyse(overDispersed(opts.Kind), opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range res.Units {
					if got := res.Limits(u.Denominator); got != u.Limits {
						t.Errorf("%s: unit limits %+v, curve at %v gives %+v", u.ID, u.Limits, u.Denominator, got)
					}
				}
				checkFunnelShape(t, res)
			})
		}
	}
}

func checkFunnelShape(t *testing.T, res funnel.Result) {
	t.Helper()
	prev := res.Limits(0.5)
	for n := 1.0; n <= 1e6; n *= 1.25 {
		l := res.Limits(n)
		c := res.Centre()
		if !(l.Lower998 <= l.Lower95 && l.Lower95 <= c && c <= l.Upper95 && l.Upper95 <= l.Upper998) {
			t.Fatalf("n = %v: limits %+v not nested around %v", n, l, c)
		}
		if l.Lower95 < prev.Lower95 || l.Lower998 < prev.Lower998 || l.Upper95 > prev.Upper95 || l.Upper998 > prev.Upper998 {
			t.Fatalf("n = %v: limits %+v wider than at the previous n %+v", n, l, prev)
		}
		if res.Kind == funnel.Proportion && (l.Lower998 < 0 || l.Upper998 > res.Multiplier) {
			t.Fatalf("n = %v: proportion limits %+v outside [0, 1]", n, l)
		}
		prev = l
	}
	if res.Tau2 == 0 && (math.Abs(prev.Upper998-res.Centre()) > 0.02 || math.Abs(prev.Lower998-res.Centre()) > 0.02) {
		t.Errorf("limits at n = 1e6 %+v have not closed on the centre %v", prev, res.Centre())
	}
	for _, n := range []float64{0, -3, math.NaN()} {
		if l := res.Limits(n); !math.IsNaN(l.Lower95) || !math.IsNaN(l.Upper998) {
			t.Errorf("limits at n = %v are %+v, want NaN", n, l)
		}
	}
}

// TestProportionLimitsStopAtZeroAndOne checks small denominators, where the
// bound on the arcsine scale passes 0 or π/2: the limit is then exactly 0
// or 1, never folded back.
func TestProportionLimitsStopAtZeroAndOne(t *testing.T) {
	t.Parallel()
	low, err := funnel.Analyse([]funnel.Unit{{ID: "A", Numerator: 5, Denominator: 100}}, funnel.Options{Kind: funnel.Proportion})
	if err != nil {
		t.Fatal(err)
	}
	high, err := funnel.Analyse([]funnel.Unit{{ID: "A", Numerator: 95, Denominator: 100}}, funnel.Options{Kind: funnel.Proportion})
	if err != nil {
		t.Fatal(err)
	}
	// asin√0.05 = 0.2255: the 99.8% bound 0.2255 − 3.09/(2√n) is below 0
	// up to n ≈ 46.9, the 95% bound up to n ≈ 18.9.
	tests := []struct {
		n               float64
		zero998, zero95 bool
	}{
		{1, true, true}, {3, true, true}, {18, true, true}, {19, true, false}, {46, true, false}, {47, false, false}, {500, false, false},
	}
	for _, tt := range tests {
		l := low.Limits(tt.n)
		if (l.Lower998 == 0) != tt.zero998 || (l.Lower95 == 0) != tt.zero95 {
			t.Errorf("p = 0.05, n = %v: lower limits %v (99.8%%) and %v (95%%), want zero %v and %v",
				tt.n, l.Lower998, l.Lower95, tt.zero998, tt.zero95)
		}
		h := high.Limits(tt.n)
		if (h.Upper998 == 1) != tt.zero998 || (h.Upper95 == 1) != tt.zero95 {
			t.Errorf("p = 0.95, n = %v: upper limits %v (99.8%%) and %v (95%%), want one %v and %v",
				tt.n, h.Upper998, h.Upper95, tt.zero998, tt.zero95)
		}
	}
}

func TestMultiplierOnlyScales(t *testing.T) {
	t.Parallel()
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			opts := s.opts
			opts.Adjust = true
			one, err := funnel.Analyse(overDispersed(opts.Kind), opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Multiplier = 1000
			thousand, err := funnel.Analyse(overDispersed(opts.Kind), opts)
			if err != nil {
				t.Fatal(err)
			}
			if thousand.Phi != one.Phi || thousand.Tau2 != one.Tau2 || thousand.Target != one.Target {
				t.Errorf("phi, tau2, target changed with the multiplier")
			}
			for i, u := range thousand.Units {
				o := one.Units[i]
				if u.Outlier != o.Outlier || u.Z != o.Z || math.Abs(u.Value-1000*o.Value) > 1e-9*u.Value ||
					math.Abs(u.Limits.Upper998-1000*o.Limits.Upper998) > 1e-9*u.Limits.Upper998 {
					t.Errorf("%s: ×1000 gives %+v, ×1 gives %+v", u.ID, u, o)
				}
			}
		})
	}
}

// TestNoOverDispersionFallsBack checks that units spread no more than
// chance keep the unadjusted limits even when adjustment is asked for.
func TestNoOverDispersionFallsBack(t *testing.T) {
	t.Parallel()
	units := []funnel.Unit{
		{ID: "A", Numerator: 30, Denominator: 100}, {ID: "B", Numerator: 61, Denominator: 200},
		{ID: "C", Numerator: 89, Denominator: 300}, {ID: "D", Numerator: 119, Denominator: 400},
		{ID: "E", Numerator: 151, Denominator: 500},
	}
	res, err := funnel.Analyse(units, funnel.Options{Kind: funnel.Proportion, Adjust: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Adjusted || !(res.Phi < 1) || res.Tau2 != 0 {
		t.Fatalf("adjusted = %v, phi = %v, tau2 = %v: want no over-dispersion", res.Adjusted, res.Phi, res.Tau2)
	}
	if got, want := res.Limits(250), res.UnadjustedLimits(250); got != want {
		t.Errorf("limits in use %+v, unadjusted %+v", got, want)
	}
}

func BenchmarkAnalyse(b *testing.B) {
	units := overDispersed(funnel.Proportion)
	opts := funnel.Options{Kind: funnel.Proportion, Adjust: true}
	for b.Loop() {
		if _, err := funnel.Analyse(units, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPoissonCurve is the cost of drawing an unadjusted ratio funnel:
// 200 points along the x axis, each four exact Poisson limits.
func BenchmarkPoissonCurve(b *testing.B) {
	res, err := funnel.Analyse(overDispersed(funnel.Ratio), funnel.Options{Kind: funnel.Ratio})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for i := 1; i <= 200; i++ {
			_ = res.Limits(float64(i) * 25)
		}
	}
}
