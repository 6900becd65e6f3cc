package measures_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

var srv *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &srv)) }

// row is one output row of a measure query.
type row struct {
	Force string
	Month string // yyyy-mm-dd
	Num   float64
	Den   float64
}

func (r row) String() string { return fmt.Sprintf("%s %s %g/%g", r.Force, r.Month, r.Num, r.Den) }

const (
	jan = "2025-01-01"
	feb = "2025-02-01"
	// The populations of population.go.
	metPop   = 8_791_200.0
	cityPop  = 8_600.0
	blackPop = 1_188_400.0
	whitePop = 4_731_200.0
)

// query runs measure id's SQL and returns its rows.
func query(ctx context.Context, t *testing.T, conn driver.Conn, db, snapshot, id string, th measures.Thresholds, scope measures.Scope, from, to time.Time) []row {
	t.Helper()
	m, ok := measures.ByID(id)
	if !ok {
		t.Fatalf("no measure %q", id)
	}
	q, err := m.QueryFrom(db, snapshot, th, scope, from, to)
	if err != nil {
		t.Fatalf("%s: query: %v", id, err)
	}
	return runRows(ctx, t, conn, q)
}

// runRows runs a measure's SQL and returns its rows.
func runRows(ctx context.Context, t *testing.T, conn driver.Conn, q string) []row {
	t.Helper()
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, q)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var month time.Time
		if err := rows.Scan(&r.Force, &month, &r.Num, &r.Den); err != nil {
			t.Fatalf("scan: %v", err)
		}
		r.Month = month.Format(time.DateOnly)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	return out
}

