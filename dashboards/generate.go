package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/policy"
)

// Options configure Generate.
type Options struct {
	// Agreements are the data-sharing agreements whose recipients are the
	// audiences.
	Agreements []policy.Agreement
	// Prefix starts every share database and recipient user name (default
	// "share_").
	Prefix string
	// Passwords are the recipients' ClickHouse passwords (recipient id →
	// password), as the share publisher keeps them. A recipient without one
	// is an error unless Placeholder is set.
	Passwords map[string]string
	// Placeholder, when set, is written instead of every password, e.g. for
	// files committed as examples.
	Placeholder string
	// ClickHouseHost and ClickHousePort are where Grafana reaches
	// ClickHouse's native protocol (default clickhouse:9000).
	ClickHouseHost string
	ClickHousePort int
	// PrometheusURL is where Grafana reaches Prometheus (default
	// http://prometheus:9090).
	PrometheusURL string
	// HubTarget is where Prometheus scrapes the hub's /metrics (default
	// hub:9464).
	HubTarget string
	// DashboardsPath is where Grafana finds the dashboards directory, as
	// its provisioning sees it (default /var/lib/grafana/dashboards).
	DashboardsPath string
	// Thresholds are the live pathway thresholds of the alert rules (zero:
	// the national defaults).
	Thresholds measures.Thresholds
}

// File is one generated file, its path relative to the output directory.
type File struct {
	Path string
	Data []byte
	// Secret files (the datasources, which hold passwords) are written with
	// mode 0600.
	Secret bool
}

// Kinds of dashboard.
const (
	KindOverview    = "overview"
	KindPerformance = "performance"
	KindComparison  = "comparison"
	KindFeed        = "feed"
	KindLive        = "live"
	KindOperations  = "operations"
	// KindRegions is the national lead's comparison of regions.
	KindRegions = "regions"
)

// Board is one generated dashboard and the audience it serves (none for
// the hub operations dashboard).
type Board struct {
	// Kind is one of the Kind constants.
	Kind string
	// Audience is who reads it; its zero value for hub operations.
	Audience Audience
	// Dashboard is the dashboard model.
	Dashboard Dashboard
}

// Folder is the Grafana folder (and directory) a board is provisioned in.
func (b Board) Folder() string {
	if b.Audience.ID == "" {
		return "hub-operations"
	}
	return b.Audience.ID
}

// Path is the board's JSON file, relative to the output directory.
func (b Board) Path() string {
	return filepath.Join("grafana", "dashboards", b.Folder(), b.Kind+".json")
}

