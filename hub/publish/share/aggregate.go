package share

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/disclosure"
	"github.com/pathwayhub/pathwayhub/hub/measures/funnel"
	"github.com/pathwayhub/pathwayhub/hub/measures/spc"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/policy"
)

// MinFunnelAdjustUnits is the fewest forces a funnel plot estimates
// over-dispersion from; with fewer, φ and τ² are too unstable to use and
// the unadjusted (binomial) limits are published.
const MinFunnelAdjustUnits = 5

// cell is one measure's raw result for one force and month.
type cell struct {
	force       string
	month       time.Time
	numerator   float64
	denominator float64
}

// aggregateTables builds an aggregate grant's tables for complete months up
// to the cut-off: measures (by measure, force and month, after disclosure
// control, with each point's SPC limits and signal), spc_summary (variation
// and assurance per series), funnel (each force's position per month) and
// catalogue (what every measure means), and, with the feed measures,
// feed_rejections (the rules the forces' rejected records broke).
//
// A national lead's measures are by region, not by force
// (measures.QueryByRegion): the column force_id then holds the unit, a
// region's ONS code or measures.NationalForce, and a units table names
// each with its residents. Measures not defined by region are left out.
func (p *Publisher) aggregateTables(ctx context.Context, g policy.Grant, pub *Publication) ([]table, error) {
	rule := disclosure.Rule{Threshold: g.Threshold, Base: g.Rounding}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("share: recipient %s: %w", g.Recipient, err)
	}
	to := monthStart(pub.DataCutoff)
	from := to.AddDate(0, -p.opts.Months, 0)
	pub.DataCutoff = to
	scope := measures.Scope{Forces: g.Forces, Regions: g.Regions, LADs: g.LADs}
	byRegion := g.Role == policy.RoleNationalLead
	tabs := aggregateSchema()
	forces := map[string]bool{}
	for _, f := range g.Forces {
		forces[f] = true
	}
	for _, id := range g.Measures {
		m, ok := measures.ByID(id)
		if !ok {
			return nil, fmt.Errorf("share: recipient %s: agreement names unknown measure %q", g.Recipient, id)
		}
		cells, err := p.measureCells(ctx, m, scope, from, to, byRegion)
		if errors.Is(err, measures.ErrScopeNotSupported) {
			// e.g. a rate per resident for a scope of districts: populations
			// are held per force area, so the measure is not published here.
			p.logger.Debug("measure not defined for the recipient's scope", "recipient", g.Recipient, "measure", m.ID)
			continue
		}
		if err != nil {
			return nil, err
		}
		byForce := map[string][]cell{}
		for _, c := range cells {
			byForce[c.force] = append(byForce[c.force], c)
			if !byRegion {
				forces[c.force] = true
			}
		}
		for _, force := range slices.Sorted(maps.Keys(byForce)) {
			rows, summary, err := seriesRows(m, rule, p.opts.Thresholds, byForce[force], p.opts.Rebase)
			if err != nil {
				return nil, fmt.Errorf("share: %s %s: %w", m.ID, force, err)
			}
			tabs.measures.rows = append(tabs.measures.rows, rows...)
			if summary != nil {
				tabs.spc.rows = append(tabs.spc.rows, summary)
			}
		}
		if m.Funnel {
			rows, err := funnelRows(m, rule, p.opts.Thresholds, cells)
			if err != nil {
				return nil, fmt.Errorf("share: %s funnel: %w", m.ID, err)
			}
			tabs.funnel.rows = append(tabs.funnel.rows, rows...)
		}
		tabs.catalogue.rows = append(tabs.catalogue.rows, catalogueRow(m))
	}
	if byRegion && len(g.Forces) == 0 {
		// Units are regions: every force that submits has months.
		all, err := store.New(p.opts.Conn, p.opts.Database).SubmittingForces(ctx)
		if err != nil {
			return nil, fmt.Errorf("share: %w", err)
		}
		for _, f := range all {
			forces[f] = true
		}
	}
	status, err := p.monthStatusTable(ctx, slices.Sorted(maps.Keys(forces)), from, to.AddDate(0, -1, 0))
	if err != nil {
		return nil, err
	}
	if byRegion {
		return []table{tabs.measures, tabs.spc, tabs.funnel, tabs.catalogue, unitsTable(), status}, nil
	}
	if slices.Contains(g.Measures, "feed_timeliness") || slices.Contains(g.Measures, "feed_completeness") {
		rows, err := p.rejectionRows(ctx, rule, scope, from, to)
		if err != nil {
			return nil, err
		}
		tabs.rejections.rows = rows
	}
	return []table{tabs.measures, tabs.spc, tabs.funnel, tabs.catalogue, tabs.rejections, status}, nil
}

