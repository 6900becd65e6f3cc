package disclosure

import (
	"errors"
	"fmt"
	"math"
)

// Method is how a count above the threshold is rounded.
type Method int

const (
	// Round rounds to the nearest multiple of Base, halves upwards
	// (Base 5: 8 → 10, 12 → 10, 13 → 15).
	Round Method = iota
	// Midpoint rounds to the midpoint of the bin of width Base that holds
	// the count: ceil(n/Base)·Base − floor(Base/2), with zero kept as zero.
	// With Base 6 this is OpenSAFELY's "midpoint 6" rounding (1–6 → 3,
	// 7–12 → 9, 13–18 → 15): unbiased, zero-is-zero, and each value a label
	// for a whole bin rather than a count. Suppression under Threshold
	// applies first; Threshold 0 gives OpenSAFELY's rule as documented.
	Midpoint
)

// String returns the method's name.
func (m Method) String() string {
	switch m {
	case Round:
		return "round"
	case Midpoint:
		return "midpoint"
	default:
		return fmt.Sprintf("Method(%d)", int(m))
	}
}

const (
	// DefaultThreshold is the largest count suppressed by default: counts
	// of 1 to 7 are never published.
	DefaultThreshold = 7
	// DefaultBase is the default rounding base: the nearest 5.
	DefaultBase = 5
	// Midpoint6Base is the bin width of OpenSAFELY's midpoint 6 rounding.
	Midpoint6Base = 6
	// MaxCount is the largest count the rules accept: larger values are
	// not counts of people or incidents, cannot all be held exactly in a
	// float64 for rates, and are suppressed.
	MaxCount = 1 << 53
)

// MinFunnelUnits is the fewest units (forces or regions) whose counts are
// published in a month for that month's funnel plot to be drawn at all
// (its target, limits and positions). With one unit the centre is that
// unit's own value; with two, each unit's place mirrors the other's; and
// beside so few, a suppressed unit's count is bounded by little more than
// the rounding of the others' around the pooled figure.
const MinFunnelUnits = 3

// Rule is one disclosure-control rule, as set by a data-sharing agreement.
type Rule struct {
	// Threshold is the largest count suppressed: counts 1..Threshold are
	// withheld. Zero suppresses nothing.
	Threshold int `yaml:"threshold" json:"threshold"`
	// Base is the rounding base (Round) or bin width (Midpoint); 1 with
	// Round leaves counts unrounded.
	Base int `yaml:"base" json:"base"`
	// Method is how counts above Threshold are rounded.
	Method Method `yaml:"method" json:"method"`
}

// DefaultRule returns the national default: suppress 1–7, then round to
// the nearest 5.
func DefaultRule() Rule {
	return Rule{Threshold: DefaultThreshold, Base: DefaultBase, Method: Round}
}

// ErrRule is returned, wrapped with the reason, by Validate.
var ErrRule = errors.New("disclosure: invalid rule")

// Validate reports whether the rule can be applied: Threshold ≥ 0,
// Base ≥ 1 and a known Method. Check a rule when it is loaded; Count and
// Ratio suppress everything under an invalid rule rather than publish.
func (r Rule) Validate() error {
	switch {
	case r.Threshold < 0:
		return fmt.Errorf("%w: threshold %d is negative", ErrRule, r.Threshold)
	case r.Base < 1:
		return fmt.Errorf("%w: base %d is below 1", ErrRule, r.Base)
	case int64(r.Threshold) > MaxCount || int64(r.Base) > MaxCount:
		return fmt.Errorf("%w: threshold %d or base %d exceeds %d", ErrRule, r.Threshold, r.Base, int64(MaxCount))
	case r.Method != Round && r.Method != Midpoint:
		return fmt.Errorf("%w: unknown method %v", ErrRule, r.Method)
	}
	return nil
}

// String describes the rule for provenance notes, e.g. "counts 1-7
// suppressed, others rounded to the nearest 5".
func (r Rule) String() string {
	var s string
	if r.Threshold > 0 {
		s = fmt.Sprintf("counts 1-%d suppressed, others ", r.Threshold)
	} else {
		s = "counts "
	}
	if r.Method == Midpoint {
		return s + fmt.Sprintf("rounded to the midpoint of bins of %d (%v)", r.Base, r.Method)
	}
	return s + fmt.Sprintf("rounded to the nearest %d", r.Base)
}

// Count returns the published value of count n and whether it is
// suppressed (then v is 0 and must be shown as suppressed, not as zero).
// Zero is published as zero. A count in 1..Threshold is suppressed, and so
// is one whose rounded value would fall in 1..Threshold (e.g. 8 rounded to
// the nearest 6), so that no published value is a small count. Negative
// counts, counts above MaxCount and every count under an invalid rule are
// suppressed.
func (r Rule) Count(n int64) (v int64, suppressed bool) {
	if r.Validate() != nil || n < 0 || n > MaxCount {
		return 0, true
	}
	if n == 0 {
		return 0, false
	}
	t := int64(r.Threshold)
	if n <= t {
		return 0, true
	}
	v = r.round(n)
	if v >= 1 && v <= t {
		return 0, true
	}
	return v, false
}

// round rounds a count in 1..MaxCount by the rule's method.
func (r Rule) round(n int64) int64 {
	b := int64(r.Base)
	if r.Method == Midpoint {
		return ((n-1)/b+1)*b - b/2
	}
	q, rem := n/b, n%b
	if 2*rem >= b {
		q++
	}
	return q * b
}

// Ratio returns num/den × multiplier computed from the published (rounded)
// counts, and false (with NaN) when either count is suppressed, the
// published denominator is zero, or the multiplier is not a positive
// number. Use it for every rate or proportion derived from counts.
func (r Rule) Ratio(num, den int64, multiplier float64) (value float64, ok bool) {
	n, numSuppressed := r.Count(num)
	d, denSuppressed := r.Count(den)
	if numSuppressed || denSuppressed || d == 0 || !(multiplier > 0) || math.IsInf(multiplier, 1) {
		return math.NaN(), false
	}
	return float64(n) / float64(d) * multiplier, true
}

// Cell is one published count: its value, or a marker that it is
// suppressed (Value is then 0).
type Cell struct {
	Value      int64 `json:"value"`
	Suppressed bool  `json:"suppressed"`
}

// Cell applies the rule to one count.
func (r Rule) Cell(n int64) Cell {
	v, s := r.Count(n)
	return Cell{Value: v, Suppressed: s}
}

// Cells applies the rule to every count of a table row or column.
func (r Rule) Cells(counts []int64) []Cell {
	out := make([]Cell, len(counts))
	for i, n := range counts {
		out[i] = r.Cell(n)
	}
	return out
}

// Total is the published total of published cells: the sum of their
// values, suppressed cells contributing nothing. Totals are never rounded
// from the raw total, which would let a reader recover the suppressed
// cells by subtraction.
func Total(cells []Cell) int64 {
	var sum int64
	for _, c := range cells {
		if !c.Suppressed {
			sum += c.Value
		}
	}
	return sum
}
