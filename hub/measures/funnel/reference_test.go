package funnel_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/measures/funnel"
)

// Agreement required with FunnelPlotR, relative to the larger of 1 and the
// reference value (the reference numbers are exact doubles):
//   - exact is for everything that does not depend on a normal quantile
//     (target, φ, τ², z-scores, standard errors, the exact Poisson limits).
//     They agree to about 1e-14; what is left is R's long-double sums and
//     the chi-square quantile algorithm.
//   - normal is for the limits drawn from a normal quantile. FunnelPlotR
//     writes z to 7 significant figures (3.090232 for 3.0902323062), which
//     moves a limit by up to about 4e-8 of its value; this package uses
//     the exact quantiles.
//   - a ratio of counts' limits are exp(log target ± z·sd), so the
//     rounded quantile moves them by up to zRounding·sd of their value;
//     with a large τ² that exceeds normal, and logLimitTolerance adds it.
const (
	exact     = 1e-10
	normal    = 1e-7
	zRounding = 3.1e-7 // 3.0902323062 − 3.090232
)

// logLimitTolerance is the tolerance for limits exp(centre ± z·sd) drawn
// with sd² = s² + tau2.
func logLimitTolerance(s, tau2 float64) float64 {
	return normal + zRounding*math.Sqrt(s*s+tau2)
}

// referenceCase is the part of a FunnelPlotR reference case the test uses;
// testdata/README.md describes every field.
type referenceCase struct {
	CaseID string `json:"case_id"`
	Input  struct {
		Group       []string  `json:"group"`
		Numerator   []float64 `json:"numerator"`
		Denominator []float64 `json:"denominator"`
		Options     struct {
			DataType       string  `json:"data_type"`
			Limit          int     `json:"limit"`
			DrawAdjusted   bool    `json:"draw_adjusted"`
			DrawUnadjusted bool    `json:"draw_unadjusted"`
			SRMethod       string  `json:"sr_method"`
			TrimBy         float64 `json:"trim_by"`
			Multiplier     float64 `json:"multiplier"`
			SHMIRounding   bool    `json:"SHMI_rounding"`
		} `json:"options_effective"`
	} `json:"input"`
	Output struct {
		Target         float64         `json:"target"`
		Phi            float64         `json:"phi"`
		Tau2           float64         `json:"tau2"`
		DrawAdjusted   bool            `json:"draw_adjusted"`
		DrawUnadjusted bool            `json:"draw_unadjusted"`
		NUnits         int             `json:"n_units"`
		NOutliers      int             `json:"n_outliers"`
		Units          []referenceUnit `json:"units"`
	} `json:"output"`
}

type referenceUnit struct {
	Group       string   `json:"group"`
	Numerator   float64  `json:"numerator"`
	Denominator float64  `json:"denominator"`
	RR          float64  `json:"rr"`
	Target      float64  `json:"target_transformed"`
	Y           float64  `json:"Y"`
	Uzscore     float64  `json:"Uzscore"`
	Wuzscore    *float64 `json:"Wuzscore"`
	Winsorised  *int     `json:"winsorised"`
	Truncated   *int     `json:"truncated"`
	S           float64  `json:"s"`
	OD95LCL     float64  `json:"OD95LCL"`
	OD95UCL     float64  `json:"OD95UCL"`
	OD99LCL     float64  `json:"OD99LCL"`
	OD99UCL     float64  `json:"OD99UCL"`
	LCL95       float64  `json:"LCL95"`
	UCL95       float64  `json:"UCL95"`
	LCL99       float64  `json:"LCL99"`
	UCL99       float64  `json:"UCL99"`
	Outlier     int      `json:"outlier"`
}

func TestReferenceCases(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no reference cases in testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			c := readCase(t, file)
			units, opts := caseInput(t, c)
			res, err := funnel.Analyse(units, opts)
			if err != nil {
				t.Fatalf("Analyse: %v", err)
			}
			checkSummary(t, c, res)
			checkUnits(t, c, res)
		})
	}
}