// monthStatusTable is the month_status table: for each force in the share
// and each published month, whether the force has approved it
// (provisional, approved, or revised_after_approval: approved, then
// records stored for it with a revision reason), and when it was last
// approved. It holds no count.
func (p *Publisher) monthStatusTable(ctx context.Context, forces []string, from, to time.Time) (table, error) {
	t := table{name: "month_status", orderBy: "(force_id, month)", columns: []column{
		{"force_id", "String"}, {"month", "Date"}, {"state", "String"}, {"approved_at", "Nullable(DateTime)"},
	}}
	states, err := p.months.get(ctx, store.New(p.opts.Conn, p.opts.Database), forces, from, to)
	if err != nil {
		return t, fmt.Errorf("share: month status: %w", err)
	}
	for _, f := range forces {
		for _, st := range states[f] {
			var at *time.Time
			if st.State != store.MonthProvisional {
				when := st.Latest.DecidedAt.Truncate(time.Second)
				at = &when
			}
			t.rows = append(t.rows, []any{f, st.Month, st.State, at})
		}
	}
	return t, nil
}

// rejectionRows are the feed_rejections rows: the rules broken by the
// forces' rejected records (dry runs left out) by force, month of receipt,
// field and code, each count after disclosure control. Published with the
// feed measures. Like them, a region or district scope keeps the forces with
// any current incident there.
func (p *Publisher) rejectionRows(ctx context.Context, r disclosure.Rule, scope measures.Scope, from, to time.Time) ([][]any, error) {
	db := p.opts.Database
	// The forces in scope as the feed measures take them, from the
	// publication's snapshot when there is one: collapsing the raw table
	// here took seconds per recipient at national scale.
	inScope, err := measures.SubmittersIn("org_id", db, p.snapshot, scope)
	if err != nil {
		return nil, fmt.Errorf("share: feed rejections: %w", err)
	}
	conds := []string{
		fmt.Sprintf("received_at >= toDateTime(%d) AND received_at < toDateTime(%d)", from.Unix(), to.Unix()),
		"submission_id GLOBAL IN (SELECT submission_id FROM " + db + ".submissions WHERE org_kind = 'force' AND dry_run = 0)",
		inScope,
	}
	q := "SELECT org_id, toStartOfMonth(received_at, 'UTC') AS month, field, code, count() AS n FROM " + db +
		".rejections WHERE " + strings.Join(conds, " AND ") + " GROUP BY org_id, month, field, code ORDER BY org_id, month, field, code"
	rows, err := p.opts.Conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("share: feed rejections: %w", err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var force, field, code string
		var month time.Time
		var n uint64
		if err := rows.Scan(&force, &month, &field, &code, &n); err != nil {
			return nil, fmt.Errorf("share: feed rejections: %w", err)
		}
		v, suppressed := r.Count(int64(n))
		var value *float64
		if !suppressed {
			f := float64(v)
			value = &f
		}
		out = append(out, []any{force, month.UTC(), field, code, value, flag(suppressed)})
	}
	return out, rows.Err()
}

