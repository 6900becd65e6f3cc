package dashboards_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/dashboards/panelsql"
	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/disclosure"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

var srv *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &srv)) }

// historyMonths is how many months of simulated history the hub receives:
// enough for SPC points, funnels and every measure to have rows.
const historyMonths = 4

// demoHub is a hub filled with simulated data and published, with the
// dashboards generated for its share prefix and passwords.
type demoHub struct {
	info      app.Info
	audiences map[string]dashboards.Audience // by datasource uid
	passwords map[string]string
	files     []dashboards.File
}

// startDemoHub runs a hub on the test ClickHouse, submits simulated history
// for the three forces through the API (and the trusts' health updates), a
// few open incidents for the live view, and rejected records for feed
// health; publishes every share; and writes the recipients' users into the
// server's users.d so their logins work.
func startDemoHub(t *testing.T) *demoHub {
	t.Helper()
	ctx := t.Context()
	keyFile := filepath.Join(t.TempDir(), "region.key")
	if err := pseudo.WriteNewKey(keyFile); err != nil {
		t.Fatal(err)
	}
	key, err := pseudo.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	creds := &auth.Credentials{}
	tokens := map[string]string{}
	histories := map[string]simulate.Records{}
	for _, force := range simulate.Forces() {
		recs, err := simulate.History(simulate.Options{Force: force, Months: historyMonths, End: end, Seed: 7, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		histories[force] = recs
		tokens["force/"+force] = "token-" + force
		creds.Add("token-"+force, auth.Org{Kind: auth.KindForce, ID: force})
		for _, u := range recs.HealthUpdates {
			if _, ok := tokens["trust/"+u.TrustID]; !ok {
				tokens["trust/"+u.TrustID] = "token-trust-" + u.TrustID
				creds.Add("token-trust-"+u.TrustID, auth.Org{Kind: auth.KindTrust, ID: u.TrustID})
			}
		}
	}
	// Two forces of other regions, for the national leads' comparison of
	// regions: the Metropolitan Police's simulated history under other
	// seeds, relabelled (force, region, district; no health updates).
	for _, other := range []struct{ force, region, lad string }{
		{"west-midlands", "E12000005", "E08000025"}, {"greater-manchester", "E12000002", "E08000003"},
	} {
		recs, err := simulate.History(simulate.Options{Force: "metropolitan", Months: historyMonths, End: end, Seed: 11 + uint64(len(other.force)), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Incidents {
			r.ForceId, r.RegionCode, r.LadCode = other.force, other.region, other.lad
		}
		histories[other.force] = simulate.Records{Incidents: recs.Incidents}
		tokens["force/"+other.force] = "token-" + other.force
		creds.Add("token-"+other.force, auth.Org{Kind: auth.KindForce, ID: other.force})
	}
	var usersFile, raw string
	// Registered before the hub starts, so it runs after the hub stops.
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		if c, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr()}); err == nil {
			_ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+raw)
			_ = c.Close()
		}
	})
	info := apptest.Start(t, srv.Addr(), creds, apptest.WithConfig(func(c *config.Config) {
		usersFile = filepath.Join(srv.UsersDir(), c.Shares.Prefix+"users.xml")
		c.Shares.UsersFile = usersFile
		c.Agreements = apptest.AllExampleAgreements(t)
		c.MonitorInterval = 200 * time.Millisecond
		raw = c.ClickHouse.Database
	}))
	t.Cleanup(func() { _ = os.Remove(usersFile) })
	admin, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Database: info.Database})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })

	for _, force := range slices.Sorted(maps.Keys(histories)) {
		h := histories[force]
		open := openIncidents(t, key, force, h.Incidents, now)
		sum, err := client.New(client.Options{URL: info.URL, Token: tokens["force/"+force]}).
			SubmitIncidents(ctx, append(slices.Clone(h.Incidents), open...))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rejected() > 0 {
			t.Fatalf("%s: %d simulated records rejected: %v", force, sum.Rejected(), sum.Reasons())
		}
		byTrust := map[string][]*pathwayv1.HealthUpdate{}
		for _, u := range h.HealthUpdates {
			byTrust[u.TrustID] = append(byTrust[u.TrustID], u.Update)
		}
		for trust, ups := range byTrust {
			if _, err := client.New(client.Options{URL: info.URL, Token: tokens["trust/"+trust]}).SubmitHealthUpdates(ctx, ups); err != nil {
				t.Fatal(err)
			}
		}
	}
	addFeedLog(t, admin, info.Database, end)
	waitForLive(t, admin, info.Database)
	if _, err := info.Publish(ctx); err != nil {
		t.Fatalf("publish: %v", err)
	}

	passwords := map[string]string{}
	pwFile, err := os.ReadFile(info.PasswordsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(pwFile, &passwords); err != nil {
		t.Fatal(err)
	}
	agreements, err := policy.LoadAgreements(apptest.AllExampleAgreements(t), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Prefix: info.SharePrefix, Passwords: passwords})
	if err != nil {
		t.Fatal(err)
	}
	audiences, err := dashboards.Audiences(agreements, info.SharePrefix)
	if err != nil {
		t.Fatal(err)
	}
	d := &demoHub{info: info, audiences: map[string]dashboards.Audience{}, passwords: passwords, files: files}
	for _, a := range audiences {
		d.audiences[a.DatasourceUID()] = a
	}
	return d
}

