package integration_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// sent is an incident the history has submitted, as last sent.
type sent struct {
	token string
	rec   *pathwayv1.IncidentRecord
}

// TestIncrementalPublicationMatchesAFullRebuild is the property test of
// incremental publication: over random histories (new incidents in the
// current month and back-dated, revisions that move an incident to another
// month, district or status, withdrawals, trusts' updates, an agreement
// change, month boundaries), after every step the hub's own publication,
// which publishes only the shares a change may reach, leaves every share
// with the content a full rebuild of every share gives, table for table. It
// also checks that the incremental publication did skip shares, so that
// what is compared is not two full rebuilds.
func TestIncrementalPublicationMatchesAFullRebuild(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			incrementalHistory(t, seed)
		})
	}
}

func incrementalHistory(t *testing.T, seed uint64) {
	ctx := t.Context()
	r := rand.New(rand.NewPCG(seed, 18))
	clk := &clock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	agreements := t.TempDir()
	for _, name := range []string{"london-rcrp.yaml", "btp-national-health.yaml"} {
		raw, err := os.ReadFile(filepath.Join(apptest.ExampleAgreements(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(agreements, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := startSharingHub(t, apptest.WithClock(clk.Now), apptest.WithConfig(func(c *config.Config) {
		c.Agreements = agreements
		c.Shares.Interval, c.Shares.Debounce, c.Shares.MaxDelay = time.Hour, time.Hour, time.Hour
		c.Shares.Months = 12
	}))
	conn, err := chdb.Open(ctx, chdb.Options{Addr: h.info.ClickHouseAddr, Database: h.info.Database,
		Username: h.info.ClickHouseUser, Password: h.info.ClickHousePassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	fullPrefix := "f" + h.info.SharePrefix
	full, err := share.New(share.Options{Conn: conn, Database: h.info.Database, Prefix: fullPrefix, Policy: h.info.Policy,
		Thresholds: measures.DefaultThresholds(), Months: 12, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apptest.DropDatabases(t, h.info.ClickHouseAddr, fullPrefix) })

	var history []sent
	tokens := map[string]string{"metropolitan": metToken, "btp": btpToken, "city-of-london": cityToken}
	forces := []string{"metropolitan", "btp", "city-of-london"}
	lads := []string{camden, hackney, "E09000033"}
	// day is a random day in the twelve published months and the current
	// one, or the current month only.
	day := func(current bool) time.Time {
		now := clk.Now()
		if current {
			return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(now.Day()-1))
		}
		return now.AddDate(0, 0, -r.IntN(400)-1)
	}
	newIncidents := func(current bool) string {
		f := forces[r.IntN(len(forces))]
		n := 1 + r.IntN(12)
		recs := detentions(t, n, lads[r.IntN(len(lads))], day(current))
		h.mustSubmitAll(t, tokens[f], recs...)
		for _, rec := range recs {
			history = append(history, sent{tokens[f], rec})
		}
		return fmt.Sprintf("%d new incidents of %s (current month only: %v)", n, f, current)
	}
	revise := func() string {
		if len(history) == 0 {
			return newIncidents(false)
		}
		i := r.IntN(len(history))
		old := history[i]
		next := detentions(t, 1, lads[r.IntN(len(lads))], day(r.IntN(2) == 0))[0]
		next.IncidentRef, next.SubjectToken, next.Revision = old.rec.GetIncidentRef(), old.rec.GetSubjectToken(), old.rec.GetRevision()+1
		what := "moved"
		if r.IntN(4) == 0 {
			next.Status, what = pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN, "withdrawn"
		}
		h.mustSubmitAll(t, old.token, next)
		history[i] = sent{old.token, next}
		return "incident " + what + " by a new revision"
	}
	healthUpdate := func() string {
		var met []sent
		for _, s := range history {
			if s.token == metToken && s.rec.GetStatus() != pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN {
				met = append(met, s)
			}
		}
		if len(met) == 0 {
			return newIncidents(false)
		}
		s := met[r.IntN(len(met))]
		arrived := s.rec.GetTimeline().GetArrivedAtPos().AsTime()
		up := &pathwayv1.HealthUpdate{
			SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: s.rec.GetIncidentRef(), Revision: uint32(1 + r.IntN(1000)),
			PosOdsSite: "RAL01", HandoverAccepted: timestamppb.New(arrived.Add(time.Duration(5+r.IntN(200)) * time.Minute)),
		}
		req := connect.NewRequest(&pathwayv1.SubmitHealthUpdatesRequest{Updates: []*pathwayv1.HealthUpdate{up}})
		req.Header().Set("Authorization", "Bearer "+ralToken)
		resp, err := h.client().SubmitHealthUpdates(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if st := resp.Msg.GetResults()[0].GetStatus(); st == pathwayv1.RecordStatus_RECORD_STATUS_REJECTED {
			t.Fatalf("health update rejected: %v", resp.Msg.GetResults()[0].GetErrors())
		}
		return "a trust's handover time for a Met incident"
	}
	threshold := 10
	agreementChange := func() string {
		path := filepath.Join(agreements, "london-rcrp.yaml")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		next := threshold + 1
		changed := strings.Replace(string(raw), fmt.Sprintf("threshold: %d", threshold), fmt.Sprintf("threshold: %d", next), 1)
		if changed == string(raw) {
			t.Fatal("agreement change: no threshold to change")
		}
		threshold = next
		if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := h.info.Policy.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("NEL ICB's disclosure threshold now %d", next)
	}
	nextMonth := func() string {
		now := clk.Now()
		clk.set(time.Date(now.Year(), now.Month()+1, 3+r.IntN(20), 12, 0, 0, 0, time.UTC))
		return "the clock moved into " + clk.Now().Format("January 2006")
	}
	steps := []func() string{
		func() string { return newIncidents(false) }, func() string { return newIncidents(true) },
		func() string { return newIncidents(true) }, revise, revise, healthUpdate, agreementChange, nextMonth,
	}

	skipped := 0
	say := newIncidents(false) + "; " + newIncidents(false)
	for step := range 14 {
		rep, err := h.info.Publish(ctx)
		if err != nil {
			t.Fatalf("step %d (%s): incremental publication: %v", step, say, err)
		}
		if _, err := full.PublishFull(ctx); err != nil {
			t.Fatalf("step %d (%s): full rebuild: %v", step, say, err)
		}
		skipped += len(rep.Skipped)
		// The aggregate shares must match at once. The record shares are
		// the supervisors' fast path's to bring up to date (the
		// publication leaves them to it): they must match within a bound.
		when := fmt.Sprintf("step %d (%s)", step, say)
		deadline := time.Now().Add(30 * time.Second)
		for {
			diffs := compareShares(t, conn, h.info.SharePrefix, fullPrefix)
			recordOnly := len(diffs) > 0
			for _, d := range diffs {
				recordOnly = recordOnly && strings.Contains(d, "_supervisors.")
			}
			if len(diffs) == 0 || !recordOnly || time.Now().After(deadline) {
				for _, d := range diffs {
					t.Errorf("%s: %s", when, d)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		say = steps[r.IntN(len(steps))]()
	}
	if skipped == 0 {
		t.Errorf("the incremental publication never skipped a share: the test compared full rebuilds")
	}
}

// mustSubmitAll submits records as token and fails unless every one was
// stored.
func (h *hub) mustSubmitAll(t *testing.T, token string, recs ...*pathwayv1.IncidentRecord) {
	t.Helper()
	resp := h.mustSubmit(t, token, recs...)
	for _, res := range resp.GetResults() {
		if s := res.GetStatus(); s != pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED && s != pathwayv1.RecordStatus_RECORD_STATUS_UPDATED {
			t.Fatalf("record %d: %s %v", res.GetIndex(), s, res.GetErrors())
		}
	}
}

// compareShares compares, for every share database under prefix a, each
// data table with the same table under prefix b: every row, in order of all
// columns, and returns the differences. The live table (the monitor's state,
// which only the hub has) and the publication table (its ids and times) are
// left out.
func compareShares(t *testing.T, conn driver.Conn, a, b string) []string {
	t.Helper()
	ctx := context.Background()
	dbs := func(prefix string) []string {
		var out []string
		rows, err := conn.Query(ctx, "SELECT name FROM system.databases WHERE startsWith(name, ?) ORDER BY name", prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.TrimPrefix(n, prefix))
		}
		return out
	}
	inc, fl := dbs(a), dbs(b)
	if !slices.Equal(inc, fl) {
		return []string{fmt.Sprintf("shares %v incrementally, %v in the full rebuild", inc, fl)}
	}
	var diffs []string
	for _, r := range inc {
		rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ? AND name NOT IN ('live', 'publication') AND NOT endsWith(name, '_next') AND NOT endsWith(name, '_old') AND NOT endsWith(name, '_stage') ORDER BY name", a+r)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, n)
		}
		rows.Close()
		for _, tbl := range tables {
			ra, rb := tableText(t, conn, a+r+"."+tbl), tableText(t, conn, b+r+"."+tbl)
			if !slices.Equal(ra, rb) {
				diffs = append(diffs, fmt.Sprintf("%s.%s differs: %d rows incrementally, %d in the full rebuild; first difference: %s",
					r, tbl, len(ra), len(rb), firstDifference(ra, rb)))
			}
		}
	}
	return diffs
}

// tableText reads every row of a table as text, sorted. The supervisors'
// fast path may be swapping a record share's table in as it reads (a swap is
// two renames on 18.16): a table missing for a moment is read again.
func tableText(t *testing.T, conn driver.Conn, table string) []string {
	t.Helper()
	var rows driver.Rows
	var err error
	for range 50 {
		if rows, err = conn.Query(context.Background(), "SELECT * FROM "+table); err == nil || !strings.Contains(err.Error(), "code: 60") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	defer rows.Close()
	var out []string
	types := rows.ColumnTypes()
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = reflectNew(ct.ScanType())
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out = append(out, fmt.Sprint(derefAll(vals)...))
	}
	slices.Sort(out)
	return out
}

func firstDifference(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + " | " + b[i]
		}
	}
	return "one has more rows"
}

// reflectNew returns a pointer to a new value of type t, to scan into.
func reflectNew(t reflect.Type) any { return reflect.New(t).Interface() }

// derefAll returns the values the pointers point at, for printing.
func derefAll(ptrs []any) []any {
	out := make([]any, len(ptrs))
	for i, p := range ptrs {
		v := reflect.ValueOf(p).Elem()
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		out[i] = v.Interface()
	}
	return out
}
