package spc_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures/spc"
)

// refCase is one reference case of testdata/ (layout in testdata/README.md).
type refCase struct {
	Input struct {
		Dates   []string  `json:"dates"`
		Values  []float64 `json:"values"`
		Options struct {
			ImprovementDirection string   `json:"improvement_direction"`
			Target               *float64 `json:"target"`
			Rebase               []string `json:"rebase"`
			FixAfterNPoints      *float64 `json:"fix_after_n_points"`
			ScreenOutliers       bool     `json:"screen_outliers"`
		} `json:"options"`
	} `json:"input"`
	Output struct {
		Points        []refPoint   `json:"points"`
		Summary       []refSummary `json:"summary"`
		AssuranceType *string      `json:"assurance_type"`
		VariationIcon string       `json:"variation_icon"`
		AssuranceIcon *string      `json:"assurance_icon"`
		LastPointType string       `json:"last_point_type"`
		Warnings      []string     `json:"warnings"`
	} `json:"output"`
}

// refPoint is one row of the reference's per-point output; nil is NA.
type refPoint struct {
	X                 string   `json:"x"`
	Y                 float64  `json:"y"`
	RebaseGroup       int      `json:"rebase_group"`
	ShortGroupWarning bool     `json:"short_group_warning"`
	FixY              *float64 `json:"fix_y"`
	MeanCol           *float64 `json:"mean_col"`
	LPL               *float64 `json:"lpl"`
	UPL               *float64 `json:"upl"`
	NLPL              *float64 `json:"nlpl"`
	NUPL              *float64 `json:"nupl"`
	AMR               *float64 `json:"amr"`
	MR                *float64 `json:"mr"`
	OutsideLimits     *bool    `json:"outside_limits"`
	RelativeToMean    int      `json:"relative_to_mean"`
	CloseToLimits     *bool    `json:"close_to_limits"`
	SpecialCauseType  string   `json:"special_cause_type"`
	SpecialCauseFlag  bool     `json:"special_cause_flag"`
	PointType         string   `json:"point_type"`
	Target            *float64 `json:"target"`
}

// refSummary is one row of the reference's summary(), one per period.
type refSummary struct {
	RebaseGroup             int      `json:"rebase_group"`
	MeanCol                 *float64 `json:"mean_col"`
	LPL                     *float64 `json:"lpl"`
	UPL                     *float64 `json:"upl"`
	N                       int      `json:"n"`
	CommonCause             int      `json:"common_cause"`
	SpecialCauseImprovement int      `json:"special_cause_improvement"`
	SpecialCauseConcern     int      `json:"special_cause_concern"`
	VariationType           string   `json:"variation_type"`
	AssuranceType           *string  `json:"assurance_type"`
}

// refRules maps the reference's special_cause_type labels to rules.
var refRules = map[string]spc.Rule{
	"Above UCL":                  spc.RuleAboveUPL,
	"Below LCL":                  spc.RuleBelowLPL,
	"7 Point Trend (Increasing)": spc.RuleTrendUp,
	"7 Point Trend (Decreasing)": spc.RuleTrendDown,
	"2 in 3 Above CL":            spc.RuleTwoOfThreeAbove,
	"2 in 3 Below CL":            spc.RuleTwoOfThreeBelow,
	"7 Points Above CL":          spc.RuleRunAbove,
	"7 Points Below CL":          spc.RuleRunBelow,
	"Common Cause":               spc.RuleNone,
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
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			t.Parallel()
			c := loadCase(t, file)
			points, opts := caseInput(t, c)
			res, err := spc.Analyse(points, opts)
			if err != nil {
				t.Fatalf("Analyse: %v", err)
			}
			checkPoints(t, c, res)
			checkSummary(t, c, res)
			checkSeries(t, c, res)
		})
	}
}