// openIncidents turns a few of the force's s136 detentions into open ones
// that arrived at the place of safety recently: one near the end of the
// 24-hour clock with its handover long overdue, one approaching the
// handover target, one just arrived.
func openIncidents(t *testing.T, key pseudo.Key, force string, history []*pathwayv1.IncidentRecord, now time.Time) []*pathwayv1.IncidentRecord {
	t.Helper()
	ages := []time.Duration{23*time.Hour + 30*time.Minute, 50 * time.Minute, 10 * time.Minute}
	var out []*pathwayv1.IncidentRecord
	for _, r := range history {
		if len(out) == len(ages) {
			break
		}
		if r.GetIncidentType() != pathwayv1.IncidentType_INCIDENT_TYPE_S136 || r.GetTimeline().GetArrivedAtPos() == nil ||
			r.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION {
			continue
		}
		o := proto.Clone(r).(*pathwayv1.IncidentRecord)
		ref, err := key.IncidentRef(fmt.Sprintf("open-%s-%d", force, len(out)))
		if err != nil {
			t.Fatal(err)
		}
		o.IncidentRef, o.Revision, o.Status = ref, 1, pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN
		o.Outcome, o.Transfers, o.PresenceLog, o.Extension = pathwayv1.Outcome_OUTCOME_UNSPECIFIED, nil, nil, nil
		arrived := now.Add(-ages[len(out)]).Truncate(time.Second)
		at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(arrived.Add(d)) }
		tl := o.GetTimeline()
		o.Timeline = &pathwayv1.Timeline{
			CallReceived: at(-time.Hour), Deployed: at(-50 * time.Minute), Detained: at(-40 * time.Minute), ArrivedAtPos: at(0),
		}
		if tl.GetHcpConsulted() != nil {
			o.Timeline.HcpConsulted = at(-45 * time.Minute)
		}
		if tl.GetAmbulanceRequested() != nil {
			o.Timeline.AmbulanceRequested, o.Timeline.AmbulanceArrived = at(-39*time.Minute), at(-10*time.Minute)
		}
		out = append(out, o)
	}
	if len(out) < len(ages) {
		t.Fatalf("%s: too few detentions to open", force)
	}
	return out
}

