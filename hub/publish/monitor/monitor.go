package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store"
)

// DefaultInterval is how often Run evaluates the open incidents against the
// clock when Options.Interval is zero.
const DefaultInterval = 30 * time.Second

// DefaultReloadInterval is how often Run reads every open incident again
// when Options.ReloadInterval is zero. Between reloads the state is kept up
// to date by Notify, batch by batch.
const DefaultReloadInterval = 15 * time.Minute

// The names of the metrics the monitor exports.
const (
	// MetricOpenIncidents is a gauge of open incidents by force.
	MetricOpenIncidents = "pathwayhub_live_open_incidents"
	// MetricIncidents is a gauge of open incidents by force, stage and
	// state (approaching or breached).
	MetricIncidents = "pathwayhub_live_incidents"
	// MetricDetentionClockWithin is a gauge of open detentions by force
	// whose clock runs out within a warning window (label window, e.g.
	// "4h") and has not yet run out.
	MetricDetentionClockWithin = "pathwayhub_live_detention_clock_within"
	// MetricStaleIncidents is a gauge of open incidents by force with no
	// update for longer than Thresholds.StaleAfter.
	MetricStaleIncidents = "pathwayhub_live_stale_incidents"
	// MetricRefreshErrors counts refreshes that failed to read the source.
	MetricRefreshErrors = "pathwayhub_live_refresh_errors_total"
	// MetricLastRefresh is the Unix time of the last successful refresh.
	MetricLastRefresh = "pathwayhub_live_last_refresh_timestamp_seconds"
)

// Source reads incidents (hub/store's Store is one).
type Source interface {
	// OpenIncidents returns every open incident at its latest revision.
	OpenIncidents(ctx context.Context) ([]Incident, error)
	// Incidents returns the latest revision of each given incident the
	// source holds, whatever its status.
	Incidents(ctx context.Context, keys []store.IncidentKey) ([]Incident, error)
}

// Options configure New.
type Options struct {
	// Source supplies the open incidents. It is required.
	Source Source
	// Thresholds are what the incidents are measured against; they must
	// pass Thresholds.Validate.
	Thresholds measures.Thresholds
	// Interval is how often Run evaluates the open incidents against the
	// clock, without reading the source; zero means DefaultInterval.
	Interval time.Duration
	// ReloadInterval is how often Run reads every open incident again; zero
	// means DefaultReloadInterval.
	ReloadInterval time.Duration
	// Changed, when non-nil, is called after the state changed, with what
	// the change concerns.
	Changed func(Change)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Registerer receives the monitor's metrics; nil means they are not
	// registered anywhere.
	Registerer prometheus.Registerer
	// Logger receives refresh failures; nil discards them.
	Logger *slog.Logger
	// Forces, when set, are exported with zero series from the first
	// refresh, before they have an open incident.
	Forces []string
}

// Change says what a change of the monitor's state concerns (see
// Options.Changed).
type Change struct {
	// Forces are the forces whose live state may have changed; nil means
	// every force.
	Forces []string
	// Stored are the incidents read again because they were stored: their
	// records changed.
	Stored []store.IncidentKey
	// Lost is true when incidents may have been stored that the monitor
	// never read (a read failed since the last change): any force's
	// records may have changed.
	Lost bool
}

// Row is one open incident as of the last refresh, with its flags.
type Row struct {
	Incident Incident
	// Flags are Evaluate's flags for the incident.
	Flags []Flag
	// State is the most urgent state among Flags.
	State State
	// EvaluatedAt is the clock reading the flags were evaluated at.
	EvaluatedAt time.Time
}

// Monitor polls open incidents, evaluates them and keeps the gauges and the
// snapshot up to date.
type Monitor struct {
	source   Source
	th       measures.Thresholds
	warnings []time.Duration
	interval time.Duration
	reload   time.Duration
	now      func() time.Time
	logger   *slog.Logger
	metrics  metrics
	changed  func(Change)
	wake     chan struct{} // a notification is pending
	readAll  chan struct{} // a read of every open incident is asked for

	pendingMu sync.Mutex
	pending   map[store.IncidentKey]struct{}

	mu       sync.Mutex
	forces   map[string]struct{}
	open     map[store.IncidentKey]Incident // the open incidents, as last read
	complete bool                           // open holds every open incident
	lost     bool                           // a read failed since the last change was reported
	snapshot []Row
	tallies  map[string]*counts // the last evaluation's counts by force
}

type metrics struct {
	open          *prometheus.GaugeVec
	incidents     *prometheus.GaugeVec
	within        *prometheus.GaugeVec
	stale         *prometheus.GaugeVec
	refreshErrors prometheus.Counter
	lastRefresh   prometheus.Gauge
}