// Boards generates every dashboard: for each aggregate audience a regional
// overview, pathway performance, force comparison (when it has a funnel
// measure) and feed health (when granted the feed measures); for a national
// lead, whose share is by region, the regional comparison instead; for each
// record audience the live pathway; and one hub operations dashboard.
func Boards(audiences []Audience) ([]Board, error) {
	var out []Board
	add := func(kind string, a Audience, build func(Audience) (Dashboard, error)) error {
		d, err := build(a)
		if err != nil {
			return err
		}
		out = append(out, Board{Kind: kind, Audience: a, Dashboard: d})
		return nil
	}
	for _, a := range audiences {
		var errs []error
		switch {
		case a.byRegion():
			errs = append(errs, add(KindRegions, a, RegionalComparison))
		case a.Granularity == policy.GranularityAggregate:
			errs = append(errs, add(KindOverview, a, Overview), add(KindPerformance, a, Performance))
			if len(a.funnelMeasures()) > 0 {
				errs = append(errs, add(KindComparison, a, Comparison))
			}
			if a.hasFeed() {
				errs = append(errs, add(KindFeed, a, Feed))
			}
		case a.Granularity == policy.GranularityRecord:
			errs = append(errs, add(KindLive, a, Live))
		default:
			errs = append(errs, fmt.Errorf("dashboards: recipient %s: unknown granularity %q", a.ID, a.Granularity))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	ops, err := Operations()
	if err != nil {
		return nil, err
	}
	return append(out, Board{Kind: KindOperations, Dashboard: ops}), nil
}

// Generate returns every file: the dashboards, Grafana's datasource and
// dashboard provisioning, and Prometheus's configuration and alert rules.
func Generate(opts Options) ([]File, error) {
	opts = opts.withDefaults()
	audiences, err := Audiences(opts.Agreements, opts.Prefix)
	if err != nil {
		return nil, err
	}
	boards, err := Boards(audiences)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, b := range boards {
		raw, err := json.MarshalIndent(b.Dashboard, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("dashboards: %s: %w", b.Path(), err)
		}
		files = append(files, File{Path: b.Path(), Data: append(raw, '\n')})
	}
	ds, err := datasources(opts, audiences)
	if err != nil {
		return nil, err
	}
	files = append(files, ds)
	prov, err := providers(opts, boards)
	if err != nil {
		return nil, err
	}
	files = append(files, prov)
	rules, err := monitor.AlertRules(opts.Thresholds)
	if err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	files = append(files, File{Path: filepath.Join("prometheus", "alert_rules.yml"), Data: rules}, prometheusConfig(opts))
	return files, nil
}

func (opts Options) withDefaults() Options {
	if opts.Prefix == "" {
		opts.Prefix = "share_"
	}
	if opts.ClickHouseHost == "" {
		opts.ClickHouseHost = "clickhouse"
	}
	if opts.ClickHousePort == 0 {
		opts.ClickHousePort = 9000
	}
	if opts.PrometheusURL == "" {
		opts.PrometheusURL = "http://prometheus:9090"
	}
	if opts.HubTarget == "" {
		opts.HubTarget = "hub:9464"
	}
	if opts.DashboardsPath == "" {
		opts.DashboardsPath = "/var/lib/grafana/dashboards"
	}
	if opts.Thresholds.DetentionClock == 0 {
		opts.Thresholds = measures.DefaultThresholds()
	}
	return opts
}

// QueryTimeoutSeconds is each share datasource's query timeout. The plugin
// sends it, plus 5 s, as max_execution_time with every query, and a
// recipient's profile caps that setting at share.ReaderMaxExecutionSeconds
// (a constraint on current releases): the timeout must stay under the cap.
const QueryTimeoutSeconds = share.ReaderMaxExecutionSeconds - 10

// datasources is Grafana's datasource provisioning: one ClickHouse
// datasource per audience, logging in as that recipient's read-only user
// with its share database as default, and Prometheus.
func datasources(opts Options, audiences []Audience) (File, error) {
	type entry = map[string]any
	var list []entry
	for _, a := range audiences {
		pw := opts.Placeholder
		if pw == "" {
			var ok bool
			if pw, ok = opts.Passwords[a.ID]; !ok || pw == "" {
				return File{}, fmt.Errorf("dashboards: no ClickHouse password for recipient %s (has the hub published its share?)", a.ID)
			}
		}
		list = append(list, entry{
			"name": "Share " + a.ID, "type": ClickHousePluginID, "uid": a.DatasourceUID(), "editable": false,
			"jsonData": entry{
				"host": opts.ClickHouseHost, "port": opts.ClickHousePort, "protocol": "native",
				"username": a.Database, "defaultDatabase": a.Database, "dialTimeout": "10", "queryTimeout": strconv.Itoa(QueryTimeoutSeconds),
			},
			"secureJsonData": entry{"password": pw},
		})
	}
	list = append(list, entry{
		"name": "Prometheus", "type": "prometheus", "uid": PrometheusUID, "access": "proxy",
		"url": opts.PrometheusURL, "editable": false,
	})
	raw, err := yamlDoc("Grafana datasources: one read-only ClickHouse login per share recipient, and Prometheus.\n"+
		"# Generated by `pathwayhub dashboards`. Holds passwords: keep it mode 0600.",
		entry{"apiVersion": 1, "datasources": list})
	if err != nil {
		return File{}, err
	}
	return File{Path: filepath.Join("grafana", "provisioning", "datasources", "pathwayhub.yaml"), Data: raw, Secret: true}, nil
}

// providers is Grafana's dashboard provisioning: a folder per audience.
func providers(opts Options, boards []Board) (File, error) {
	type entry = map[string]any
	var list []entry
	seen := map[string]bool{}
	for _, b := range boards {
		f := b.Folder()
		if seen[f] {
			continue
		}
		seen[f] = true
		title := "Hub operations"
		if b.Audience.ID != "" {
			title = b.Audience.ID + " (" + b.Audience.Role + ")"
		}
		list = append(list, entry{
			"name": f, "folder": title, "folderUid": uid("folder-" + f), "type": "file",
			"disableDeletion": true, "allowUiUpdates": false, "updateIntervalSeconds": 60,
			"options": entry{"path": opts.DashboardsPath + "/" + f},
		})
	}
	raw, err := yamlDoc("Grafana dashboard providers: one folder per audience.\n# Generated by `pathwayhub dashboards`.",
		entry{"apiVersion": 1, "providers": list})
	if err != nil {
		return File{}, err
	}
	return File{Path: filepath.Join("grafana", "provisioning", "dashboards", "pathwayhub.yaml"), Data: raw}, nil
}

// prometheusConfig scrapes the hub and loads the alert rules beside it.
func prometheusConfig(opts Options) File {
	raw := "# Prometheus configuration for Pathway Hub. Generated by `pathwayhub dashboards`.\n" +
		"global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n" +
		"rule_files:\n  - alert_rules.yml\n" +
		"scrape_configs:\n  - job_name: pathwayhub\n    metrics_path: /metrics\n    static_configs:\n" +
		"      - targets: [" + strconv.Quote(opts.HubTarget) + "]\n"
	return File{Path: filepath.Join("prometheus", "prometheus.yml"), Data: []byte(raw)}
}

// yamlDoc renders v as YAML after a comment.
func yamlDoc(comment string, v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# " + comment + "\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	return buf.Bytes(), nil
}

// Write writes files under dir, secret ones with mode 0600, and returns
// their paths.
func Write(dir string, files []File) ([]string, error) {
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		var mode fs.FileMode = 0o644
		if f.Secret {
			mode = 0o600
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		if err := os.Chmod(p, mode); err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
