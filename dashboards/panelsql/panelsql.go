package panelsql

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// Target is one ClickHouse query of a panel.
type Target struct {
	// Dashboard is the dashboard file's path.
	Dashboard string
	// Panel and PanelType are the panel's title and type.
	Panel, PanelType string
	// RefID is the query's id within the panel.
	RefID string
	// SQL is the query as written in the dashboard (rawSql).
	SQL string
	// DatasourceUID names the datasource the query runs on.
	DatasourceUID string
	// Repeat is the variable the panel is repeated over, if any.
	Repeat string
}

// Variable is a dashboard template variable.
type Variable struct {
	Name string
	// Query lists the options; it runs on DatasourceUID.
	Query, DatasourceUID string
	// Multi allows several values; All offers "All".
	Multi, All bool
	// Current is the default value ("$__all" for All).
	Current string
}

// Board is one dashboard's ClickHouse queries and variables.
type Board struct {
	// Path is the dashboard file's path.
	Path string
	// From is the default time range's start, e.g. "now-2y".
	From string
	// Targets are the ClickHouse queries of every panel, in panel order.
	Targets []Target
	// Variables are the template variables.
	Variables []Variable
}

// Decode reads a generated dashboard's JSON.
func Decode(f dashboards.File) (Board, error) {
	var raw struct {
		Time struct {
			From string `json:"from"`
		} `json:"time"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Repeat  string `json:"repeat"`
			Targets []struct {
				Datasource struct {
					Type string `json:"type"`
					UID  string `json:"uid"`
				} `json:"datasource"`
				RawSQL string `json:"rawSql"`
				RefID  string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Query      any    `json:"query"`
				Multi      bool   `json:"multi"`
				IncludeAll bool   `json:"includeAll"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
				Current struct {
					Value any `json:"value"`
				} `json:"current"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(f.Data, &raw); err != nil {
		return Board{}, fmt.Errorf("panelsql: %s: %w", f.Path, err)
	}
	b := Board{Path: f.Path, From: raw.Time.From}
	for _, p := range raw.Panels {
		for _, tg := range p.Targets {
			if tg.Datasource.Type != dashboards.ClickHousePluginID {
				continue
			}
			b.Targets = append(b.Targets, Target{
				Dashboard: f.Path, Panel: p.Title, PanelType: p.Type, RefID: tg.RefID, SQL: tg.RawSQL,
				DatasourceUID: tg.Datasource.UID, Repeat: p.Repeat,
			})
		}
	}
	for _, v := range raw.Templating.List {
		q, _ := v.Query.(string)
		cur, _ := v.Current.Value.(string)
		b.Variables = append(b.Variables, Variable{
			Name: v.Name, Query: q, DatasourceUID: v.Datasource.UID, Multi: v.Multi, All: v.IncludeAll, Current: cur,
		})
	}
	return b, nil
}

// Scenario is one choice of every variable's value.
type Scenario struct {
	// Name describes the choice, e.g. "all" or "force=btp".
	Name string
	// Values are the chosen values of each variable; nil means All.
	Values map[string][]string
	// Options are every option of each variable, which All stands for.
	Options map[string][]string
}

// FirstShown is the scenario name of a dashboard as first opened: every
// multi-value variable at All and single-value ones at their default.
const FirstShown = "all"

// Scenarios are the variable choices a target is run with, given each
// variable's options. For a panel repeated over a variable, each of its
// values in turn, as Grafana renders one panel per value. Otherwise the
// dashboard as first shown (FirstShown), then each multi-value variable at
// its first option, so that both branches of $__conditionalAll run.
// Single-value variables keep their default.
func Scenarios(vars []Variable, options map[string][]string, repeat string) []Scenario {
	base := map[string][]string{}
	for _, v := range vars {
		switch {
		case !v.Multi:
			base[v.Name] = []string{v.Current}
		case v.Name == repeat:
		default:
			base[v.Name] = nil
		}
	}
	with := func(name, val string) Scenario {
		vals := make(map[string][]string, len(base)+1)
		for k, v := range base {
			vals[k] = v
		}
		vals[name] = []string{val}
		return Scenario{Name: name + "=" + val, Values: vals, Options: options}
	}
	var out []Scenario
	if repeat != "" {
		for _, val := range options[repeat] {
			out = append(out, with(repeat, val))
		}
		return out
	}
	out = append(out, Scenario{Name: FirstShown, Values: base, Options: options})
	for _, v := range vars {
		if v.Multi && len(options[v.Name]) > 0 {
			out = append(out, with(v.Name, options[v.Name][0]))
		}
	}
	return out
}

// TimeRange is a dashboard's time range.
type TimeRange struct{ From, To time.Time }

var relativeTime = regexp.MustCompile(`^now-(\d+)([yMdhm])$`)

// Relative resolves a Grafana relative time such as "now-2y" or "now-24h"
// against now.
func Relative(s string, now time.Time) (time.Time, error) {
	m := relativeTime.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("panelsql: relative time %q is not now-N with a unit of y, M, d, h or m", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return time.Time{}, fmt.Errorf("panelsql: relative time %q: %w", s, err)
	}
	switch m[2] {
	case "y":
		return now.AddDate(-n, 0, 0), nil
	case "M":
		return now.AddDate(0, -n, 0), nil
	case "d":
		return now.AddDate(0, 0, -n), nil
	case "h":
		return now.Add(-time.Duration(n) * time.Hour), nil
	default:
		return now.Add(-time.Duration(n) * time.Minute), nil
	}
}

// Expand returns the SQL the plugin sends for sql under scenario sc and
// time range rng.
func Expand(sql string, sc Scenario, rng TimeRange) (string, error) {
	sql, err := conditionalAll(sql, sc)
	if err != nil {
		return "", err
	}
	sql = macros(interpolate(sql, sc), rng)
	if i := strings.Index(sql, "$"); i >= 0 {
		return "", fmt.Errorf("panelsql: unexpanded %q in\n%s", sql[i:min(len(sql), i+30)], sql)
	}
	return sql, nil
}

const conditionalAllMacro = "$__conditionalAll("

var (
	variableName = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)
	variableUse  = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$(\w+)`)
	macroWithArg = regexp.MustCompile(`\$__(timeFilter|dateFilter|timeFrom|timeTo)\(([^()]*)\)`)
)

