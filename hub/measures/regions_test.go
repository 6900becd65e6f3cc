package measures_test

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// TestQueryByRegion runs every measure by region over the fixture and two
// West Midlands detentions, and checks each against the same measure by
// force: a count or a proportion of a region is the sum over the forces of
// its incidents (the fixture's London forces, the West Midlands force),
// British Transport Police is its own unit, a rate is the region's
// detentions over its residents (even where the force has no population of
// its own), and a median is of the region's own observations. The
// measures with no place (the submissions' timeliness) or with a force's
// own population groups (the disparity ratio) are refused.
func TestQueryByRegion(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewDatabase(t, srv)
	f := buildFixture(t)
	const westMidlands = "E12000005"
	for i, ref := range []string{"W1", "W2"} {
		rec := s136("west-midlands", ref, "w"+ref, ts(t, "2025-01-12T09:00:00Z").Add(time.Duration(i)*time.Hour))
		rec.LadCode, rec.RegionCode = "E08000025", westMidlands // Birmingham
		rec.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_NO_OTHER
		f.first = append(f.first, store.Incident{Record: rec})
	}
	loadFixture(t, conn, db, f)
	snapshot := db + "_snapshot"
	takeSnapshot(t, conn, db, snapshot, time.Time{})
	th := measures.DefaultThresholds()
	from, to := ts(t, "2025-01-01T00:00:00Z"), ts(t, "2025-03-01T00:00:00Z")
	unitOf := map[string]string{"metropolitan": "E12000007", "city-of-london": "E12000007", "btp": "btp", "west-midlands": westMidlands}
	pop := map[string]float64{}
	for _, r := range measures.Regions() {
		pop[r.Code] = r.Population
	}
	for _, m := range measures.Catalogue() {
		t.Run(m.ID, func(t *testing.T) {
			q, err := m.QueryByRegion(db, "", th, measures.Scope{}, from, to)
			if m.ID == "feed_timeliness" || m.ID == "ethnic_disparity" {
				if !errors.Is(err, measures.ErrScopeNotSupported) {
					t.Fatalf("by region: %v; want ErrScopeNotSupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := runRows(t.Context(), t, conn, q)
			qs, err := m.QueryByRegion(db, snapshot, th, measures.Scope{}, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if fromSnapshot := runRows(t.Context(), t, conn, qs); !equalRows(fromSnapshot, got) {
				t.Errorf("from the snapshot:\n got %v\nwant %v", fromSnapshot, got)
			}
			byForce := query(t.Context(), t, conn, db, "", m.ID, th, measures.Scope{}, from, to)
			for _, r := range byForce {
				if _, ok := unitOf[r.Force]; !ok {
					t.Fatalf("force %s of the fixture has no region in the test", r.Force)
				}
			}
			want := sumByUnit(byForce, unitOf)
			switch m.Kind {
			case measures.Count, measures.Proportion:
				if !equalRows(got, want) {
					t.Errorf("by region:\n got %v\nwant the forces' sums %v", got, want)
				}
			case measures.Rate:
				want = nil
				for _, r := range byRegionSums(t, conn, db, th, from, to, unitOf) {
					if r.Force != "btp" {
						r.Den = pop[r.Force]
						want = append(want, r)
					}
				}
				if !equalRows(got, want) {
					t.Errorf("by region:\n got %v\nwant %v (the region's residents)", got, want)
				}
				for _, r := range got {
					if r.Force == "btp" {
						t.Errorf("a rate per resident for the railway: %v", r)
					}
				}
			case measures.Ratio:
				t.Errorf("a ratio by region, which no test checks: %v", got)
			case measures.Median:
				// The region's median is not a sum; its observations are.
				if len(got) == 0 {
					t.Fatal("no rows")
				}
				for i, r := range got {
					if i >= len(want) || r.Force != want[i].Force || r.Month != want[i].Month || !near(r.Den, want[i].Den) {
						t.Fatalf("by region:\n got %v\nwant the units, months and observations of %v", got, want)
					}
				}
			}
		})
	}
}

// byRegionSums is the s136 detentions by force summed by unit.
func byRegionSums(t *testing.T, conn driver.Conn, db string, th measures.Thresholds, from, to time.Time, unitOf map[string]string) []row {
	t.Helper()
	return sumByUnit(query(t.Context(), t, conn, db, "", "s136_detentions", th, measures.Scope{}, from, to), unitOf)
}

// sumByUnit sums rows by force into rows by unit and month, in order.
func sumByUnit(rows []row, unitOf map[string]string) []row {
	sums := map[[2]string]row{}
	for _, r := range rows {
		k := [2]string{unitOf[r.Force], r.Month}
		s := sums[k]
		s.Force, s.Month, s.Num, s.Den = k[0], k[1], s.Num+r.Num, s.Den+r.Den
		sums[k] = s
	}
	var out []row
	for _, k := range slices.SortedFunc(maps.Keys(sums), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	}) {
		out = append(out, sums[k])
	}
	return out
}
