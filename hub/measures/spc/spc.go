package spc

import (
	"fmt"
	"math"
	"time"
)

// InputError is the error Analyse and ParseDirection return when the points
// or the options cannot be analysed; Reason says why.
type InputError struct {
	Reason string
}

// Error returns the reason with the package prefix.
func (e *InputError) Error() string {
	return "spc: invalid input: " + e.Reason
}

// invalid returns an *InputError with a formatted reason.
func invalid(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}

// Direction is the direction in which a measure improves.
type Direction int

const (
	// Increase means higher values are better. It is the zero value, as
	// "increase" is the reference package's default.
	Increase Direction = iota
	// Decrease means lower values are better.
	Decrease
	// Neutral means neither direction is better: special causes are only
	// high or low, and assurance against a target is not assessed.
	Neutral
)

// String returns the direction as the reference names it: "increase",
// "decrease" or "neutral".
func (d Direction) String() string {
	switch d {
	case Increase:
		return "increase"
	case Decrease:
		return "decrease"
	case Neutral:
		return "neutral"
	default:
		return fmt.Sprintf("Direction(%d)", int(d))
	}
}

// ParseDirection reads "increase", "decrease" or "neutral".
func ParseDirection(s string) (Direction, error) {
	for _, d := range []Direction{Increase, Decrease, Neutral} {
		if s == d.String() {
			return d, nil
		}
	}
	return 0, invalid("unknown improvement direction %q", s)
}

// sign is +1 for Increase, −1 for Decrease and 0 for Neutral.
func (d Direction) sign() int {
	switch d {
	case Increase:
		return 1
	case Decrease:
		return -1
	default:
		return 0
	}
}

// Point is one observation of the measure: Time identifies it (and is what
// rebase dates are matched against), Value is the measure.
type Point struct {
	Time  time.Time
	Value float64
}

// Options control the analysis. The zero value gives the reference defaults:
// improvement is an increase, no target, limits from every point, no
// rebasing, moving-range screening on, runs and trends of 7 points.
type Options struct {
	// Improvement is the direction in which the measure improves.
	Improvement Direction
	// Target, when set, is assessed against the last point's process limits
	// (unless Improvement is Neutral).
	Target *float64
	// FixAfterN, when not zero, computes each period's mean and limits from
	// its first FixAfterN points only; the limits then apply to the later
	// points, and the rules are evaluated on every point. It must be at least
	// 12, as in the reference.
	FixAfterN int
	// Rebase lists the times at which a new period starts. Each must be the
	// Time of one of the points (that point is the first of its period); the
	// time of the first point adds nothing, and repeats are harmless.
	Rebase []time.Time
	// NoOutlierScreening uses every moving range for the limits (the
	// reference's screen_outliers = FALSE). By default ranges of at least
	// 3.267 × the mean moving range are dropped and the mean recomputed.
	NoOutlierScreening bool
	// RunLength is how many consecutive points strictly on one side of the
	// mean make a shift; 0 means 7, the reference's fixed value.
	RunLength int
	// TrendLength is how many consecutive strictly rising (or falling)
	// points make a trend; 0 means 7, the reference's fixed value.
	TrendLength int
}

// Rule is the special cause a point is part of, or RuleNone.
type Rule string

// The rules, in the priority order used when several apply to a point.
const (
	// RuleAboveUPL is a point above the upper process limit.
	RuleAboveUPL Rule = "above_upl"
	// RuleBelowLPL is a point below the lower process limit.
	RuleBelowLPL Rule = "below_lpl"
	// RuleTrendUp is a point in a run of strictly rising points.
	RuleTrendUp Rule = "trend_increasing"
	// RuleTrendDown is a point in a run of strictly falling points.
	RuleTrendDown Rule = "trend_decreasing"
	// RuleTwoOfThreeAbove is a point beyond the upper near-limit edge, with
	// another of three consecutive points, all three above the mean.
	RuleTwoOfThreeAbove Rule = "two_of_three_above"
	// RuleTwoOfThreeBelow is a point beyond the lower near-limit edge, with
	// another of three consecutive points, all three below the mean.
	RuleTwoOfThreeBelow Rule = "two_of_three_below"
	// RuleRunAbove is a point in a run of points strictly above the mean.
	RuleRunAbove Rule = "run_above"
	// RuleRunBelow is a point in a run of points strictly below the mean.
	RuleRunBelow Rule = "run_below"
	// RuleNone is a point with common-cause variation only.
	RuleNone Rule = "common_cause"
)

// high reports whether the rule points upwards (above the mean or rising).
func (r Rule) high() bool {
	return r == RuleAboveUPL || r == RuleTrendUp || r == RuleTwoOfThreeAbove || r == RuleRunAbove
}

