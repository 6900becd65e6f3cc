package dashboards_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

var (
	// qualified finds database.table references: no generated query uses
	// table aliases, so every word.word is one.
	qualified = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b`)
	// source finds what follows FROM or JOIN: a subquery, or a table.
	source = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+(\(|[A-Za-z_][A-Za-z0-9_.]*\s*\(?)`)
)

// TestEachAudienceReadsOnlyItsOwnShare checks, for the example agreements
// under two share prefixes, that every query of an audience's dashboards
// (panel targets and template variables) runs on that audience's
// datasource, names no database but the audience's share, and reads tables
// or subqueries only (no table functions).
func TestEachAudienceReadsOnlyItsOwnShare(t *testing.T) {
	t.Parallel()
	agreements, err := policy.LoadAgreements(filepath.Join("..", "policy", "agreements", "london"), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"share_", "other_hub_"} {
		files, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Prefix: prefix, Placeholder: "x"})
		if err != nil {
			t.Fatal(err)
		}
		audiences, err := dashboards.Audiences(agreements, prefix)
		if err != nil {
			t.Fatal(err)
		}
		byFolder := map[string]dashboards.Audience{}
		for _, a := range audiences {
			byFolder[a.ID] = a
		}
		checked := 0
		for _, f := range files {
			if !strings.HasSuffix(f.Path, ".json") {
				continue
			}
			folder := filepath.Base(filepath.Dir(f.Path))
			a, ok := byFolder[folder]
			for _, q := range queriesOf(t, f.Data) {
				checked++
				if !ok {
					if q.uid != dashboards.PrometheusUID {
						t.Errorf("%s: %s queries datasource %s", f.Path, q.where, q.uid)
					}
					continue
				}
				if q.uid != a.DatasourceUID() {
					t.Errorf("%s: %s uses datasource %s, not %s", f.Path, q.where, q.uid, a.DatasourceUID())
				}
				for _, bad := range outside(q.sql, a.Database) {
					t.Errorf("%s: %s reads %s, outside %s", f.Path, q.where, bad, a.Database)
				}
			}
		}
		if checked < 100 {
			t.Errorf("prefix %s: only %d queries checked", prefix, checked)
		}
	}
}

// outside returns what sql reads that is not a table of database db: other
// databases' tables, unqualified tables and table functions.
func outside(sql, db string) []string {
	var out []string
	for _, m := range qualified.FindAllStringSubmatch(sql, -1) {
		if m[1] != db {
			out = append(out, m[0])
		}
	}
	for _, m := range source.FindAllStringSubmatch(sql, -1) {
		if m[1] != "(" && (strings.HasSuffix(m[1], "(") || !strings.HasPrefix(m[1], db+".")) {
			out = append(out, strings.TrimSpace(m[1]))
		}
	}
	return out
}

func TestOutsideFindsOtherDatabases(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sql  string
		want int
	}{
		{"SELECT x FROM share_a.measures WHERE y IN (SELECT y FROM share_a.funnel)", 0},
		{"SELECT x FROM (SELECT 1 AS x)", 0},
		{"SELECT count() FROM pathway.incidents", 2},
		{"SELECT x FROM share_a.measures ANY LEFT JOIN share_b.catalogue USING (measure_id)", 2},
		{"SELECT * FROM remote('h', share_a.measures)", 1},
		{"SELECT * FROM measures", 1},
		{"SELECT 1.2 * value FROM share_a.measures", 0},
	}
	for _, c := range cases {
		if got := outside(c.sql, "share_a"); len(got) != c.want {
			t.Errorf("outside(%q) = %v, want %d findings", c.sql, got, c.want)
		}
	}
}

// aQuery is one query of a dashboard and where it is.
type aQuery struct{ where, uid, sql string }

// queriesOf returns every panel target and template variable query.
func queriesOf(t *testing.T, raw []byte) []aQuery {
	t.Helper()
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Datasource struct{ UID string } `json:"datasource"`
				RawSQL     string               `json:"rawSql"`
				Expr       string               `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string               `json:"name"`
				Query      any                  `json:"query"`
				Datasource struct{ UID string } `json:"datasource"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	var out []aQuery
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, aQuery{where: "panel " + p.Title, uid: tg.Datasource.UID, sql: tg.RawSQL})
		}
	}
	for _, v := range d.Templating.List {
		q, _ := v.Query.(string)
		out = append(out, aQuery{where: "variable " + v.Name, uid: v.Datasource.UID, sql: q})
	}
	return out
}

// TestOperationsNamesTheHubsMetrics checks that every metric the hub
// operations dashboard queries is one the hub's code defines.
func TestOperationsNamesTheHubsMetrics(t *testing.T) {
	t.Parallel()
	d, err := dashboards.Operations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var source strings.Builder
	for _, dir := range []string{"hub", "ingest", "policy"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			source.Write(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b(pathway(?:hub)?_[a-z_]+)\b`).FindAllString(string(raw), -1) {
		names[strings.TrimSuffix(m, "_bucket")] = true
	}
	if len(names) < 10 {
		t.Fatalf("only %d metrics found: %v", len(names), names)
	}
	for name := range names {
		if !strings.Contains(source.String(), `"`+name+`"`) {
			t.Errorf("the hub defines no metric %s", name)
		}
	}
}
