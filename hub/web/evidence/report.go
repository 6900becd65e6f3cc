package evidence

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/measures"
)

// DefaultMonths is the length of the default period: the last 24 published
// months.
const DefaultMonths = 24

// ErrNotPublished is returned when a recipient's share has not been
// published (yet), so there is nothing to show.
var ErrNotPublished = errors.New("evidence: the recipient's share has not been published")

// ErrPeriod is returned, wrapped, for a period that cannot be shown.
var ErrPeriod = errors.New("evidence: bad period")

// Report is what a recipient's evidence page, pack and API show for one
// period: read from its share, never recomputed.
type Report struct {
	Recipient string
	// From and To are the first and last month of the period (first days,
	// UTC).
	From, To   time.Time
	Provenance Provenance
	// Measures are the measures granted and published, in catalogue order.
	Measures []Measure
	// Funnels are one funnel plot per funnel measure, for the last month of
	// the period that has one, in catalogue order.
	Funnels []Funnel
	// Months are, for each force and month of the period, whether the
	// force has approved it (the share's month_status table; none for a
	// share published before it had one).
	Months []MonthStatus
}

// MonthStatus is where one month of a force's figures stands:
// "provisional", "approved" or "revised_after_approval".
type MonthStatus struct {
	Force string
	Month time.Time
	State string
}

// Provenance is the publication the numbers come from (the share's
// publication table).
type Provenance struct {
	PublicationID, Recipient, Agreement, Role, Purpose, Granularity string
	DecisionID, PolicyRevision                                      string
	PublishedAt, DataCutoff                                         time.Time
	DisclosureThreshold, RoundingBase                               uint32
	ContentHash                                                     string
}

// Measure is one catalogue measure and its series, one per force.
type Measure struct {
	ID, Title, Definition, Unit, Kind, Direction string
	Target                                       *float64
	Multiplier                                   float64
	Funnel                                       bool
	NumeratorDef, DenominatorDef                 string
	Series                                       []Series
}

// Series is one force's months of one measure.
type Series struct {
	Force string
	// Variation and Assurance are the share's spc_summary icons at the last
	// published month.
	Variation, Assurance string
	Points               []Point
}

// Point is one month of a series, as published.
type Point struct {
	Month                            time.Time
	Value, Numerator, Denominator    *float64
	Suppressed                       bool
	Mean, LPL, UPL, NearLPL, NearUPL *float64
	Rule, Type                       string
}

// Latest returns the last point of the series with a value, if any.
func (s Series) Latest() (Point, bool) {
	for i := len(s.Points) - 1; i >= 0; i-- {
		if s.Points[i].Value != nil {
			return s.Points[i], true
		}
	}
	return Point{}, false
}

// Funnel is one month's funnel plot of one measure.
type Funnel struct {
	MeasureID         string
	Month             time.Time
	Target, Phi, Tau2 float64
	Adjusted          bool
	Units             []FunnelUnit
}

// FunnelUnit is one force on a funnel plot.
type FunnelUnit struct {
	Force                                string
	Value, Numerator, Denominator        *float64
	Suppressed                           bool
	Lower95, Upper95, Lower998, Upper998 *float64 // nil for a force not on the plot (suppressed)
	Position95, Position998              string
}

// Period is a requested period; zero months mean the defaults.
type Period struct{ From, To time.Time }

// ParsePeriod reads "YYYY-MM" months; empty strings are zero (defaults).
func ParsePeriod(from, to string) (Period, error) {
	var p Period
	var err error
	if from != "" {
		if p.From, err = time.Parse("2006-01", from); err != nil {
			return p, fmt.Errorf("%w: from %q: want a month as YYYY-MM", ErrPeriod, from)
		}
	}
	if to != "" {
		if p.To, err = time.Parse("2006-01", to); err != nil {
			return p, fmt.Errorf("%w: to %q: want a month as YYYY-MM", ErrPeriod, to)
		}
	}
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
		return p, fmt.Errorf("%w: it ends (%s) before it starts (%s)", ErrPeriod, to, from)
	}
	return p, nil
}

