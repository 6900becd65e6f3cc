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
		{"ratio of counts with no events at all", []funnel.Unit{
			{ID: "A", Numerator: 0, Denominator: 5}, {ID: "B", Numerator: 0, Denominator: 9},
		}, funnel.Options{Kind: funnel.RatioOfCounts}},
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
		{"ratio of counts above 1 and a zero count", []funnel.Unit{
			{ID: "A", Numerator: 0, Denominator: 40}, {ID: "B", Numerator: 90, Denominator: 30}, {ID: "C", Numerator: 12, Denominator: 20},
		}, funnel.Options{Kind: funnel.RatioOfCounts, Adjust: true}},
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
	{"ratio of counts", funnel.Options{Kind: funnel.RatioOfCounts}},
}

// TestAdjustedFlagsAgreeWithZ checks that the over-dispersion-adjusted
// limits are the back-transformed z limits: a unit is outside them exactly
// when its adjusted z-score is beyond ±z. This is what ties the plotted
// funnel to the z-scores on every scale but one: a ratio of counts is
// flagged against limits drawn with another standard error than its
// z-score's (see TestRatioOfCountsLimitsUseDenominatorSE).
func TestAdjustedFlagsAgreeWithZ(t *testing.T) {
	t.Parallel()
	const z95, z998 = 1.959963984540054, 3.090232306167813
	for _, s := range shapes {
		if s.opts.Kind == funnel.RatioOfCounts {
			continue
		}
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

// TestRatioOfCountsLimitsUseDenominatorSE checks a ratio of counts
// against FunnelPlotR 0.6.0's own output for these four units (unadjusted
// limits). The limits are log(target) ± z/(2√den): with the standard
// error of the log ratio, √(num/(num+½)² + den/(den+½)²) ≈ 0.068 for X,
// the 99.8% limits would reach 1.23 and X and Z would pass. They are
// flagged although |Z| is about 2: the z-scores use the log ratio's
// standard error, the limits the other.
func TestRatioOfCountsLimitsUseDenominatorSE(t *testing.T) {
	t.Parallel()
	res, err := funnel.Analyse([]funnel.Unit{
		{ID: "W", Numerator: 800, Denominator: 800}, {ID: "X", Numerator: 460, Denominator: 400},
		{ID: "Y", Numerator: 400, Denominator: 400}, {ID: "Z", Numerator: 340, Denominator: 400},
	}, funnel.Options{Kind: funnel.RatioOfCounts})
	if err != nil {
		t.Fatal(err)
	}
	if res.Target != 1 {
		t.Fatalf("target = %v, want 1", res.Target)
	}
	at400 := funnel.Limits{
		Lower95: 0.95218198666190723, Upper95: 1.0502194055421379,
		Lower998: 0.92565304127153181, Upper998: 1.0803183864942969,
	}
	want := []struct {
		id      string
		z, se   float64
		limits  funnel.Limits
		outlier bool
	}{
		{"W", 0, 0.017677669529663688, funnel.Limits{
			Lower95: 0.96594575954824868, Upper95: 1.0352548164481594,
			Lower998: 0.94683721117963515, Upper998: 1.0561477603463969,
		}, false},
		{"X", 2.0443342322381985, 0.025, at400, true},
		{"Y", 0, 0.025, at400, false},
		{"Z", -2.2032446023500687, 0.025, at400, true},
	}
	for i, w := range want {
		u := res.Units[i]
		if u.ID != w.id {
			t.Fatalf("unit %d is %s, want %s", i, u.ID, w.id)
		}
		// FunnelPlotR writes the normal quantile to 7 significant figures,
		// which moves its limits by up to about 1e-7.
		if !closeTo(u.Z, w.z, 1e-12) || !closeTo(u.SE, w.se, 1e-15) ||
			!closeTo(u.Limits.Lower95, w.limits.Lower95, 1e-7) || !closeTo(u.Limits.Upper95, w.limits.Upper95, 1e-7) ||
			!closeTo(u.Limits.Lower998, w.limits.Lower998, 1e-7) || !closeTo(u.Limits.Upper998, w.limits.Upper998, 1e-7) {
			t.Errorf("%s: z %v, se %v, limits %+v; FunnelPlotR gives z %v, se %v, limits %+v",
				u.ID, u.Z, u.SE, u.Limits, w.z, w.se, w.limits)
		}
		if u.Outlier != w.outlier {
			t.Errorf("%s: outlier %v, want %v (value %v, z %v)", u.ID, u.Outlier, w.outlier, u.Value, u.Z)
		}
	}
}

// TestRatioOfCountsZeroCount checks FunnelPlotR 0.6.0's output for six
// units, one with no events: its z-score is finite through the ½ added to
// each count, it is Winsorised, and τ² is estimated with the units
// weighted by the log ratio's standard error (ZSE), not the limits' (SE).
func TestRatioOfCountsZeroCount(t *testing.T) {
	t.Parallel()
	res, err := funnel.Analyse([]funnel.Unit{
		{ID: "A", Numerator: 30, Denominator: 100}, {ID: "B", Numerator: 84, Denominator: 150},
		{ID: "C", Numerator: 0, Denominator: 120}, {ID: "D", Numerator: 45, Denominator: 90},
		{ID: "E", Numerator: 25, Denominator: 200}, {ID: "F", Numerator: 130, Denominator: 400},
	}, funnel.Options{Kind: funnel.RatioOfCounts, Adjust: true})
	if err != nil {
		t.Fatal(err)
	}
	if !closeTo(res.Target, 0.29622641509433961, 1e-15) || !closeTo(res.Phi, 115.16075345145336, 1e-12) ||
		!closeTo(res.Tau2, 2.5609421836619717, 1e-12) || !res.Adjusted {
		t.Fatalf("target %v, phi %v, tau2 %v, adjusted %v; FunnelPlotR gives 0.2962…, 115.16…, 2.5609…, true",
			res.Target, res.Phi, res.Tau2, res.Adjusted)
	}
	want := []struct {
		z, trimmedZ        float64
		trimmed, outlier   bool
		lower998, upper998 float64
	}{
		{0.11787417782617451, 0.11787417782617451, false, false, 0.0021031366774809982, 41.723436208028751},
		{4.7155639867325494, 3.8198900071857711, true, false, 0.00210482885349499, 41.689892674142222},
		{-46.950227235842007, -25.503879071006864, true, true, 0.002103982560979838, 41.706661750455851},
		{2.9242160276389928, 2.9242160276389928, false, false, 0.002102572982262939, 41.734622170023819},
		{-4.0575309061717233, -4.0575309061717233, false, false, 0.0021056755552631055, 41.673128977687888},
		{0.94690158968228122, 0.94690158968228122, false, false, 0.0021069463757826426, 41.647993517181213},
	}
	// FunnelPlotR's 3.090232 differs from the exact quantile by 3.1e-7,
	// which moves a limit by that times sd = √(SE² + τ²) ≈ 1.6 on the log
	// scale: about 5e-7 of its value.
	const limitTolerance = 1e-6
	for i, w := range want {
		u := res.Units[i]
		if !closeTo(u.Z, w.z, 1e-12) || !closeTo(u.TrimmedZ, w.trimmedZ, 1e-12) || u.Trimmed != w.trimmed || u.Outlier != w.outlier ||
			!closeTo(u.Limits.Lower998, w.lower998, limitTolerance) || !closeTo(u.Limits.Upper998, w.upper998, limitTolerance) {
			t.Errorf("%s: z %v, trimmed z %v (%v), outlier %v, 99.8%% limits [%v, %v]; FunnelPlotR gives %v, %v (%v), %v, [%v, %v]",
				u.ID, u.Z, u.TrimmedZ, u.Trimmed, u.Outlier, u.Limits.Lower998, u.Limits.Upper998,
				w.z, w.trimmedZ, w.trimmed, w.outlier, w.lower998, w.upper998)
		}
	}
}

// closeTo compares relative to the larger of 1 and the wanted value.
func closeTo(got, want, tolerance float64) bool {
	return math.Abs(got-want) <= tolerance*math.Max(1, math.Abs(want))
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
