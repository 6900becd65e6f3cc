package spc

// pointType classifies a point's rule against the improvement direction.
func pointType(r Rule, d Direction) PointType {
	if r == RuleNone {
		return CommonCause
	}
	if d == Neutral {
		if r.high() {
			return SpecialCauseNeutralHigh
		}
		return SpecialCauseNeutralLow
	}
	if r.high() == (d == Increase) {
		return SpecialCauseImprovement
	}
	return SpecialCauseConcern
}

// variationIcon is the icon for a series whose last point has type t: high
// or low follows the improvement direction, as in the reference.
func variationIcon(t PointType, d Direction) VariationIcon {
	switch t {
	case SpecialCauseImprovement:
		if d == Increase {
			return IconImprovementHigh
		}
		return IconImprovementLow
	case SpecialCauseConcern:
		if d == Increase {
			return IconConcernLow
		}
		return IconConcernHigh
	case SpecialCauseNeutralHigh:
		return IconNeutralHigh
	case SpecialCauseNeutralLow:
		return IconNeutralLow
	default:
		return IconCommonCause
	}
}

// assurance compares the target with the last point's process limits. A
// target exactly on a limit, or limits that are NaN, give Inconsistent, as
// in the reference.
func assurance(last PointResult, opts Options) Assurance {
	if opts.Target == nil || opts.Improvement == Neutral {
		return AssuranceNone
	}
	target := *opts.Target
	increase := opts.Improvement == Increase
	switch {
	case target > last.UPL:
		if increase {
			return ConsistentFail
		}
		return ConsistentPass
	case target < last.LPL:
		if increase {
			return ConsistentPass
		}
		return ConsistentFail
	default:
		return Inconsistent
	}
}

// summarise builds the summary of one period, whose points are out and whose
// first point is Points[start].
func summarise(out []PointResult, start int) Period {
	first, last := out[0], out[len(out)-1]
	p := Period{
		Start:     start,
		End:       start + len(out),
		Short:     len(out) < shortPeriod,
		Mean:      first.Mean,
		LPL:       first.LPL,
		UPL:       first.UPL,
		Variation: last.Type,
	}
	for _, pt := range out {
		switch pt.Type {
		case CommonCause:
			p.CommonCause++
		case SpecialCauseImprovement:
			p.Improvement++
		case SpecialCauseConcern:
			p.Concern++
		default:
			// Neutral special causes count in none of the three, as in the
			// reference's summary.
		}
	}
	return p
}
