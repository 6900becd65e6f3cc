package spc_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures/spc"
)

// monthly returns one point per month from January 2022 with the values.
func monthly(values ...float64) []spc.Point {
	points := make([]spc.Point, len(values))
	for i, v := range values {
		points[i] = spc.Point{Time: time.Date(2022, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC), Value: v}
	}
	return points
}

// noisy is a level series with a fixed pattern of noise, no rule firing.
func noisy(n int, level float64) []float64 {
	pattern := []float64{0.8, -1.1, 0.3, 1.4, -0.6, -1.5, 0.9, -0.2, 1.2, -0.9, 0.4, -0.7}
	values := make([]float64, n)
	for i := range values {
		values[i] = level + pattern[i%len(pattern)]
	}
	return values
}

func ptr(f float64) *float64 { return &f }

func TestAnalyseRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	good := monthly(noisy(15, 50)...)
	unordered := monthly(1, 2, 3)
	unordered[2].Time = unordered[0].Time
	tests := []struct {
		name   string
		points []spc.Point
		opts   spc.Options
		reason string
	}{
		{"no points", nil, spc.Options{}, "no points"},
		{"NaN value", monthly(1, math.NaN()), spc.Options{}, "point 1: value NaN is not a finite number"},
		{"infinite value", monthly(math.Inf(1)), spc.Options{}, "point 0: value +Inf is not a finite number"},
		{"zero time", []spc.Point{{Value: 1}}, spc.Options{}, "point 0: time is not set"},
		{"time order", unordered, spc.Options{}, "point 2: time 2022-01-01T00:00:00Z is not after"},
		{"direction", good, spc.Options{Improvement: spc.Direction(7)}, "unknown improvement direction 7"},
		{"target", good, spc.Options{Target: ptr(math.NaN())}, "target NaN is not a finite number"},
		{"fix after 11", good, spc.Options{FixAfterN: 11}, "fix after n points is 11, it must be at least 12"},
		{"fix after negative", good, spc.Options{FixAfterN: -1}, "fix after n points is -1"},
		{"run length", good, spc.Options{RunLength: 2}, "run length is 2, it must be at least 3"},
		{"trend length", good, spc.Options{TrendLength: -7}, "trend length is -7"},
		{
			"rebase not a point", good,
			spc.Options{Rebase: []time.Time{time.Date(2022, 3, 15, 0, 0, 0, 0, time.UTC)}},
			"rebase time 2022-03-15T00:00:00Z is not the time of any point",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := spc.Analyse(tt.points, tt.opts)
			var inputErr *spc.InputError
			if !errors.As(err, &inputErr) {
				t.Fatalf("Analyse error = %v, want an *spc.InputError", err)
			}
			if !strings.Contains(inputErr.Reason, tt.reason) || !strings.HasPrefix(err.Error(), "spc: invalid input: ") {
				t.Errorf("Analyse error = %q, want reason containing %q", err, tt.reason)
			}
		})
	}
}

func TestParseDirection(t *testing.T) {
	t.Parallel()
	for _, d := range []spc.Direction{spc.Increase, spc.Decrease, spc.Neutral} {
		got, err := spc.ParseDirection(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDirection(%q) = %v, %v; want %v", d.String(), got, err, d)
		}
	}
	var inputErr *spc.InputError
	if _, err := spc.ParseDirection("up"); !errors.As(err, &inputErr) {
		t.Errorf("ParseDirection(%q) error = %v, want an *spc.InputError", "up", err)
	}
}

// samePoint reports whether two point results agree on everything but the
// period index, treating NaN as equal to NaN.
func samePoint(a, b spc.PointResult) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.Point == b.Point && a.Baseline == b.Baseline &&
		eq(a.Mean, b.Mean) && eq(a.LPL, b.LPL) && eq(a.UPL, b.UPL) &&
		eq(a.NearLPL, b.NearLPL) && eq(a.NearUPL, b.NearUPL) &&
		eq(a.MeanMovingRange, b.MeanMovingRange) && eq(a.MovingRange, b.MovingRange) &&
		a.OutsideLimits == b.OutsideLimits && a.RelativeToMean == b.RelativeToMean &&
		a.CloseToLimits == b.CloseToLimits && a.Rule == b.Rule && a.Type == b.Type
}

