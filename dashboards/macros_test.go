package dashboards_test

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// expand turns a panel's rawSql into the SQL the ClickHouse plugin sends to
// ClickHouse, in the plugin's order (grafana/clickhouse-datasource v4):
//
//  1. In the browser (src/data/CHDatasource.ts, applyTemplateVariables):
//     first applyConditionalAll replaces each $__conditionalAll(cond, $var)
//     with 1=1 when the variable's current value is All ('$__all') or
//     empty, else with cond; then Grafana's template service interpolates
//     variables: ${v:singlequote} is every value single-quoted with quotes
//     escaped, joined by commas (All means every option, as there is no
//     custom all value); a plain $v or ${v} is the value itself, or, for
//     several values, the plugin's own format: 'a','b'.
//  2. On the server (pkg/macros/macros.go, Interpolate): the $__ macros
//     with the query's time range and interval: $__timeFilter(c) is
//     c >= toDateTime(from) AND c <= toDateTime(to) in Unix seconds;
//     $__dateFilter(c) is c >= toDate('from') AND c <= toDate('to');
//     $__timeFrom(c) and $__timeTo(c) are each half of $__timeFilter;
//     $__fromTime and $__toTime are toDateTime(from) and toDateTime(to);
//     $__interval_s is the interval in whole seconds, at least 1.
//
// Only these macros are expanded: they are the ones that work on
// ClickHouse 18.16. Anything still starting with $ afterwards fails the
// test, so a panel using another macro is caught.
func expand(t *testing.T, sql string, sc scenario, rng timeRange) string {
	t.Helper()
	sql = conditionalAll(t, sql, sc)
	sql = interpolate(sql, sc)
	sql = macros(sql, rng)
	if i := strings.Index(sql, "$"); i >= 0 {
		t.Fatalf("unexpanded %q in\n%s", sql[i:min(len(sql), i+30)], sql)
	}
	return sql
}

// conditionalAll applies $__conditionalAll as applyConditionalAll does:
// the last occurrence first, arguments split at top-level commas.
func conditionalAll(t *testing.T, sql string, sc scenario) string {
	t.Helper()
	const macro = "$__conditionalAll("
	varName := regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)
	for i := strings.LastIndex(sql, macro); i >= 0; i = strings.LastIndex(sql, macro) {
		args, end := macroArgs(sql[i+len(macro)-1:])
		if len(args) != 2 {
			t.Fatalf("$__conditionalAll needs 2 arguments: %s", sql[i:])
		}
		phrase := args[0]
		if m := varName.FindStringSubmatch(strings.TrimSpace(args[1])); m != nil {
			name := m[1] + m[2]
			if vals, ok := sc.values[name]; ok && (len(vals) == 0 || vals[0] == "") {
				phrase = "1=1"
			}
		}
		sql = sql[:i] + phrase + sql[i+len(macro)-1+end:]
	}
	return sql
}

// macroArgs splits s, which starts with "(", into its top-level arguments,
// and returns the length up to and including the closing ")".
func macroArgs(s string) ([]string, int) {
	depth, last := 0, 1
	var args []string
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return append(args, s[last:i]), i + 1
			}
		case ',':
			if depth == 1 {
				args = append(args, s[last:i])
				last = i + 1
			}
		}
	}
	return nil, len(s)
}

// interpolate replaces template variables as Grafana's template service
// does with the plugin's formatter.
func interpolate(sql string, sc scenario) string {
	re := regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$(\w+)`)
	return re.ReplaceAllStringFunc(sql, func(m string) string {
		sub := re.FindStringSubmatch(m)
		name, format := sub[1]+sub[3], sub[2]
		vals, ok := sc.values[name]
		if !ok {
			return m
		}
		if vals == nil {
			vals = sc.all[name]
		}
		if format == "singlequote" || len(vals) > 1 {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
			}
			return strings.Join(quoted, ",")
		}
		return vals[0]
	})
}

// macros expands the server-side macros.
func macros(sql string, rng timeRange) string {
	from, to := rng.from.Unix(), rng.to.Unix()
	interval := max(1, int(math.Floor(rng.to.Sub(rng.from).Seconds()/1000)))
	withArg := regexp.MustCompile(`\$__(timeFilter|dateFilter|timeFrom|timeTo)\(([^()]*)\)`)
	sql = withArg.ReplaceAllStringFunc(sql, func(m string) string {
		sub := withArg.FindStringSubmatch(m)
		col := strings.TrimSpace(sub[2])
		switch sub[1] {
		case "timeFilter":
			return fmt.Sprintf("%s >= toDateTime(%d) AND %s <= toDateTime(%d)", col, from, col, to)
		case "dateFilter":
			return fmt.Sprintf("%s >= toDate('%s') AND %s <= toDate('%s')", col, rng.from.Format(time.DateOnly), col, rng.to.Format(time.DateOnly))
		case "timeFrom":
			return fmt.Sprintf("%s >= toDateTime(%d)", col, from)
		default:
			return fmt.Sprintf("%s <= toDateTime(%d)", col, to)
		}
	})
	return strings.NewReplacer(
		"$__fromTime", fmt.Sprintf("toDateTime(%d)", from),
		"$__toTime", fmt.Sprintf("toDateTime(%d)", to),
		"$__interval_s", fmt.Sprint(interval),
	).Replace(sql)
}

func TestExpandFollowsThePlugin(t *testing.T) {
	t.Parallel()
	rng := timeRange{from: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), to: time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC)}
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
			got := expand(t, c.sql, scenario{values: c.values, all: all}, rng)
			if got != c.want {
				t.Errorf("expand(%q) = %q, want %q", c.sql, got, c.want)
			}
		})
	}
}
