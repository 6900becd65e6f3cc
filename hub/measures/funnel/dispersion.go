package funnel

import (
	"fmt"
	"math"
	"sort"
)

// trimZ marks the units whose z-score is trimmed before the dispersion
// ratio is estimated and sets their TrimmedZ. It returns the indexes of
// the units that count towards φ.
func trimZ(units []UnitResult, opts Options) ([]int, error) {
	for _, u := range units {
		if math.IsNaN(u.Z) {
			return nil, fmt.Errorf("%w: unit %q has no z-score", ErrInput, u.ID)
		}
	}
	if opts.Kind == Ratio && opts.Scale == LogScale {
		return truncate(units, opts.Winsorise), nil
	}
	return winsorise(units, opts.Winsorise), nil
}

// winsorise replaces z-scores below the trim quantile or above the 1 − trim
// quantile by those quantiles. Every unit counts towards φ. A unit exactly
// on a quantile keeps its z-score but is reported as trimmed, as in
// FunnelPlotR.
func winsorise(units []UnitResult, trim float64) []int {
	zs := make([]float64, len(units))
	for i, u := range units {
		zs[i] = u.Z
	}
	sort.Float64s(zs)
	lo, hi := quantile7(zs, trim), quantile7(zs, 1-trim)
	keep := make([]int, len(units))
	for i := range units {
		u := &units[i]
		u.Trimmed = !(u.Z > lo && u.Z < hi)
		u.TrimmedZ = math.Min(math.Max(u.Z, lo), hi)
		keep[i] = i
	}
	return keep
}

// quantile7 is the sample quantile of sorted data by linear interpolation
// between order statistics (Hyndman and Fan's type 7, R's default),
// written in the same arithmetic as R so that a z-score equal to a
// quantile compares equal.
func quantile7(sorted []float64, p float64) float64 {
	index := 1 + float64(len(sorted)-1)*p
	lo := math.Floor(index)
	hi := math.Ceil(index)
	q := sorted[int(lo)-1]
	upper := sorted[int(hi)-1]
	if index > lo && upper != q {
		h := index - lo
		q = (1-h)*q + h*upper
	}
	return q
}

// truncate drops the z-scores in the lowest and highest of 1/trim groups
// by rank (ties share their average rank), the SHMI method. The dropped
// units do not count towards φ.
func truncate(units []UnitResult, trim float64) []int {
	k := 1 / trim
	ranks := averageRanks(units)
	n := float64(len(units))
	var keep []int
	for i := range units {
		group := math.Floor(ranks[i] * k / (n + 1))
		u := &units[i]
		u.Trimmed = !(group > 0 && group < k-1)
		if u.Trimmed {
			u.TrimmedZ = math.NaN()
			continue
		}
		u.TrimmedZ = u.Z
		keep = append(keep, i)
	}
	return keep
}

// averageRanks returns the 1-based rank of each unit's z-score, ties
// sharing the average of their ranks.
func averageRanks(units []UnitResult) []float64 {
	order := make([]int, len(units))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return units[order[a]].Z < units[order[b]].Z })
	ranks := make([]float64, len(units))
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && units[order[end]].Z == units[order[start]].Z {
			end++
		}
		avg := float64(start+1+end) / 2
		for _, i := range order[start:end] {
			ranks[i] = avg
		}
		start = end
	}
	return ranks
}

// dispersion estimates the dispersion ratio φ (the mean squared trimmed
// z-score) and the between-unit variance τ² = (nφ − (n − 1)) /
// (Σw − Σw²/Σw), with w = 1/s² for the standard error s of each unit's
// z-score, over the units that count; τ² is zero when nφ < n − 1.
func dispersion(keep []int, units []UnitResult) (phi, tau2 float64, err error) {
	n := float64(len(keep))
	if n < 2 {
		return 0, 0, fmt.Errorf("%w: only %v units left after trimming to estimate over-dispersion", ErrInput, n)
	}
	var sumZ2, sumW, sumW2 float64
	for _, i := range keep {
		z := units[i].TrimmedZ
		sumZ2 += z * z
		w := 1 / (units[i].ZSE * units[i].ZSE)
		sumW += w
		sumW2 += w * w
	}
	phi = sumZ2 / n
	if math.IsNaN(phi) || math.IsInf(phi, 0) {
		return 0, 0, fmt.Errorf("%w: dispersion ratio is not finite (a zero count on the log scale?)", ErrInput)
	}
	if n*phi < n-1 {
		return phi, 0, nil
	}
	return phi, math.Max(0, (n*phi-(n-1))/(sumW-sumW2/sumW)), nil
}
