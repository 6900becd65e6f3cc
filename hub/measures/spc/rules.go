package spc

// specialCauses gives each point of one period its special cause, taking the
// rules in priority order: beyond a limit, trend, 2 of 3, run.
func specialCauses(values []float64, rtm []int, closeTo, outside []bool, opts Options) []Rule {
	trendLength := orDefault(opts.TrendLength)
	runLength := orDefault(opts.RunLength)
	inTrend := partOfRun(trendEnds(values, trendLength), trendLength)
	inRun := partOfRun(runEnds(rtm, runLength), runLength)
	inTwoOfThree := twoOfThree(rtm, closeTo)

	rules := make([]Rule, len(values))
	for i := range rules {
		high := rtm[i] > 0
		switch {
		case outside[i]:
			rules[i] = pick(rtm[i] == 1, RuleAboveUPL, RuleBelowLPL)
		case inTrend[i]:
			rules[i] = pick(trendDirection(values, inTrend, i) == 1, RuleTrendUp, RuleTrendDown)
		case inTwoOfThree[i]:
			rules[i] = pick(high, RuleTwoOfThreeAbove, RuleTwoOfThreeBelow)
		case inRun[i]:
			rules[i] = pick(high, RuleRunAbove, RuleRunBelow)
		default:
			rules[i] = RuleNone
		}
	}
	return rules
}

// orDefault returns n, or the reference's length of 7 when n is zero.
func orDefault(n int) int {
	if n == 0 {
		return defaultRunLength
	}
	return n
}

// pick returns a when cond holds, b otherwise.
func pick(cond bool, a, b Rule) Rule {
	if cond {
		return a
	}
	return b
}

// trendEnds marks with +1 (−1) each point that ends a run of n strictly
// rising (falling) points; an equal value breaks the run.
func trendEnds(values []float64, n int) []int {
	ends := make([]int, len(values))
	up, down := 1, 1 // lengths of the rising and falling runs ending here
	for i := 1; i < len(values); i++ {
		switch {
		case values[i] > values[i-1]:
			up, down = up+1, 1
		case values[i] < values[i-1]:
			up, down = 1, down+1
		default:
			up, down = 1, 1
		}
		if up >= n {
			ends[i] = 1
		} else if down >= n {
			ends[i] = -1
		}
	}
	return ends
}

// runEnds marks each point that ends a run of n points strictly on one side
// of the mean (with that side's sign); a point on the mean breaks the run.
func runEnds(rtm []int, n int) []int {
	ends := make([]int, len(rtm))
	length := 0
	for i, s := range rtm {
		switch {
		case s == 0:
			length = 0
		case i > 0 && rtm[i-1] == s:
			length++
		default:
			length = 1
		}
		if length >= n {
			ends[i] = s
		}
	}
	return ends
}

// partOfRun marks each point that is one of the n points of a run: the run
// ends at it or at one of the next n−1 points.
func partOfRun(ends []int, n int) []bool {
	part := make([]bool, len(ends))
	next := -1 // the nearest index at or after i where a run ends
	for i := len(ends) - 1; i >= 0; i-- {
		if ends[i] != 0 {
			next = i
		}
		part[i] = next >= 0 && next-i < n
	}
	return part
}

// twoOfThree marks each point beyond a near-limit edge (within the limits)
// that, with at least one other such point, makes two of three consecutive
// points, all three strictly on the same side of the mean.
func twoOfThree(rtm []int, closeTo []bool) []bool {
	part := make([]bool, len(rtm))
	for i := range part {
		if !closeTo[i] {
			continue
		}
		for start := i - 2; start <= i; start++ {
			if start >= 0 && start+3 <= len(rtm) && twoOfThreeWindow(rtm[start:start+3], closeTo[start:start+3]) {
				part[i] = true
				break
			}
		}
	}
	return part
}

// twoOfThreeWindow reports whether three consecutive points hold at least two
// near-limit points and all lie on the same side of the mean.
func twoOfThreeWindow(rtm []int, closeTo []bool) bool {
	count, side := 0, 0
	for k := range rtm {
		if closeTo[k] {
			count++
		}
		side += rtm[k]
	}
	return count >= 2 && (side == 3 || side == -3)
}

// trendDirection is the direction the reference labels a trend point with.
// It looks forward to the next point when that point is also in a trend, and
// back to the previous point otherwise; so a point ending a rising trend and
// starting a falling one counts as falling. A label of 1 is rising; 0 (no
// change) is labelled falling, as in the reference.
func trendDirection(values []float64, inTrend []bool, i int) int {
	if i+1 < len(values) && inTrend[i+1] {
		return signOf(values[i+1] - values[i])
	}
	if i > 0 {
		return signOf(values[i] - values[i-1])
	}
	return 0
}