// TestRebaseAnalysesPeriodsSeparately checks that rebasing is the same as
// analysing each period as a series of its own: means, limits, moving ranges,
// runs and trends all restart at the rebase time.
func TestRebaseAnalysesPeriodsSeparately(t *testing.T) {
	t.Parallel()
	// A rising trend across the rebase time and a level step at it.
	values := append(noisy(14, 50), 51, 52, 53, 54)
	values = append(values, 55, 56, 57)
	values = append(values, noisy(13, 42)...)
	points := monthly(values...)
	cuts := []int{0, 18, 23, len(points)}
	opts := spc.Options{
		Improvement: spc.Decrease,
		Target:      ptr(45),
		Rebase:      []time.Time{points[cuts[1]].Time, points[cuts[2]].Time},
	}
	got, err := spc.Analyse(points, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Periods) != 3 {
		t.Fatalf("%d periods, want 3", len(got.Periods))
	}
	for k := range 3 {
		alone, err := spc.Analyse(points[cuts[k]:cuts[k+1]], spc.Options{Improvement: spc.Decrease, Target: ptr(45)})
		if err != nil {
			t.Fatal(err)
		}
		p := got.Periods[k]
		if p.Start != cuts[k] || p.End != cuts[k+1] {
			t.Errorf("period %d is [%d, %d), want [%d, %d)", k, p.Start, p.End, cuts[k], cuts[k+1])
		}
		if p.Short != (cuts[k+1]-cuts[k] < 13) {
			t.Errorf("period %d short = %v with %d points", k, p.Short, cuts[k+1]-cuts[k])
		}
		for i, want := range alone.Points {
			g := got.Points[cuts[k]+i]
			if g.Period != k || !samePoint(g, want) {
				t.Errorf("point %d of period %d = %+v, want %+v", i, k, g, want)
			}
		}
		if k < 2 && p.Assurance != spc.AssuranceNone {
			t.Errorf("period %d assurance = %q, want none before the last period", k, p.Assurance)
		}
	}
	if got.Assurance != got.Periods[2].Assurance || got.Assurance == spc.AssuranceNone {
		t.Errorf("assurance = %q, last period's %q", got.Assurance, got.Periods[2].Assurance)
	}
	// The rising points on either side of the first rebase make 7 in a row,
	// but no trend, as trends do not cross a rebase.
	for i := 14; i < 21; i++ {
		if r := got.Points[i].Rule; r == spc.RuleTrendUp {
			t.Errorf("point %d is in a trend across the rebase", i)
		}
	}
}

