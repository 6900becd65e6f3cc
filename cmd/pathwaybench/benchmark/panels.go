package benchmark

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/dashboards/panelsql"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/policy"
)

// PanelsSource says where the panel queries come from, for the report.
const PanelsSource = "every ClickHouse query of the dashboards generated (dashboards/) for the national agreement's " +
	"audiences, as each dashboard is first shown: multi-value variables at All, single-value ones at their default, " +
	"a panel repeated per force once for each force, over the dashboard's default time range; template variables " +
	"and plugin macros expanded as the Grafana ClickHouse plugin does (dashboards/panelsql)"

// panels generates the dashboards of the national agreement's audiences and
// runs every panel query PanelRuns times as its audience's user.
func (e *env) panels(ctx context.Context, n *National, agreementsDir, passwordsFile string) error {
	n.PanelsSource = PanelsSource
	pw, err := share.LoadPasswords(passwordsFile)
	if err != nil {
		return err
	}
	agreements, err := policy.LoadAgreements(agreementsDir, measures.IDs())
	if err != nil {
		return err
	}
	// The datasources file is not used here: logins take the passwords file.
	files, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Prefix: share.DefaultPrefix, Placeholder: "unused"})
	if err != nil {
		return err
	}
	audiences, err := dashboards.Audiences(agreements, share.DefaultPrefix)
	if err != nil {
		return err
	}
	byUID := map[string]dashboards.Audience{}
	for _, a := range audiences {
		byUID[a.DatasourceUID()] = a
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, f := range files {
		if filepath.Ext(f.Path) != ".json" || !strings.Contains(f.Path, "dashboards") {
			continue
		}
		b, err := panelsql.Decode(f)
		if err != nil {
			return err
		}
		if len(b.Targets) == 0 {
			continue // hub operations, on Prometheus
		}
		a, ok := byUID[b.Targets[0].DatasourceUID]
		if !ok {
			return fmt.Errorf("panels: %s: datasource %s belongs to no audience", b.Path, b.Targets[0].DatasourceUID)
		}
		results, err := e.board(ctx, pw, a, b, now)
		if err != nil {
			return err
		}
		n.Panels = append(n.Panels, results...)
	}
	e.progress("ran %d panel queries %d times each", len(n.Panels), e.cfg.PanelRuns)
	return nil
}

// board runs one dashboard's queries as its audience.
func (e *env) board(ctx context.Context, pw *share.Passwords, a dashboards.Audience, b panelsql.Board, now time.Time) ([]PanelResult, error) {
	conn, err := e.login(ctx, pw, a.ID, a.Database)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	from, err := panelsql.Relative(b.From, now)
	if err != nil {
		return nil, err
	}
	rng := panelsql.TimeRange{From: from, To: now}
	options := map[string][]string{}
	for _, v := range b.Variables {
		if options[v.Name], err = firstColumn(ctx, conn, v.Query); err != nil {
			return nil, fmt.Errorf("panels: %s: variable %s: %w", b.Path, v.Name, err)
		}
	}
	kind := strings.TrimSuffix(filepath.Base(b.Path), ".json")
	var out []PanelResult
	for _, tg := range b.Targets {
		for _, sc := range panelsql.Scenarios(b.Variables, options, tg.Repeat) {
			if tg.Repeat == "" && sc.Name != panelsql.FirstShown {
				continue
			}
			res := PanelResult{Audience: a.ID, Dashboard: kind, Panel: tg.Panel, RefID: tg.RefID}
			if tg.Repeat != "" {
				res.Scenario = sc.Name
			}
			sql, err := panelsql.Expand(tg.SQL, sc, rng)
			if err != nil {
				return nil, err
			}
			e.time(ctx, conn, sql, &res)
			out = append(out, res)
		}
	}
	return out, nil
}

// time runs sql PanelRuns times and records its latency and row count.
func (e *env) time(ctx context.Context, conn driver.Conn, sql string, res *PanelResult) {
	var lat []time.Duration
	for range e.cfg.PanelRuns {
		t := time.Now()
		n, err := countRows(ctx, conn, sql)
		if err != nil {
			res.Error = err.Error()
			return
		}
		lat = append(lat, time.Since(t))
		res.Rows = n
	}
	res.Runs = len(lat)
	res.Latency = summarise(lat)
}

// firstColumn returns the first column of every row of a query.
func firstColumn(ctx context.Context, conn driver.Conn, sql string) ([]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// login connects as a recipient's ClickHouse user, waiting for ClickHouse
// to re-read users.d (it does every few seconds).
func (e *env) login(ctx context.Context, pw *share.Passwords, audience, db string) (driver.Conn, error) {
	password, err := pw.For(audience)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := chdb.Open(ctx, chdb.Options{Addr: e.srv.Addr(), Database: db, Username: db, Password: password, Logger: e.cfg.Logger})
		if err == nil {
			return conn, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("log in as %s: %w", db, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// countRows runs a query and reads every row, as a panel would.
func countRows(ctx context.Context, conn driver.Conn, sql string) (int, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
