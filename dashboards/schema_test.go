package dashboards_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pathwayhub/pathwayhub/dashboards"
)

// schemas compiles the committed Grafana schemas: the dashboard, and each
// panel type's options and field config.
type schemas struct {
	dashboard *jsonschema.Schema
	options   map[string]*jsonschema.Schema
	custom    map[string]*jsonschema.Schema
}

func loadSchemas(t *testing.T) schemas {
	t.Helper()
	c := jsonschema.NewCompiler()
	add := func(name string) string {
		f, err := os.Open(filepath.Join("testdata", "jsonschema", name+".jsonschema.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		url := "file:///" + name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		return url
	}
	compile := func(url string) *jsonschema.Schema {
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("compile %s: %v", url, err)
		}
		return s
	}
	s := schemas{dashboard: compile(add("dashboard")), options: map[string]*jsonschema.Schema{}, custom: map[string]*jsonschema.Schema{}}
	for _, panel := range []string{"timeseries", "stat", "table", "xychart", "text"} {
		url := add(panel)
		s.options[panel] = compile(url + "#/definitions/Options")
		if panel != "text" && panel != "stat" {
			s.custom[panel] = compile(url + "#/definitions/FieldConfig")
		}
	}
	return s
}

func instance(t *testing.T, raw []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// panelsOf returns every panel of a dashboard, including those in rows.
func panelsOf(d map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(list []any)
	walk = func(list []any) {
		for _, p := range list {
			m, _ := p.(map[string]any)
			if m == nil {
				continue
			}
			out = append(out, m)
			if inner, ok := m["panels"].([]any); ok {
				walk(inner)
			}
		}
	}
	list, _ := d["panels"].([]any)
	walk(list)
	return out
}

// TestDashboardsValidateAgainstGrafanaSchemas validates every generated
// dashboard, and every panel's options and field config, against the
// schemas Grafana publishes; checks the ClickHouse targets' own fields
// (which the schema leaves free-form); and decodes the JSON strictly back
// into the SDK's types, with the ClickHouse query registered.
func TestDashboardsValidateAgainstGrafanaSchemas(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	plugins.RegisterDefaultPlugins()
	cog.NewRuntime().RegisterDataqueryVariant(dashboards.ClickHouseVariant())
	seen := 0
	for _, f := range examples(t) {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		seen++
		t.Run(f.Path, func(t *testing.T) {
			if err := s.dashboard.Validate(instance(t, f.Data)); err != nil {
				t.Fatalf("dashboard schema: %v", err)
			}
			var d map[string]any
			if err := json.Unmarshal(f.Data, &d); err != nil {
				t.Fatal(err)
			}
			if v, _ := d["schemaVersion"].(float64); v < 39 {
				t.Errorf("schemaVersion %v", d["schemaVersion"])
			}
			for _, p := range panelsOf(d) {
				checkPanel(t, s, p)
			}
			var back dashboards.Dashboard
			// The SDK returns an empty cog.BuildErrors (a non-nil error) when
			// nothing failed.
			var be cog.BuildErrors
			if err := back.UnmarshalJSONStrict(f.Data); err != nil && (!errors.As(err, &be) || len(be) > 0) {
				t.Errorf("strict decode into the SDK's types: %v", err)
			}
		})
	}
	if seen < 10 {
		t.Fatalf("only %d dashboards generated", seen)
	}
}

func checkPanel(t *testing.T, s schemas, p map[string]any) {
	t.Helper()
	typ, _ := p["type"].(string)
	title, _ := p["title"].(string)
	if typ == "row" {
		return
	}
	if desc, _ := p["description"].(string); typ != "text" && len(desc) < 40 {
		t.Errorf("panel %q has no plain-language description", title)
	}
	if opts, ok := p["options"]; ok {
		sch := s.options[typ]
		if sch == nil {
			t.Errorf("panel %q: no schema for panel type %q", title, typ)
		} else if err := sch.Validate(reencode(t, opts)); err != nil {
			t.Errorf("panel %q options: %v", title, err)
		}
	}
	if fc, ok := p["fieldConfig"].(map[string]any); ok {
		if defaults, ok := fc["defaults"].(map[string]any); ok {
			if custom, ok := defaults["custom"]; ok && s.custom[typ] != nil {
				if err := s.custom[typ].Validate(reencode(t, custom)); err != nil {
					t.Errorf("panel %q field config: %v", title, err)
				}
			}
		}
	}
	targets, _ := p["targets"].([]any)
	if typ != "text" && len(targets) == 0 {
		t.Errorf("panel %q has no query", title)
	}
	for _, tg := range targets {
		m, _ := tg.(map[string]any)
		ds, _ := m["datasource"].(map[string]any)
		if ds["type"] != dashboards.ClickHousePluginID {
			continue
		}
		for _, key := range []string{"refId", "pluginVersion", "editorType", "rawSql", "queryType"} {
			if v, _ := m[key].(string); v == "" {
				t.Errorf("panel %q: ClickHouse target without %s", title, key)
			}
		}
		if v, _ := m["pluginVersion"].(string); !strings.HasPrefix(v, "4.") {
			t.Errorf("panel %q: pluginVersion %q is not 4.x", title, v)
		}
		format, _ := m["format"].(float64)
		qt, _ := m["queryType"].(string)
		if (format == 0) != (qt == "timeseries") || (format == 1) != (qt == "table") {
			t.Errorf("panel %q: format %v with queryType %q", title, format, qt)
		}
	}
}

func reencode(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return instance(t, raw)
}