// Load reads recipient's report for period from its share database db,
// keeping only the measures in granted (the agreement's measures now, in
// case the policy changed since publication).
func Load(ctx context.Context, conn driver.Conn, db, recipient string, granted []string, period Period) (Report, error) {
	r := Report{Recipient: recipient}
	if err := loadProvenance(ctx, conn, db, &r.Provenance); err != nil {
		return r, err
	}
	if err := resolvePeriod(ctx, conn, db, period, &r); err != nil {
		return r, err
	}
	cat, err := loadCatalogue(ctx, conn, db, granted)
	if err != nil {
		return r, err
	}
	summary, err := loadSummary(ctx, conn, db)
	if err != nil {
		return r, err
	}
	points, err := loadPoints(ctx, conn, db, r.From, r.To)
	if err != nil {
		return r, err
	}
	for _, m := range cat {
		for _, force := range slices.Sorted(maps.Keys(points[m.ID])) {
			s := summary[m.ID+"\x00"+force]
			s.Force = force
			s.Points = points[m.ID][force]
			m.Series = append(m.Series, s)
		}
		r.Measures = append(r.Measures, m)
	}
	if r.Funnels, err = loadFunnels(ctx, conn, db, cat, r.From, r.To); err != nil {
		return r, err
	}
	r.Months, err = loadMonths(ctx, conn, db, r.From, r.To)
	return r, err
}

