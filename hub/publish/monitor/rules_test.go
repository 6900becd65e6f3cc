package monitor_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// rulesFile is the Prometheus rules-file structure the test expects.
type rulesFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type alertRule = struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func parseRules(t *testing.T, data []byte) []alertRule {
	t.Helper()
	var f rulesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("rules do not parse: %v\n%s", err, data)
	}
	if len(f.Groups) != 1 || f.Groups[0].Name != "pathway_live" {
		t.Fatalf("want one group named pathway_live, got %d groups", len(f.Groups))
	}
	return f.Groups[0].Rules
}

// exported runs a monitor under th over incidents that touch every stage
// and returns every series it exports, by metric name.
func exported(t *testing.T, th measures.Thresholds) map[string]map[string]float64 {
	t.Helper()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	src := newMemSource()
	src.put(monitor.Incident{ForceID: "btp", IncidentRef: "a", Status: "open", IncidentType: "s136",
		ArrivedAtPos: now.Add(-time.Hour), AmbulanceRequested: now.Add(-2 * time.Hour), LastUpdate: now})
	reg := prometheus.NewPedanticRegistry()
	m, err := monitor.New(monitor.Options{Source: src, Thresholds: th, Registerer: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, name := range families(t, reg) {
		out[name] = series(t, reg, name)
	}
	return out
}

var (
	selectorRE = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"`)
	stripRE    = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring)\s*\([^)]*\)`)
	identRE    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*\s*\(?`)
)

// metricNames returns the names an expression reads as series: identifiers
// that are not called as functions or aggregations and are not keywords.
func metricNames(expr string) []string {
	var names []string
	for _, tok := range identRE.FindAllString(stripRE.ReplaceAllString(expr, " "), -1) {
		if strings.HasSuffix(tok, "(") {
			continue
		}
		if tok = strings.TrimSpace(tok); !slices.Contains([]string{"bool", "and", "or", "unless", "offset"}, tok) {
			names = append(names, tok)
		}
	}
	return names
}

func TestAlertRulesReadOnlyExportedSeries(t *testing.T) {
	t.Parallel()
	custom := measures.Thresholds{
		DetentionClock: 24 * time.Hour, DetentionWarnings: []time.Duration{30 * time.Minute, 3 * time.Hour},
		HandoverTarget: 90 * time.Minute, HandoverWarning: 50 * time.Minute, LocalEscalation: 5 * time.Hour,
		AmbulanceWait: 25 * time.Minute, StaleAfter: 45 * time.Minute,
	}
	for name, th := range map[string]measures.Thresholds{"default": measures.DefaultThresholds(), "custom": custom} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := monitor.AlertRules(th)
			if err != nil {
				t.Fatal(err)
			}
			metrics := exported(t, th)
			rules := parseRules(t, data)
			if len(rules) == 0 {
				t.Fatal("no rules")
			}
			for _, r := range rules {
				checkRule(t, r, metrics)
			}
		})
	}
}

// checkRule checks one rule's shape, and that its expression reads only
// metrics the monitor exports, with label values some exported series has.
func checkRule(t *testing.T, r alertRule, metrics map[string]map[string]float64) {
	t.Helper()
	if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
		t.Errorf("rule %+v lacks alert, expr, summary or description", r)
	}
	if _, err := model.ParseDuration(r.For); err != nil {
		t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
	}
	if !slices.Contains([]string{"info", "warning", "critical"}, r.Labels["severity"]) {
		t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
	}
	names := metricNames(r.Expr)
	if len(names) == 0 {
		t.Errorf("%s: expr %q reads no metric", r.Alert, r.Expr)
	}
	for _, n := range names {
		if _, ok := metrics[n]; !ok {
			t.Errorf("%s: expr %q reads %s, which the monitor does not export", r.Alert, r.Expr, n)
		}
	}
	for _, sel := range selectorRE.FindAllStringSubmatch(r.Expr, -1) {
		if !anySeriesMatches(metrics[sel[1]], matcherRE.FindAllStringSubmatch(sel[2], -1)) {
			t.Errorf("%s: no exported series matches %s", r.Alert, sel[0])
		}
	}
}

func anySeriesMatches(series map[string]float64, matchers [][]string) bool {
	for key := range series {
		all := true
		for _, m := range matchers {
			all = all && strings.Contains(key, m[1]+`="`+m[2]+`"`)
		}
		if all {
			return true
		}
	}
	return false
}