// addFeedLog writes what ingest logs of submissions into the past months,
// since the test submits everything now and only complete months are
// published: for each force, ten submissions a month that stored records
// (so the monthly median lag survives disclosure control), and in the last
// month one more that was partly rejected, with the rules its records
// broke.
func addFeedLog(t *testing.T, conn driver.Conn, db string, end time.Time) {
	t.Helper()
	ctx := t.Context()
	subs, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".submissions (submission_id, org_kind, org_id, dataset, received_at, dry_run, records, accepted, updated, unchanged, stale, rejected, lag_p50_seconds, lag_max_seconds)")
	if err != nil {
		t.Fatal(err)
	}
	rej, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".rejections (submission_id, org_id, dataset, received_at, record_index, field, code)")
	if err != nil {
		t.Fatal(err)
	}
	for _, force := range simulate.Forces() {
		for m := 1; m <= historyMonths; m++ {
			for i := range 10 {
				at := end.AddDate(0, -m, 1+2*i)
				id := fmt.Sprintf("%s-%d-%d", force, m, i)
				if err := subs.Append(id, "force", force, "incidents", at, uint8(0), uint32(50), uint32(50), uint32(0), uint32(0), uint32(0), uint32(0), int64(300+60*i), int64(3600)); err != nil {
					t.Fatal(err)
				}
			}
		}
		id := force + "-rejected"
		at := end.AddDate(0, -1, 25)
		if err := subs.Append(id, "force", force, "incidents", at, uint8(0), uint32(40), uint32(10), uint32(0), uint32(0), uint32(0), uint32(30), int64(600), int64(900)); err != nil {
			t.Fatal(err)
		}
		// 20 of one rule, 10 of another, and 3 of a third: too few to publish.
		for i := range 33 {
			field, code := "age_band", "police_station_under_18"
			switch {
			case i >= 30:
				field, code = "sex", "enum_unknown"
			case i%3 == 0:
				field, code = "timeline.arrived_at_pos", "timestamp_order"
			}
			if err := rej.Append(id, force, "incidents", at, uint32(i), field, code); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := subs.Send(); err != nil {
		t.Fatal(err)
	}
	if err := rej.Send(); err != nil {
		t.Fatal(err)
	}
}

// waitForLive waits until the live monitor has seen the open incidents, by
// polling the raw incidents it reads and then giving it a few refreshes.
func waitForLive(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n uint64
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+db+".incidents FINAL WHERE status = 'open'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= uint64(3*len(simulate.Forces())) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d open incidents stored", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
}

// TestEveryPanelQueryRunsAsItsAudience runs every ClickHouse query of every
// generated dashboard against a hub filled with simulated data, logged in as
// the audience's own read-only ClickHouse user, after expanding template
// variables and the plugin's macros as the plugin does. Each must succeed,
// return the columns its panel type reads, and return rows.
func TestEveryPanelQueryRunsAsItsAudience(t *testing.T) {
	t.Parallel()
	h := startDemoHub(t)
	now := time.Now().UTC().Truncate(time.Second)
	conns := map[string]driver.Conn{}
	ran := 0
	for _, f := range h.files {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		b, err := panelsql.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Targets) == 0 {
			continue // the hub operations dashboard, on Prometheus
		}
		a, ok := h.audiences[b.Targets[0].DatasourceUID]
		if !ok {
			t.Fatalf("%s: datasource %s belongs to no audience", b.Path, b.Targets[0].DatasourceUID)
		}
		conn := conns[a.ID]
		if conn == nil {
			conn = login(t, a, h.passwords[a.ID])
			conns[a.ID] = conn
		}
		from, err := panelsql.Relative(b.From, now)
		if err != nil {
			t.Fatal(err)
		}
		rng := panelsql.TimeRange{From: from, To: now}
		values := map[string][]string{}
		for _, v := range b.Variables {
			if v.DatasourceUID != a.DatasourceUID() {
				t.Errorf("%s: variable %s uses datasource %s, not the audience's", b.Path, v.Name, v.DatasourceUID)
			}
			values[v.Name] = variableValues(t, conn, b.Path, v)
		}
		for _, tg := range b.Targets {
			if tg.DatasourceUID != a.DatasourceUID() {
				t.Errorf("%s %q: datasource %s is not the audience's %s", b.Path, tg.Panel, tg.DatasourceUID, a.DatasourceUID())
			}
			// Every scenario must run and have the columns the panel reads.
			// Rows: the panel as first shown (All forces) must have some;
			// a panel repeated per force must have some for at least one
			// force (a force may rightly have none, e.g. a rate per
			// resident for British Transport Police).
			total := 0
			for _, sc := range panelsql.Scenarios(b.Variables, values, tg.Repeat) {
				sql, err := panelsql.Expand(tg.SQL, sc, rng)
				if err != nil {
					t.Fatalf("%s %q %s: %v", tg.Dashboard, tg.Panel, tg.RefID, err)
				}
				ran++
				n := checkResult(t, conn, tg, sc.Name, sql)
				total += n
				if sc.Name == panelsql.FirstShown && n == 0 && !emptyByDesign(tg) && !tooFewForAFunnel(t, conn, a, tg) {
					t.Errorf("%s %q %s: no rows from the demo data\n%s", tg.Dashboard, tg.Panel, tg.RefID, sql)
				}
			}
			if total == 0 && !emptyByDesign(tg) && !tooFewForAFunnel(t, conn, a, tg) {
				t.Errorf("%s %q %s: no rows for any force from the demo data", tg.Dashboard, tg.Panel, tg.RefID)
			}
		}
	}
	if ran < 100 {
		t.Fatalf("only %d queries ran", ran)
	}
	checkRejectionsDisclosed(t, conns["london_regional_lead"], h.audiences)
	t.Logf("%d panel queries ran as their audiences' users", ran)
}