// loadMonths reads the share's month_status table for the period.
func loadMonths(ctx context.Context, conn driver.Conn, db string, from, to time.Time) ([]MonthStatus, error) {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'month_status'", db).Scan(&n); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := conn.Query(ctx, "SELECT force_id, month, state FROM "+db+".month_status WHERE month >= toDate(?) AND month <= toDate(?) ORDER BY force_id, month",
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer rows.Close()
	var out []MonthStatus
	for rows.Next() {
		var m MonthStatus
		if err := rows.Scan(&m.Force, &m.Month, &m.State); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		m.Month = m.Month.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

func loadProvenance(ctx context.Context, conn driver.Conn, db string, p *Provenance) error {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'publication'", db).Scan(&n); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if n == 0 {
		return ErrNotPublished
	}
	row := conn.QueryRow(ctx, `SELECT publication_id, recipient, agreement, role, purpose, granularity, decision_id,
		policy_revision, published_at, data_cutoff, disclosure_threshold, rounding_base, content_hash
		FROM `+db+`.publication LIMIT 1`)
	err := row.Scan(&p.PublicationID, &p.Recipient, &p.Agreement, &p.Role, &p.Purpose, &p.Granularity, &p.DecisionID,
		&p.PolicyRevision, &p.PublishedAt, &p.DataCutoff, &p.DisclosureThreshold, &p.RoundingBase, &p.ContentHash)
	if err != nil {
		return fmt.Errorf("evidence: read %s.publication: %w", db, err)
	}
	p.PublishedAt, p.DataCutoff = p.PublishedAt.UTC(), p.DataCutoff.UTC()
	if p.Granularity != "aggregate" {
		return fmt.Errorf("evidence: %s is a %s share, not aggregate", db, p.Granularity)
	}
	return nil
}

// resolvePeriod fills in the default months: to is the last published
// month, from 23 months before to.
func resolvePeriod(ctx context.Context, conn driver.Conn, db string, p Period, r *Report) error {
	r.From, r.To = p.From, p.To
	if r.To.IsZero() {
		var last time.Time
		if err := conn.QueryRow(ctx, "SELECT max(month) FROM "+db+".measures").Scan(&last); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		r.To = monthOf(last)
		if last.Year() < 1971 { // empty table: max() of nothing is the epoch
			r.To = monthOf(r.Provenance.DataCutoff).AddDate(0, -1, 0)
		}
	}
	if r.From.IsZero() {
		r.From = r.To.AddDate(0, -(DefaultMonths - 1), 0)
	}
	if r.From.After(r.To) {
		return fmt.Errorf("%w: it starts (%s) after the last published month (%s)", ErrPeriod, month(r.From), month(r.To))
	}
	return nil
}

func loadCatalogue(ctx context.Context, conn driver.Conn, db string, granted []string) ([]Measure, error) {
	rows, err := conn.Query(ctx, `SELECT measure_id, title, definition, unit, kind, direction, target, multiplier, funnel,
		numerator_definition, denominator_definition FROM `+db+`.catalogue`)
	if err != nil {
		return nil, fmt.Errorf("evidence: read %s.catalogue: %w", db, err)
	}
	defer rows.Close()
	byID := map[string]Measure{}
	for rows.Next() {
		var m Measure
		var funnel uint8
		if err := rows.Scan(&m.ID, &m.Title, &m.Definition, &m.Unit, &m.Kind, &m.Direction, &m.Target, &m.Multiplier, &funnel,
			&m.NumeratorDef, &m.DenominatorDef); err != nil {
			return nil, fmt.Errorf("evidence: read %s.catalogue: %w", db, err)
		}
		m.Funnel = funnel == 1
		if slices.Contains(granted, m.ID) {
			byID[m.ID] = m
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("evidence: read %s.catalogue: %w", db, err)
	}
	var out []Measure
	for _, id := range measures.IDs() {
		if m, ok := byID[id]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func loadSummary(ctx context.Context, conn driver.Conn, db string) (map[string]Series, error) {
	rows, err := conn.Query(ctx, "SELECT measure_id, force_id, variation, assurance FROM "+db+".spc_summary")
	if err != nil {
		return nil, fmt.Errorf("evidence: read %s.spc_summary: %w", db, err)
	}
	defer rows.Close()
	out := map[string]Series{}
	for rows.Next() {
		var id, force string
		var s Series
		if err := rows.Scan(&id, &force, &s.Variation, &s.Assurance); err != nil {
			return nil, fmt.Errorf("evidence: read %s.spc_summary: %w", db, err)
		}
		out[id+"\x00"+force] = s
	}
	return out, rows.Err()
}

// loadPoints returns the period's points by measure and force.
func loadPoints(ctx context.Context, conn driver.Conn, db string, from, to time.Time) (map[string]map[string][]Point, error) {
	rows, err := conn.Query(ctx, `SELECT measure_id, force_id, month, value, numerator, denominator, suppressed,
		spc_mean, spc_lpl, spc_upl, spc_near_lpl, spc_near_upl, spc_rule, spc_type
		FROM `+db+`.measures WHERE month >= toDate(?) AND month <= toDate(?) ORDER BY measure_id, force_id, month`, day(from), day(to))
	if err != nil {
		return nil, fmt.Errorf("evidence: read %s.measures: %w", db, err)
	}
	defer rows.Close()
	out := map[string]map[string][]Point{}
	for rows.Next() {
		var id, force string
		var p Point
		var suppressed uint8
		if err := rows.Scan(&id, &force, &p.Month, &p.Value, &p.Numerator, &p.Denominator, &suppressed,
			&p.Mean, &p.LPL, &p.UPL, &p.NearLPL, &p.NearUPL, &p.Rule, &p.Type); err != nil {
			return nil, fmt.Errorf("evidence: read %s.measures: %w", db, err)
		}
		p.Month = monthOf(p.Month)
		p.Suppressed = suppressed == 1
		if out[id] == nil {
			out[id] = map[string][]Point{}
		}
		out[id][force] = append(out[id][force], p)
	}
	return out, rows.Err()
}

func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// loadFunnels reads, for each funnel measure, the last month of the period
// that has a funnel.
func loadFunnels(ctx context.Context, conn driver.Conn, db string, cat []Measure, from, to time.Time) ([]Funnel, error) {
	rows, err := conn.Query(ctx, `SELECT measure_id, month, force_id, value, numerator, denominator, suppressed, target,
		lower95, upper95, lower998, upper998, position95, position998, phi, tau2, adjusted
		FROM `+db+`.funnel WHERE month >= toDate(?) AND month <= toDate(?) ORDER BY measure_id, month, force_id`, day(from), day(to))
	if err != nil {
		return nil, fmt.Errorf("evidence: read %s.funnel: %w", db, err)
	}
	defer rows.Close()
	last := map[string]*Funnel{}
	for rows.Next() {
		var id string
		var month time.Time
		var u FunnelUnit
		var suppressed, adjusted uint8
		var target, phi, tau2 *float64
		if err := rows.Scan(&id, &month, &u.Force, &u.Value, &u.Numerator, &u.Denominator, &suppressed, &target,
			&u.Lower95, &u.Upper95, &u.Lower998, &u.Upper998, &u.Position95, &u.Position998, &phi, &tau2, &adjusted); err != nil {
			return nil, fmt.Errorf("evidence: read %s.funnel: %w", db, err)
		}
		u.Suppressed = suppressed == 1
		month = monthOf(month)
		if target == nil {
			continue // no force's counts published that month: no plot
		}
		f := last[id]
		if f == nil || month.After(f.Month) {
			f = &Funnel{MeasureID: id, Month: month, Target: *target, Phi: orNaN(phi), Tau2: orNaN(tau2), Adjusted: adjusted == 1}
			last[id] = f
		}
		f.Units = append(f.Units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("evidence: read %s.funnel: %w", db, err)
	}
	var out []Funnel
	for _, m := range cat {
		if f, ok := last[m.ID]; ok && m.Funnel {
			out = append(out, *f)
		}
	}
	return out, nil
}

// day writes t as a date for client-side binding: ClickHouse 18.16
// compares a Date column with a string date, not with a DateTime.
func day(t time.Time) string { return t.Format(time.DateOnly) }

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