// measureCells runs a measure's SQL on the raw tables, by force or by
// region.
func (p *Publisher) measureCells(ctx context.Context, m measures.Measure, scope measures.Scope, from, to time.Time, byRegion bool) ([]cell, error) {
	query := m.QueryFrom
	if byRegion {
		query = m.QueryByRegion
	}
	q, err := query(p.opts.Database, p.snapshot, p.opts.Thresholds, scope, from, to)
	if err != nil {
		return nil, fmt.Errorf("share: %s: %w", m.ID, err)
	}
	rows, err := p.opts.Conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("share: measure %s: %w", m.ID, err)
	}
	defer rows.Close()
	var out []cell
	for rows.Next() {
		var c cell
		if err := rows.Scan(&c.force, &c.month, &c.numerator, &c.denominator); err != nil {
			return nil, fmt.Errorf("share: measure %s: %w", m.ID, err)
		}
		c.month = c.month.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// published is a cell after disclosure control: what may leave the hub.
type published struct {
	value, numerator, denominator *float64
	suppressed                    bool
}

// shown reports whether the cell has a value to show.
func (p published) shown() bool { return !p.suppressed && p.value != nil }

// disclose applies the agreement's disclosure rule to one cell, by kind.
// Every published number is a disclosed count or is computed from
// disclosed counts and public figures only, so nothing published says more
// about a count than its rounded value does:
//   - a count's events are suppressed and rounded, then multiplied by what
//     an event is worth (officer hours);
//   - a proportion is formed from its rounded numerator and denominator and
//     suppressed with either;
//   - a rate's numerator is a count, its denominator a published population;
//   - a median is shown only when its number of observations survives, in
//     whole minutes;
//   - a ratio (observed ÷ expected) is formed from the rounded observed
//     count and the expected count made from the rounded comparison count,
//     and suppressed with either or when fewer than the threshold are
//     expected.
func disclose(m measures.Measure, r disclosure.Rule, th measures.Thresholds, c cell) published {
	count := func(x float64) (float64, bool) {
		v, s := r.Count(int64(math.Round(x)))
		return float64(v), s
	}
	switch m.Kind {
	case measures.Count:
		per := m.PerEvent(th)
		events, s := count(c.numerator / per)
		if s {
			return published{suppressed: true}
		}
		v := events * per
		return published{value: &v, numerator: &v, denominator: &v}
	case measures.Proportion:
		num, s1 := count(c.numerator)
		den, s2 := count(c.denominator)
		if s1 || s2 || den == 0 {
			return published{suppressed: s1 || s2, numerator: nilIf(s1, num), denominator: nilIf(s2, den)}
		}
		v := num / den * m.Multiplier
		return published{value: &v, numerator: &num, denominator: &den}
	case measures.Rate:
		num, s := count(c.numerator)
		den := c.denominator
		if s || den == 0 {
			return published{suppressed: s, denominator: &den}
		}
		v := num / den * m.Multiplier
		return published{value: &v, numerator: &num, denominator: &den}
	case measures.Median:
		n, s := count(c.denominator)
		if s || n == 0 {
			return published{suppressed: s, denominator: nilIf(s, n)}
		}
		v := math.Round(c.numerator/MedianStep) * MedianStep
		return published{value: &v, numerator: &v, denominator: &n}
	default: // measures.Ratio: observed ÷ expected
		num, s1 := count(c.numerator)
		per, ok := m.ExpectedPerCount(c.force)
		if !ok {
			return published{suppressed: true}
		}
		base, s2 := count(c.denominator / per)
		expected := base * per
		if s1 || s2 || expected < float64(max(r.Threshold, 1)) {
			return published{suppressed: true}
		}
		v := num / expected * m.Multiplier
		return published{value: &v, numerator: &num, denominator: &expected}
	}
}

// MedianStep is the precision of published medians and other quantiles of
// times: whole minutes.
const MedianStep = 1.0

// finite returns v, or nil (NULL) when SPC has no value (NaN: the limits
// of a one-point or constant period).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nilIf(suppressed bool, v float64) *float64 {
	if suppressed {
		return nil
	}
	return &v
}

