package integration_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/disclosure"
	"github.com/pathwayhub/pathwayhub/hub/measures/funnel"
	"github.com/pathwayhub/pathwayhub/hub/measures/spc"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// nationalAgreement is a generated national agreement beside the London
// ones: one aggregate recipient over all three forces.
const nationalAgreement = `agreements:
  - id: national-test
    title: A national comparison of the three forces
    version: "1"
    controllers: [force/btp, force/metropolitan, force/city-of-london]
    datasets: [incidents, health_updates]
    valid_from: 2024-01-01
    valid_until: 2029-03-31
    retention: 3 years
    recipients:
      - id: national_analysts
        org: region/england
        role: regional_lead
        purpose: Compare forces' s136 pathways nationally
        scope: {forces: [btp, metropolitan, city-of-london]}
        granularity: aggregate
        measures: [all]
`

// TestRecipientCannotRecoverSuppressedCounts is a recipient's attack on
// disclosure control. With its own share only, it tries every derivation it
// can: it recomputes each statistic (SPC centre lines, limits and signals,
// funnel targets, limits, φ and τ², rates, proportions, ratios) from the
// published values, and any statistic that does not follow from them
// carries information the rounding withheld; it then uses those, the way
// the review did (pooled funnel targets times denominators, denominators
// found by inverting funnel limits, SPC centre lines times months, minus
// the other forces' or months' published counts), to narrow each
// suppressed count. No suppressed count may be narrowed to fewer values
// than the rounding base leaves a published one (5 for the nearest 5).
// Medians must come from groups over the threshold, in whole minutes.
//
// The data is simulated at a twentieth of real volumes, so many cells are
// small, for every aggregate recipient of the London agreements, of a
// generated national one and of the example national agreement (whose two
// national leads see the data by region). The true counts, for judging the attack, come
// from the measures' own SQL on the raw tables.
func TestRecipientCannotRecoverSuppressedCounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"london-rcrp.yaml", "btp-national-health.yaml"} {
		raw, err := os.ReadFile(filepath.Join(apptest.ExampleAgreements(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "national.yaml"), []byte(nationalAgreement), 0o644); err != nil {
		t.Fatal(err)
	}
	// The example national agreement: two national leads, by region.
	raw, err := os.ReadFile(filepath.Join(apptest.AllExampleAgreements(t), "national", "national-rcrp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "national-rcrp.yaml"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	creds := &auth.Credentials{}
	key, err := pseudo.NewKey(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	histories := map[string]simulate.Records{}
	for _, force := range simulate.Forces() {
		creds.Add("token-"+force, auth.Org{Kind: auth.KindForce, ID: force})
		h, err := simulate.History(simulate.Options{Force: force, Months: 14, End: end, Seed: 7, Key: key, Scale: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		histories[force] = h
		for _, u := range h.HealthUpdates {
			creds.Add("token-trust-"+u.TrustID, auth.Org{Kind: auth.KindTrust, ID: u.TrustID})
		}
	}
	h := startHubWith(t, shared.Addr(), creds, apptest.WithConfig(func(c *config.Config) { c.Agreements = dir }))
	ctx := t.Context()
	for _, force := range simulate.Forces() {
		rec := histories[force]
		sum, err := client.New(client.Options{URL: h.info.URL, Token: "token-" + force}).SubmitIncidents(ctx, rec.Incidents)
		if err != nil || sum.Rejected() > 0 {
			t.Fatalf("submit %s: %v (%d rejected: %v)", force, err, sum.Rejected(), sum.Reasons())
		}
		byTrust := map[string][]*pathwayv1.HealthUpdate{}
		for _, u := range rec.HealthUpdates {
			byTrust[u.TrustID] = append(byTrust[u.TrustID], u.Update)
		}
		for trust, ups := range byTrust {
			if _, err := client.New(client.Options{URL: h.info.URL, Token: "token-trust-" + trust}).SubmitHealthUpdates(ctx, ups); err != nil {
				t.Fatalf("submit health updates of %s: %v", trust, err)
			}
		}
	}
	h.publish(t)

	var suppressedSeen, attacked int
	recipients := map[string]string{ // recipient → its organisation
		"london_regional_lead": "region/london", nclRecipient: "icb/QMJ", nelRecipient: "icb/QMF",
		"btp_national_analysts": "force/btp", "national_analysts": "region/england",
		"npcc_mh_lead": "national/npcc", "nhse_mh_crisis": "national/nhs-england",
	}
	for r, org := range recipients {
		a := readShare(t, h, r)
		suppressedSeen += a.suppressed
		for _, leak := range a.underived() {
			t.Errorf("%s: %s", r, leak)
		}
		truth := trueCells(t, h, r, org, a.cutoff)
		for _, p := range a.pinned(truth) {
			t.Errorf("%s: %s", r, p)
		}
		for _, m := range a.badMedians() {
			t.Errorf("%s: %s", r, m)
		}
		attacked += len(a.rows)
	}
	if suppressedSeen < 20 || attacked == 0 {
		t.Fatalf("the data had %d suppressed cells in %d rows: too few to attack", suppressedSeen, attacked)
	}
	t.Logf("attacked %d published rows holding %d suppressed cells", attacked, suppressedSeen)
}

// shareRow is one row of a share's measures table.
type shareRow struct {
	measure, force                   string
	month                            time.Time
	value, numerator, denominator    *float64
	suppressed                       bool
	mean, lpl, upl, nearLPL, nearUPL *float64
	funnelRow                        bool
	target, lo95, up95, lo998, up998 *float64
	phi, tau2                        *float64
	position95, position998, kind    string
	adjusted                         bool
}

// shareView is what a recipient reads from its share.
type shareView struct {
	rows       []shareRow // measures
	funnel     []shareRow // funnel
	catalogue  map[string]measureInfo
	threshold  int
	base       int
	cutoff     time.Time
	suppressed int
}

type measureInfo struct {
	kind, direction string
	target          *float64
	multiplier      float64
}

func readShare(t *testing.T, h *hub, recipient string) *shareView {
	t.Helper()
	db := h.shareDB(t, recipient)
	threshold, base := h.disclosure(t, db)
	v := &shareView{catalogue: map[string]measureInfo{}, threshold: int(threshold), base: int(base)}
	if err := h.ch.QueryRow(t.Context(), "SELECT data_cutoff FROM "+db+".publication").Scan(&v.cutoff); err != nil {
		t.Fatal(err)
	}
	rows, err := h.ch.Query(t.Context(), "SELECT measure_id, kind, direction, target, multiplier FROM "+db+".catalogue")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var m measureInfo
		if err := rows.Scan(&id, &m.kind, &m.direction, &m.target, &m.multiplier); err != nil {
			t.Fatal(err)
		}
		v.catalogue[id] = m
	}
	rows.Close()
	rows, err = h.ch.Query(t.Context(), `SELECT measure_id, force_id, month, value, numerator, denominator, suppressed,
		spc_mean, spc_lpl, spc_upl, spc_near_lpl, spc_near_upl FROM `+db+`.measures ORDER BY measure_id, force_id, month`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r shareRow
		var sup uint8
		if err := rows.Scan(&r.measure, &r.force, &r.month, &r.value, &r.numerator, &r.denominator, &sup,
			&r.mean, &r.lpl, &r.upl, &r.nearLPL, &r.nearUPL); err != nil {
			t.Fatal(err)
		}
		r.suppressed, r.kind = sup == 1, v.catalogue[r.measure].kind
		if r.suppressed {
			v.suppressed++
		}
		v.rows = append(v.rows, r)
	}
	rows.Close()
	rows, err = h.ch.Query(t.Context(), `SELECT measure_id, force_id, month, value, numerator, denominator, suppressed,
		target, lower95, upper95, lower998, upper998, position95, position998, phi, tau2, adjusted
		FROM `+db+`.funnel ORDER BY measure_id, month, force_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		r := shareRow{funnelRow: true}
		var sup, adj uint8
		if err := rows.Scan(&r.measure, &r.force, &r.month, &r.value, &r.numerator, &r.denominator, &sup,
			&r.target, &r.lo95, &r.up95, &r.lo998, &r.up998, &r.position95, &r.position998, &r.phi, &r.tau2, &adj); err != nil {
			t.Fatal(err)
		}
		r.suppressed, r.adjusted, r.kind = sup == 1, adj == 1, v.catalogue[r.measure].kind
		v.funnel = append(v.funnel, r)
	}
	rows.Close()
	return v
}

// same reports whether a published statistic p equals what the published
// values give, want (NaN for none).
func same(p *float64, want float64) bool {
	if p == nil {
		return math.IsNaN(want) || math.IsInf(want, 0)
	}
	return math.Abs(*p-want) <= 1e-9*math.Max(1, math.Abs(want))
}

var spcDirection = map[string]spc.Direction{"higher": spc.Increase, "lower": spc.Decrease, "neutral": spc.Neutral}

// series groups rows by measure and force, in month order.
func series(rows []shareRow) map[[2]string][]shareRow {
	out := map[[2]string][]shareRow{}
	for _, r := range rows {
		k := [2]string{r.measure, r.force}
		out[k] = append(out[k], r)
	}
	return out
}

// underived lists every published statistic that does not follow from the
// published values: each one carries information the rounding withheld.
func (v *shareView) underived() []string {
	var out []string
	for k, rs := range series(v.rows) {
		info := v.catalogue[k[0]]
		var points []spc.Point
		for _, r := range rs {
			if !r.suppressed && r.value != nil {
				points = append(points, spc.Point{Time: r.month, Value: *r.value})
			}
			if r.kind == "proportion" || r.kind == "rate" || r.kind == "ratio" {
				if r.value != nil && (r.numerator == nil || r.denominator == nil || !same(r.value, *r.numerator / *r.denominator * info.multiplier)) {
					out = append(out, fmt.Sprintf("%s %s %s: value %v is not numerator ÷ denominator", k[0], k[1], r.month.Format("2006-01"), *r.value))
				}
			}
		}
		for _, r := range rs {
			for _, c := range v.disclosedCounts(k[0], k[1], r) {
				out = append(out, fmt.Sprintf("%s %s %s: %s", k[0], k[1], r.month.Format("2006-01"), c))
			}
		}
		if len(points) == 0 {
			continue
		}
		res, err := spc.Analyse(points, spc.Options{Improvement: spcDirection[info.direction], Target: info.target})
		if err != nil {
			out = append(out, fmt.Sprintf("%s %s: SPC on the published values: %v", k[0], k[1], err))
			continue
		}
		i := 0
		for _, r := range rs {
			if r.suppressed || r.value == nil {
				if r.mean != nil || r.lpl != nil || r.upl != nil {
					out = append(out, fmt.Sprintf("%s %s %s: a suppressed month has SPC limits", k[0], k[1], r.month.Format("2006-01")))
				}
				continue
			}
			p := res.Points[i]
			i++
			if !same(r.mean, p.Mean) || !same(r.lpl, p.LPL) || !same(r.upl, p.UPL) || !same(r.nearLPL, p.NearLPL) || !same(r.nearUPL, p.NearUPL) {
				out = append(out, fmt.Sprintf("%s %s %s: SPC centre %v and limits do not follow from the published values (they give %v)",
					k[0], k[1], r.month.Format("2006-01"), deref(r.mean), p.Mean))
			}
		}
	}
	byMonth := map[string][]shareRow{}
	for _, r := range v.funnel {
		k := r.measure + " " + r.month.Format("2006-01")
		byMonth[k] = append(byMonth[k], r)
	}
	for k, rs := range byMonth {
		var units []funnel.Unit
		for _, r := range rs {
			if !r.suppressed && r.value != nil && r.denominator != nil && *r.denominator > 0 {
				units = append(units, funnel.Unit{ID: r.force, Numerator: *r.numerator, Denominator: *r.denominator})
			}
		}
		if len(units) == 0 {
			for _, r := range rs {
				if r.target != nil || r.lo95 != nil {
					out = append(out, fmt.Sprintf("funnel %s: a target or limits with no force's counts published", k))
				}
			}
			continue
		}
		kind := funnelKind(v.catalogue[rs[0].measure].kind)
		if kind == funnel.RatioOfCounts && !slices.ContainsFunc(units, func(u funnel.Unit) bool { return u.Numerator > 0 }) {
			units = nil // no pooled rate: no plot
		}
		if len(units) < disclosure.MinFunnelUnits {
			units = nil // too few units shown: no plot
		}
		if len(units) == 0 {
			for _, r := range rs {
				if r.target != nil || r.lo95 != nil {
					out = append(out, fmt.Sprintf("funnel %s: a target or limits with no events published", k))
				}
			}
			continue
		}
		res, err := funnel.Analyse(units, funnel.Options{Kind: kind, Adjust: len(units) >= share.MinFunnelAdjustUnits,
			Multiplier: v.catalogue[rs[0].measure].multiplier})
		if err != nil {
			out = append(out, fmt.Sprintf("funnel %s: %v", k, err))
			continue
		}
		placed := map[string]funnel.UnitResult{}
		for _, u := range res.Units {
			placed[u.ID] = u
		}
		for _, r := range rs {
			u, ok := placed[r.force]
			if !ok {
				if r.lo95 != nil || r.up95 != nil || r.lo998 != nil || r.up998 != nil || r.position998 != "suppressed" || r.position95 != "suppressed" {
					out = append(out, fmt.Sprintf("funnel %s %s: a force whose counts are suppressed has a position or limits", k, r.force))
				}
				continue
			}
			if !same(r.target, res.Centre()) || !same(r.lo95, u.Limits.Lower95) || !same(r.up95, u.Limits.Upper95) ||
				!same(r.lo998, u.Limits.Lower998) || !same(r.up998, u.Limits.Upper998) || !same(r.phi, res.Phi) || !same(r.tau2, res.Tau2) {
				out = append(out, fmt.Sprintf("funnel %s %s: target %v and limits do not follow from the published counts (they give %v)",
					k, r.force, deref(r.target), res.Centre()))
			}
		}
	}
	slices.Sort(out)
	return out
}

// disclosedCounts lists the published numbers of r that stand for counts
// but are not disclosed counts: a count is 0, or a multiple of the base
// over the threshold. Officer hours are checked as deployments (hours ÷
// hours per deployment), and a ratio's expected count as the comparison
// count (expected ÷ the public population factor), so a figure that is a
// count times a known factor cannot hide a small count either.
func (v *shareView) disclosedCounts(measure, force string, r shareRow) []string {
	m, _ := measures.ByID(measure)
	var counts []*float64
	switch r.kind {
	case "count":
		if r.value != nil {
			x := *r.value / m.PerEvent(measures.DefaultThresholds())
			counts = []*float64{&x}
		}
	case "proportion":
		counts = []*float64{r.numerator, r.denominator}
	case "rate":
		counts = []*float64{r.numerator}
	case "median":
		counts = []*float64{r.denominator}
	case "ratio":
		counts = []*float64{r.numerator}
		if f, ok := m.ExpectedPerCount(force); ok && r.denominator != nil {
			x := *r.denominator / f
			counts = append(counts, &x)
		}
	}
	var out []string
	for _, c := range counts {
		if c == nil || *c == 0 {
			continue
		}
		n := math.Round(*c)
		if math.Abs(*c-n) > 1e-6 || n <= float64(v.threshold) || int64(n)%int64(v.base) != 0 {
			out = append(out, fmt.Sprintf("the published figure stands for a count of %v, which is not a disclosed count", *c))
		}
	}
	return out
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// interval is what the attacker knows of a count: lo ≤ n ≤ hi.
type interval struct{ lo, hi float64 }

func (a interval) add(b interval) interval { return interval{a.lo + b.lo, a.hi + b.hi} }

// known is what a published count tells: exactly 0, within rounding of its
// published value, or, suppressed, 1..threshold.
func (v *shareView) known(p *float64, suppressed bool) interval {
	switch {
	case suppressed || p == nil:
		return interval{1, float64(v.threshold)}
	case *p == 0:
		return interval{0, 0}
	default:
		h := float64(v.base / 2)
		return interval{math.Max(*p-h, float64(v.threshold)+1), *p + h}
	}
}

// pinned runs the attack on every suppressed count and lists those it
// narrows to fewer values than the rounding base, when the narrowed range
// holds the true count (truth: measure, force, month → numerator and
// denominator).
func (v *shareView) pinned(truth map[cellKey][2]float64) []string {
	var out []string
	report := func(what string, k cellKey, got interval, trueN float64) {
		lo, hi := math.Ceil(got.lo-1e-6), math.Floor(got.hi+1e-6)
		lo, hi = math.Max(lo, 1), math.Min(hi, float64(v.threshold))
		if hi < lo || trueN < lo || trueN > hi {
			return // the attack found nothing true
		}
		if hi-lo+1 < float64(v.base) {
			out = append(out, fmt.Sprintf("%s %s %s: the suppressed %s is pinned to %v..%v (true %v) by %s",
				k.measure, k.force, k.month, "count", lo, hi, trueN, what))
		}
	}
	// 1. Funnel: the pooled target times the denominators is the pooled
	// numerator; denominators come from inverting each force's limits.
	byMonth := map[string][]shareRow{}
	for _, r := range v.funnel {
		key := r.measure + " " + r.month.Format("2006-01")
		byMonth[key] = append(byMonth[key], r)
	}
	for _, rs := range byMonth {
		if rs[0].target == nil {
			continue
		}
		mult := v.catalogue[rs[0].measure].multiplier
		p := *rs[0].target / mult
		dens := make([]interval, len(rs))
		nums := make([]interval, len(rs))
		for i, r := range rs {
			dens[i] = v.known(r.denominator, r.denominator == nil)
			if n, ok := invertLimits(r, mult); ok {
				dens[i] = interval{n, n}
			}
			nums[i] = v.known(r.numerator, r.suppressed || r.numerator == nil)
		}
		var sumDen interval
		for _, d := range dens {
			sumDen = sumDen.add(d)
		}
		pooled := interval{p * sumDen.lo, p * sumDen.hi}
		for i, r := range rs {
			if !r.suppressed && r.numerator != nil {
				continue
			}
			others := interval{}
			for j := range rs {
				if j != i {
					others = others.add(nums[j])
				}
			}
			k := keyOf(r.measure, r.force, r.month)
			if tr, ok := truth[k]; ok {
				report("the pooled funnel target", k, interval{pooled.lo - others.hi, pooled.hi - others.lo}, tr[0])
			}
		}
	}
	// 2. SPC: the centre line times the months is the series' total; less
	// the other months' published counts, a suppressed month remains.
	for key, rs := range series(v.rows) {
		if rs[0].kind != "count" {
			continue
		}
		var mean *float64
		for _, r := range rs {
			if r.mean != nil {
				mean = r.mean
			}
		}
		if mean == nil {
			continue
		}
		total := *mean * float64(len(rs))
		for i, r := range rs {
			if !r.suppressed {
				continue
			}
			others := interval{}
			for j, o := range rs {
				if j != i {
					others = others.add(v.known(o.value, o.suppressed))
				}
			}
			k := keyOf(key[0], key[1], r.month)
			if tr, ok := truth[k]; ok {
				report("the SPC centre line", k, interval{total - others.hi, total - others.lo}, tr[0])
			}
		}
	}
	slices.Sort(out)
	return out
}

// invertLimits finds the denominators whose 99.8% limits, drawn with the
// published target and over-dispersion, are the ones published for r: a
// single one pins the force's exact denominator.
func invertLimits(r shareRow, mult float64) (float64, bool) {
	if r.lo998 == nil || r.up998 == nil || r.target == nil {
		return 0, false
	}
	res := funnel.Result{Kind: funnelKind(r.kind), Multiplier: mult, Target: *r.target / mult, Adjusted: r.adjusted}
	if r.phi != nil {
		res.Phi = *r.phi
	}
	if r.tau2 != nil {
		res.Tau2 = *r.tau2
	}
	var found []float64
	for n := 1.0; n <= 5000 && len(found) < 2; n++ {
		l := res.Limits(n)
		if math.Abs(l.Lower998-*r.lo998) < 1e-9 && math.Abs(l.Upper998-*r.up998) < 1e-9 {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

// badMedians lists medians shown for groups under the threshold or finer
// than whole minutes.
func (v *shareView) badMedians() []string {
	var out []string
	for _, r := range v.rows {
		if r.kind != "median" || r.value == nil {
			continue
		}
		if r.denominator == nil || *r.denominator <= float64(v.threshold) {
			out = append(out, fmt.Sprintf("%s %s %s: a median of %v shown for %v observations", r.measure, r.force, r.month.Format("2006-01"), *r.value, deref(r.denominator)))
		}
		if *r.value != math.Round(*r.value) {
			out = append(out, fmt.Sprintf("%s %s %s: a median of %v, finer than whole minutes", r.measure, r.force, r.month.Format("2006-01"), *r.value))
		}
	}
	return out
}

// cellKey names one measure's cell: measure, force and month (YYYY-MM;
// time.Time values from two sources may differ in their *Location).
type cellKey struct{ measure, force, month string }

func keyOf(measure, force string, month time.Time) cellKey {
	return cellKey{measure, force, month.Format("2006-01")}
}

// trueCells runs every measure the recipient is granted on the raw tables,
// with its scope: the unrounded numerator and denominator of every cell.
func trueCells(t *testing.T, h *hub, recipient, org string, cutoff time.Time) map[cellKey][2]float64 {
	t.Helper()
	d, err := h.info.Policy.Decide(t.Context(), policy.Input{Action: policy.ActionRead, Org: org, Recipient: recipient, Time: time.Now()})
	if err != nil || !d.Allow || len(d.Grants) == 0 {
		t.Fatalf("read decision for %s: %v %+v", recipient, err, d)
	}
	g := d.Grants[0]
	to := time.Date(cutoff.Year(), cutoff.Month(), 1, 0, 0, 0, 0, time.UTC)
	from := to.AddDate(0, -36, 0) // the hub's default shares.months
	out := map[cellKey][2]float64{}
	for _, id := range g.Measures {
		m, ok := measures.ByID(id)
		if !ok {
			continue
		}
		query := m.QueryFrom
		if g.Role == policy.RoleNationalLead {
			query = m.QueryByRegion
		}
		q, err := query(h.info.Database, "", measures.DefaultThresholds(), measures.Scope{Forces: g.Forces, Regions: g.Regions, LADs: g.LADs}, from, to)
		if err != nil {
			continue // not defined for this scope; not published either
		}
		rows, err := h.ch.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var force string
			var month time.Time
			var num, den float64
			if err := rows.Scan(&force, &month, &num, &den); err != nil {
				t.Fatal(err)
			}
			out[keyOf(id, force, month)] = [2]float64{num, den}
		}
		rows.Close()
	}
	return out
}

// funnelKind is how the hub plots a measure of the catalogue kind on a
// funnel: a rate as a ratio of counts, a proportion as such.
func funnelKind(kind string) funnel.Kind {
	if kind == "rate" {
		return funnel.RatioOfCounts
	}
	return funnel.Proportion
}
