package disclosure_test

import (
	"errors"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"

	"github.com/pathwayhub/pathwayhub/hub/measures/disclosure"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule disclosure.Rule
		ok   bool
	}{
		{"default", disclosure.DefaultRule(), true},
		{"no suppression, no rounding", disclosure.Rule{Threshold: 0, Base: 1}, true},
		{"midpoint 6", disclosure.Rule{Base: disclosure.Midpoint6Base, Method: disclosure.Midpoint}, true},
		{"zero value", disclosure.Rule{}, false},
		{"negative threshold", disclosure.Rule{Threshold: -1, Base: 5}, false},
		{"base 0", disclosure.Rule{Threshold: 7, Base: 0}, false},
		{"negative base", disclosure.Rule{Threshold: 7, Base: -5}, false},
		{"unknown method", disclosure.Rule{Threshold: 7, Base: 5, Method: 9}, false},
		{"base beyond MaxCount", disclosure.Rule{Threshold: 7, Base: disclosure.MaxCount + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.rule.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, disclosure.ErrRule) {
				t.Fatalf("Validate = %v, want an error wrapping ErrRule", err)
			}
		})
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	def := disclosure.DefaultRule()
	mid6 := disclosure.Rule{Base: 6, Method: disclosure.Midpoint}
	mid6t7 := disclosure.Rule{Threshold: 7, Base: 6, Method: disclosure.Midpoint}
	const suppressed = -1
	tests := []struct {
		name string
		rule disclosure.Rule
		n    int64
		want int64 // suppressed for a suppressed count
	}{
		{"zero stays zero", def, 0, 0},
		{"1 suppressed", def, 1, suppressed},
		{"7 suppressed", def, 7, suppressed},
		{"8 rounds up to 10", def, 8, 10},
		{"12 rounds down to 10", def, 12, 10},
		{"13 rounds up to 15", def, 13, 15},
		{"15 kept", def, 15, 15},
		{"1234 to 1235", def, 1234, 1235},
		{"negative suppressed", def, -3, suppressed},
		{"MaxCount rounded", disclosure.Rule{Base: 1}, disclosure.MaxCount, disclosure.MaxCount},
		{"beyond MaxCount suppressed", def, disclosure.MaxCount + 1, suppressed},
		{"invalid rule suppresses", disclosure.Rule{Threshold: 7, Base: 0}, 100, suppressed},
		{"invalid rule suppresses zero too", disclosure.Rule{Threshold: -1, Base: 5}, 0, suppressed},
		{"base 1, threshold 0: unchanged", disclosure.Rule{Base: 1}, 3, 3},
		{"base 10: half rounds up", disclosure.Rule{Threshold: 7, Base: 10}, 15, 20},
		{"base 10: 14 down", disclosure.Rule{Threshold: 7, Base: 10}, 14, 10},
		{"threshold 10, base 10: 11 rounds to 10, suppressed", disclosure.Rule{Threshold: 10, Base: 10}, 11, suppressed},
		{"threshold 10, base 10: 15 to 20", disclosure.Rule{Threshold: 10, Base: 10}, 15, 20},
		{"base 6 above threshold 7: 8 would be 6, suppressed", disclosure.Rule{Threshold: 7, Base: 6}, 8, suppressed},
		{"base 6 above threshold 7: 9 to 12", disclosure.Rule{Threshold: 7, Base: 6}, 9, 12},
		{"threshold 1, base 5: 2 rounds to 0", disclosure.Rule{Threshold: 1, Base: 5}, 2, 0},
		{"midpoint 6: 0", mid6, 0, 0},
		{"midpoint 6: 1 to 3", mid6, 1, 3},
		{"midpoint 6: 6 to 3", mid6, 6, 3},
		{"midpoint 6: 7 to 9", mid6, 7, 9},
		{"midpoint 6: 12 to 9", mid6, 12, 9},
		{"midpoint 6: 13 to 15", mid6, 13, 15},
		{"midpoint 6: 18 to 15", mid6, 18, 15},
		{"midpoint 6: 100 to 99", mid6, 100, 99},
		{"midpoint 6, threshold 7: 7 suppressed", mid6t7, 7, suppressed},
		{"midpoint 6, threshold 7: 8 to 9", mid6t7, 8, 9},
		{"midpoint 10, threshold 7: 8 would be 5, suppressed", disclosure.Rule{Threshold: 7, Base: 10, Method: disclosure.Midpoint}, 8, suppressed},
		{"midpoint 10, threshold 7: 11 to 15", disclosure.Rule{Threshold: 7, Base: 10, Method: disclosure.Midpoint}, 11, 15},
		{"midpoint 5: odd width", disclosure.Rule{Base: 5, Method: disclosure.Midpoint}, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, s := tt.rule.Count(tt.n)
			if tt.want == suppressed {
				if !s || v != 0 {
					t.Fatalf("Count(%d) = %d, %v; want suppressed", tt.n, v, s)
				}
				return
			}
			if s || v != tt.want {
				t.Fatalf("Count(%d) = %d, suppressed %v; want %d", tt.n, v, s, tt.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	def := disclosure.DefaultRule()
	tests := []struct {
		name      string
		rule      disclosure.Rule
		num, den  int64
		mult      float64
		want      float64
		published bool
	}{
		{"from rounded counts", def, 12, 98, 100, 10.0 / 100 * 100, true},
		{"per 100,000", def, 23, 123456, 100000, 25.0 / 123455 * 100000, true},
		{"zero numerator is a rate of zero", def, 0, 40, 1, 0, true},
		{"small numerator suppresses", def, 3, 500, 100, 0, false},
		{"small denominator suppresses", def, 12, 6, 1, 0, false},
		{"both small", def, 2, 5, 1, 0, false},
		{"zero denominator", def, 0, 0, 1, 0, false},
		{"zero multiplier", def, 10, 20, 0, 0, false},
		{"negative multiplier", def, 10, 20, -1, 0, false},
		{"NaN multiplier", def, 10, 20, math.NaN(), 0, false},
		{"invalid rule", disclosure.Rule{}, 100, 200, 1, 0, false},
		{"midpoint 6", disclosure.Rule{Base: 6, Method: disclosure.Midpoint}, 2, 14, 1, 3.0 / 15, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, ok := tt.rule.Ratio(tt.num, tt.den, tt.mult)
			if ok != tt.published {
				t.Fatalf("Ratio(%d, %d, %v) = %v, %v; want published %v", tt.num, tt.den, tt.mult, v, ok, tt.published)
			}
			if !ok && !math.IsNaN(v) {
				t.Errorf("unpublished ratio has value %v, want NaN", v)
			}
			if ok && math.Abs(v-tt.want) > 1e-12*math.Max(1, tt.want) {
				t.Errorf("Ratio(%d, %d, %v) = %v, want %v", tt.num, tt.den, tt.mult, v, tt.want)
			}
		})
	}
}

// TestTotalIsNotTheRoundedRawTotal shows why totals come from the cells:
// with cells 3, 3 and 8 the raw total 14 rounds to 15, and 15 − 10 would
// reveal that the suppressed cells hold about 5.
func TestTotalIsNotTheRoundedRawTotal(t *testing.T) {
	t.Parallel()
	rule := disclosure.DefaultRule()
	cells := rule.Cells([]int64{3, 3, 8, 0})
	want := []disclosure.Cell{{Suppressed: true}, {Suppressed: true}, {Value: 10}, {Value: 0}}
	if !reflect.DeepEqual(cells, want) {
		t.Fatalf("Cells = %+v, want %+v", cells, want)
	}
	if got := disclosure.Total(cells); got != 10 {
		t.Errorf("Total = %d, want 10", got)
	}
}

func TestRuleString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule disclosure.Rule
		want string
	}{
		{disclosure.DefaultRule(), "counts 1-7 suppressed, others rounded to the nearest 5"},
		{disclosure.Rule{Base: 6, Method: disclosure.Midpoint}, "counts rounded to the midpoint of bins of 6 (midpoint)"},
	}
	for _, tt := range tests {
		if got := tt.rule.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// ruleAndCounts is a random valid rule with a row of counts, for the
// property tests: thresholds 0–20, bases 1–25, counts mostly small (where
// the rules bite) and some up to MaxCount.
type ruleAndCounts struct {
	Rule   disclosure.Rule
	Counts []int64
}

// Generate implements quick.Generator.
func (ruleAndCounts) Generate(r *rand.Rand, size int) reflect.Value {
	rc := ruleAndCounts{Rule: disclosure.Rule{
		Threshold: r.Intn(21),
		Base:      1 + r.Intn(25),
		Method:    disclosure.Method(r.Intn(2)),
	}}
	rc.Counts = make([]int64, 1+r.Intn(size+1))
	for i := range rc.Counts {
		switch r.Intn(4) {
		case 0:
			rc.Counts[i] = 0
		case 1:
			rc.Counts[i] = r.Int63n(disclosure.MaxCount + 1)
		default:
			rc.Counts[i] = r.Int63n(60)
		}
	}
	return reflect.ValueOf(rc)
}

func checkProperty(t *testing.T, f func(ruleAndCounts) bool) {
	t.Helper()
	if err := quick.Check(f, &quick.Config{MaxCount: 3000}); err != nil {
		t.Error(err)
	}
}

func TestPropertyNoSmallCountPublished(t *testing.T) {
	t.Parallel()
	checkProperty(t, func(rc ruleAndCounts) bool {
		for _, n := range rc.Counts {
			v, s := rc.Rule.Count(n)
			if s && v != 0 {
				return false
			}
			if v >= 1 && v <= int64(rc.Rule.Threshold) {
				return false
			}
		}
		return true
	})
}

// TestPropertyOnTheGrid checks that every published value is a multiple of
// Base (Round) or a bin midpoint (Midpoint), and lies within a bin of the
// true count.
func TestPropertyOnTheGrid(t *testing.T) {
	t.Parallel()
	checkProperty(t, func(rc ruleAndCounts) bool {
		b := int64(rc.Rule.Base)
		for _, n := range rc.Counts {
			v, s := rc.Rule.Count(n)
			if s || v == 0 {
				continue
			}
			switch rc.Rule.Method {
			case disclosure.Round:
				if v%b != 0 || 2*(v-n) > b || 2*(n-v) >= b {
					return false
				}
			case disclosure.Midpoint:
				upper := v + b/2 // the bin is (upper − b, upper]
				if upper%b != 0 || n <= upper-b || n > upper {
					return false
				}
			}
		}
		return true
	})
}

func TestPropertyZeroStaysZero(t *testing.T) {
	t.Parallel()
	checkProperty(t, func(rc ruleAndCounts) bool {
		v, s := rc.Rule.Count(0)
		return v == 0 && !s
	})
}

// TestPropertyDeterministic checks that a count is published the same way
// every time and under an equal rule built separately.
func TestPropertyDeterministic(t *testing.T) {
	t.Parallel()
	checkProperty(t, func(rc ruleAndCounts) bool {
		again := disclosure.Rule{Threshold: rc.Rule.Threshold, Base: rc.Rule.Base, Method: rc.Rule.Method}
		for _, n := range rc.Counts {
			v1, s1 := rc.Rule.Count(n)
			v2, s2 := again.Count(n)
			if v1 != v2 || s1 != s2 || rc.Rule.Cell(n) != again.Cell(n) {
				return false
			}
		}
		return true
	})
}

// TestPropertyTotalsFromCells checks that a published total is the sum of
// the published cells, and so itself never a small count.
func TestPropertyTotalsFromCells(t *testing.T) {
	t.Parallel()
	checkProperty(t, func(rc ruleAndCounts) bool {
		cells := rc.Rule.Cells(rc.Counts)
		var sum int64
		for i, n := range rc.Counts {
			v, s := rc.Rule.Count(n)
			if cells[i] != (disclosure.Cell{Value: v, Suppressed: s}) {
				return false
			}
			sum += v
		}
		total := disclosure.Total(cells)
		if total != sum {
			return false
		}
		return total == 0 || total > int64(rc.Rule.Threshold)
	})
}

// TestPropertyRatioSuppression checks that a ratio is published exactly
// when both its counts are, and then from the published counts.
func TestPropertyRatioSuppression(t *testing.T) {
	t.Parallel()
	checkProperty(t, func(rc ruleAndCounts) bool {
		for i := 0; i+1 < len(rc.Counts); i++ {
			num, den := rc.Counts[i], rc.Counts[i+1]
			nv, ns := rc.Rule.Count(num)
			dv, ds := rc.Rule.Count(den)
			value, ok := rc.Rule.Ratio(num, den, 1000)
			if ok != (!ns && !ds && dv != 0) {
				return false
			}
			if ok && value != float64(nv)/float64(dv)*1000 {
				return false
			}
			if !ok && !math.IsNaN(value) {
				return false
			}
		}
		return true
	})
}

// FuzzCount checks the published-value invariants on fuzzed rules and
// counts, including invalid ones.
func FuzzCount(f *testing.F) {
	f.Add(7, 5, 0, int64(8))
	f.Add(0, 6, 1, int64(6))
	f.Add(7, 6, 0, int64(8))
	f.Add(-1, 5, 0, int64(3))
	f.Add(7, 0, 1, int64(100))
	f.Fuzz(func(t *testing.T, threshold, base, method int, n int64) {
		rule := disclosure.Rule{Threshold: threshold, Base: base, Method: disclosure.Method(method)}
		v, s := rule.Count(n)
		if rule.Validate() != nil || n < 0 || n > disclosure.MaxCount {
			if !s || v != 0 {
				t.Fatalf("%+v.Count(%d) = %d, %v; want suppressed", rule, n, v, s)
			}
			return
		}
		if s && v != 0 {
			t.Fatalf("suppressed with value %d", v)
		}
		if v >= 1 && v <= int64(threshold) {
			t.Fatalf("%+v.Count(%d) = %d: a small count published", rule, n, v)
		}
		if n == 0 && (v != 0 || s) {
			t.Fatalf("zero published as %d, %v", v, s)
		}
	})
}

func BenchmarkCount(b *testing.B) {
	rule := disclosure.DefaultRule()
	for b.Loop() {
		for n := range int64(1000) {
			_, _ = rule.Count(n)
		}
	}
}