// conditionalAll applies $__conditionalAll as applyConditionalAll does: the
// last occurrence first, arguments split at top-level commas.
func conditionalAll(sql string, sc Scenario) (string, error) {
	for i := strings.LastIndex(sql, conditionalAllMacro); i >= 0; i = strings.LastIndex(sql, conditionalAllMacro) {
		open := i + len(conditionalAllMacro) - 1
		args, end := macroArgs(sql[open:])
		if len(args) != 2 {
			return "", fmt.Errorf("panelsql: $__conditionalAll needs 2 arguments: %s", sql[i:])
		}
		phrase := args[0]
		if m := variableName.FindStringSubmatch(strings.TrimSpace(args[1])); m != nil {
			if vals, ok := sc.Values[m[1]+m[2]]; ok && (len(vals) == 0 || vals[0] == "") {
				phrase = "1=1"
			}
		}
		sql = sql[:i] + phrase + sql[open+end:]
	}
	return sql, nil
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
func interpolate(sql string, sc Scenario) string {
	return variableUse.ReplaceAllStringFunc(sql, func(m string) string {
		sub := variableUse.FindStringSubmatch(m)
		name, format := sub[1]+sub[3], sub[2]
		vals, ok := sc.Values[name]
		if !ok {
			return m
		}
		if vals == nil {
			vals = sc.Options[name]
		}
		if format == "singlequote" || len(vals) > 1 {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = sqltext.String(v)
			}
			return strings.Join(quoted, ",") // the plugin joins without a space
		}
		if len(vals) == 0 {
			return ""
		}
		return vals[0]
	})
}

// macros expands the server-side macros.
func macros(sql string, rng TimeRange) string {
	from, to := rng.From.Unix(), rng.To.Unix()
	interval := max(1, int(math.Floor(rng.To.Sub(rng.From).Seconds()/1000)))
	sql = macroWithArg.ReplaceAllStringFunc(sql, func(m string) string {
		sub := macroWithArg.FindStringSubmatch(m)
		col := strings.TrimSpace(sub[2])
		switch sub[1] {
		case "timeFilter":
			return fmt.Sprintf("%s >= toDateTime(%d) AND %s <= toDateTime(%d)", col, from, col, to)
		case "dateFilter":
			return fmt.Sprintf("%s >= toDate('%s') AND %s <= toDate('%s')", col, rng.From.Format(time.DateOnly), col, rng.To.Format(time.DateOnly))
		case "timeFrom":
			return fmt.Sprintf("%s >= toDateTime(%d)", col, from)
		default:
			return fmt.Sprintf("%s <= toDateTime(%d)", col, to)
		}
	})
	return strings.NewReplacer(
		"$__fromTime", fmt.Sprintf("toDateTime(%d)", from),
		"$__toTime", fmt.Sprintf("toDateTime(%d)", to),
		"$__interval_s", strconv.Itoa(interval),
	).Replace(sql)
}