func TestAlertRulesCarryThresholds(t *testing.T) {
	t.Parallel()
	th := measures.Thresholds{
		DetentionClock: 24 * time.Hour, DetentionWarnings: []time.Duration{30 * time.Minute, 3 * time.Hour},
		HandoverTarget: 90 * time.Minute, HandoverWarning: 50 * time.Minute, LocalEscalation: 5 * time.Hour,
		AmbulanceWait: 25 * time.Minute, StaleAfter: 45 * time.Minute,
	}
	data, err := monitor.AlertRules(th)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		alert, window string
		severity      string
		exprHas       []string
		textHas       []string // in both summary and description
	}
	wants := []want{
		{"PathwayDetentionClockApproaching", "3h", "warning", []string{`pathwayhub_live_detention_clock_within{window="3h"}`}, []string{"3h", "24h"}},
		{"PathwayDetentionClockApproaching", "30m", "warning", []string{`pathwayhub_live_detention_clock_within{window="30m"}`}, []string{"30m", "24h"}},
		{"PathwayDetentionClockBreached", "", "critical", []string{`stage="detention_clock"`, `state="breached"`}, []string{"24h"}},
		{"PathwayHandoverApproaching", "", "info", []string{`stage="handover"`, `state="approaching"`}, []string{"50m"}},
		{"PathwayHandoverTargetMissed", "", "warning", []string{`stage="handover"`, `state="breached"`}, []string{"1h30m"}},
		{"PathwayLocalEscalation", "", "warning", []string{`stage="local_escalation"`, `state="breached"`}, []string{"5h"}},
		{"PathwayAmbulanceWait", "", "warning", []string{`stage="ambulance_wait"`, `state="breached"`}, []string{"25m"}},
		{"PathwayIncidentsStale", "", "warning", []string{"pathwayhub_live_stale_incidents"}, []string{"45m"}},
		{"PathwayLiveMonitorRefreshFailing", "", "warning", []string{"pathwayhub_live_refresh_errors_total"}, nil},
		{"PathwayLiveMonitorStalled", "", "warning", []string{"pathwayhub_live_last_refresh_timestamp_seconds"}, nil},
	}
	rules := parseRules(t, data)
	if len(rules) != len(wants) {
		t.Errorf("got %d rules, want %d", len(rules), len(wants))
	}
	for _, w := range wants {
		i := slices.IndexFunc(rules, func(r alertRule) bool { return r.Alert == w.alert && r.Labels["window"] == w.window })
		if i < 0 {
			t.Errorf("no rule %s (window %q)", w.alert, w.window)
			continue
		}
		r := rules[i]
		if r.Labels["severity"] != w.severity {
			t.Errorf("%s: severity %q, want %q", w.alert, r.Labels["severity"], w.severity)
		}
		for _, s := range w.exprHas {
			if !strings.Contains(r.Expr, s) {
				t.Errorf("%s: expr %q lacks %s", w.alert, r.Expr, s)
			}
		}
		for _, s := range w.textHas {
			for _, k := range []string{"summary", "description"} {
				if !strings.Contains(r.Annotations[k], s) {
					t.Errorf("%s: %s %q lacks %s", w.alert, k, r.Annotations[k], s)
				}
			}
		}
	}
	// The handover warning's description also names the target.
	i := slices.IndexFunc(rules, func(r alertRule) bool { return r.Alert == "PathwayHandoverApproaching" })
	if i >= 0 && !strings.Contains(rules[i].Annotations["description"], "1h30m") {
		t.Errorf("handover warning description %q lacks the 1h30m target", rules[i].Annotations["description"])
	}
}

func TestAlertRulesRejectInvalidThresholds(t *testing.T) {
	t.Parallel()
	th := measures.DefaultThresholds()
	th.DetentionWarnings = []time.Duration{25 * time.Hour}
	if _, err := monitor.AlertRules(th); err == nil {
		t.Error("AlertRules accepted a warning longer than the clock")
	}
}

// TestAlertRulesGolden keeps the rules generated from the default
// thresholds under review: run with -update to rewrite the golden file.
func TestAlertRulesGolden(t *testing.T) {
	t.Parallel()
	got, err := monitor.AlertRules(measures.DefaultThresholds())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "alert_rules.golden.yaml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("alert rules differ from %s (-want +got):\n%s", path, diff)
	}
}