// equalRows compares rows with a relative tolerance for the floats.
func equalRows(got, want []row) bool {
	return slices.EqualFunc(got, want, func(a, b row) bool {
		return a.Force == b.Force && a.Month == b.Month && near(a.Num, b.Num) && near(a.Den, b.Den)
	})
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// measureCase is one query of one measure over the fixture with the rows
// it must give, worked out by hand from the fixture comment.
type measureCase struct {
	name  string
	id    string
	th    func(*measures.Thresholds)
	scope measures.Scope
	from  string
	to    string
	want  []row
}

// measureCases covers every measure of the catalogue over January and
// February 2025 with the default thresholds.
func measureCases() []measureCase {
	return []measureCase{
		{id: "s136_detentions", want: []row{
			{"btp", jan, 1, 1},            // B1
			{"city-of-london", feb, 1, 1}, // C1
			{"metropolitan", jan, 4, 4},   // M1 M2 M3 M5 (M4 withdrawn, M6 is s135)
			{"metropolitan", feb, 3, 3},   // M7 M9 M11
		}},
		{id: "detention_rate", want: []row{ // btp has no population and no rows
			{"city-of-london", feb, 1, cityPop},
			{"metropolitan", jan, 4, metPop},
			{"metropolitan", feb, 3, metPop},
		}},
		{id: "hcp_consultation", want: []row{
			{"btp", jan, 1, 1},
			{"city-of-london", feb, 1, 1},
			{"metropolitan", jan, 2, 3}, // yes: M1, M5 (rev 2); known: + M2 no_not_practicable; M3 not_known out
			{"metropolitan", feb, 2, 3}, // yes: M7, M9; M11 no_other
		}},
		{id: "ambulance_conveyance", want: []row{
			{"btp", jan, 0, 1}, // police vehicle
			{"city-of-london", feb, 1, 1},
			{"metropolitan", jan, 2, 3}, // M1, M5 (rev 2) ambulance; M2 police vehicle; M3 none out
			{"metropolitan", feb, 2, 2}, // M7, M11; M9 not_known out
		}},
		{id: "ed_first_pos", want: []row{
			{"btp", jan, 1, 1},
			{"city-of-london", feb, 0, 1},
			{"metropolitan", jan, 1, 3}, // M2 ED; M1, M5 hbpos; M3 not_known out
			{"metropolitan", feb, 0, 3},
		}},
		{id: "police_station_use", want: []row{
			{"metropolitan", jan, 1, 1}, // M6, s135(1) at a police station
			{"metropolitan", feb, 1, 1}, // M7, transferred to a police station
		}},
		{id: "police_station_under18", want: []row{
			{"metropolitan", feb, 1, 1}, // M7 is under 18
		}},
		{id: "officer_time_at_pos", want: []row{
			{"btp", jan, 150, 1},
			{"city-of-london", feb, 30, 1},
			{"metropolitan", jan, 72.5, 4}, // [30 M5, 45 M1, 100 M3, 200 M2] → (45+100)/2
			{"metropolitan", feb, 60, 3},   // [45 M9, 60 M7, 75 M11]
		}},
		{id: "officer_time_at_pos_p90", want: []row{
			{"btp", jan, 150, 1},
			{"city-of-london", feb, 30, 1},
			{"metropolitan", jan, 200, 4}, // rank ⌈0.9×4⌉ = 4 of [30 45 100 200]
			{"metropolitan", feb, 75, 3},  // rank ⌈0.9×3⌉ = 3 of [45 60 75]
		}},
		{id: "handover_within_target", want: []row{
			{"btp", jan, 1, 1},            // 60 ≤ 60
			{"city-of-london", feb, 1, 1}, // 30
			{"metropolitan", jan, 3, 4},   // M1 40, M3 60 (force's, not the trust's 65), M5 20; M2 70 (trust rev 2)
			{"metropolitan", feb, 2, 3},   // M7 40, M9 40; M11 61
		}},
		{name: "handover_within_target 65 min", id: "handover_within_target",
			th: func(th *measures.Thresholds) { th.HandoverTarget = 65 * time.Minute }, want: []row{
				{"btp", jan, 1, 1},
				{"city-of-london", feb, 1, 1},
				{"metropolitan", jan, 3, 4}, // M2's 70 still over
				{"metropolitan", feb, 3, 3}, // M11's 61 now within
			}},
		{id: "ambulance_wait", want: []row{ // btp: no ambulance
			{"city-of-london", feb, 10, 1},
			{"metropolitan", jan, 31.5, 2}, // [23 M1, 40 M5]; M2's never arrived
			{"metropolitan", feb, 26.5, 2}, // [23 M7, 30 M11]
		}},
		{id: "ambulance_within_30", want: []row{
			{"city-of-london", feb, 1, 1},
			{"metropolitan", jan, 1, 2}, // 23 yes, 40 no
			{"metropolitan", feb, 2, 2}, // 23, 30 (inclusive)
		}},
		{id: "time_to_assessment", want: []row{
			{"btp", jan, 120, 1},
			{"city-of-london", feb, 100, 1},
			{"metropolitan", jan, 120, 3}, // [80 M3 force's, 120 M1, 300 M2 trust rev 2]; M5 none
			{"metropolitan", feb, 120, 3}, // [120 M7, 120 M11, 200 M9]
		}},
		{id: "detention_breaches", want: []row{
			{"metropolitan", jan, 1, 1}, // M2: 25 h > 24 h; M3: 30 h ≤ 24 + 12
		}},
		{name: "detention_breaches 17 h clock", id: "detention_breaches",
			th: func(th *measures.Thresholds) {
				th.DetentionClock = 17 * time.Hour
				th.DetentionWarnings = []time.Duration{time.Hour}
			}, want: []row{
				{"metropolitan", jan, 2, 2}, // M2 25 h > 17 h; M3 30 h > 17 + 12 h
			}},
		{id: "repeat_detention", want: []row{
			{"btp", jan, 0, 1},            // s8's earlier M4 is withdrawn
			{"city-of-london", feb, 1, 1}, // s4: M5 at the Met on 31 Jan
			{"metropolitan", jan, 1, 3},   // s1 (M3 after M1); s2, s4 first time
			{"metropolitan", feb, 2, 3},   // s2 (M2, 31 days), s6 (M8, 264 days); s7's M10 was 397 days before
		}},
		{id: "rcrp_deployments_avoided", want: []row{
			{"btp", jan, 1, 1},          // R5
			{"metropolitan", jan, 1, 1}, // R1 (R2 deployed, R4 withdrawn)
			{"metropolitan", feb, 1, 1}, // R3
		}},
		{id: "officer_hours_released", want: []row{ // 1 avoided × 2.5 h
			{"btp", jan, 2.5, 2.5},
			{"metropolitan", jan, 2.5, 2.5},
			{"metropolitan", feb, 2.5, 2.5},
		}},
		{name: "officer_hours_released 1.75 h", id: "officer_hours_released",
			th: func(th *measures.Thresholds) { th.BaselineOfficerHours = 1.75 }, want: []row{
				{"btp", jan, 1.75, 1.75},
				{"metropolitan", jan, 1.75, 1.75},
				{"metropolitan", feb, 1.75, 1.75},
			}},
		{id: "ethnic_disparity", want: []row{ // metropolitan only
			{"metropolitan", jan, 2, 1 * blackPop / whitePop}, // black M1 M5 observed; white M2 → expected
			{"metropolitan", feb, 0, 2 * blackPop / whitePop}, // white M9 M11; asian M7
		}},
		{id: "feed_timeliness", want: []row{ // dry run, stored-nothing and trust submissions out
			{"btp", jan, 4, 1},
			{"city-of-london", jan, 0.5, 1},
			{"metropolitan", jan, 3, 3},   // [1 3 10] minutes
			{"metropolitan", feb, 3.5, 2}, // [2 5]
		}},
		{id: "feed_completeness", want: []row{
			{"btp", jan, 10, 11},          // B1 7/8 (police-vehicle reason not known), R5 3/3
			{"city-of-london", feb, 7, 7}, // C1
			// M1 7/7, M2 8/8, M3 1/7, M6 7/7, R1 3/3 (Z is an answer), R2 2/3; M5 and R3 open, M4 and R4 withdrawn
			{"metropolitan", jan, 28, 35},
			{"metropolitan", feb, 20, 21}, // M7 7/7, M9 6/7 (conveyance), M11 7/7
		}},
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewDatabase(t, srv)
	loadFixture(t, conn, db, buildFixture(t))
	// A snapshot of everything, and one for windows from January 2025 on,
	// which is every case's window.
	snapshots := []string{db + "_snapshot", db + "_snapshot_2025"}
	takeSnapshot(t, conn, db, snapshots[0], time.Time{})
	takeSnapshot(t, conn, db, snapshots[1], ts(t, jan+"T00:00:00Z"))

	cases := measureCases()
	cases = append(cases, scopeCases()...)
	for _, tc := range cases {
		name := tc.name
		if name == "" {
			name = tc.id
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			th := measures.DefaultThresholds()
			if tc.th != nil {
				tc.th(&th)
			}
			from, to := ts(t, "2025-01-01T00:00:00Z"), ts(t, "2025-03-01T00:00:00Z")
			if tc.from != "" {
				from, to = ts(t, tc.from), ts(t, tc.to)
			}
			got := query(t.Context(), t, conn, db, "", tc.id, th, tc.scope, from, to)
			if !equalRows(got, tc.want) {
				t.Errorf("%s:\n got %v\nwant %v", name, got, tc.want)
			}
			// The same measure read from a snapshot gives the same rows.
			for _, snapshot := range snapshots {
				if got := query(t.Context(), t, conn, db, snapshot, tc.id, th, tc.scope, from, to); !equalRows(got, tc.want) {
					t.Errorf("%s from %s:\n got %v\nwant %v", name, snapshot, got, tc.want)
				}
			}
		})
	}
}

func takeSnapshot(t *testing.T, conn driver.Conn, db, snapshot string, from time.Time) {
	t.Helper()
	if err := store.Snapshot(t.Context(), conn, db, snapshot, from); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Exec(context.WithoutCancel(t.Context()), "DROP DATABASE IF EXISTS "+snapshot) })
}

