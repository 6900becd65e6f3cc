package chart_test

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/web/chart"
)

func f(v float64) *float64 { return &v }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScaleMap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		s    chart.Scale
		in   float64
		want float64
	}{
		{"domain start to range start", chart.Scale{Domain: [2]float64{0, 10}, Range: [2]float64{44, 350}}, 0, 44},
		{"domain end to range end", chart.Scale{Domain: [2]float64{0, 10}, Range: [2]float64{44, 350}}, 10, 350},
		{"middle", chart.Scale{Domain: [2]float64{0, 10}, Range: [2]float64{44, 350}}, 5, 197},
		{"y runs backwards", chart.Scale{Domain: [2]float64{0, 100}, Range: [2]float64{166, 10}}, 25, 127},
		{"beyond the domain extrapolates", chart.Scale{Domain: [2]float64{0, 10}, Range: [2]float64{0, 100}}, 12, 120},
		{"one-value domain maps to the middle", chart.Scale{Domain: [2]float64{3, 3}, Range: [2]float64{0, 100}}, 3, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.s.Map(tc.in); !near(got, tc.want) {
				t.Errorf("Map(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 10, []float64{0, 5, 10}},      // 10/4 = 2.5 → a step of 5
		{3, 47, []float64{0, 20, 40, 60}}, // 44/4 = 11 → a step of 20
		{0.12, 0.38, []float64{0.1, 0.2, 0.3, 0.4}},
		{5, 5, []float64{4.5, 5, 5.5}},
		{0, 0, []float64{-1, -0.5, 0, 0.5, 1}},
	} {
		got := chart.Ticks(tc.lo, tc.hi, 5)
		if got[0] > tc.lo || got[len(got)-1] < tc.hi {
			t.Errorf("Ticks(%v, %v) = %v do not cover the range", tc.lo, tc.hi, got)
		}
		if len(tc.want) == 0 {
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("Ticks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
			continue
		}
		for i := range got {
			if !near(got[i], tc.want[i]) {
				t.Errorf("Ticks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
}

// TestLayoutSPC checks that points, limits and the target land on the SVG
// coordinates the box and the round y axis imply, computed here by hand.
func TestLayoutSPC(t *testing.T) {
	t.Parallel()
	box := chart.Box{Width: 300, Height: 200, Left: 40, Right: 20, Top: 10, Bottom: 30}
	// plot area: x 40..280, y 170 (bottom) .. 10 (top)
	pts := []chart.SPCPoint{
		{Label: "2026-01", Value: f(20), Mean: f(30), LPL: f(10), UPL: f(50), Type: "common_cause"},
		{Label: "2026-02", Value: f(40), Mean: f(30), LPL: f(10), UPL: f(50), Type: "common_cause"},
		{Label: "2026-03", Type: ""}, // suppressed
		{Label: "2026-04", Value: f(60), Mean: f(30), LPL: f(10), UPL: f(50), Type: "special_cause_concern"},
		{Label: "2026-05", Value: f(0), Mean: f(20), LPL: f(0), UPL: f(40), Type: "special_cause_improvement"},
	}
	l := chart.LayoutSPC(pts, f(45), box)
	// y ticks cover 0..60 in steps of 20 → domain 0..60 onto 170..10.
	y := func(v float64) float64 { return 170 - v/60*160 }
	x := func(i float64) float64 { return 40 + i*60 }
	if l.Y.Domain != [2]float64{0, 60} {
		t.Fatalf("y domain %v, want [0 60]", l.Y.Domain)
	}
	want := []chart.Plotted{
		{X: x(0), Y: y(20), Value: 20, Label: "2026-01", Marker: chart.MarkerCommon},
		{X: x(1), Y: y(40), Value: 40, Label: "2026-02", Marker: chart.MarkerCommon},
		{X: x(3), Y: y(60), Value: 60, Label: "2026-04", Marker: chart.MarkerConcern},
		{X: x(4), Y: y(0), Value: 0, Label: "2026-05", Marker: chart.MarkerImprovement},
	}
	if len(l.Points) != len(want) {
		t.Fatalf("%d points, want %d (the suppressed month is not plotted)", len(l.Points), len(want))
	}
	for i, p := range l.Points {
		if !near(p.X, want[i].X) || !near(p.Y, want[i].Y) || p.Marker != want[i].Marker || p.Label != want[i].Label {
			t.Errorf("point %d = %+v, want %+v", i, p, want[i])
		}
	}
	// The mean runs 30 over the first two points, breaks at the gap, runs
	// 30 at the fourth (one point: half a step either side), then 20.
	wantMean := []chart.Line{{X1: x(0), X2: x(1), Y: y(30), Value: 30}, {X1: x(3) - 30, X2: x(3) + 30, Y: y(30), Value: 30}, {X1: x(4) - 30, X2: x(4) + 30, Y: y(20), Value: 20}}
	if len(l.Mean) != len(wantMean) {
		t.Fatalf("mean segments %+v, want %+v", l.Mean, wantMean)
	}
	for i, s := range l.Mean {
		if !near(s.X1, wantMean[i].X1) || !near(s.X2, wantMean[i].X2) || !near(s.Y, wantMean[i].Y) {
			t.Errorf("mean segment %d = %+v, want %+v", i, s, wantMean[i])
		}
	}
	if len(l.UPL) != 3 || !near(l.UPL[0].Y, y(50)) || !near(l.LPL[2].Y, y(0)) {
		t.Errorf("limits UPL %+v LPL %+v", l.UPL, l.LPL)
	}
	if l.Target == nil || !near(l.Target.Y, y(45)) || l.Target.X1 != 40 || l.Target.X2 != 280 {
		t.Errorf("target %+v, want across the plot at y %v", l.Target, y(45))
	}
	if len(l.YTicks) != 4 || !near(l.YTicks[0].At, 170) || l.YTicks[3].Label != "60" {
		t.Errorf("y ticks %+v", l.YTicks)
	}
}

func TestLayoutSPCMonthTicks(t *testing.T) {
	t.Parallel()
	pts := make([]chart.SPCPoint, 24)
	for i := range pts {
		pts[i] = chart.SPCPoint{Label: strconv.Itoa(i), Value: f(float64(i))}
	}
	l := chart.LayoutSPC(pts, nil, chart.SPCBox())
	// 24 months: every 4th is labelled, counting back from the last (23).
	var got []string
	for _, tk := range l.XTicks {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "3 7 11 15 19 23" {
		t.Errorf("month ticks %v, want 3 7 11 15 19 23", got)
	}
	if last := l.XTicks[len(l.XTicks)-1]; !near(last.At, chart.SPCBox().PlotRight()) {
		t.Errorf("last tick at %v, want the plot's right edge %v", last.At, chart.SPCBox().PlotRight())
	}
}

func TestLayoutSPCOnePoint(t *testing.T) {
	t.Parallel()
	box := chart.Box{Width: 300, Height: 200, Left: 40, Right: 20, Top: 10, Bottom: 30}
	l := chart.LayoutSPC([]chart.SPCPoint{{Label: "2026-01", Value: f(5)}}, nil, box)
	if len(l.Points) != 1 || !near(l.Points[0].X, 160) {
		t.Errorf("one point at %+v, want x 160 (the middle)", l.Points)
	}
	if l.Points[0].Y <= 10 || l.Points[0].Y >= 170 {
		t.Errorf("flat value at y %v, want inside the plot", l.Points[0].Y)
	}
}

func TestSPCSVG(t *testing.T) {
	t.Parallel()
	box := chart.Box{Width: 300, Height: 200, Left: 40, Right: 20, Top: 10, Bottom: 30}
	pts := []chart.SPCPoint{
		{Label: "2026-01", Value: f(20), Mean: f(30), LPL: f(10), UPL: f(50), Type: "common_cause"},
		{Label: "2026-02", Value: f(60), Mean: f(30), LPL: f(10), UPL: f(50), Type: "special_cause_concern"},
		{Label: "2026-03", Value: f(10), Mean: f(30), LPL: f(10), UPL: f(50), Type: "special_cause_neutral_low"},
	}
	svg := string(chart.LayoutSPC(pts, nil, box).SVG("Title <&>", "Latest 10"))
	for _, want := range []string{
		`<title>Title &lt;&amp;&gt;</title>`, `<desc>Latest 10</desc>`, `role="img"`,
		`<circle class="pt pt-common" cx="40" cy="116.67"`,
		`<rect class="pt pt-concern" x="156" y="6"`, // centre (160, 10) less half the square
		`<circle class="pt pt-neutral" cx="280" cy="143.33"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %s:\n%s", want, svg)
		}
	}
	if n := len(regexp.MustCompile(`class="pt `).FindAllString(svg, -1)); n != 3 {
		t.Errorf("%d points drawn, want 3", n)
	}
}

func TestLayoutFunnel(t *testing.T) {
	t.Parallel()
	box := chart.Box{Width: 300, Height: 200, Left: 40, Right: 20, Top: 10, Bottom: 30}
	// Limits ±10 around 50, whatever n: easy to place by hand.
	limits := func(float64) (float64, float64, float64, float64) { return 45, 55, 40, 60 }
	units := []chart.FunnelUnit{
		{Label: "a", Denominator: 100, Value: 50, Marker: chart.MarkerCommon},
		{Label: "b", Denominator: 400, Value: 62, Marker: chart.MarkerConcern},
	}
	l := chart.LayoutFunnel(units, 50, limits, 0, 100, box)
	// x: 0..600 (440/4 = 110 → ticks of 200 covering 440) onto 40..280;
	// y: 40..70 covers 40..62 in steps of 10 onto 170..10.
	if l.X.Domain != [2]float64{0, 600} || l.Y.Domain != [2]float64{40, 70} {
		t.Fatalf("domains x %v y %v, want [0 600] [40 70]", l.X.Domain, l.Y.Domain)
	}
	x := func(n float64) float64 { return 40 + n/600*240 }
	y := func(v float64) float64 { return 170 - (v-40)/30*160 }
	if p := l.Points[1]; !near(p.X, x(400)) || !near(p.Y, y(62)) || p.Marker != chart.MarkerConcern {
		t.Errorf("unit b at %+v, want (%v, %v)", p, x(400), y(62))
	}
	if !near(l.Centre.Y, y(50)) {
		t.Errorf("centre at y %v, want %v", l.Centre.Y, y(50))
	}
	for _, c := range []struct {
		name string
		pts  [][2]float64
		v    float64
	}{{"upper 99.8", l.Upper998, 60}, {"lower 95", l.Lower95, 45}} {
		if len(c.pts) < 10 || !near(c.pts[0][1], y(c.v)) || !near(c.pts[len(c.pts)-1][0], 280) {
			t.Errorf("%s curve %v, want y %v ending at x 280", c.name, c.pts[:2], y(c.v))
		}
	}
	svg := string(l.SVG("f1", "Funnel", "desc"))
	if !strings.Contains(svg, `clip-path="url(#clip-f1)"`) || strings.Count(svg, "<polyline") != 4 {
		t.Errorf("funnel SVG lacks its clip path or four curves:\n%s", svg)
	}
}

func TestIcons(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"common_cause", "improvement_high", "concern_low", "neutral_high", "suppressed"} {
		svg := string(chart.VariationIcon(name))
		if !strings.Contains(svg, `aria-label="`+chart.VariationLabel(name)+`"`) || strings.Contains(chart.VariationLabel(name), "Unknown") {
			t.Errorf("variation icon %s: %s", name, svg)
		}
	}
	if !strings.Contains(string(chart.AssuranceIcon("consistent_fail")), ">F</text>") {
		t.Error("the failing assurance icon does not say F")
	}
}

func TestFormatNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{12: "12", 12.54: "12.5", -0.04: "0", 1234.56: "1234.6"} {
		if got := chart.FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", in, got, want)
		}
	}
}