// checkRejectionsDisclosed checks the regional lead's feed_rejections
// table: the counts of 20 and 10 each force's rejected submission broke are
// published as they are (multiples of the rounding base, above the
// threshold), and the count of 3 is suppressed.
func checkRejectionsDisclosed(t *testing.T, conn driver.Conn, audiences map[string]dashboards.Audience) {
	t.Helper()
	var db string
	for _, a := range audiences {
		if a.ID == "london_regional_lead" {
			db = a.Database
		}
	}
	rows, err := conn.Query(t.Context(), "SELECT force_id, code, rejections, suppressed FROM "+db+".feed_rejections ORDER BY force_id, code")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var force, code string
		var n *float64
		var suppressed uint8
		if err := rows.Scan(&force, &code, &n, &suppressed); err != nil {
			t.Fatal(err)
		}
		v := "suppressed"
		if n != nil {
			v = strconv.FormatFloat(*n, 'f', -1, 64)
		}
		if (n == nil) != (suppressed == 1) {
			t.Errorf("%s %s: rejections %v with suppressed = %d", force, code, n, suppressed)
		}
		got[force+" "+code] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, force := range simulate.Forces() {
		for code, want := range map[string]string{"police_station_under_18": "20", "timestamp_order": "10", "enum_unknown": "suppressed"} {
			if got[force+" "+code] != want {
				t.Errorf("feed_rejections %s %s = %q, want %s (all: %v)", force, code, got[force+" "+code], want, got)
			}
		}
	}
}

// login connects as the audience's ClickHouse user, waiting for ClickHouse
// to load the users.d file the hub wrote.
func login(t *testing.T, a dashboards.Audience, password string) driver.Conn {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := chdb.Open(t.Context(), chdb.Options{Addr: srv.Addr(), Username: a.Database, Password: password, Database: a.Database})
		if err == nil {
			t.Cleanup(func() { _ = c.Close() })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s cannot log in: %v", a.ID, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// variableValues runs a variable's query as the audience and returns its
// options; the variable's current value must be one of them (or All).
func variableValues(t *testing.T, conn driver.Conn, path string, v panelsql.Variable) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), v.Query)
	if err != nil {
		t.Fatalf("%s: variable %s: %v\n%s", path, v.Name, err, v.Query)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("%s: variable %s: %v", path, v.Name, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("%s: variable %s has no options", path, v.Name)
	}
	if v.Current != "" && v.Current != "$__all" && !slices.Contains(out, v.Current) {
		t.Errorf("%s: variable %s defaults to %q, not an option (%v)", path, v.Name, v.Current, out)
	}
	return out
}

