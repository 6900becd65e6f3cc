package funnel

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Kind is what a unit's numerator and denominator describe.
type Kind int

const (
	// Proportion is a numerator out of a denominator (e.g. detentions with
	// a health professional consulted out of all detentions), compared on
	// the arcsine-square-root scale around the pooled proportion.
	Proportion Kind = iota + 1
	// Ratio is an indirectly standardised ratio: observed count over
	// expected count, compared around 1.
	Ratio
	// RatioOfCounts is one count over another (e.g. detentions over
	// residents), compared on the log scale around the pooled ratio
	// Σnumerator/Σdenominator. The z-scores use the log of the ratio with
	// ½ added to both counts and its delta-method standard error
	// √(num/(num+½)² + den/(den+½)²), which also weights the units when τ²
	// is estimated; the limits, as in FunnelPlotR, use the standard error
	// 1/(2√den) of the denominator alone (see UnitResult.SE).
	RatioOfCounts
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Proportion:
		return "proportion"
	case Ratio:
		return "ratio"
	case RatioOfCounts:
		return "ratio of counts"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Scale is the transformation a Ratio is compared on.
type Scale int

const (
	// LogScale compares log(observed/expected) with standard error
	// 1/√expected, as the SHMI method does. Over-dispersion is estimated
	// from the z-scores with about 10% at each end dropped (truncated) by
	// rank rather than Winsorised.
	LogScale Scale = iota
	// SqrtScale compares √(observed/expected) with standard error
	// 1/(2√expected), as the CQC method does, with Winsorised z-scores.
	SqrtScale
)

// String returns the scale's name.
func (s Scale) String() string {
	switch s {
	case LogScale:
		return "log"
	case SqrtScale:
		return "sqrt"
	default:
		return fmt.Sprintf("Scale(%d)", int(s))
	}
}

// Level is a pair of funnel limits: the inner 95% or the outer 99.8%.
type Level int

const (
	// Level998 is the 99.8% limits (z = 3.09), the usual outlier threshold.
	Level998 Level = iota
	// Level95 is the 95% limits (z = 1.96).
	Level95
)

// String returns the level as a percentage.
func (l Level) String() string {
	switch l {
	case Level998:
		return "99.8%"
	case Level95:
		return "95%"
	default:
		return fmt.Sprintf("Level(%d)", int(l))
	}
}

// DefaultWinsorise is the share of z-scores trimmed at each end before the
// dispersion ratio is estimated, when Options.Winsorise is zero.
const DefaultWinsorise = 0.1

// Options say how units are compared.
type Options struct {
	// Kind is what the units measure; it must be set.
	Kind Kind
	// Scale is the transformation for ratios (ignored for proportions and
	// ratios of counts); the zero value is LogScale.
	Scale Scale
	// Adjust estimates over-dispersion (φ and τ²) and, when φ > 1, widens
	// the limits by τ². Without it φ and τ² are reported as zero and the
	// unadjusted limits are used.
	Adjust bool
	// Winsorise is the share of z-scores trimmed at each end before φ is
	// estimated, in (0, 0.5); zero means DefaultWinsorise.
	Winsorise float64
	// Multiplier scales values, target and limits for display, e.g. 100
	// for percentages; zero means 1. It changes no calculation.
	Multiplier float64
	// FlagLevel is the limits a unit must fall outside to be an outlier;
	// the zero value is Level998.
	FlagLevel Level
}

// Unit is one unit's numerator and denominator: for a Proportion the
// events and the population, for a Ratio the observed and expected counts,
// for a RatioOfCounts the two counts. Units sharing an ID are summed.
type Unit struct {
	ID          string
	Numerator   float64
	Denominator float64
}

// Flag says on which side of a pair of limits a unit lies.
type Flag int

const (
	// Within is a unit on or inside both limits.
	Within Flag = iota
	// Low is a unit below the lower limit.
	Low
	// High is a unit above the upper limit.
	High
)

// String returns the flag's name.
func (f Flag) String() string {
	switch f {
	case Within:
		return "within"
	case Low:
		return "low"
	case High:
		return "high"
	default:
		return fmt.Sprintf("Flag(%d)", int(f))
	}
}

// UnitResult is one unit's place on the funnel.
type UnitResult struct {
	// ID, Numerator and Denominator are the unit's (summed) input.
	ID          string
	Numerator   float64
	Denominator float64
	// Ratio is Numerator/Denominator and Value is Ratio × Multiplier, the
	// point a chart plots at x = Denominator.
	Ratio float64
	Value float64
	// SE is the within-unit standard error on the transformed scale that
	// the limits are drawn with: 1/(2√n) for proportions, square-root
	// ratios and ratios of counts, 1/√n for log ratios.
	SE float64
	// ZSE is the standard error Z is measured in and the units are
	// weighted by when τ² is estimated. It is SE except for a ratio of
	// counts, where it is √(num/(num+½)² + den/(den+½)²), the standard
	// error of log((num+½)/(den+½)).
	ZSE float64
	// Z is the unadjusted z-score on the transformed scale, and AdjustedZ
	// the z-score with τ² added to the variance (equal to Z when τ² is 0).
	// For a ratio of counts both are of the continuity-corrected log
	// ratio in units of ZSE, so they need not agree with the flags, which
	// compare Value with limits drawn with SE.
	Z         float64
	AdjustedZ float64
	// Trimmed reports that Z was Winsorised (or truncated on the log
	// scale) before φ was estimated; TrimmedZ is the value used (NaN for a
	// truncated unit, which does not count towards φ).
	Trimmed  bool
	TrimmedZ float64
	// Limits are the limits in use at this unit's denominator.
	Limits Limits
	// Flag95 and Flag998 place the unit against the limits in use.
	Flag95  Flag
	Flag998 Flag
	// Outlier reports that the unit lies outside the limits at the
	// requested FlagLevel.
	Outlier bool
}

// Result is a funnel plot: the target, the over-dispersion estimates and
// every unit, sorted by ID.
type Result struct {
	Kind       Kind
	Scale      Scale
	Multiplier float64
	FlagLevel  Level
	// Target is the centre line before the multiplier: the pooled
	// Σnumerator/Σdenominator for proportions and ratios of counts, or 1
	// for ratios.
	Target float64
	// Phi is the dispersion ratio (mean squared trimmed z-score) and Tau2
	// the between-unit variance on the transformed scale; both are zero
	// when Options.Adjust is false.
	Phi  float64
	Tau2 float64
	// Adjusted reports whether the limits in use include Tau2: Adjust was
	// requested and the units are over-dispersed (Phi > 1). A positive
	// Tau2 with Phi ≤ 1 is still reported but not used.
	Adjusted bool
	Units    []UnitResult
}

// Centre returns the plotted centre line, Target × Multiplier.
func (r Result) Centre() float64 { return r.Target * r.Multiplier }

// ErrInput is returned, wrapped with the reason, when Analyse is given
// units or options it cannot use.
var ErrInput = errors.New("funnel: invalid input")

// Analyse places units on a funnel plot.
func Analyse(units []Unit, opts Options) (Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	agg, err := aggregate(units, opts.Kind)
	if err != nil {
		return Result{}, err
	}
	if opts.Adjust && len(agg) < 2 {
		return Result{}, fmt.Errorf("%w: over-dispersion needs at least 2 units, got %d", ErrInput, len(agg))
	}
	res := Result{
		Kind:       opts.Kind,
		Scale:      opts.Scale,
		Multiplier: opts.Multiplier,
		FlagLevel:  opts.FlagLevel,
		Target:     target(agg, opts.Kind),
	}
	res.Units = res.score(agg)
	kept, err := trimZ(res.Units, opts)
	if err != nil {
		return Result{}, err
	}
	if opts.Adjust {
		res.Phi, res.Tau2, err = dispersion(kept, res.Units)
		if err != nil {
			return Result{}, err
		}
		res.Adjusted = res.Phi > 1
	}
	res.place()
	return res, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Kind != Proportion && o.Kind != Ratio && o.Kind != RatioOfCounts {
		return o, fmt.Errorf("%w: kind %v is not Proportion, Ratio or RatioOfCounts", ErrInput, o.Kind)
	}
	if o.Scale != LogScale && o.Scale != SqrtScale {
		return o, fmt.Errorf("%w: scale %v is not LogScale or SqrtScale", ErrInput, o.Scale)
	}
	if o.FlagLevel != Level998 && o.FlagLevel != Level95 {
		return o, fmt.Errorf("%w: flag level %v is not Level95 or Level998", ErrInput, o.FlagLevel)
	}
	if o.Winsorise == 0 {
		o.Winsorise = DefaultWinsorise
	}
	if !(o.Winsorise > 0 && o.Winsorise < 0.5) {
		return o, fmt.Errorf("%w: winsorise %v is outside (0, 0.5)", ErrInput, o.Winsorise)
	}
	if o.Multiplier == 0 {
		o.Multiplier = 1
	}
	if !(o.Multiplier > 0) || math.IsInf(o.Multiplier, 0) {
		return o, fmt.Errorf("%w: multiplier %v is not a positive number", ErrInput, o.Multiplier)
	}
	return o, nil
}

// aggregate checks the units and sums those sharing an ID, sorted by ID.
func aggregate(units []Unit, kind Kind) ([]Unit, error) {
	if len(units) == 0 {
		return nil, fmt.Errorf("%w: no units", ErrInput)
	}
	byID := make(map[string]int, len(units))
	var out []Unit
	for _, u := range units {
		if err := checkUnit(u); err != nil {
			return nil, err
		}
		i, ok := byID[u.ID]
		if !ok {
			byID[u.ID] = len(out)
			out = append(out, u)
			continue
		}
		out[i].Numerator += u.Numerator
		out[i].Denominator += u.Denominator
	}
	var events float64
	for _, u := range out {
		if kind == Proportion && u.Numerator > u.Denominator {
			return nil, fmt.Errorf("%w: unit %q: numerator %v exceeds denominator %v for a proportion",
				ErrInput, u.ID, u.Numerator, u.Denominator)
		}
		events += u.Numerator
	}
	if kind == RatioOfCounts && events == 0 {
		return nil, fmt.Errorf("%w: every numerator is 0, so the pooled ratio of counts has no log", ErrInput)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func checkUnit(u Unit) error {
	switch {
	case u.ID == "":
		return fmt.Errorf("%w: a unit has no ID", ErrInput)
	case math.IsNaN(u.Numerator) || math.IsInf(u.Numerator, 0) || u.Numerator < 0:
		return fmt.Errorf("%w: unit %q: numerator %v is not a non-negative number", ErrInput, u.ID, u.Numerator)
	case math.IsNaN(u.Denominator) || math.IsInf(u.Denominator, 0) || u.Denominator <= 0:
		return fmt.Errorf("%w: unit %q: denominator %v is not a positive number", ErrInput, u.ID, u.Denominator)
	}
	return nil
}

func target(units []Unit, kind Kind) float64 {
	if kind == Ratio {
		return 1
	}
	var num, den float64
	for _, u := range units {
		num += u.Numerator
		den += u.Denominator
	}
	return num / den
}

// transform returns a ratio (or the target) on the comparison scale.
func (r Result) transform(ratio float64) float64 {
	switch {
	case r.Kind == Proportion:
		return math.Asin(math.Sqrt(ratio))
	case r.Kind == Ratio && r.Scale == SqrtScale:
		return math.Sqrt(ratio)
	default:
		return math.Log(ratio)
	}
}

// zScale returns the unit's value on the comparison scale and the
// standard error its z-score is measured in. For a ratio of counts that is
// the log ratio with ½ added to each count, which stays finite when the
// numerator is 0, and the delta-method standard error of that log ratio
// with each count taken as Poisson.
func (r Result) zScale(num, den float64) (y, se float64) {
	if r.Kind == RatioOfCounts {
		a, b := num+0.5, den+0.5
		return math.Log(a / b), math.Sqrt(num/(a*a) + den/(b*b))
	}
	return r.transform(num / den), r.se(den)
}

// se returns the within-unit standard error on the comparison scale at
// denominator n.
func (r Result) se(n float64) float64 {
	if r.Kind == Ratio && r.Scale == LogScale {
		return math.Sqrt(1 / n)
	}
	return 1 / (2 * math.Sqrt(n))
}

// score computes each unit's ratio, standard error and unadjusted z-score.
func (r Result) score(units []Unit) []UnitResult {
	centre := r.transform(r.Target)
	out := make([]UnitResult, len(units))
	for i, u := range units {
		ratio := u.Numerator / u.Denominator
		y, zse := r.zScale(u.Numerator, u.Denominator)
		out[i] = UnitResult{
			ID:          u.ID,
			Numerator:   u.Numerator,
			Denominator: u.Denominator,
			Ratio:       ratio,
			Value:       ratio * r.Multiplier,
			SE:          r.se(u.Denominator),
			ZSE:         zse,
			Z:           (y - centre) / zse,
			TrimmedZ:    math.NaN(),
		}
	}
	return out
}

// place fills in each unit's adjusted z-score, limits and flags.
func (r *Result) place() {
	centre := r.transform(r.Target)
	for i := range r.Units {
		u := &r.Units[i]
		y, _ := r.zScale(u.Numerator, u.Denominator)
		u.AdjustedZ = (y - centre) / math.Sqrt(u.ZSE*u.ZSE+r.Tau2)
		u.Limits = r.Limits(u.Denominator)
		u.Flag95 = flag(u.Value, u.Limits.Lower95, u.Limits.Upper95)
		u.Flag998 = flag(u.Value, u.Limits.Lower998, u.Limits.Upper998)
		if r.FlagLevel == Level95 {
			u.Outlier = u.Flag95 != Within
		} else {
			u.Outlier = u.Flag998 != Within
		}
	}
}

// flag places a value against a pair of limits; a value on a limit is
// within it.
func flag(v, lower, upper float64) Flag {
	switch {
	case v < lower:
		return Low
	case v > upper:
		return High
	default:
		return Within
	}
}
