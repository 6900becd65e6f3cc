package measures

import (
	"slices"
)

// Direction is which way a measure improves.
type Direction string

// The improvement directions, as NHS "Making Data Count" uses them.
const (
	// Higher means a higher value is better.
	Higher Direction = "higher"
	// Lower means a lower value is better.
	Lower Direction = "lower"
	// Neutral means the measure is context only: neither way is better.
	Neutral Direction = "neutral"
)

// Kind is how a measure's value is formed from its numerator and
// denominator.
type Kind string

// The kinds of measure.
const (
	// Count is a number of events; the value is the numerator and the
	// denominator repeats it.
	Count Kind = "count"
	// Proportion is numerator / denominator × Multiplier (100 for a
	// percentage); the numerator is a subset of the denominator.
	Proportion Kind = "proportion"
	// Rate is numerator / denominator × Multiplier, where the denominator is
	// a population (e.g. detentions per 100,000 residents).
	Rate Kind = "rate"
	// Median is a median (or another quantile) in minutes: the numerator is
	// the value and the denominator the number of observations.
	Median Kind = "median"
	// Ratio is numerator / denominator × Multiplier where neither is a
	// subset of the other (e.g. one group's rate over another's).
	Ratio Kind = "ratio"
)

// Measure is one measure of the data standard (§5): what it means, how it
// is shown, and the SQL that computes it.
type Measure struct {
	// ID is the stable identifier agreements and dashboards use.
	ID string
	// Title is the short name shown on charts.
	Title string
	// Definition explains the measure in plain English for commissioners,
	// including its formula.
	Definition string
	// Unit is what a value is measured in, e.g. "%" or "minutes".
	Unit string
	// Kind is how the value is formed from numerator and denominator.
	Kind Kind
	// Direction is which way the measure improves.
	Direction Direction
	// Target is the value the measure should reach, when there is one.
	Target *float64
	// Multiplier scales numerator / denominator: 100 for a percentage,
	// 100,000 for a rate per 100,000, 1 otherwise.
	Multiplier float64
	// Funnel is true for a proportion or a rate compared across forces (or
	// regions) in funnel plots: a proportion as such, a rate as a ratio of
	// counts (events over residents) around the pooled rate.
	Funnel bool
	// Grain is the level the SQL yields, e.g. "force × month".
	Grain string
	// NumeratorDef explains the numerator in plain English.
	NumeratorDef string
	// DenominatorDef explains the denominator in plain English.
	DenominatorDef string

	spec spec
}

// Catalogue returns every measure, in a stable order. The slice is a fresh
// copy the caller may modify.
func Catalogue() []Measure {
	return catalogue()
}

// ByID returns the measure with the given id.
func ByID(id string) (Measure, bool) {
	all := catalogue()
	i := slices.IndexFunc(all, func(m Measure) bool { return m.ID == id })
	if i < 0 {
		return Measure{}, false
	}
	return all[i], true
}

// IDs returns the id of every measure, in catalogue order.
func IDs() []string {
	all := catalogue()
	ids := make([]string, len(all))
	for i, m := range all {
		ids[i] = m.ID
	}
	return ids
}

// Value forms the measure's value from a numerator and denominator as Query
// returns them. ok is false when the value is undefined: a zero
// denominator for a proportion, rate, ratio or median (no observations). A
// count is always defined and its value is the numerator.
func (m Measure) Value(numerator, denominator float64) (v float64, ok bool) {
	switch m.Kind {
	case Count:
		return numerator, true
	case Median:
		if denominator <= 0 {
			return 0, false
		}
		return numerator, true
	default:
		if denominator == 0 {
			return 0, false
		}
		return numerator / denominator * m.Multiplier, true
	}
}

// PerEvent is, for a count, what each event counted is worth: the value
// the SQL yields is events × PerEvent (officer hours per deployment avoided).
// It is 1 for every other count. Disclosure control applies to the events,
// never to their product, so that no published value pins a small count.
func (m Measure) PerEvent(th Thresholds) float64 {
	if m.Kind == Count && m.spec.perEvent != nil {
		return m.spec.perEvent(th)
	}
	return 1
}

// ExpectedPerCount is, for a ratio, the force's factor that turns the
// comparison group's count into the expected count (the denominator the SQL
// yields is count × factor), and false when the measure has none for the
// force. Disclosure control applies to the comparison group's count.
func (m Measure) ExpectedPerCount(force string) (float64, bool) {
	f, ok := m.spec.expectedPerCount[force]
	return f, ok && f > 0
}

// Disclosure says, in plain English, how the measure's published figures
// are made safe under an agreement's threshold and rounding (the hub's
// disclosure model; see the README). Every figure is a disclosed count or
// is computed from disclosed counts and public figures only.
func (m Measure) Disclosure() string {
	const stats = " SPC centre lines, limits and signals are computed from the published values, with suppressed months left out."
	switch m.Kind {
	case Count:
		if m.spec.perEvent != nil {
			return "The number of events is suppressed when small and otherwise rounded; the value is that rounded number times the " +
				"fixed amount per event, so it is suppressed with it." + stats
		}
		return "The count is suppressed when small and otherwise rounded." + stats
	case Proportion:
		s := "Numerator and denominator are each suppressed when small and otherwise rounded; the value is formed from the rounded " +
			"counts and suppressed with either." + stats
		if m.Funnel {
			s += " Funnel plots are made from the published counts of the forces shown: the centre is their pooled proportion, and a " +
				"force whose counts are suppressed has no position or limits, and a month is plotted only when at least three " +
				"forces' counts are published."
		}
		return s
	case Rate:
		s := "The count is suppressed when small and otherwise rounded; the rate is that rounded count over the published " +
			"population, suppressed with it." + stats
		if m.Funnel {
			s += " Funnel plots compare the rates as a ratio of counts (FunnelPlotR's RC, on the log scale) around the pooled " +
				"rate of the units shown, made from the published counts and populations; a unit whose count is suppressed " +
				"has no position or limits, and a month is plotted only when at least three units' counts are published."
		}
		return s
	case Median:
		return "Shown only when the number of observations (itself rounded) is over the threshold, in whole minutes." + stats
	default:
		return "The observed count and the comparison count are each suppressed when small and otherwise rounded; expected is the " +
			"rounded comparison count times the published population factor, and the ratio is suppressed when either count is, or " +
			"when fewer than the threshold are expected." + stats
	}
}

// ptr returns a pointer to a constant, for Measure.Target.
func ptr(v float64) *float64 { return &v }
