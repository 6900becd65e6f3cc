package simulate

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// DefaultLookback is how far in the past the simulated clock starts when
// LiveOptions.Speed is above 1 and LiveOptions.Lookback is 0.
const DefaultLookback = 24 * time.Hour

// Live-mode tuning.
const (
	// maxWait is the longest RunLive sleeps before reading the clock again.
	maxWait = time.Second
	// maxBatch is the most records handed to the Sink in one call (the hub
	// accepts up to 10,000).
	maxBatch = 1000
)

// Sink receives the live feed. RunLive calls it from one goroutine, one call
// at a time.
type Sink interface {
	// Incidents receives new snapshots of one force's incidents (every
	// record of a call has the same force_id), each with a higher revision
	// than that incident's previous snapshot.
	Incidents(ctx context.Context, recs []*pathwayv1.IncidentRecord) error
	// HealthUpdates receives new updates from the trust with ODS
	// organisation code trustID.
	HealthUpdates(ctx context.Context, trustID string, ups []*pathwayv1.HealthUpdate) error
}

// LiveOptions configures RunLive.
type LiveOptions struct {
	// Forces are the forces to simulate (duplicates ignored); empty means all
	// of Forces().
	Forces []string
	// Seed selects the random stream.
	Seed uint64
	// Key is the regional key for subject tokens and incident references.
	Key pseudo.Key
	// Speed is simulated seconds per real second, e.g. 60; 0 means 1. See
	// Lookback for why the speed-up is bounded.
	Speed float64
	// Rate is new incidents per simulated hour across all forces; 0 means
	// realistic (about 3.6 an hour for all three forces, after RCRP).
	Rate float64
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Lookback is how long before Now the simulated clock starts. No record
	// may lie in the future, so the simulated clock never overtakes the wall
	// clock: it runs Speed times faster until it catches up, then keeps pace.
	// A Lookback of 24 hours at Speed 60 gives 24 minutes of fast feed. 0
	// means DefaultLookback when Speed is above 1, and no lookback otherwise.
	Lookback time.Duration
}

// withDefaults checks opts and fills in its defaults.
func (opts LiveOptions) withDefaults() (LiveOptions, error) {
	forces := opts.Forces
	if len(forces) == 0 {
		forces = Forces()
	}
	opts.Forces = nil
	for _, f := range forces {
		if _, err := profileOf(f); err != nil {
			return opts, err
		}
		if !slices.Contains(opts.Forces, f) {
			opts.Forces = append(opts.Forces, f)
		}
	}
	switch {
	case opts.Speed < 0 || math.IsNaN(opts.Speed) || math.IsInf(opts.Speed, 0):
		return opts, fmt.Errorf("simulate: speed is %v; want a finite number ≥ 0", opts.Speed)
	case opts.Speed == 0:
		opts.Speed = 1
	}
	if opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) {
		return opts, fmt.Errorf("simulate: rate is %v; want a finite number ≥ 0", opts.Rate)
	}
	switch {
	case opts.Lookback < 0:
		return opts, fmt.Errorf("simulate: lookback is %v; want 0 or more", opts.Lookback)
	case opts.Lookback == 0 && opts.Speed > 1:
		opts.Lookback = DefaultLookback
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts, checkKey(opts.Key)
}

// RunLive opens, updates and closes incidents as a simulated clock moves,
// handing each new snapshot to sink: an incident's first snapshot has
// revision 1 and status OPEN, each change adds a revision, and the last one
// is CLOSED with the outcome. Trusts send their own updates (handover,
// presence requests, assessment, outcome) with increasing revisions. The
// incidents are calibrated like the end of a History period (RCRP in full
// effect). It returns nil when ctx is cancelled, or the first error of sink.
func RunLive(ctx context.Context, opts LiveOptions, sink Sink) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	l := newLive(opts)
	for {
		now := l.clock.sim(opts.Now())
		if err := l.advance(now); err != nil {
			return err
		}
		if err := l.flush(ctx, sink, now); err != nil {
			return unlessCancelled(ctx, err)
		}
		if !sleep(ctx, min(maxWait, l.clock.wallFor(l.next()).Sub(opts.Now()))) {
			return nil
		}
	}
}

// unlessCancelled returns err, or nil once ctx is cancelled (the Sink's
// error is then only the cancellation).
func unlessCancelled(ctx context.Context, err error) error {
	select {
	case <-ctx.Done():
		return nil
	default:
		return err
	}
}

// sleep waits for d (not at all if d ≤ 0) and reports false if ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-ctx.Done():
			return false
		default:
			return true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// liveClock maps the wall clock to the simulated clock.
type liveClock struct {
	wallStart time.Time
	simStart  int64 // Unix seconds
	speed     float64
}

// sim returns the simulated time (Unix seconds) at wall time wall: Speed
// times the elapsed wall time after simStart, never ahead of wall.
func (c liveClock) sim(wall time.Time) int64 {
	s := c.simStart + int64(wall.Sub(c.wallStart).Seconds()*c.speed)
	return min(s, wall.Unix())
}

// wallFor returns the wall time at which the simulated clock reaches sim.
func (c liveClock) wallFor(sim int64) time.Time {
	fast := c.wallStart.Add(time.Duration(float64(sim-c.simStart) / c.speed * float64(time.Second)))
	caughtUp := time.Unix(sim, 0)
	if fast.After(caughtUp) {
		return fast
	}
	return caughtUp
}