// TestSnapshotLeavesOutOldHistory checks that a snapshot for windows from
// February 2025 leaves out M10 (January 2024, over a year before) and keeps
// M8 (June 2024, which repeat detention can still look back to), and that
// the February measures read from it are still right.
func TestSnapshotLeavesOutOldHistory(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewDatabase(t, srv)
	loadFixture(t, conn, db, buildFixture(t))
	full, recent := db+"_all", db+"_feb"
	takeSnapshot(t, conn, db, full, time.Time{})
	takeSnapshot(t, conn, db, recent, ts(t, feb+"T00:00:00Z"))
	count := func(q string) uint64 {
		var n uint64
		if err := conn.QueryRow(t.Context(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	all, kept := count("SELECT count() FROM "+full+".incidents"), count("SELECT count() FROM "+recent+".incidents")
	if all-kept != 1 {
		t.Errorf("the February snapshot keeps %d of %d incidents; want all but M10", kept, all)
	}
	if n := count("SELECT count() FROM " + recent + ".incidents WHERE detained < toDateTime('2024-02-01 00:00:00', 'UTC')"); n != 0 {
		t.Errorf("%d detentions from over a year before February 2025 kept", n)
	}
	if n := count("SELECT count() FROM " + recent + ".incidents WHERE toDate(detained) = toDate('2024-06-01')"); n != 1 {
		t.Errorf("M8 (June 2024) kept %d times, want once", n)
	}
	for _, tc := range scopeCases() {
		if tc.from != "2025-02-01T00:00:00Z" {
			continue
		}
		got := query(t.Context(), t, conn, db, recent, tc.id, measures.DefaultThresholds(), tc.scope, ts(t, tc.from), ts(t, tc.to))
		if !equalRows(got, tc.want) {
			t.Errorf("%s from the February snapshot:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

// scopeCases check scope filtering and the time window.
func scopeCases() []measureCase {
	met := []string{"metropolitan"}
	return []measureCase{
		{name: "scope forces", id: "s136_detentions", scope: measures.Scope{Forces: met}, want: []row{
			{"metropolitan", jan, 4, 4}, {"metropolitan", feb, 3, 3},
		}},
		{name: "scope region London", id: "s136_detentions", scope: measures.Scope{Regions: []string{london}}, want: []row{
			{"city-of-london", feb, 1, 1}, {"metropolitan", jan, 4, 4}, {"metropolitan", feb, 3, 3},
		}},
		{name: "scope region North West", id: "s136_detentions", scope: measures.Scope{Regions: []string{northWest}}, want: []row{
			{"btp", jan, 1, 1},
		}},
		// M5 moved from Southwark to Lambeth in its latest revision.
		{name: "scope LAD Southwark", id: "s136_detentions", scope: measures.Scope{LADs: []string{southwark}}, want: []row{
			{"metropolitan", jan, 3, 3}, {"metropolitan", feb, 2, 2}, // M1 M2 M3; M9 M11
		}},
		{name: "scope LADs Lambeth and Camden", id: "s136_detentions", scope: measures.Scope{LADs: []string{lambeth, camden}}, want: []row{
			{"metropolitan", jan, 1, 1}, {"metropolitan", feb, 1, 1}, // M5; M7
		}},
		{name: "scope force and LAD", id: "hcp_consultation", scope: measures.Scope{Forces: met, LADs: []string{lambeth}}, want: []row{
			{"metropolitan", jan, 1, 1}, // M5 rev 2
		}},
		{name: "scope force and region disjoint", id: "s136_detentions",
			scope: measures.Scope{Forces: []string{"btp"}, Regions: []string{london}}, want: nil},
		{name: "scope health join", id: "time_to_assessment", scope: measures.Scope{Forces: met}, want: []row{
			{"metropolitan", jan, 120, 3}, {"metropolitan", feb, 120, 3},
		}},
		{name: "scope history across forces", id: "repeat_detention", scope: measures.Scope{Forces: []string{"city-of-london"}}, want: []row{
			{"city-of-london", feb, 1, 1},
		}},
		{name: "scope feed by force", id: "feed_timeliness", scope: measures.Scope{Forces: []string{"city-of-london"}}, want: []row{
			{"city-of-london", jan, 0.5, 1},
		}},
		// Only btp has incidents in the North West (B1, R5).
		{name: "scope feed by region", id: "feed_timeliness", scope: measures.Scope{Regions: []string{northWest}}, want: []row{
			{"btp", jan, 4, 1},
		}},
		{name: "scope feed by LAD", id: "feed_timeliness", scope: measures.Scope{LADs: []string{cityLAD}}, want: []row{
			{"city-of-london", jan, 0.5, 1},
		}},
		{name: "window February", id: "s136_detentions", from: "2025-02-01T00:00:00Z", to: "2025-03-01T00:00:00Z", want: []row{
			{"city-of-london", feb, 1, 1}, {"metropolitan", feb, 3, 3},
		}},
		// Priors before the window still count: s2's M2 is in January.
		{name: "window February history", id: "repeat_detention", from: "2025-02-01T00:00:00Z", to: "2025-03-01T00:00:00Z", want: []row{
			{"city-of-london", feb, 1, 1}, {"metropolitan", feb, 2, 3},
		}},
		// From is inclusive (M2 at 12:00 is in), to exclusive (M5 at 23:30 is out).
		{name: "window bounds", id: "s136_detentions", from: "2025-01-10T12:00:00Z", to: "2025-01-31T23:30:00Z", want: []row{
			{"btp", jan, 1, 1}, {"metropolitan", jan, 2, 2},
		}},
	}
}

func TestEveryMeasureHasACase(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, c := range measureCases() {
		covered[c.id] = true
	}
	for _, id := range measures.IDs() {
		if !covered[id] {
			t.Errorf("measure %q has no test case in measureCases", id)
		}
	}
	for id := range covered {
		if _, ok := measures.ByID(id); !ok {
			t.Errorf("test case for unknown measure %q", id)
		}
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	kinds := []measures.Kind{measures.Count, measures.Proportion, measures.Rate, measures.Median, measures.Ratio}
	dirs := []measures.Direction{measures.Higher, measures.Lower, measures.Neutral}
	seen := map[string]bool{}
	all := measures.Catalogue()
	if len(all) == 0 {
		t.Fatal("empty catalogue")
	}
	for i, m := range all {
		if seen[m.ID] {
			t.Errorf("duplicate id %q", m.ID)
		}
		seen[m.ID] = true
		for field, v := range map[string]string{
			"title": m.Title, "definition": m.Definition, "unit": m.Unit, "grain": m.Grain,
			"numerator": m.NumeratorDef, "denominator": m.DenominatorDef,
		} {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: empty %s", m.ID, field)
			}
		}
		if !slices.Contains(kinds, m.Kind) {
			t.Errorf("%s: kind %q", m.ID, m.Kind)
		}
		if !slices.Contains(dirs, m.Direction) {
			t.Errorf("%s: direction %q", m.ID, m.Direction)
		}
		if m.Multiplier <= 0 {
			t.Errorf("%s: multiplier %g", m.ID, m.Multiplier)
		}
		if m.Funnel && m.Kind != measures.Proportion && m.Kind != measures.Rate {
			t.Errorf("%s: funnel plot for a %s", m.ID, m.Kind)
		}
		if got, ok := measures.ByID(m.ID); !ok || got.ID != m.ID {
			t.Errorf("ByID(%q) = %q, %v", m.ID, got.ID, ok)
		}
		if measures.IDs()[i] != m.ID {
			t.Errorf("IDs()[%d] = %q, catalogue has %q", i, measures.IDs()[i], m.ID)
		}
	}
	if _, ok := measures.ByID("no_such_measure"); ok {
		t.Error("ByID found an unknown id")
	}
	// The catalogue is a fresh copy each time.
	all[0].Title = "changed"
	if measures.Catalogue()[0].Title == "changed" {
		t.Error("Catalogue returned shared state")
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	get := func(id string) measures.Measure {
		m, ok := measures.ByID(id)
		if !ok {
			t.Fatalf("no measure %q", id)
		}
		return m
	}
	tests := []struct {
		id       string
		num, den float64
		want     float64
		ok       bool
	}{
		{"s136_detentions", 4, 4, 4, true},
		{"s136_detentions", 0, 0, 0, true},
		{"hcp_consultation", 2, 3, 200.0 / 3, true},
		{"hcp_consultation", 0, 0, 0, false},
		{"detention_rate", 4, 8_791_200, 4 / 8_791_200.0 * 100_000, true},
		{"officer_time_at_pos", 72.5, 4, 72.5, true},
		{"officer_time_at_pos", 0, 0, 0, false},
		{"ethnic_disparity", 3, 1.5, 2, true},
		{"ethnic_disparity", 3, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %g/%g", tc.id, tc.num, tc.den), func(t *testing.T) {
			t.Parallel()
			got, ok := get(tc.id).Value(tc.num, tc.den)
			if ok != tc.ok || (ok && !near(got, tc.want)) {
				t.Errorf("Value(%g, %g) = %g, %v; want %g, %v", tc.num, tc.den, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	from, to := ts(t, "2025-01-01T00:00:00Z"), ts(t, "2025-03-01T00:00:00Z")
	bad := measures.DefaultThresholds()
	bad.HandoverTarget = 0
	tests := []struct {
		name   string
		id     string
		db     string
		th     measures.Thresholds
		scope  measures.Scope
		from   time.Time
		target error
	}{
		{name: "quote in force", id: "s136_detentions", scope: measures.Scope{Forces: []string{"met' OR 1=1 --"}}, target: measures.ErrInvalidScope},
		{name: "upper-case force", id: "s136_detentions", scope: measures.Scope{Forces: []string{"Metropolitan"}}, target: measures.ErrInvalidScope},
		{name: "short region", id: "s136_detentions", scope: measures.Scope{Regions: []string{"E1200007"}}, target: measures.ErrInvalidScope},
		{name: "LAD as region", id: "s136_detentions", scope: measures.Scope{Regions: []string{southwark}}, target: measures.ErrInvalidScope},
		{name: "lower-case LAD", id: "feed_timeliness", scope: measures.Scope{LADs: []string{"e09000028"}}, target: measures.ErrInvalidScope},
		{name: "LAD with suffix", id: "s136_detentions", scope: measures.Scope{LADs: []string{southwark + "')"}}, target: measures.ErrInvalidScope},
		{name: "rate for a LAD", id: "detention_rate", scope: measures.Scope{LADs: []string{southwark}}, target: measures.ErrScopeNotSupported},
		{name: "disparity for a LAD", id: "ethnic_disparity", scope: measures.Scope{LADs: []string{southwark}}, target: measures.ErrScopeNotSupported},
		{name: "bad database", id: "s136_detentions", db: "raw; DROP"},
		{name: "empty window", id: "s136_detentions", from: to},
		{name: "bad thresholds", id: "handover_within_target", th: bad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := measures.ByID(tc.id)
			db, th, f := "pathway", measures.DefaultThresholds(), from
			if tc.db != "" {
				db = tc.db
			}
			if tc.th.DetentionClock != 0 {
				th = tc.th
			}
			if !tc.from.IsZero() {
				f = tc.from
			}
			q, err := m.Query(db, th, tc.scope, f, to)
			if err == nil {
				t.Fatalf("no error; query:\n%s", q)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v is not %v", err, tc.target)
			}
		})
	}
	if _, err := (measures.Measure{ID: "home_made"}).Query("pathway", measures.DefaultThresholds(), measures.Scope{}, from, to); err == nil {
		t.Error("a measure not from the catalogue gave a query")
	}
}

// A snapshot keeps an incident when any of its time columns is recent: each
// must be a time. (extension_authorised, a UInt8 flag, was once listed, as a
// condition that was always false.)
func TestSnapshotTimeColumnsAreTimes(t *testing.T) {
	conn, db := chservertest.NewRawDatabase(t, srv)
	for _, c := range measures.TimeColumns {
		var typ string
		if err := conn.QueryRow(t.Context(), "SELECT type FROM system.columns WHERE database = ? AND table = 'incidents' AND name = ?", db, c).Scan(&typ); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if !strings.Contains(typ, "DateTime") {
			t.Errorf("time column %s is %s", c, typ)
		}
	}
}