// direction maps a measure's improvement direction to SPC's.
func direction(d measures.Direction) spc.Direction {
	switch d {
	case measures.Higher:
		return spc.Increase
	case measures.Lower:
		return spc.Decrease
	default:
		return spc.Neutral
	}
}

// seriesRows builds one force's rows of the measures table and its
// spc_summary row. SPC runs on the published values: a suppressed month is
// left out of the chart and has no limits or signal, and the centre line,
// limits and signals say nothing the published values do not.
func seriesRows(m measures.Measure, r disclosure.Rule, th measures.Thresholds, cells []cell, rebase []time.Time) ([][]any, []any, error) {
	slices.SortFunc(cells, func(a, b cell) int { return a.month.Compare(b.month) })
	pubs := make([]published, len(cells))
	var points []spc.Point
	index := make([]int, len(cells)) // cell → point, or -1
	for i, c := range cells {
		pubs[i] = disclose(m, r, th, c)
		index[i] = -1
		if pubs[i].shown() {
			index[i] = len(points)
			points = append(points, spc.Point{Time: c.month, Value: *pubs[i].value})
		}
	}
	var res spc.Result
	if len(points) > 0 {
		var err error
		opts := spc.Options{Improvement: direction(m.Direction), Target: m.Target, Rebase: rebaseAt(points, rebase)}
		if res, err = spc.Analyse(points, opts); err != nil {
			return nil, nil, err
		}
	}
	rows := make([][]any, 0, len(cells))
	for i, c := range cells {
		pubd := pubs[i]
		row := []any{m.ID, c.force, c.month, pubd.value, pubd.numerator, pubd.denominator, flag(pubd.suppressed)}
		if k := index[i]; k >= 0 {
			pt := res.Points[k]
			row = append(row, finite(pt.Mean), finite(pt.LPL), finite(pt.UPL), finite(pt.NearLPL), finite(pt.NearUPL), string(pt.Rule), string(pt.Type))
		} else {
			row = append(row, (*float64)(nil), (*float64)(nil), (*float64)(nil), (*float64)(nil), (*float64)(nil), "", "")
		}
		rows = append(rows, row)
	}
	if len(points) == 0 || len(cells) == 0 {
		return rows, nil, nil
	}
	last := pubs[len(pubs)-1]
	variation, assurance := string(res.Variation), string(res.Assurance)
	if last.suppressed {
		variation, assurance = "suppressed", "suppressed"
	}
	summary := []any{m.ID, cells[0].force, uint32(len(points)), variation, assurance, direction(m.Direction).String(),
		m.Target, cells[len(cells)-1].month, last.value}
	return rows, summary, nil
}

// rebaseAt returns, for each change date, the time of the series' first
// point on or after it, when that is not the series' first point (there is
// nothing to rebase from) and has not been chosen already.
func rebaseAt(points []spc.Point, dates []time.Time) []time.Time {
	var out []time.Time
	for _, d := range dates {
		i, _ := slices.BinarySearchFunc(points, d, func(p spc.Point, t time.Time) int { return p.Time.Compare(t) })
		if i > 0 && i < len(points) && !slices.Contains(out, points[i].Time) {
			out = append(out, points[i].Time)
		}
	}
	return out
}