// live is the state of a running live feed.
type live struct {
	clock   liveClock
	forces  []string
	gens    map[string]*generator
	arrival rng
	// kinds are the force and incident kind of each arrival, weighted.
	kinds []choice[liveKind]
	// meanGap is the mean simulated seconds between arrivals.
	meanGap     float64
	nextArrival int64
	// prefix starts every local incident number of this run.
	prefix string
	count  int
	queue  eventQueue
	seq    uint64
}

// schedule queues e behind every event already scheduled for the same time.
func (l *live) schedule(e event) {
	l.seq++
	e.seq = l.seq
	heap.Push(&l.queue, e)
}

// liveKind is the force and kind of a new incident.
type liveKind struct {
	force string
	kind  pathwayv1.IncidentType
}

// newLive prepares a live feed from checked options.
func newLive(opts LiveOptions) *live {
	wall := opts.Now().UTC().Truncate(time.Second)
	l := &live{
		clock:   liveClock{wallStart: wall, simStart: wall.Add(-opts.Lookback).Unix(), speed: opts.Speed},
		forces:  opts.Forces,
		gens:    map[string]*generator{},
		arrival: newRNG(opts.Seed, "live/arrivals"),
		prefix:  fmt.Sprintf("LIVE-%x-%s", opts.Seed, wall.Format("20060102T150405")),
	}
	perHour := 0.0
	for _, f := range opts.Forces {
		prof, _ := profileOf(f) // checked by withDefaults
		l.gens[f] = newGenerator(prof, opts.Key, newRNG(opts.Seed, "live/"+f))
		for _, k := range []choice[pathwayv1.IncidentType]{
			{typeS136, prof.s136PerYear * (1 - prof.s136Fall)},
			{typeS135, prof.s135PerYear},
			{typeRCRP, prof.rcrpPerYear},
		} {
			l.kinds = append(l.kinds, choice[liveKind]{liveKind{f, k.value}, k.weight})
			perHour += k.weight / hoursPerYear
		}
	}
	if opts.Rate > 0 {
		perHour = opts.Rate
	}
	l.meanGap = secondsPerHour / perHour
	l.nextArrival = l.clock.simStart + l.gap()
	return l
}

// gap draws the simulated seconds to the next arrival (exponential).
func (l *live) gap() int64 {
	return max(1, int64(math.Round(l.arrival.ExpFloat64()*l.meanGap)))
}

// next returns the simulated time of the next thing to happen.
func (l *live) next() int64 {
	if len(l.queue) > 0 && l.queue[0].at < l.nextArrival {
		return l.queue[0].at
	}
	return l.nextArrival
}

// advance creates the incidents whose calls arrive by now and schedules
// their snapshots.
func (l *live) advance(now int64) error {
	for l.nextArrival <= now {
		k := pick(l.arrival, l.kinds)
		l.count++
		local := fmt.Sprintf("%s-%06d", l.prefix, l.count)
		inc, err := l.gens[k.force].newIncident(k.kind, l.nextArrival, local, 1)
		if err != nil {
			return err
		}
		for i, at := range inc.milestones() {
			l.schedule(event{at: at, inc: inc, revision: uint32(i + 1)})
		}
		for i, at := range inc.healthMilestones() {
			l.schedule(event{at: at, inc: inc, revision: uint32(i + 1), health: true})
		}
		l.nextArrival += l.gap()
	}
	return nil
}

// flush hands every snapshot due by now to sink: one call per force, then
// one per trust, in batches of at most maxBatch.
func (l *live) flush(ctx context.Context, sink Sink, now int64) error {
	records := map[string][]*pathwayv1.IncidentRecord{}
	updates := map[string][]*pathwayv1.HealthUpdate{}
	for len(l.queue) > 0 && l.queue[0].at <= now {
		e := heap.Pop(&l.queue).(event)
		if e.health {
			updates[e.inc.pos.org] = append(updates[e.inc.pos.org], e.inc.healthUpdate(e.at, e.revision))
		} else {
			records[e.inc.force] = append(records[e.inc.force], e.inc.record(e.at, e.revision))
		}
	}
	for _, f := range l.forces {
		for batch := range slices.Chunk(records[f], maxBatch) {
			if err := sink.Incidents(ctx, batch); err != nil {
				return fmt.Errorf("simulate: sink incidents (%s): %w", f, err)
			}
		}
	}
	trusts := make([]string, 0, len(updates))
	for t := range updates {
		trusts = append(trusts, t)
	}
	slices.Sort(trusts)
	for _, t := range trusts {
		for batch := range slices.Chunk(updates[t], maxBatch) {
			if err := sink.HealthUpdates(ctx, t, batch); err != nil {
				return fmt.Errorf("simulate: sink health updates (%s): %w", t, err)
			}
		}
	}
	return nil
}

// event is one snapshot due at a simulated time.
type event struct {
	at       int64
	seq      uint64 // scheduling order, to break ties deterministically
	inc      *incident
	revision uint32
	health   bool
}

// eventQueue is a min-heap of events by time, then scheduling order.
type eventQueue []event

// Len implements heap.Interface.
func (q eventQueue) Len() int { return len(q) }

// Less implements heap.Interface.
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

// Swap implements heap.Interface.
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

// Push implements heap.Interface.
func (q *eventQueue) Push(x any) { *q = append(*q, x.(event)) }

// Pop implements heap.Interface.
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
