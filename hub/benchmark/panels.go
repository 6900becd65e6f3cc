package benchmark

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/chdb"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/share"
)

// Query is one dashboard panel's query. Audience is the recipient whose
// ClickHouse user runs it ("" for every aggregate recipient of the run); SQL
// names the share database as {db}.
type Query struct {
	Audience string
	Panel    string
	SQL      string
}

// PanelsSource says where PanelQueries comes from, for the report.
const PanelsSource = "a representative set of share-table queries of the kinds a dashboard runs (SPC series by measure " +
	"and force, the summary matrix, a funnel for the latest month, the catalogue); the generated dashboards' own panel list " +
	"plugs in through Config.Panels"

// PanelQueries returns the representative panel queries, run as every
// aggregate recipient.
//
// Once dashboards/ generates the audiences' dashboards, their panel list
// replaces this one through Config.Panels: one Query per panel target, with
// Audience the recipient whose datasource the dashboard uses, Panel the
// panel title, and SQL the target's rawSql with the share database written
// as {db} and the Grafana macros ($__timeFilter, $__fromTime, $__toTime,
// template variables) expanded for the dashboard's default time range.
func PanelQueries() []Query {
	spcMeasure, funnelMeasure := "", ""
	for _, m := range measures.Catalogue() {
		if spcMeasure == "" {
			spcMeasure = m.ID
		}
		if funnelMeasure == "" && m.Funnel {
			funnelMeasure = m.ID
		}
	}
	return []Query{
		{Panel: "spc series (" + spcMeasure + ", every force)", SQL: "SELECT month, force_id, value, spc_mean, spc_lpl, spc_upl, spc_type " +
			"FROM {db}.measures WHERE measure_id = '" + spcMeasure + "' ORDER BY force_id, month"},
		{Panel: "summary matrix", SQL: "SELECT s.measure_id, s.force_id, s.variation, s.assurance, s.last_value, c.title " +
			"FROM {db}.spc_summary AS s ANY LEFT JOIN {db}.catalogue AS c USING measure_id ORDER BY s.measure_id, s.force_id"},
		{Panel: "funnel, latest month (" + funnelMeasure + ")", SQL: "SELECT force_id, value, denominator, target, lower95, upper95, lower998, upper998, position998 " +
			"FROM {db}.funnel WHERE measure_id = '" + funnelMeasure + "' AND month = (SELECT max(month) FROM {db}.funnel) ORDER BY force_id"},
		{Panel: "monthly totals by measure", SQL: "SELECT measure_id, month, sum(numerator), sum(denominator), countIf(suppressed = 1) " +
			"FROM {db}.measures GROUP BY measure_id, month ORDER BY measure_id, month"},
	}
}

// panels runs every panel query PanelRuns times as its audience's user.
func (e *env) panels(ctx context.Context, n *National, passwordsFile string) error {
	n.PanelsSource = PanelsSource
	pw, err := share.LoadPasswords(passwordsFile)
	if err != nil {
		return err
	}
	var audiences []string
	for _, code := range sortedRegionCodes() {
		audiences = append(audiences, strings.ReplaceAll(regionSlugs[code], "-", "_")+"_regional_lead")
	}
	audiences = append(audiences, "btp_national_analysts")
	for _, q := range e.cfg.Panels() {
		who := audiences
		if q.Audience != "" {
			who = []string{q.Audience}
		}
		for _, a := range who {
			n.Panels = append(n.Panels, e.panel(ctx, pw, a, q))
		}
	}
	e.progress("ran %d panel queries %d times each", len(n.Panels), e.cfg.PanelRuns)
	return nil
}

func (e *env) panel(ctx context.Context, pw *share.Passwords, audience string, q Query) PanelResult {
	res := PanelResult{Audience: audience, Panel: q.Panel}
	db := share.Database(share.DefaultPrefix, audience)
	conn, err := e.login(ctx, pw, audience, db)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer func() { _ = conn.Close() }()
	sql := strings.ReplaceAll(q.SQL, "{db}", db)
	var lat []time.Duration
	for range e.cfg.PanelRuns {
		t := time.Now()
		n, err := countRows(ctx, conn, sql)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		lat = append(lat, time.Since(t))
		res.Rows = n
	}
	res.Runs = len(lat)
	res.Latency = summarise(lat)
	return res
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