// funnelRows places each force on the month's funnel plot. The plot is
// made from the published counts of the forces whose counts are published:
// the target (their pooled proportion), the limits, the z-scores, φ and τ²
// are all derived from published numbers. A force whose counts are
// suppressed is not on the plot and has no position or limits.
func funnelRows(m measures.Measure, r disclosure.Rule, th measures.Thresholds, cells []cell) ([][]any, error) {
	byMonth := map[time.Time][]cell{}
	for _, c := range cells {
		if c.denominator > 0 {
			byMonth[c.month] = append(byMonth[c.month], c)
		}
	}
	var rows [][]any
	none := (*float64)(nil)
	for _, mo := range slices.SortedFunc(maps.Keys(byMonth), time.Time.Compare) {
		var units []funnel.Unit
		pubs := map[string]published{}
		for _, c := range byMonth[mo] {
			pubd := disclose(m, r, th, c)
			pubs[c.force] = pubd
			if pubd.shown() && *pubd.denominator > 0 {
				units = append(units, funnel.Unit{ID: c.force, Numerator: *pubd.numerator, Denominator: *pubd.denominator})
			}
		}
		placed := map[string]funnel.UnitResult{}
		var res funnel.Result
		kind := funnel.Proportion
		if m.Kind == measures.Rate {
			// A rate is a count over residents: FunnelPlotR's ratio of
			// counts, around the pooled rate of the units shown.
			kind = funnel.RatioOfCounts
			if !anyEvents(units) {
				units = nil // no pooled rate to compare with
			}
		}
		if len(units) < disclosure.MinFunnelUnits {
			units = nil
		}
		if len(units) > 0 {
			var err error
			res, err = funnel.Analyse(units, funnel.Options{Kind: kind, Adjust: len(units) >= MinFunnelAdjustUnits, Multiplier: m.Multiplier})
			if err != nil {
				return nil, err
			}
			for _, u := range res.Units {
				placed[u.ID] = u
			}
		}
		for _, force := range slices.Sorted(maps.Keys(pubs)) {
			pubd := pubs[force]
			u, ok := placed[force]
			if !ok || len(units) == 0 {
				// Not on the plot: nor are its counts in the funnel table.
				// Its denominator beside the pooled target would only invite
				// the guess "the pooled rate times it"; where the numerator
				// is published, so is the point, and the row keeps both.
				num, den := pubd.numerator, pubd.denominator
				if !pubd.shown() {
					num, den = none, none
				}
				rows = append(rows, []any{m.ID, mo, force, pubd.value, num, den, flag(pubd.suppressed),
					finiteOrNil(len(units) > 0, res.Centre()), none, none, none, none, "suppressed", "suppressed", finiteOrNil(len(units) > 0, res.Phi),
					finiteOrNil(len(units) > 0, res.Tau2), flag(res.Adjusted)})
				continue
			}
			lim := u.Limits
			rows = append(rows, []any{m.ID, mo, force, pubd.value, pubd.numerator, pubd.denominator, flag(pubd.suppressed),
				finite(res.Centre()), finite(lim.Lower95), finite(lim.Upper95), finite(lim.Lower998), finite(lim.Upper998),
				u.Flag95.String(), u.Flag998.String(), finite(res.Phi), finite(res.Tau2), flag(res.Adjusted)})
		}
	}
	return rows, nil
}

// anyEvents reports whether any unit has a numerator above zero.
func anyEvents(units []funnel.Unit) bool {
	return slices.ContainsFunc(units, func(u funnel.Unit) bool { return u.Numerator > 0 })
}

// unitsTable names the units of a comparison of regions: each region's ONS
// code, name and residents, and British Transport Police, which has none.
func unitsTable() table {
	t := table{name: "units", orderBy: "unit", columns: []column{
		{"unit", "String"}, {"name", "String"}, {"kind", "String"}, {"population", "Nullable(Float64)"},
	}}
	for _, r := range measures.Regions() {
		pop := r.Population
		t.rows = append(t.rows, []any{r.Code, r.Name, "region", &pop})
	}
	t.rows = append(t.rows, []any{measures.NationalForce, measures.UnitName(measures.NationalForce), "national force", (*float64)(nil)})
	return t
}

// finiteOrNil is finite(v) when ok, else nil.
func finiteOrNil(ok bool, v float64) *float64 {
	if !ok {
		return nil
	}
	return finite(v)
}