func readCase(t *testing.T, file string) referenceCase {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c referenceCase
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	if len(c.Output.Units) == 0 || len(c.Output.Units) != c.Output.NUnits {
		t.Fatalf("case %s lists %d units for n_units = %d", c.CaseID, len(c.Output.Units), c.Output.NUnits)
	}
	return c
}

// caseInput maps a case's input rows and effective options to the API.
func caseInput(t *testing.T, c referenceCase) ([]funnel.Unit, funnel.Options) {
	t.Helper()
	o := c.Input.Options
	opts := funnel.Options{
		Adjust:     o.DrawAdjusted,
		Winsorise:  o.TrimBy,
		Multiplier: o.Multiplier,
	}
	switch o.DataType {
	case "PR":
		opts.Kind = funnel.Proportion
	case "RC":
		opts.Kind = funnel.RatioOfCounts
	case "SR":
		opts.Kind = funnel.Ratio
		switch o.SRMethod {
		case "SHMI":
			opts.Scale = funnel.LogScale
		case "CQC":
			opts.Scale = funnel.SqrtScale
		default:
			t.Fatalf("case %s: unknown sr_method %q", c.CaseID, o.SRMethod)
		}
	default:
		t.Fatalf("case %s: data_type %q is not supported (only PR, RC and SR)", c.CaseID, o.DataType)
	}
	switch o.Limit {
	case 95:
		opts.FlagLevel = funnel.Level95
	case 99:
		opts.FlagLevel = funnel.Level998
	default:
		t.Fatalf("case %s: unknown limit %d", c.CaseID, o.Limit)
	}
	if len(c.Input.Numerator) != len(c.Input.Group) || len(c.Input.Denominator) != len(c.Input.Group) {
		t.Fatalf("case %s: input columns differ in length", c.CaseID)
	}
	units := make([]funnel.Unit, len(c.Input.Group))
	for i, g := range c.Input.Group {
		units[i] = funnel.Unit{ID: g, Numerator: c.Input.Numerator[i], Denominator: c.Input.Denominator[i]}
	}
	if o.DataType == "SR" && o.SRMethod == "SHMI" && o.SHMIRounding {
		units = roundExpected(units)
	}
	return units, opts
}

// roundExpected does what FunnelPlotR does before the SHMI method: sum
// each group's expected counts and round them to 2 decimal places. The
// package leaves that convention to the caller.
func roundExpected(rows []funnel.Unit) []funnel.Unit {
	index := map[string]int{}
	var units []funnel.Unit
	for _, r := range rows {
		i, ok := index[r.ID]
		if !ok {
			index[r.ID] = len(units)
			units = append(units, r)
			continue
		}
		units[i].Numerator += r.Numerator
		units[i].Denominator += r.Denominator
	}
	for i := range units {
		units[i].Denominator = math.Round(units[i].Denominator*100) / 100
	}
	return units
}

func checkSummary(t *testing.T, c referenceCase, res funnel.Result) {
	t.Helper()
	out := c.Output
	near(t, "target", res.Target, out.Target, exact)
	near(t, "phi", res.Phi, out.Phi, exact)
	near(t, "tau2", res.Tau2, out.Tau2, exact)
	if res.Adjusted != expectAdjusted(c) {
		t.Errorf("adjusted = %v, want %v (reference draw_adjusted = %v)", res.Adjusted, expectAdjusted(c), out.DrawAdjusted)
	}
	near(t, "centre", res.Centre(), out.Target*c.Input.Options.Multiplier, exact)
	if len(res.Units) != out.NUnits {
		t.Fatalf("got %d units, reference has %d", len(res.Units), out.NUnits)
	}
}