func newMetrics() metrics {
	return metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricOpenIncidents,
			Help: "Open incidents by force, as of the last refresh of the live pathway monitor.",
		}, []string{"force"}),
		incidents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricIncidents,
			Help: "Open incidents by force, pathway stage and state (approaching or breached its threshold).",
		}, []string{"force", "stage", "state"}),
		within: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricDetentionClockWithin,
			Help: "Open detentions by force whose clock (24 hours plus extension) runs out within the warning window and has not yet run out.",
		}, []string{"force", "window"}),
		stale: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricStaleIncidents,
			Help: "Open incidents by force with no new revision for longer than the stale threshold.",
		}, []string{"force"}),
		refreshErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricRefreshErrors,
			Help: "Refreshes of the live pathway monitor that failed to read the open incidents.",
		}),
		lastRefresh: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricLastRefresh,
			Help: "Unix time of the last successful refresh of the live pathway monitor.",
		}),
	}
}

func (ms metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{ms.open, ms.incidents, ms.within, ms.stale, ms.refreshErrors, ms.lastRefresh} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// New returns a monitor; call Run (or Refresh) to start evaluating.
func New(opts Options) (*Monitor, error) {
	if opts.Source == nil {
		return nil, errors.New("monitor: no source")
	}
	if err := opts.Thresholds.Validate(); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	if opts.Interval < 0 || opts.ReloadInterval < 0 {
		return nil, fmt.Errorf("monitor: intervals must not be negative, got %s and %s", opts.Interval, opts.ReloadInterval)
	}
	m := &Monitor{
		source:   opts.Source,
		th:       opts.Thresholds,
		warnings: sortedWarnings(opts.Thresholds),
		interval: cmp.Or(opts.Interval, DefaultInterval),
		reload:   cmp.Or(opts.ReloadInterval, DefaultReloadInterval),
		changed:  opts.Changed,
		wake:     make(chan struct{}, 1),
		readAll:  make(chan struct{}, 1),
		pending:  map[store.IncidentKey]struct{}{},
		open:     map[store.IncidentKey]Incident{},
		now:      opts.Now,
		logger:   opts.Logger,
		metrics:  newMetrics(),
		forces:   map[string]struct{}{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	m.logger = m.logger.With("component", "monitor")
	for _, f := range opts.Forces {
		m.forces[f] = struct{}{}
	}
	if opts.Registerer != nil {
		if err := m.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("monitor: register metrics: %w", err)
		}
	}
	return m, nil
}

// Refresh reads every open incident, evaluates them and sets every gauge.
// Every force the monitor has seen gets all its series set, so a count that
// falls to nothing reads 0 rather than lingering. When the source fails, the
// error counter goes up (unless ctx was cancelled, as at shutdown) and the
// gauges and snapshot keep their last values.
func (m *Monitor) Refresh(ctx context.Context) error {
	incs, err := m.source.OpenIncidents(ctx)
	if err != nil {
		m.failed(ctx)
		return fmt.Errorf("monitor: refresh: %w", err)
	}
	open := make(map[store.IncidentKey]Incident, len(incs))
	for _, inc := range incs {
		if inc.Status == StatusOpen {
			open[store.IncidentKey{ForceID: inc.ForceID, IncidentRef: inc.IncidentRef}] = inc
		}
	}
	m.mu.Lock()
	m.open, m.complete = open, true
	m.evaluate()
	lost := m.lost
	m.lost = false
	m.mu.Unlock()
	if m.changed != nil {
		m.changed(Change{Lost: lost})
	}
	return nil
}

// Notify tells the monitor that these incidents were stored (a new revision,
// or a trust's update to them); Run reads them again at once. It never
// blocks.
func (m *Monitor) Notify(keys []store.IncidentKey) {
	m.pendingMu.Lock()
	for _, k := range keys {
		m.pending[k] = struct{}{}
	}
	m.pendingMu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// ReadAll tells the monitor that incidents it was not told of may have
// been stored (through another hub of a cluster, say); Run reads every
// open incident again at once. It never blocks.
func (m *Monitor) ReadAll() {
	select {
	case m.readAll <- struct{}{}:
	default:
	}
}

// Update reads the given incidents again and updates the state: an incident
// whose latest revision is open is added or replaced, any other removed.
// It costs what the keys cost, not what every open incident costs.
func (m *Monitor) Update(ctx context.Context, keys []store.IncidentKey) error {
	if len(keys) == 0 {
		return nil
	}
	incs, err := m.source.Incidents(ctx, keys)
	if err != nil {
		m.failed(ctx)
		return fmt.Errorf("monitor: update: %w", err)
	}
	forces := map[string]struct{}{}
	m.mu.Lock()
	for _, k := range keys {
		delete(m.open, k)
		forces[k.ForceID] = struct{}{}
	}
	for _, inc := range incs {
		if inc.Status == StatusOpen {
			m.open[store.IncidentKey{ForceID: inc.ForceID, IncidentRef: inc.IncidentRef}] = inc
		}
	}
	m.evaluate()
	lost := m.lost
	m.lost = false
	m.mu.Unlock()
	if m.changed != nil {
		m.changed(Change{Forces: slices.Sorted(maps.Keys(forces)), Stored: keys, Lost: lost})
	}
	return nil
}

// failed counts a failed read and marks the state incomplete, so the next
// tick reads everything again.
func (m *Monitor) failed(ctx context.Context) {
	if ctx.Err() == nil {
		m.metrics.refreshErrors.Inc()
	}
	m.mu.Lock()
	m.complete, m.lost = false, true
	m.mu.Unlock()
}

// evaluate evaluates the open incidents against the clock and sets the
// gauges and the snapshot; m.mu must be held. The last-refresh gauge moves
// only while the state is complete. It returns the forces whose counts the
// evaluation changed (an incident approaching or breaching a standard as
// time passes, say).
func (m *Monitor) evaluate() []string {
	now := m.now()
	rows := make([]Row, 0, len(m.open))
	for _, inc := range m.open {
		flags := Evaluate(now, inc, m.th)
		rows = append(rows, Row{Incident: inc, Flags: flags, State: Worst(flags), EvaluatedAt: now})
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Incident.ForceID, b.Incident.ForceID), cmp.Compare(a.Incident.IncidentRef, b.Incident.IncidentRef))
	})
	for _, r := range rows {
		m.forces[r.Incident.ForceID] = struct{}{}
	}
	tallies := tally(rows, m.warnings)
	m.setGauges(tallies)
	if m.complete {
		m.metrics.lastRefresh.Set(float64(now.UnixNano()) / 1e9)
	}
	m.snapshot = rows
	var changed []string
	for f := range m.forces {
		if !reflect.DeepEqual(tallies[f], m.tallies[f]) {
			changed = append(changed, f)
		}
	}
	m.tallies = tallies
	slices.Sort(changed)
	return changed
}