func catalogueRow(m measures.Measure) []any {
	return []any{m.ID, m.Title, m.Definition, m.Unit, string(m.Kind), string(m.Direction), m.Target, m.Multiplier,
		flag(m.Funnel), m.NumeratorDef, m.DenominatorDef, m.Disclosure()}
}

// aggregateTabs are the tables of an aggregate share.
type aggregateTabs struct{ measures, spc, funnel, catalogue, rejections table }

func aggregateSchema() aggregateTabs {
	nf := "Nullable(Float64)"
	return aggregateTabs{
		measures: table{name: "measures", orderBy: "(measure_id, force_id, month)", columns: []column{
			{"measure_id", "String"}, {"force_id", "String"}, {"month", "Date"},
			{"value", nf}, {"numerator", nf}, {"denominator", nf}, {"suppressed", "UInt8"},
			{"spc_mean", nf}, {"spc_lpl", nf}, {"spc_upl", nf}, {"spc_near_lpl", nf}, {"spc_near_upl", nf},
			{"spc_rule", "String"}, {"spc_type", "String"},
		}},
		spc: table{name: "spc_summary", orderBy: "(measure_id, force_id)", columns: []column{
			{"measure_id", "String"}, {"force_id", "String"}, {"points", "UInt32"},
			{"variation", "String"}, {"assurance", "String"}, {"improvement", "String"},
			{"target", nf}, {"last_month", "Date"}, {"last_value", nf},
		}},
		funnel: table{name: "funnel", orderBy: "(measure_id, month, force_id)", columns: []column{
			{"measure_id", "String"}, {"month", "Date"}, {"force_id", "String"},
			{"value", nf}, {"numerator", nf}, {"denominator", nf}, {"suppressed", "UInt8"},
			{"target", nf}, {"lower95", nf}, {"upper95", nf}, {"lower998", nf}, {"upper998", nf},
			{"position95", "String"}, {"position998", "String"}, {"phi", nf}, {"tau2", nf}, {"adjusted", "UInt8"},
		}},
		catalogue: table{name: "catalogue", orderBy: "measure_id", columns: []column{
			{"measure_id", "String"}, {"title", "String"}, {"definition", "String"}, {"unit", "String"}, {"kind", "String"},
			{"direction", "String"}, {"target", nf}, {"multiplier", "Float64"}, {"funnel", "UInt8"},
			{"numerator_definition", "String"}, {"denominator_definition", "String"}, {"disclosure", "String"},
		}},
		rejections: table{name: "feed_rejections", orderBy: "(force_id, month, field, code)", columns: []column{
			{"force_id", "String"}, {"month", "Date"}, {"field", "String"}, {"code", "String"},
			{"rejections", nf}, {"suppressed", "UInt8"},
		}},
	}
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// monthMemo keeps, for one publication, the month states of each force
// read so far: a force shown in several shares is read once (its
// revisions after approval are counted from its incidents). publish
// clears it; shares built at once share it.
type monthMemo struct {
	mu       sync.Mutex
	from, to time.Time
	states   map[string][]store.MonthStatus
}

func (m *monthMemo) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states = nil
}

// get returns the states of forces' months from from to to, reading only
// the forces not read yet for that period.
func (m *monthMemo) get(ctx context.Context, st *store.Store, forces []string, from, to time.Time) (map[string][]store.MonthStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.states == nil || !m.from.Equal(from) || !m.to.Equal(to) {
		m.states, m.from, m.to = map[string][]store.MonthStatus{}, from, to
	}
	var missing []string
	for _, f := range forces {
		if _, ok := m.states[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		read, err := st.MonthStates(ctx, missing, from, to)
		if err != nil {
			return nil, err
		}
		for _, f := range missing {
			m.states[f] = read[f]
		}
	}
	return m.states, nil
}