func loadCase(t *testing.T, file string) refCase {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c refCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(c.Input.Values) == 0 || len(c.Input.Values) != len(c.Input.Dates) || len(c.Output.Points) != len(c.Input.Values) {
		t.Fatalf("%s: malformed case", file)
	}
	return c
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// caseInput turns the case's input into points and options.
func caseInput(t *testing.T, c refCase) ([]spc.Point, spc.Options) {
	t.Helper()
	points := make([]spc.Point, len(c.Input.Values))
	for i, v := range c.Input.Values {
		points[i] = spc.Point{Time: mustDate(t, c.Input.Dates[i]), Value: v}
	}
	o := c.Input.Options
	dir, err := spc.ParseDirection(o.ImprovementDirection)
	if err != nil {
		t.Fatal(err)
	}
	opts := spc.Options{Improvement: dir, Target: o.Target, NoOutlierScreening: !o.ScreenOutliers}
	if o.FixAfterNPoints != nil {
		opts.FixAfterN = int(*o.FixAfterNPoints)
		if float64(opts.FixAfterN) != *o.FixAfterNPoints {
			t.Fatalf("fix_after_n_points %v is not a whole number", *o.FixAfterNPoints)
		}
	}
	for _, r := range o.Rebase {
		opts.Rebase = append(opts.Rebase, mustDate(t, r))
	}
	return points, opts
}

// checkFloat compares a number with the reference's (nil for NA, which is
// NaN here) to 1e-9 relative, well within the 1e-6 required.
func checkFloat(t *testing.T, what string, got float64, want *float64) {
	t.Helper()
	if want == nil {
		if !math.IsNaN(got) {
			t.Errorf("%s = %v, want NA (NaN)", what, got)
		}
		return
	}
	if math.IsNaN(got) || math.Abs(got-*want) > 1e-9*math.Max(1, math.Abs(*want)) {
		t.Errorf("%s = %v, want %v", what, got, *want)
	}
}

// checkBool compares a flag with the reference's, where NA counts as false
// (the reference's rules treat an NA condition as not met).
func checkBool(t *testing.T, what string, got bool, want *bool) {
	t.Helper()
	if got != (want != nil && *want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func checkPoints(t *testing.T, c refCase, res spc.Result) {
	t.Helper()
	if len(res.Points) != len(c.Output.Points) {
		t.Fatalf("%d points, want %d", len(res.Points), len(c.Output.Points))
	}
	for i, want := range c.Output.Points {
		got := res.Points[i]
		at := func(field string) string { return want.X + " " + field }
		if !got.Time.Equal(mustDate(t, want.X)) || got.Value != want.Y {
			t.Errorf("point %d is (%v, %v), want (%s, %v)", i, got.Time, got.Value, want.X, want.Y)
		}
		if got.Period != want.RebaseGroup {
			t.Errorf("%s = %d, want %d", at("period"), got.Period, want.RebaseGroup)
		}
		if short := res.Periods[got.Period].Short; short != want.ShortGroupWarning {
			t.Errorf("%s = %v, want %v", at("short period"), short, want.ShortGroupWarning)
		}
		if got.Baseline != (want.FixY != nil) {
			t.Errorf("%s = %v, want fix_y %v", at("baseline"), got.Baseline, want.FixY)
		}
		checkFloat(t, at("mean"), got.Mean, want.MeanCol)
		checkFloat(t, at("lpl"), got.LPL, want.LPL)
		checkFloat(t, at("upl"), got.UPL, want.UPL)
		checkFloat(t, at("nlpl"), got.NearLPL, want.NLPL)
		checkFloat(t, at("nupl"), got.NearUPL, want.NUPL)
		checkFloat(t, at("amr"), got.MeanMovingRange, want.AMR)
		checkFloat(t, at("mr"), got.MovingRange, want.MR)
		checkBool(t, at("outside limits"), got.OutsideLimits, want.OutsideLimits)
		checkBool(t, at("close to limits"), got.CloseToLimits, want.CloseToLimits)
		if got.RelativeToMean != want.RelativeToMean {
			t.Errorf("%s = %d, want %d", at("relative to mean"), got.RelativeToMean, want.RelativeToMean)
		}
		rule, ok := refRules[want.SpecialCauseType]
		if !ok {
			t.Fatalf("%s: unknown special_cause_type %q", at("rule"), want.SpecialCauseType)
		}
		if got.Rule != rule {
			t.Errorf("%s = %q, want %q (%s)", at("rule"), got.Rule, rule, want.SpecialCauseType)
		}
		if (got.Rule != spc.RuleNone) != want.SpecialCauseFlag {
			t.Errorf("%s: rule %q disagrees with special_cause_flag %v", at("rule"), got.Rule, want.SpecialCauseFlag)
		}
		if string(got.Type) != want.PointType {
			t.Errorf("%s = %q, want %q", at("point type"), got.Type, want.PointType)
		}
	}
}

func checkSummary(t *testing.T, c refCase, res spc.Result) {
	t.Helper()
	if len(res.Periods) != len(c.Output.Summary) {
		t.Fatalf("%d periods, want %d", len(res.Periods), len(c.Output.Summary))
	}
	warned := false
	for k, want := range c.Output.Summary {
		got := res.Periods[k]
		if k != want.RebaseGroup {
			t.Errorf("period %d is rebase group %d in the reference", k, want.RebaseGroup)
		}
		checkFloat(t, "period mean", got.Mean, want.MeanCol)
		checkFloat(t, "period lpl", got.LPL, want.LPL)
		checkFloat(t, "period upl", got.UPL, want.UPL)
		if n := got.End - got.Start; n != want.N {
			t.Errorf("period %d has %d points, want %d", k, n, want.N)
		}
		if got.CommonCause != want.CommonCause || got.Improvement != want.SpecialCauseImprovement || got.Concern != want.SpecialCauseConcern {
			t.Errorf("period %d counts common/improvement/concern = %d/%d/%d, want %d/%d/%d", k,
				got.CommonCause, got.Improvement, got.Concern,
				want.CommonCause, want.SpecialCauseImprovement, want.SpecialCauseConcern)
		}
		if string(got.Variation) != want.VariationType {
			t.Errorf("period %d variation = %q, want %q", k, got.Variation, want.VariationType)
		}
		if got.Assurance != assuranceOf(want.AssuranceType) {
			t.Errorf("period %d assurance = %q, want %v", k, got.Assurance, want.AssuranceType)
		}
		warned = warned || got.Short
	}
	if warned != (len(c.Output.Warnings) > 0) {
		t.Errorf("short period = %v, but reference warnings are %q", warned, c.Output.Warnings)
	}
}

func checkSeries(t *testing.T, c refCase, res spc.Result) {
	t.Helper()
	if string(res.Variation) != c.Output.VariationIcon {
		t.Errorf("variation icon = %q, want %q", res.Variation, c.Output.VariationIcon)
	}
	if res.Assurance != assuranceOf(c.Output.AssuranceType) {
		t.Errorf("assurance = %q, want %v", res.Assurance, c.Output.AssuranceType)
	}
	wantIcon := ""
	if c.Output.AssuranceIcon != nil {
		wantIcon = *c.Output.AssuranceIcon
	}
	if res.Assurance.Icon() != wantIcon {
		t.Errorf("assurance icon = %q, want %q", res.Assurance.Icon(), wantIcon)
	}
	if last := res.Points[len(res.Points)-1].Type; string(last) != c.Output.LastPointType {
		t.Errorf("last point type = %q, want %q", last, c.Output.LastPointType)
	}
}

func assuranceOf(s *string) spc.Assurance {
	if s == nil {
		return spc.AssuranceNone
	}
	return spc.Assurance(*s)
}