// counts are one refresh's gauge values for one force.
type counts struct {
	open   int
	stages map[Stage]map[State]int
	within map[time.Duration]int
}

// tally counts rows by force. An approaching detention counts towards every
// warning window its remaining time lies within.
func tally(rows []Row, warnings []time.Duration) map[string]*counts {
	out := map[string]*counts{}
	for _, r := range rows {
		c := out[r.Incident.ForceID]
		if c == nil {
			c = &counts{stages: map[Stage]map[State]int{}, within: map[time.Duration]int{}}
			out[r.Incident.ForceID] = c
		}
		c.open++
		for _, f := range r.Flags {
			if c.stages[f.Stage] == nil {
				c.stages[f.Stage] = map[State]int{}
			}
			c.stages[f.Stage][f.State]++
			if f.Stage != StageDetentionClock || f.State != StateApproaching {
				continue
			}
			for _, w := range warnings {
				if w >= f.Warning {
					c.within[w]++
				}
			}
		}
	}
	return out
}

// setGauges sets every series of every known force; m.mu must be held.
func (m *Monitor) setGauges(byForce map[string]*counts) {
	empty := &counts{}
	for force := range m.forces {
		c := byForce[force]
		if c == nil {
			c = empty
		}
		m.metrics.open.WithLabelValues(force).Set(float64(c.open))
		for _, s := range Stages() {
			for _, st := range []State{StateApproaching, StateBreached} {
				m.metrics.incidents.WithLabelValues(force, string(s), string(st)).Set(float64(c.stages[s][st]))
			}
		}
		for _, w := range m.warnings {
			m.metrics.within.WithLabelValues(force, promDuration(w)).Set(float64(c.within[w]))
		}
		m.metrics.stale.WithLabelValues(force).Set(float64(c.stages[StageNoUpdate][StateBreached]))
	}
}

// Run reads every open incident at once, and again every ReloadInterval
// (or at the next tick after a failed read); reads the incidents Notify
// names as soon as it is called; and evaluates the state against the clock
// every Interval, which reads nothing. It returns nil when ctx is done. A
// failed read is logged and counted. Run is meant to be an actor in the
// hub's run group.
func (m *Monitor) Run(ctx context.Context) error {
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	reload := time.NewTicker(m.reload)
	defer reload.Stop()
	refresh := func() {
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.logger.Warn("live pathway refresh failed", "err", err)
		}
	}
	refresh()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-reload.C:
			refresh()
		case <-m.readAll:
			refresh()
		case <-tick.C:
			m.mu.Lock()
			complete := m.complete
			var changed []string
			if complete {
				changed = m.evaluate()
			}
			m.mu.Unlock()
			if !complete {
				refresh()
			} else if len(changed) > 0 && m.changed != nil {
				m.changed(Change{Forces: changed})
			}
		case <-m.wake:
			m.pendingMu.Lock()
			keys := slices.Collect(maps.Keys(m.pending))
			clear(m.pending)
			m.pendingMu.Unlock()
			if err := m.Update(ctx, keys); err != nil && ctx.Err() == nil {
				m.logger.Warn("live pathway update failed; reading everything at the next tick", "err", err)
			}
		}
	}
}

// Snapshot returns the last refresh's evaluation: one row per open incident,
// ordered by force and incident reference. It is empty before the first
// successful refresh. The caller may keep and modify the result.
func (m *Monitor) Snapshot() []Row {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Row, len(m.snapshot))
	for i, r := range m.snapshot {
		r.Flags = slices.Clone(r.Flags)
		out[i] = r
	}
	return out
}