// TestFixAfterN checks that fixed limits come from the first n points only
// and that the rules still judge every point against them.
func TestFixAfterN(t *testing.T) {
	t.Parallel()
	values := append(noisy(18, 50), noisy(12, 56)...)
	points := monthly(values...)
	got, err := spc.Analyse(points, spc.Options{FixAfterN: 12})
	if err != nil {
		t.Fatal(err)
	}
	base, err := spc.Analyse(points[:12], spc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := base.Points[0]
	for i, p := range got.Points {
		if p.Mean != want.Mean || p.LPL != want.LPL || p.UPL != want.UPL || p.MeanMovingRange != want.MeanMovingRange {
			t.Fatalf("point %d limits %v/%v/%v, want the first 12 points' %v/%v/%v",
				i, p.LPL, p.Mean, p.UPL, want.LPL, want.Mean, want.UPL)
		}
		if p.Baseline != (i < 12) || math.IsNaN(p.MovingRange) != (i == 0 || i >= 12) {
			t.Errorf("point %d baseline = %v, moving range = %v", i, p.Baseline, p.MovingRange)
		}
	}
	for i := 18; i < len(points); i++ {
		if got.Points[i].Type != spc.SpecialCauseImprovement {
			t.Errorf("point %d after the step = %q (%q), want special_cause_improvement", i, got.Points[i].Type, got.Points[i].Rule)
		}
	}
	if got.Variation != spc.IconImprovementHigh {
		t.Errorf("variation = %q, want %q", got.Variation, spc.IconImprovementHigh)
	}
	// Unfixed, the step inflates the limits and the mean sits between the levels.
	free, err := spc.Analyse(points, spc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if free.Points[0].Mean <= want.Mean || free.Points[0].UPL <= want.UPL {
		t.Errorf("unfixed mean/upl %v/%v, want above the fixed %v/%v", free.Points[0].Mean, free.Points[0].UPL, want.Mean, want.UPL)
	}
}

// TestRunAndTrendLength checks the configurable lengths: 6 rising points are
// a trend of 6 but not of 7, and 5 points above the mean a run of 5 only.
func TestRunAndTrendLength(t *testing.T) {
	t.Parallel()
	rise := monthly(10, 12, 9, 11, 10, 12, 9, 9.5, 10, 10.5, 11, 11.5, 9, 11, 10, 12, 9, 11)
	run := monthly(10, 12, 9, 11, 8, 11.5, 11.2, 11.6, 11.3, 11.7, 9, 10, 9, 11, 8, 10, 9)
	tests := []struct {
		name     string
		points   []spc.Point
		opts     spc.Options
		from, to int
		rule     spc.Rule
	}{
		{"trend of 6 at default 7", rise, spc.Options{}, 0, 0, ""},
		{"trend of 6 at length 6", rise, spc.Options{TrendLength: 6}, 6, 12, spc.RuleTrendUp},
		{"run of 5 at default 7", run, spc.Options{}, 0, 0, ""},
		{"run of 5 at length 5", run, spc.Options{RunLength: 5}, 5, 10, spc.RuleRunAbove},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := spc.Analyse(tt.points, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range res.Points {
				want := spc.RuleNone
				if i >= tt.from && i < tt.to {
					want = tt.rule
				}
				if p.Rule != want {
					t.Errorf("point %d (%v) rule = %q, want %q", i, p.Value, p.Rule, want)
				}
			}
		})
	}
}

// TestIconsAndAssurance checks the icons the reference cases do not reach:
// concern in either direction, and assurance for each direction and target.
func TestIconsAndAssurance(t *testing.T) {
	t.Parallel()
	high := monthly(append(noisy(19, 80), 95)...)
	low := monthly(append(noisy(19, 80), 65)...)
	flat := monthly(noisy(20, 80)...)
	tests := []struct {
		name      string
		points    []spc.Point
		opts      spc.Options
		variation spc.VariationIcon
		assurance spc.Assurance
		icon      string
	}{
		{"high, lower is better", high, spc.Options{Improvement: spc.Decrease}, spc.IconConcernHigh, spc.AssuranceNone, ""},
		{"low, higher is better", low, spc.Options{}, spc.IconConcernLow, spc.AssuranceNone, ""},
		{"high, higher is better", high, spc.Options{}, spc.IconImprovementHigh, spc.AssuranceNone, ""},
		{"low, lower is better", low, spc.Options{Improvement: spc.Decrease}, spc.IconImprovementLow, spc.AssuranceNone, ""},
		{"high, neutral", high, spc.Options{Improvement: spc.Neutral, Target: ptr(60)}, spc.IconNeutralHigh, spc.AssuranceNone, ""},
		{"target below, higher is better", flat, spc.Options{Target: ptr(60)}, spc.IconCommonCause, spc.ConsistentPass, "pass"},
		{"target below, lower is better", flat, spc.Options{Improvement: spc.Decrease, Target: ptr(60)}, spc.IconCommonCause, spc.ConsistentFail, "fail"},
		{"target above, lower is better", flat, spc.Options{Improvement: spc.Decrease, Target: ptr(100)}, spc.IconCommonCause, spc.ConsistentPass, "pass"},
		{"target within", flat, spc.Options{Improvement: spc.Decrease, Target: ptr(80)}, spc.IconCommonCause, spc.Inconsistent, "inconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := spc.Analyse(tt.points, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Variation != tt.variation || res.Assurance != tt.assurance || res.Assurance.Icon() != tt.icon {
				t.Errorf("variation, assurance, icon = %q, %q, %q; want %q, %q, %q",
					res.Variation, res.Assurance, res.Assurance.Icon(), tt.variation, tt.assurance, tt.icon)
			}
		})
	}
}

// TestDegenerateSeries checks series without usable limits: one point, and a
// constant series whose only moving ranges (zero) are all screened out, as in
// the reference. Both have NaN limits and only common cause.
func TestDegenerateSeries(t *testing.T) {
	t.Parallel()
	for name, points := range map[string][]spc.Point{
		"one point": monthly(5),
		"constant":  monthly(5, 5, 5, 5, 5, 5, 5, 5),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := spc.Analyse(points, spc.Options{Target: ptr(4)})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range res.Points {
				if p.Mean != 5 || !math.IsNaN(p.UPL) || !math.IsNaN(p.LPL) || p.Rule != spc.RuleNone || p.RelativeToMean != 0 {
					t.Errorf("point %d = %+v, want mean 5, NaN limits, common cause", i, p)
				}
			}
			if !res.Periods[0].Short || res.Assurance != spc.Inconsistent {
				t.Errorf("short = %v, assurance = %q; want true, inconsistent", res.Periods[0].Short, res.Assurance)
			}
		})
	}
}

func BenchmarkAnalyse120(b *testing.B) {
	values := make([]float64, 120)
	for i := range values {
		values[i] = 50 + 5*math.Sin(float64(i)*0.7) + float64(i%5)
	}
	points := monthly(values...)
	opts := spc.Options{Target: ptr(55), Rebase: []time.Time{points[60].Time}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spc.Analyse(points, opts); err != nil {
			b.Fatal(err)
		}
	}
}