// PointType is a point's classification, named as the reference names it.
type PointType string

// The point types.
const (
	// CommonCause is a point with no special cause.
	CommonCause PointType = "common_cause"
	// SpecialCauseImprovement is a special cause in the improving direction.
	SpecialCauseImprovement PointType = "special_cause_improvement"
	// SpecialCauseConcern is a special cause in the worsening direction.
	SpecialCauseConcern PointType = "special_cause_concern"
	// SpecialCauseNeutralHigh is a high special cause of a Neutral measure.
	SpecialCauseNeutralHigh PointType = "special_cause_neutral_high"
	// SpecialCauseNeutralLow is a low special cause of a Neutral measure.
	SpecialCauseNeutralLow PointType = "special_cause_neutral_low"
)

// VariationIcon is the Making Data Count variation icon for a series, named
// as the reference names its icon files.
type VariationIcon string

// The variation icons.
const (
	// IconCommonCause is common-cause variation at the last point.
	IconCommonCause VariationIcon = "common_cause"
	// IconImprovementHigh is improving special cause, higher is better.
	IconImprovementHigh VariationIcon = "improvement_high"
	// IconImprovementLow is improving special cause, lower is better.
	IconImprovementLow VariationIcon = "improvement_low"
	// IconConcernHigh is concerning special cause, high values (lower is better).
	IconConcernHigh VariationIcon = "concern_high"
	// IconConcernLow is concerning special cause, low values (higher is better).
	IconConcernLow VariationIcon = "concern_low"
	// IconNeutralHigh is a high special cause of a Neutral measure.
	IconNeutralHigh VariationIcon = "neutral_high"
	// IconNeutralLow is a low special cause of a Neutral measure.
	IconNeutralLow VariationIcon = "neutral_low"
)

// Assurance is whether the process can be expected to meet the target, or
// AssuranceNone when that is not assessed.
type Assurance string

// The assurance types.
const (
	// AssuranceNone means no target was given or the measure is Neutral.
	AssuranceNone Assurance = ""
	// ConsistentPass means the target lies beyond the process limits on the
	// good side: every point is expected to meet it.
	ConsistentPass Assurance = "consistent_pass"
	// ConsistentFail means the target lies beyond the process limits on the
	// bad side: no point is expected to meet it.
	ConsistentFail Assurance = "consistent_fail"
	// Inconsistent means the target lies within the process limits: the
	// process will sometimes meet it and sometimes not.
	Inconsistent Assurance = "inconsistent"
)

// Icon returns the Making Data Count assurance icon name: "pass", "fail",
// "inconsistent", or "" for AssuranceNone.
func (a Assurance) Icon() string {
	switch a {
	case ConsistentPass:
		return "pass"
	case ConsistentFail:
		return "fail"
	case Inconsistent:
		return "inconsistent"
	default:
		return ""
	}
}

// PointResult is the analysis of one point. Limits and means are NaN where
// the reference has NA: a period of one point has no moving range, and a
// period whose baseline moving ranges are all zero has none left after
// screening, so neither has limits. NaN does not encode as JSON; callers that
// publish JSON must map it to null.
type PointResult struct {
	Point
	// Period is the index into Result.Periods of the point's period.
	Period int
	// Baseline reports whether the point is one of those the period's mean
	// and limits were computed from.
	Baseline bool
	// Mean is the centre line.
	Mean float64
	// LPL and UPL are the lower and upper process limits.
	LPL, UPL float64
	// NearLPL and NearUPL are the near-limit band edges (two thirds of the
	// way from the mean to the limits).
	NearLPL, NearUPL float64
	// MeanMovingRange is the period's mean moving range after screening.
	MeanMovingRange float64
	// MovingRange is |value − previous value|, or NaN for the first point of
	// a period, a point after the baseline, or a range dropped by screening.
	MovingRange float64
	// OutsideLimits reports value > UPL or value < LPL.
	OutsideLimits bool
	// RelativeToMean is the sign of value − Mean: 1, 0 or −1.
	RelativeToMean int
	// CloseToLimits reports a value beyond a near-limit edge but within the
	// process limits.
	CloseToLimits bool
	// Rule is the special cause the point is part of, or RuleNone.
	Rule Rule
	// Type classifies the point against the improvement direction.
	Type PointType
}

// Period summarises one period: the whole series, or the stretch from one
// rebase time to the next.
type Period struct {
	// Start and End index Result.Points: the period is Points[Start:End].
	Start, End int
	// Short reports fewer than 13 points: its limits are trial limits.
	Short bool
	// Mean, LPL and UPL are the period's centre line and process limits.
	Mean, LPL, UPL float64
	// CommonCause counts the points with no special cause.
	CommonCause int
	// Improvement and Concern count the points of those types.
	Improvement, Concern int
	// Variation is the type of the period's last point.
	Variation PointType
	// Assurance is assessed for the last period only.
	Assurance Assurance
}