func checkUnits(t *testing.T, c referenceCase, res funnel.Result) {
	t.Helper()
	byID := make(map[string]funnel.UnitResult, len(res.Units))
	for _, u := range res.Units {
		byID[u.ID] = u
	}
	m := c.Input.Options.Multiplier
	outliers, wantOutliers := 0, 0
	for _, ref := range c.Output.Units {
		got, ok := byID[ref.Group]
		if !ok {
			t.Errorf("unit %s missing", ref.Group)
			continue
		}
		near(t, ref.Group+" numerator", got.Numerator, ref.Numerator, exact)
		near(t, ref.Group+" denominator", got.Denominator, ref.Denominator, exact)
		near(t, ref.Group+" ratio", got.Ratio, ref.RR, exact)
		near(t, ref.Group+" value", got.Value, ref.RR*m, exact)
		near(t, ref.Group+" se", got.SE, ref.S, exact)
		near(t, ref.Group+" z", got.Z, ref.Uzscore, exact)
		if c.Input.Options.DataType == "RC" {
			// The reported s is the limits' standard error; the z-score is
			// (Y − target_transformed) in units of the log ratio's own.
			near(t, ref.Group+" z × z se", got.Z*got.ZSE, ref.Y-ref.Target, exact)
		}
		checkTrim(t, ref, got)

		adjusted := expectedLimits(c, ref, true)
		unadjusted := expectedLimits(c, ref, false)
		adjustedTolerance, unadjustedTolerance := normal, normal
		switch c.Input.Options.DataType {
		case "SR":
			unadjustedTolerance = exact // exact Poisson limits
		case "RC":
			adjustedTolerance = logLimitTolerance(ref.S, c.Output.Tau2)
			unadjustedTolerance = logLimitTolerance(ref.S, 0)
		}
		nearLimits(t, ref.Group+" adjusted", res.AdjustedLimits(got.Denominator), adjusted, adjustedTolerance)
		nearLimits(t, ref.Group+" unadjusted", res.UnadjustedLimits(got.Denominator), unadjusted, unadjustedTolerance)
		inUse := unadjusted
		if expectAdjusted(c) {
			inUse = adjusted
		}
		inUseTolerance := adjustedTolerance
		if !expectAdjusted(c) {
			inUseTolerance = unadjustedTolerance
		}
		nearLimits(t, ref.Group+" in use", got.Limits, inUse, inUseTolerance)

		want := expectedOutlier(c, ref, inUse)
		if got.Outlier != want {
			t.Errorf("%s outlier = %v, want %v (value %v, limits %+v)", ref.Group, got.Outlier, want, got.Value, got.Limits)
		}
		if got.Outlier {
			outliers++
		}
		if want {
			wantOutliers++
		}
	}
	if outliers != wantOutliers {
		t.Errorf("%d outliers, want %d (reference n_outliers = %d)", outliers, wantOutliers, c.Output.NOutliers)
	}
}

func checkTrim(t *testing.T, ref referenceUnit, got funnel.UnitResult) {
	t.Helper()
	trimmed := ref.Winsorised
	if trimmed == nil {
		trimmed = ref.Truncated
	}
	if trimmed == nil {
		t.Fatalf("%s has neither winsorised nor truncated", ref.Group)
	}
	if got.Trimmed != (*trimmed == 1) {
		t.Errorf("%s trimmed = %v, reference %d", ref.Group, got.Trimmed, *trimmed)
	}
	switch {
	case ref.Wuzscore == nil && !math.IsNaN(got.TrimmedZ):
		t.Errorf("%s trimmed z = %v, reference NA (truncated)", ref.Group, got.TrimmedZ)
	case ref.Wuzscore != nil:
		near(t, ref.Group+" trimmed z", got.TrimmedZ, *ref.Wuzscore, exact)
	}
}

