package simulate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// DefaultMonths is the length of history used when Options.Months is 0.
const DefaultMonths = 24

// defaultEnd is the end of history used when Options.End is zero: 1 April
// 2025, the end of the Home Office financial year 2024/25 that the
// calibration comes from. It is fixed, not "now", so that the same Options
// always give the same records.
var defaultEnd = time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC)

// Forces lists the simulated forces: "btp", "metropolitan", "city-of-london".
func Forces() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = p.id
	}
	return out
}

// profileOf returns the calibration of force.
func profileOf(force string) (*profile, error) {
	for _, p := range profiles {
		if p.id == force {
			return p, nil
		}
	}
	return nil, fmt.Errorf("simulate: unknown force %q (known: %s)", force, strings.Join(Forces(), ", "))
}

// Options says which history to generate.
type Options struct {
	// Force is one of Forces().
	Force string
	// Months is the length of history ending at End; 0 means DefaultMonths.
	Months int
	// End is the end of history (exclusive), truncated to the second. Zero
	// means 1 April 2025 00:00 UTC: a fixed date, never the current time, so
	// that output is reproducible. Set it to a past time if the records are
	// to be submitted: incidents still open at End are left out, so nothing
	// lies after End, but a future End gives future timestamps.
	End time.Time
	// Seed selects the random stream; the same Seed gives the same records.
	Seed uint64
	// Scale multiplies every volume; 1 (or 0) is realistic.
	Scale float64
	// Key is the regional key for subject tokens and incident references.
	Key pseudo.Key
}

// Records is what History returns: a force's closed incidents and the
// trusts' health updates about them.
type Records struct {
	// Incidents holds the final snapshot of every incident whose call came
	// in during [Start, End) and that had closed by End, sorted by
	// call_received. Revisions count the snapshots a
	// live feed would have sent.
	Incidents []*pathwayv1.IncidentRecord
	// HealthUpdates holds one update (revision 1) for most detentions at an
	// NHS place of safety, in the order of their incidents.
	HealthUpdates []HealthUpdate
	// Start and End bound the period.
	Start, End time.Time
	// GoLive is when the force went live with RCRP in the simulation: the
	// trends start here (a natural point to rebase SPC limits).
	GoLive time.Time
}

// HealthUpdate is an update from an NHS trust about one incident.
type HealthUpdate struct {
	// TrustID is the ODS organisation code of the trust that submits it.
	TrustID string
	// Update is the trust's snapshot.
	Update *pathwayv1.HealthUpdate
}

// withDefaults checks opts and fills in its defaults.
func (opts Options) withDefaults() (Options, *profile, error) {
	prof, err := profileOf(opts.Force)
	if err != nil {
		return opts, nil, err
	}
	switch {
	case opts.Months < 0:
		return opts, nil, fmt.Errorf("simulate: months is %d; want 0 (default) or more", opts.Months)
	case opts.Months == 0:
		opts.Months = DefaultMonths
	}
	switch {
	case opts.Scale < 0 || math.IsNaN(opts.Scale) || math.IsInf(opts.Scale, 0):
		return opts, nil, fmt.Errorf("simulate: scale is %v; want a finite number ≥ 0", opts.Scale)
	case opts.Scale == 0:
		opts.Scale = 1
	}
	if opts.End.IsZero() {
		opts.End = defaultEnd
	}
	opts.End = opts.End.UTC().Truncate(time.Second)
	if err := checkKey(opts.Key); err != nil {
		return opts, nil, err
	}
	return opts, prof, nil
}

// checkKey fails early on a key that cannot tokenise.
func checkKey(key pseudo.Key) error {
	if _, err := key.IncidentRef("check"); err != nil {
		return fmt.Errorf("simulate: key: %w", err)
	}
	return nil
}

// History returns the final snapshot of every incident the force had in the
// period, plus the trusts' health updates, sorted by call_received. The same
// Options give byte-identical output (proto.Marshal with Deterministic).
func History(opts Options) (Records, error) {
	opts, prof, err := opts.withDefaults()
	if err != nil {
		return Records{}, err
	}
	start, end := opts.End.AddDate(0, -opts.Months, 0), opts.End
	span := end.Sub(start).Seconds()
	out := Records{Start: start, End: end, GoLive: start.Add(time.Duration(goLiveAt * span * float64(time.Second)))}
	g := newGenerator(prof, opts.Key, newRNG(opts.Seed, "history/"+prof.id))
	for day := start.Truncate(24 * time.Hour); day.Before(end); day = day.Add(24 * time.Hour) {
		x := ramp(day.Add(12*time.Hour).Sub(start).Seconds() / span)
		if err := g.historyDay(&out, day, x, opts.Scale); err != nil {
			return Records{}, err
		}
	}
	return out, nil
}

// historyDay appends the closed incidents of one UTC day to out.
func (g *generator) historyDay(out *Records, day time.Time, x, scale float64) error {
	calls := g.dayCalls(day, x, scale)
	slices.SortStableFunc(calls, func(a, b dayCall) int { return cmp.Compare(a.at, b.at) })
	from, until := out.Start.Unix(), out.End.Unix()
	for i, c := range calls {
		if c.at < from || c.at >= until {
			continue
		}
		local := fmt.Sprintf("%s-%05d", day.Format("20060102"), i+1)
		inc, err := g.newIncident(c.kind, c.at, local, x)
		if err != nil {
			return err
		}
		if inc.closeAt > until {
			continue // still open at the end of the period
		}
		out.Incidents = append(out.Incidents, inc.record(inc.closeAt, uint32(len(inc.milestones()))))
		if inc.trustUpdate {
			out.HealthUpdates = append(out.HealthUpdates, HealthUpdate{
				TrustID: inc.pos.org,
				Update:  inc.healthUpdate(inc.closeAt, 1),
			})
		}
	}
	return nil
}