// checkResult runs sql, checks what the panel type needs of it, and
// returns its row count.
func checkResult(t *testing.T, conn driver.Conn, tg panelsql.Target, scenario, sql string) int {
	t.Helper()
	where := fmt.Sprintf("%s %q %s (%s)", tg.Dashboard, tg.Panel, tg.RefID, scenario)
	rows, err := conn.Query(t.Context(), sql)
	if err != nil {
		t.Errorf("%s: %v\n%s", where, err, sql)
		return 0
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	names := rows.Columns()
	numeric := 0
	for _, ct := range types {
		if isNumeric(ct.DatabaseTypeName()) {
			numeric++
		}
	}
	switch tg.PanelType {
	case "timeseries":
		if len(names) == 0 || names[0] != "time" || !strings.Contains(types[0].DatabaseTypeName(), "DateTime") {
			t.Errorf("%s: a time series needs a DateTime column named time first, got %v", where, names)
		}
		if numeric == 0 {
			t.Errorf("%s: no numeric column for a time series: %v", where, names)
		}
	case "stat":
		if numeric == 0 {
			t.Errorf("%s: no numeric column for a stat: %v", where, names)
		}
	case "xychart":
		if numeric < 2 {
			t.Errorf("%s: an xy chart needs an x and a y number: %v", where, names)
		}
	case "table":
		if len(names) == 0 {
			t.Errorf("%s: no columns", where)
		}
	default:
		t.Errorf("%s: unexpected panel type %s", where, tg.PanelType)
	}
	n := 0
	dest := make([]any, len(types))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			t.Errorf("%s: %v", where, err)
			return n
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Errorf("%s: %v", where, err)
	}
	return n
}

// emptyByDesign are the panels the demo data rightly leaves empty.
func emptyByDesign(tg panelsql.Target) bool {
	switch {
	case strings.HasPrefix(tg.Panel, "Police station used for under-18s"):
		// Zero by law: ingest refuses such records, and a count measure has
		// no row for a month with none.
		return true
	case strings.Contains(tg.Dashboard, "btp_national_analysts") &&
		(strings.HasPrefix(tg.Panel, "Section 136 detention rate") || strings.HasPrefix(tg.Panel, "Black:White")):
		// The share's only force is British Transport Police, which has no
		// resident population (by ethnic group or at all).
		return true
	case strings.Contains(tg.Dashboard, "_icb/comparison") && tg.Panel == "Repeat detention" && tg.RefID == "A":
		// A month's repeat detentions within a few boroughs are too few to
		// publish for any force, so every point is suppressed; the funnel
		// itself (B) is still drawn.
		return true
	}
	return false
}

// funnelMeasure finds the measure a funnel panel's query reads.
var funnelMeasure = regexp.MustCompile(`\.funnel\s+WHERE measure_id = '([a-z0-9_]+)'`)

// tooFewForAFunnel reports whether tg is a funnel plot whose share never
// had disclosure.MinFunnelUnits units published in one month, so that the
// publisher rightly drew no plot (the ICBs' districts see two forces).
func tooFewForAFunnel(t *testing.T, conn driver.Conn, a dashboards.Audience, tg panelsql.Target) bool {
	t.Helper()
	m := funnelMeasure.FindStringSubmatch(tg.SQL)
	if tg.PanelType != "xychart" || m == nil {
		return false
	}
	var most uint64
	q := "SELECT max(c) FROM (SELECT month, countIf(suppressed = 0 AND isNotNull(value)) AS c FROM " + a.Database +
		".funnel WHERE measure_id = '" + m[1] + "' GROUP BY month)"
	if err := conn.QueryRow(t.Context(), q).Scan(&most); err != nil {
		t.Fatal(err)
	}
	var drawn uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+a.Database+".funnel WHERE measure_id = '"+m[1]+"' AND isNotNull(target)").Scan(&drawn); err != nil {
		t.Fatal(err)
	}
	if most >= disclosure.MinFunnelUnits || drawn > 0 {
		return false
	}
	return true
}

func isNumeric(typ string) bool {
	typ = strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")")
	return strings.HasPrefix(typ, "Float") || strings.HasPrefix(typ, "Int") || strings.HasPrefix(typ, "UInt") || strings.HasPrefix(typ, "Decimal")
}