// Result is the analysis of a series.
type Result struct {
	// Points are the points in time order, one per input point.
	Points []PointResult
	// Periods are the rebase periods in time order.
	Periods []Period
	// Variation is the variation icon, from the last point's type.
	Variation VariationIcon
	// Assurance compares the target with the last point's limits.
	Assurance Assurance
}

const (
	// limitFactor turns the mean moving range into the process limits.
	limitFactor = 2.66
	// screenFactor is the multiple of the mean moving range at or beyond
	// which a moving range is dropped.
	screenFactor = 3.267
	// defaultRunLength is the reference's run and trend length.
	defaultRunLength = 7
	// minFixAfterN is the smallest baseline the reference allows.
	minFixAfterN = 12
	// shortPeriod is the period length below which limits are trial limits.
	shortPeriod = 13
	// minRunLength is the shortest run or trend length accepted.
	minRunLength = 3
)

// Analyse runs the XmR analysis over points, which must be in strictly
// increasing time order with finite values.
func Analyse(points []Point, opts Options) (Result, error) {
	if err := validate(points, opts); err != nil {
		return Result{}, err
	}
	starts, err := periodStarts(points, opts.Rebase)
	if err != nil {
		return Result{}, err
	}
	res := Result{Points: make([]PointResult, len(points))}
	for k, start := range starts {
		end := len(points)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		out := res.Points[start:end]
		analysePeriod(points[start:end], opts, out)
		for i := range out {
			out[i].Period = k
		}
		res.Periods = append(res.Periods, summarise(out, start))
	}
	last := res.Points[len(res.Points)-1]
	res.Variation = variationIcon(last.Type, opts.Improvement)
	res.Assurance = assurance(last, opts)
	res.Periods[len(res.Periods)-1].Assurance = res.Assurance
	return res, nil
}

// validate checks the points and options before any calculation.
func validate(points []Point, opts Options) error {
	if len(points) == 0 {
		return invalid("no points")
	}
	for i, p := range points {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			return invalid("point %d: value %v is not a finite number", i, p.Value)
		}
		if p.Time.IsZero() {
			return invalid("point %d: time is not set", i)
		}
		if i > 0 && !p.Time.After(points[i-1].Time) {
			return invalid("point %d: time %s is not after the previous point's %s",
				i, p.Time.Format(time.RFC3339), points[i-1].Time.Format(time.RFC3339))
		}
	}
	if opts.Improvement.sign() == 0 && opts.Improvement != Neutral {
		return invalid("unknown improvement direction %d", int(opts.Improvement))
	}
	if opts.Target != nil && (math.IsNaN(*opts.Target) || math.IsInf(*opts.Target, 0)) {
		return invalid("target %v is not a finite number", *opts.Target)
	}
	if opts.FixAfterN != 0 && opts.FixAfterN < minFixAfterN {
		return invalid("fix after n points is %d, it must be at least %d", opts.FixAfterN, minFixAfterN)
	}
	if opts.RunLength != 0 && opts.RunLength < minRunLength {
		return invalid("run length is %d, it must be at least %d", opts.RunLength, minRunLength)
	}
	if opts.TrendLength != 0 && opts.TrendLength < minRunLength {
		return invalid("trend length is %d, it must be at least %d", opts.TrendLength, minRunLength)
	}
	return nil
}

// periodStarts returns the index of the first point of each period.
//
// The reference silently ignores a rebase date that matches no point; here it
// is an error, so that a mistyped go-live date cannot pass unnoticed. A rebase
// at the first point starts no new period (the reference numbers that single
// period 1 instead of 0; the numbers are the same).
func periodStarts(points []Point, rebase []time.Time) ([]int, error) {
	isStart := make([]bool, len(points))
	isStart[0] = true
	for _, r := range rebase {
		i, found := findTime(points, r)
		if !found {
			return nil, invalid("rebase time %s is not the time of any point", r.Format(time.RFC3339))
		}
		isStart[i] = true
	}
	var starts []int
	for i, s := range isStart {
		if s {
			starts = append(starts, i)
		}
	}
	return starts, nil
}

// findTime finds t among the points' times, which are in increasing order.
func findTime(points []Point, t time.Time) (int, bool) {
	lo, hi := 0, len(points)
	for lo < hi {
		mid := (lo + hi) / 2
		if points[mid].Time.Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(points) && points[lo].Time.Equal(t)
}
