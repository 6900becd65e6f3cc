package annual_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures/annual"
)

func TestParseYear(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{{"2025-26", 2025}, {"1999-00", 0}, {"2099-00", 2099}, {"2025-2026", 0}, {"2025-27", 0}, {"25-26", 0}, {"", 0}, {"2025_26", 0}} {
		y, err := annual.ParseYear(tc.in)
		switch {
		case tc.want == 0 && err == nil:
			t.Errorf("%q: no error, year %v", tc.in, y)
		case tc.want != 0 && (err != nil || y.Start != tc.want):
			t.Errorf("%q: %v, %v; want %d", tc.in, y, err, tc.want)
		case err != nil && !strings.HasPrefix(err.Error(), "year: "):
			t.Errorf("%q: the error %q does not name the field", tc.in, err)
		}
	}
	start, end := annual.Year{Start: 2025}.Bounds()
	if !start.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("bounds %s to %s", start, end)
	}
}

// TestBuildCountsWhatWasNotRecordedAsNotKnown: an unset or unexpected
// code is counted as not known, never dropped; every table sums.
func TestBuildCountsWhatWasNotRecordedAsNotKnown(t *testing.T) {
	y := annual.Year{Start: 2025}
	may := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	cells := []annual.Cell{
		{Month: may, AgeBand: "25_34", Sex: "male", EthnicGroup: "white", FirstPos: "police_station", Conveyance: "police_vehicle",
			VehicleReason: "ambulance_diverted", Consulted: "yes", ConditionsMet: true, Detentions: 4, Revised: 1},
		{Month: may, AgeBand: "under_18", Sex: "", EthnicGroup: "not_known", FirstPos: "a_shed", Conveyance: "ambulance",
			Consulted: "", Arrested: true, Detentions: 2},
		{Month: may.AddDate(0, 2, 0), AgeBand: "", Sex: "female", EthnicGroup: "black", FirstPos: "police_station", Conveyance: "police_vehicle",
			VehicleReason: "", Consulted: "no_other", Detentions: 1},
	}
	r, err := annual.Build(y, cells)
	if err != nil {
		t.Fatal(err)
	}
	if err := annual.Check(r); err != nil {
		t.Fatal(err)
	}
	cell := func(table, code string) uint64 {
		for _, tb := range r.Tables {
			if tb.ID == table {
				for _, row := range tb.Rows {
					if row.Code == code {
						return row.Detentions
					}
				}
				t.Fatalf("table %s has no row %s", table, code)
			}
		}
		t.Fatalf("no table %s", table)
		return 0
	}
	for _, c := range []struct {
		table, code string
		want        uint64
	}{
		{"total", "total", 7}, {"month", "2025-05", 6}, {"month", "2025-07", 1}, {"month", "2026-03", 0},
		{"sex", "not_known", 2}, {"place_of_safety", "not_known", 2}, {"place_of_safety", "police_station", 5},
		{"age_group", "under_18", 2}, {"age_group", "not_known", 1}, {"age_group", "18_and_over", 4},
		{"police_vehicle_reason", "not_known", 1}, {"police_vehicle_reason", "total", 5},
		{"police_station", "conditions_met", 4}, {"police_station", "not_known", 1}, {"police_station", "arrested_for_offence", 0},
		{"police_station_age", "total", 5}, {"consultation", "not_known", 2},
	} {
		if got := cell(c.table, c.code); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.table, c.code, got, c.want)
		}
	}
	if r.Detentions != 7 || r.Revised != 1 {
		t.Errorf("detentions %d, revised %d", r.Detentions, r.Revised)
	}
	// Check catches a table that does not add up.
	r.Tables[3].Rows[0].Detentions++
	if err := annual.Check(r); err == nil {
		t.Error("Check passed a table whose rows do not sum to its total")
	}
}

func TestCSVAndHash(t *testing.T) {
	r, err := annual.Build(annual.Year{Start: 2025}, nil)
	if err != nil {
		t.Fatal(err)
	}
	csv := string(r.CSV())
	if !strings.Contains(csv, `ethnicity,black,"Black, Black British, Caribbean or African",0`) {
		t.Errorf("a label with a comma is not quoted:\n%s", csv)
	}
	other, _ := annual.Build(annual.Year{Start: 2025}, []annual.Cell{{Month: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), Detentions: 1}})
	if again, _ := annual.Build(annual.Year{Start: 2025}, nil); r.Hash() == other.Hash() || r.Hash() != again.Hash() {
		t.Error("the content hash does not follow the counts")
	}
}
