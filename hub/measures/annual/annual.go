package annual

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// Year is a financial year, from 1 April of Start to 31 March of the next.
type Year struct{ Start int }

// ParseYear reads a financial year written "YYYY-YY", e.g. "2025-26".
func ParseYear(s string) (Year, error) {
	first, second, ok := strings.Cut(s, "-")
	start, err1 := strconv.Atoi(first)
	end, err2 := strconv.Atoi(second)
	if !ok || len(first) != 4 || len(second) != 2 || err1 != nil || err2 != nil || start < 2000 || end != (start+1)%100 {
		return Year{}, fmt.Errorf("year: %q is not a financial year written like 2025-26 (1 April 2025 to 31 March 2026)", s)
	}
	return Year{Start: start}, nil
}

// LastEnded is the last financial year that ended before now.
func LastEnded(now time.Time) Year {
	start := now.UTC().Year() - 1
	if now.UTC().Month() < time.April {
		start--
	}
	return Year{Start: start}
}

// String writes y as "YYYY-YY".
func (y Year) String() string { return fmt.Sprintf("%d-%02d", y.Start, (y.Start+1)%100) }

// Bounds returns the first instant of y and the first instant after it, UTC.
func (y Year) Bounds() (start, end time.Time) {
	start = time.Date(y.Start, time.April, 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(1, 0, 0)
}

// Cell is one row of Query's result: the detentions sharing every
// characteristic the return breaks down by.
type Cell struct {
	Month                                                          time.Time
	AgeBand, Sex, EthnicGroup, FirstPos, Conveyance, VehicleReason string
	Consulted                                                      string
	ConditionsMet, Arrested                                        bool
	Detentions, Revised                                            uint64
	LastReceived                                                   time.Time
}

// Query returns the statement counting force's s136 detentions in y in
// database db, by month and every characteristic of the return, with the
// detentions revised after they were first sent and the latest time a
// counted revision was received. Its columns are Cell's, in order.
func Query(db, force string, y Year) (string, error) {
	if !sqltext.ValidIdent(db) {
		return "", fmt.Errorf("annual: invalid database name %q", db)
	}
	start, end := y.Bounds()
	inner := "SELECT revision, status, incident_type, detained, age_band, sex, ethnic_group, first_pos_type, conveyance_method, " +
		"police_vehicle_reason, police_station_conditions_met, arrested_for_offence, hcp_consulted, received_at FROM " + db +
		".incidents FINAL WHERE force_id = " + sqltext.String(force)
	return "SELECT toStartOfMonth(assumeNotNull(detained), 'UTC') AS month, age_band, sex, ethnic_group, first_pos_type, conveyance_method, " +
		"police_vehicle_reason, police_station_conditions_met, arrested_for_offence, hcp_consulted, " +
		"count() AS detentions, countIf(revision > 1) AS revised, max(received_at) AS last_received\n" +
		"FROM (" + inner + ")\n" +
		"WHERE status != 'withdrawn' AND incident_type = 's136' AND isNotNull(detained)" +
		" AND detained >= toDateTime(" + strconv.FormatInt(start.Unix(), 10) + ") AND detained < toDateTime(" + strconv.FormatInt(end.Unix(), 10) + ")\n" +
		"GROUP BY month, age_band, sex, ethnic_group, first_pos_type, conveyance_method, police_vehicle_reason, " +
		"police_station_conditions_met, arrested_for_offence, hcp_consulted\n" +
		"ORDER BY month, age_band, sex, ethnic_group, first_pos_type, conveyance_method, police_vehicle_reason, " +
		"police_station_conditions_met, arrested_for_offence, hcp_consulted", nil
}

// Row is one category of a table.
type Row struct {
	Code, Label string
	Detentions  uint64
}

// Table is one table of the return.
type Table struct {
	ID, Title, Note string
	Rows            []Row
}

// Total is the table's last row, its total.
func (t Table) Total() uint64 { return t.Rows[len(t.Rows)-1].Detentions }

// Return is a force's return for a year.
type Return struct {
	Year Year
	// Tables are in the order of the return; the first is the total.
	Tables []Table
	// Detentions is the total; Revised those of them whose latest
	// revision is above 1; LastReceived when the latest counted revision
	// reached the hub (zero when nothing is counted).
	Detentions, Revised uint64
	LastReceived        time.Time
}

// TotalCode is the code of every table's last row.
const TotalCode = "total"

// notKnown is the code of the category a value the force did not record
// (or an unexpected one) is counted in.
const notKnown = "not_known"

// category is one row a table may have, and how a cell falls in it.
type category struct {
	code, label string
}

// breakdown is a table that partitions its population (every detention,
// or those for which in is true) by key.
type breakdown struct {
	id, title, note string
	cats            []category
	key             func(Cell) string
	in              func(Cell) bool
}

// Build makes the return's tables from Query's cells.
func Build(y Year, cells []Cell) (Return, error) {
	r := Return{Year: y}
	for _, c := range cells {
		r.Detentions += c.Detentions
		r.Revised += c.Revised
		if c.LastReceived.After(r.LastReceived) {
			r.LastReceived = c.LastReceived.UTC()
		}
	}
	r.Tables = append(r.Tables, Table{ID: "total", Title: "Section 136 detentions",
		Note: "Every s136 detention of the force with a detention time in the financial year, at its latest revision, withdrawn incidents left out.",
		Rows: []Row{{Code: TotalCode, Label: "Total", Detentions: r.Detentions}}})
	months := monthsTable(y, cells)
	r.Tables = append(r.Tables, months)
	for _, b := range breakdowns() {
		t, err := b.build(cells)
		if err != nil {
			return Return{}, err
		}
		r.Tables = append(r.Tables, t)
	}
	return r, nil
}

func monthsTable(y Year, cells []Cell) Table {
	start, _ := y.Bounds()
	t := Table{ID: "month", Title: "Section 136 detentions by month of detention",
		Note: "By the UTC month of the detention time, as the measure s136_detentions counts them: the months sum to the year."}
	byMonth := map[time.Time]uint64{}
	var total uint64
	for _, c := range cells {
		byMonth[c.Month.UTC()] += c.Detentions
		total += c.Detentions
	}
	for i := range 12 {
		m := start.AddDate(0, i, 0)
		t.Rows = append(t.Rows, Row{Code: m.Format("2006-01"), Label: m.Format("January 2006"), Detentions: byMonth[m]})
	}
	t.Rows = append(t.Rows, Row{Code: TotalCode, Label: "Total", Detentions: total})
	return t
}

func (b breakdown) build(cells []Cell) (Table, error) {
	t := Table{ID: b.id, Title: b.title, Note: b.note}
	index := map[string]int{}
	for i, c := range b.cats {
		index[c.code] = i
		t.Rows = append(t.Rows, Row{Code: c.code, Label: c.label})
	}
	other, ok := index[notKnown]
	if !ok {
		return Table{}, fmt.Errorf("annual: table %s has no %s row", b.id, notKnown)
	}
	var total uint64
	for _, c := range cells {
		if b.in != nil && !b.in(c) {
			continue
		}
		i, ok := index[b.key(c)]
		if !ok {
			i = other // unset, or a code the standard does not have
		}
		t.Rows[i].Detentions += c.Detentions
		total += c.Detentions
	}
	t.Rows = append(t.Rows, Row{Code: TotalCode, Label: "Total", Detentions: total})
	return t, nil
}

// fromEnum lists every defined value of an enum as categories, in number
// order, labelled from labels (the code itself where labels has none).
func fromEnum(desc protoreflect.EnumDescriptor, labels map[string]string) []category {
	vals := codes.Values(desc)
	order := slices.SortedFunc(maps.Keys(vals), func(a, b string) int { return cmp.Compare(vals[a], vals[b]) })
	out := make([]category, 0, len(order))
	for _, code := range order {
		label := labels[code]
		if label == "" {
			label = code
		}
		out = append(out, category{code: code, label: label})
	}
	return out
}

// ordered puts cats in the order of codes (each of which must be there).
func ordered(cats []category, order ...string) []category {
	by := map[string]category{}
	for _, c := range cats {
		by[c.code] = c
	}
	out := make([]category, 0, len(order))
	for _, code := range order {
		c, ok := by[code]
		if !ok {
			panic("annual: no category " + code)
		}
		out = append(out, c)
	}
	if len(out) != len(cats) {
		panic(fmt.Sprintf("annual: %d categories ordered of %d", len(out), len(cats)))
	}
	return out
}

func breakdowns() []breakdown {
	policeVehicle := func(c Cell) bool { return c.Conveyance == "police_vehicle" }
	policeStation := func(c Cell) bool { return c.FirstPos == "police_station" }
	under18 := func(c Cell) string {
		switch c.AgeBand {
		case "under_18":
			return "under_18"
		case "", notKnown:
			return notKnown
		default:
			return "18_and_over"
		}
	}
	return []breakdown{
		{
			id: "age_group", title: "Section 136 detentions by age group",
			note: "Under 18 or 18 and over, from the age band at the start of the incident.",
			cats: []category{{"under_18", "Under 18"}, {"18_and_over", "18 and over"}, {notKnown, "Not known"}},
			key:  under18,
		},
		{
			id: "age_band", title: "Section 136 detentions by age band",
			note: "The standard's age bands (field age_band).",
			cats: fromEnum(pathwayv1.AgeBand(0).Descriptor(), map[string]string{
				"under_18": "Under 18", "18_24": "18 to 24", "25_34": "25 to 34", "35_44": "35 to 44", "45_54": "45 to 54",
				"55_64": "55 to 64", "65_plus": "65 and over", notKnown: "Not known",
			}),
			key: func(c Cell) string { return c.AgeBand },
		},
		{
			id: "sex", title: "Section 136 detentions by sex",
			note: "Field sex.",
			cats: fromEnum(pathwayv1.Sex(0).Descriptor(), map[string]string{
				"male": "Male", "female": "Female", "not_stated": "Not stated", notKnown: "Not known",
			}),
			key: func(c Cell) string { return c.Sex },
		},
		{
			id: "ethnicity", title: "Section 136 detentions by self-defined ethnicity",
			note: "The ONS broad group of the NHS ethnic category (field ethnicity): A to C White, D to G Mixed, H to L Asian, M to P Black, R and S Other, Z Not stated.",
			cats: []category{{"white", "White"}, {"mixed", "Mixed or multiple ethnic groups"}, {"asian", "Asian or Asian British"},
				{"black", "Black, Black British, Caribbean or African"}, {"other", "Other ethnic group"}, {"not_stated", "Not stated"}, {notKnown, "Not known"}},
			key: func(c Cell) string { return c.EthnicGroup },
		},
		{
			id: "place_of_safety", title: "Section 136 detentions by first place of safety",
			note: "The place the person was first taken to (field first_pos_type).",
			cats: ordered(fromEnum(pathwayv1.PlaceOfSafetyType(0).Descriptor(), map[string]string{
				"police_station": "Police station", "emergency_department": "A&E", "private_home": "Private home",
				"hbpos": "Health-based place of safety", "other": "Other", notKnown: "Not known",
			}), "police_station", "emergency_department", "private_home", "hbpos", "other", notKnown),
			key: func(c Cell) string { return c.FirstPos },
		},
		{
			id: "conveyance", title: "Section 136 detentions by method of conveyance to the place of safety",
			note: "Field conveyance_method.",
			cats: fromEnum(pathwayv1.ConveyanceMethod(0).Descriptor(), map[string]string{
				"ambulance": "Ambulance", "police_vehicle": "Police vehicle", "other_health_vehicle": "Other health vehicle",
				"other": "Other", "none_already_at_pos": "None (already at a place of safety)", notKnown: "Not known",
			}),
			key: func(c Cell) string { return c.Conveyance },
		},
		{
			id: "police_vehicle_reason", title: "Detentions conveyed in a police vehicle, by reason",
			note: "Of the detentions conveyed in a police vehicle (field police_vehicle_reason); the total is the police vehicle row of the conveyance table.",
			cats: fromEnum(pathwayv1.PoliceVehicleReason(0).Descriptor(), map[string]string{
				"ambulance_not_available_30min": "Ambulance not available within 30 minutes", "ambulance_not_requested": "Ambulance not requested",
				"ambulance_diverted": "Ambulance diverted", "ambulance_crew_refused": "Ambulance crew refused to convey",
				"other": "Other", notKnown: "Not known",
			}),
			key: func(c Cell) string { return c.VehicleReason },
			in:  policeVehicle,
		},
		{
			id: "police_station", title: "Detentions taken first to a police station, by reason",
			note: "Of the detentions whose first place of safety was a police station; the total is the police station row of the place of safety table. " +
				"Arrested for an offence (field arrested_for_offence) comes first; otherwise the conditions of the Regulations (SI 2017/1036) were met " +
				"(field police_station_conditions_met); otherwise neither was recorded.",
			cats: []category{{"arrested_for_offence", "Arrested for an offence"}, {"conditions_met", "Conditions in the Regulations were met"},
				{notKnown, "Neither recorded"}},
			key: func(c Cell) string {
				switch {
				case c.Arrested:
					return "arrested_for_offence"
				case c.ConditionsMet:
					return "conditions_met"
				default:
					return notKnown
				}
			},
			in: policeStation,
		},
		{
			id: "police_station_age", title: "Detentions taken first to a police station, by age group",
			note: "Of the detentions whose first place of safety was a police station: the Regulations allow no one under 18 there.",
			cats: []category{{"under_18", "Under 18"}, {"18_and_over", "18 and over"}, {notKnown, "Not known"}},
			key:  under18,
			in:   policeStation,
		},
		{
			id: "consultation", title: "Section 136 detentions by consultation of a health professional before detention",
			note: "Section 136(1C): field hcp_consulted.",
			cats: fromEnum(pathwayv1.HcpConsulted(0).Descriptor(), map[string]string{
				"yes": "Consulted", "no_not_practicable": "Not consulted: not practicable", "no_other": "Not consulted: other reason",
				notKnown: "Not known",
			}),
			key: func(c Cell) string { return c.Consulted },
		},
	}
}

// ErrEmpty is returned by Check for a return with no table.
var ErrEmpty = errors.New("annual: the return has no table")

// Check verifies the return's arithmetic: each table's rows sum to its
// total; each table of every detention totals the return's total; each
// subset's total is its row of the parent table.
func Check(r Return) error {
	if len(r.Tables) == 0 {
		return ErrEmpty
	}
	byID := map[string]Table{}
	var errs []error
	for _, t := range r.Tables {
		byID[t.ID] = t
		var sum uint64
		for _, row := range t.Rows[:len(t.Rows)-1] {
			sum += row.Detentions
		}
		if t.ID != "total" && sum != t.Total() {
			errs = append(errs, fmt.Errorf("annual: table %s: rows sum to %d, total %d", t.ID, sum, t.Total()))
		}
	}
	row := func(table, code string) uint64 {
		for _, r := range byID[table].Rows {
			if r.Code == code {
				return r.Detentions
			}
		}
		return 0
	}
	for _, t := range r.Tables {
		want := r.Detentions
		switch t.ID {
		case "police_vehicle_reason":
			want = row("conveyance", "police_vehicle")
		case "police_station", "police_station_age":
			want = row("place_of_safety", "police_station")
		}
		if t.Total() != want {
			errs = append(errs, fmt.Errorf("annual: table %s totals %d, want %d", t.ID, t.Total(), want))
		}
	}
	return errors.Join(errs...)
}

// CSV writes the return as CSV: a header, then one line per row of every
// table: table, code, category, detentions.
func (r Return) CSV() []byte {
	var b strings.Builder
	b.WriteString("table,code,category,detentions\n")
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			fmt.Fprintf(&b, "%s,%s,%s,%d\n", t.ID, row.Code, csvField(row.Label), row.Detentions)
		}
	}
	return []byte(b.String())
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// Hash is the SHA-256 (hex) of the tables: each row "table,code,detentions"
// in order, joined by newlines. It depends on the counts, not the format.
func (r Return) Hash() string {
	h := sha256.New()
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			fmt.Fprintf(h, "%s,%s,%d\n", t.ID, row.Code, row.Detentions)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