// expectedLimits returns the reference limits for one unit, corrected
// where this package differs from FunnelPlotR on purpose (see
// proportionBound and the square-root scale in limits.go):
//   - a proportion's lower (upper) limit is 0 (1) wherever the bound on
//     the arcsine scale, recomputed from the reference's own
//     target_transformed, s and tau2, is below 0 (above π/2);
//   - a square-root-scale ratio's adjusted limit is the reference's
//     1 ± z·sd squared (0 below zero).
func expectedLimits(c referenceCase, ref referenceUnit, adjusted bool) funnel.Limits {
	m := c.Input.Options.Multiplier
	l := funnel.Limits{Lower95: ref.LCL95, Upper95: ref.UCL95, Lower998: ref.LCL99, Upper998: ref.UCL99}
	tau2 := 0.0
	if adjusted {
		l = funnel.Limits{Lower95: ref.OD95LCL, Upper95: ref.OD95UCL, Lower998: ref.OD99LCL, Upper998: ref.OD99UCL}
		tau2 = c.Output.Tau2
	}
	o := c.Input.Options
	switch {
	case o.DataType == "PR":
		sd := math.Sqrt(ref.S*ref.S + tau2)
		clip := func(v, z float64, lower bool) float64 {
			if lower && ref.Target-z*sd < 0 {
				return 0
			}
			if !lower && ref.Target+z*sd > math.Pi/2 {
				return m
			}
			return v
		}
		l = funnel.Limits{
			Lower95:  clip(l.Lower95, 1.959964, true),
			Upper95:  clip(l.Upper95, 1.959964, false),
			Lower998: clip(l.Lower998, 3.090232, true),
			Upper998: clip(l.Upper998, 3.090232, false),
		}
	case o.DataType == "SR" && o.SRMethod == "CQC" && adjusted:
		square := func(v float64) float64 { return m * math.Pow(math.Max(0, v/m), 2) }
		l = funnel.Limits{
			Lower95: square(l.Lower95), Upper95: square(l.Upper95),
			Lower998: square(l.Lower998), Upper998: square(l.Upper998),
		}
	}
	return l
}

// expectAdjusted is whether the adjusted limits should be in use. FunnelPlotR
// falls back to the unadjusted limits when φ ≤ 1 only if the unadjusted
// limits were not also asked for; this package always falls back, since a
// τ² from φ ≤ 1 is noise.
func expectAdjusted(c referenceCase) bool {
	return c.Output.DrawAdjusted && c.Output.Phi > 1
}

// limitsCorrected reports whether expectedLimits may have moved a limit
// away from the reference, so that the reference outlier column need not
// apply.
func limitsCorrected(c referenceCase) bool {
	o := c.Input.Options
	return (o.DataType == "SR" && o.SRMethod == "CQC" && c.Output.DrawAdjusted) || expectAdjusted(c) != c.Output.DrawAdjusted
}

// expectedOutlier is the reference outlier flag, or, where the limits in
// use were corrected, the same rule (outside the limits at the case's
// level, a value on a limit being inside) applied to the corrected limits.
// With neither adjusted nor unadjusted limits drawn FunnelPlotR flags
// nothing; this package always flags against the limits in use.
func expectedOutlier(c referenceCase, ref referenceUnit, inUse funnel.Limits) bool {
	o := c.Input.Options
	outside := func(l funnel.Limits) bool {
		v := ref.RR * o.Multiplier
		if o.Limit == 95 {
			return v < l.Lower95 || v > l.Upper95
		}
		return v < l.Lower998 || v > l.Upper998
	}
	if limitsCorrected(c) || (!c.Output.DrawAdjusted && !c.Output.DrawUnadjusted) {
		return outside(inUse)
	}
	raw := expectedLimits(c, ref, c.Output.DrawAdjusted)
	if raw != rawLimits(ref, c.Output.DrawAdjusted) {
		return outside(inUse)
	}
	return ref.Outlier == 1
}

func rawLimits(ref referenceUnit, adjusted bool) funnel.Limits {
	if adjusted {
		return funnel.Limits{Lower95: ref.OD95LCL, Upper95: ref.OD95UCL, Lower998: ref.OD99LCL, Upper998: ref.OD99UCL}
	}
	return funnel.Limits{Lower95: ref.LCL95, Upper95: ref.UCL95, Lower998: ref.LCL99, Upper998: ref.UCL99}
}

func nearLimits(t *testing.T, what string, got, want funnel.Limits, tolerance float64) {
	t.Helper()
	near(t, what+" lower 95%", got.Lower95, want.Lower95, tolerance)
	near(t, what+" upper 95%", got.Upper95, want.Upper95, tolerance)
	near(t, what+" lower 99.8%", got.Lower998, want.Lower998, tolerance)
	near(t, what+" upper 99.8%", got.Upper998, want.Upper998, tolerance)
}

func near(t *testing.T, what string, got, want, tolerance float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tolerance*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.17g, reference %.17g (difference %.3g)", what, got, want, got-want)
	}
}
