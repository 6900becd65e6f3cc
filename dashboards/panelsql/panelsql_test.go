package panelsql_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/dashboards/panelsql"
)

func TestExpandFollowsThePlugin(t *testing.T) {
	t.Parallel()
	rng := panelsql.TimeRange{From: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), To: time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC)}
	all := map[string][]string{"force": {"btp", "city-of-london"}}
	cases := []struct {
		name, sql, want string
		values          map[string][]string
	}{
		{"conditional all at All", "WHERE $__conditionalAll(force_id IN (${force:singlequote}), $force)",
			"WHERE 1=1", map[string][]string{"force": nil}},
		{"conditional all at one force", "WHERE $__conditionalAll(force_id IN (${force:singlequote}), $force)",
			"WHERE force_id IN ('btp')", map[string][]string{"force": {"btp"}}},
		{"singlequote at All lists every option", "x IN (${force:singlequote})",
			"x IN ('btp','city-of-london')", map[string][]string{"force": nil}},
		{"plain value", "force_id = '${force}'", "force_id = 'btp'", map[string][]string{"force": {"btp"}}},
		{"quotes escaped", "x IN (${m:singlequote})", `x IN ('o\'k')`, map[string][]string{"m": {"o'k"}}},
		{"time filter", "$__timeFilter(t)", "t >= toDateTime(1767323045) AND t <= toDateTime(1767409445)", nil},
		{"date filter", "$__dateFilter(month)", "month >= toDate('2026-01-02') AND month <= toDate('2026-01-03')", nil},
		{"from and to", "$__fromTime, $__toTime", "toDateTime(1767323045), toDateTime(1767409445)", nil},
		{"interval", "intDiv(x, $__interval_s)", "intDiv(x, 86)", nil},
		{"time from and to", "$__timeFrom(t) AND $__timeTo(t)", "t >= toDateTime(1767323045) AND t <= toDateTime(1767409445)", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := panelsql.Expand(c.sql, panelsql.Scenario{Values: c.values, Options: all}, rng)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("Expand(%q) = %q, want %q", c.sql, got, c.want)
			}
		})
	}
}

func TestExpandRefusesWhatItCannotExpand(t *testing.T) {
	t.Parallel()
	rng := panelsql.TimeRange{From: time.Unix(0, 0), To: time.Unix(86400, 0)}
	for _, sql := range []string{
		"SELECT $__timeInterval(t)",         // a macro that does not run on 18.16
		"WHERE x = $unknown",                // a variable the dashboard does not define
		"WHERE $__conditionalAll(x IN (1))", // one argument
	} {
		if got, err := panelsql.Expand(sql, panelsql.Scenario{}, rng); err == nil {
			t.Errorf("Expand(%q) = %q, want an error", sql, got)
		}
	}
}

func TestScenarios(t *testing.T) {
	t.Parallel()
	vars := []panelsql.Variable{
		{Name: "force", Multi: true, All: true, Current: "$__all"},
		{Name: "measure", Current: "s136_detentions"},
	}
	options := map[string][]string{"force": {"btp", "metropolitan"}, "measure": {"s136_detentions", "repeat_detention"}}
	var names []string
	for _, sc := range panelsql.Scenarios(vars, options, "") {
		names = append(names, sc.Name)
		if got := sc.Values["measure"]; !slices.Equal(got, []string{"s136_detentions"}) {
			t.Errorf("%s: the single-value variable is %v, not its default", sc.Name, got)
		}
	}
	if want := []string{panelsql.FirstShown, "force=btp"}; !slices.Equal(names, want) {
		t.Errorf("scenarios %v, want %v", names, want)
	}
	if first := panelsql.Scenarios(vars, options, "")[0]; first.Values["force"] != nil {
		t.Errorf("as first shown, force is %v, not All", first.Values["force"])
	}
	names = nil
	for _, sc := range panelsql.Scenarios(vars, options, "force") {
		names = append(names, sc.Name)
	}
	if want := []string{"force=btp", "force=metropolitan"}; !slices.Equal(names, want) {
		t.Errorf("repeated over force: scenarios %v, want %v", names, want)
	}
}

func TestRelative(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now-2y":  time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC),
		"now-1M":  time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), // 31 February normalises, as Go's AddDate does
		"now-7d":  time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC),
		"now-24h": time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC),
		"now-30m": time.Date(2026, 3, 31, 11, 30, 0, 0, time.UTC),
	} {
		got, err := panelsql.Relative(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("Relative(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := panelsql.Relative("yesterday", now); err == nil {
		t.Error("Relative accepted yesterday")
	}
}

func TestDecodeReadsEveryClickHouseTarget(t *testing.T) {
	t.Parallel()
	raw := `{"time": {"from": "now-2y"},
	 "panels": [
	  {"type": "timeseries", "title": "Detentions", "repeat": "force", "targets": [
	    {"refId": "A", "rawSql": "SELECT 1", "datasource": {"type": "` + dashboards.ClickHousePluginID + `", "uid": "ch-x"}},
	    {"refId": "B", "expr": "up", "datasource": {"type": "prometheus", "uid": "prom"}}]},
	  {"type": "row", "title": "A row"}],
	 "templating": {"list": [
	  {"name": "force", "query": "SELECT force_id FROM t", "multi": true, "includeAll": true,
	   "datasource": {"uid": "ch-x"}, "current": {"value": "$__all"}}]}}`
	b, err := panelsql.Decode(dashboards.File{Path: "x.json", Data: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	want := panelsql.Target{Dashboard: "x.json", Panel: "Detentions", PanelType: "timeseries", RefID: "A", SQL: "SELECT 1", DatasourceUID: "ch-x", Repeat: "force"}
	if b.From != "now-2y" || len(b.Targets) != 1 || b.Targets[0] != want {
		t.Errorf("decoded %+v", b)
	}
	if len(b.Variables) != 1 || b.Variables[0] != (panelsql.Variable{Name: "force", Query: "SELECT force_id FROM t", DatasourceUID: "ch-x", Multi: true, All: true, Current: "$__all"}) {
		t.Errorf("variables %+v", b.Variables)
	}
	if _, err := panelsql.Decode(dashboards.File{Path: "bad.json", Data: []byte("{")}); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("a broken file: %v", err)
	}
}
