package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/store"
)

// memSource is an in-memory Source whose incidents and failure the test
// sets between refreshes.
type memSource struct {
	mu    sync.Mutex
	incs  map[string]monitor.Incident
	err   error
	calls chan struct{}
	reads int                   // calls of OpenIncidents
	asked [][]store.IncidentKey // the keys of each call of Incidents
}

func newMemSource() *memSource { return &memSource{incs: map[string]monitor.Incident{}} }

func (s *memSource) OpenIncidents(context.Context) ([]monitor.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls != nil {
		select {
		case s.calls <- struct{}{}:
		default:
		}
	}
	s.reads++
	if s.err != nil {
		return nil, s.err
	}
	return slices.Collect(maps.Values(s.incs)), nil
}

func (s *memSource) Incidents(_ context.Context, keys []store.IncidentKey) ([]monitor.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, keys)
	if s.err != nil {
		return nil, s.err
	}
	var out []monitor.Incident
	for _, k := range keys {
		if inc, ok := s.incs[k.ForceID+"/"+k.IncidentRef]; ok {
			out = append(out, inc)
		}
	}
	return out, nil
}

func (s *memSource) put(inc monitor.Incident) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.incs[inc.ForceID+"/"+inc.IncidentRef] = inc
}

func (s *memSource) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// fakeClock is a clock the test advances by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// gaugeNames are the gauges whose series depend on the open incidents.
var gaugeNames = []string{"pathwayhub_live_open_incidents", "pathwayhub_live_incidents", "pathwayhub_live_detention_clock_within", "pathwayhub_live_stale_incidents"}

// zeros returns every incident-dependent series of the forces, at 0, for
// the default thresholds.
func zeros(forces ...string) map[string]float64 {
	out := map[string]float64{}
	for _, f := range forces {
		out[fmt.Sprintf(`pathwayhub_live_open_incidents{force=%q}`, f)] = 0
		out[fmt.Sprintf(`pathwayhub_live_stale_incidents{force=%q}`, f)] = 0
		for _, w := range []string{"4h", "1h"} {
			out[fmt.Sprintf(`pathwayhub_live_detention_clock_within{force=%q,window=%q}`, f, w)] = 0
		}
		for _, st := range []string{"detention_clock", "handover", "local_escalation", "ambulance_wait", "no_update"} {
			for _, s := range []string{"approaching", "breached"} {
				out[incidents(f, st, s)] = 0
			}
		}
	}
	return out
}

func incidents(force, stage, state string) string {
	return fmt.Sprintf(`pathwayhub_live_incidents{force=%q,stage=%q,state=%q}`, force, stage, state)
}

func with(base map[string]float64, set map[string]float64) map[string]float64 {
	out := maps.Clone(base)
	maps.Copy(out, set)
	return out
}

func newMonitor(t *testing.T, src monitor.Source, clock *fakeClock, forces ...string) (*monitor.Monitor, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := monitor.New(monitor.Options{
		Source: src, Thresholds: measures.DefaultThresholds(), Now: clock.Now,
		Registerer: reg, Forces: forces,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// TestMonitorLifecycle follows one detention from arrival at a place of
// safety through its handover warning and breach, its clock warnings, to
// its closing, with a second force watching throughout.
func TestMonitorLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	arrived := time.Date(2026, 2, 1, 23, 0, 0, 0, time.UTC)
	src := newMemSource()
	clock := &fakeClock{}
	m, reg := newMonitor(t, src, clock, "metropolitan")
	inc := monitor.Incident{
		ForceID: "btp", IncidentRef: "det-1", Status: "open", IncidentType: "s136",
		Detained: arrived.Add(-30 * time.Minute), ArrivedAtPos: arrived, LastUpdate: arrived,
	}
	src.put(inc)
	both := zeros("btp", "metropolitan")
	open := `pathwayhub_live_open_incidents{force="btp"}`
	steps := []struct {
		name  string
		now   time.Time
		edit  func(*monitor.Incident)
		want  map[string]float64
		state monitor.State
	}{
		{
			name: "just arrived", now: arrived.Add(30 * time.Minute),
			want: with(both, map[string]float64{open: 1}), state: monitor.StateOK,
		},
		{
			name: "handover approaching", now: arrived.Add(50 * time.Minute),
			want:  with(both, map[string]float64{open: 1, incidents("btp", "handover", "approaching"): 1}),
			state: monitor.StateApproaching,
		},
		{
			name: "handover breached", now: arrived.Add(61 * time.Minute),
			want:  with(both, map[string]float64{open: 1, incidents("btp", "handover", "breached"): 1}),
			state: monitor.StateBreached,
		},
		{
			name: "handed over, officers gone, updated; clock within 4h", now: arrived.Add(21 * time.Hour),
			edit: func(i *monitor.Incident) {
				i.HandoverAccepted, i.PoliceLeftPos, i.LastUpdate = arrived.Add(70*time.Minute), arrived.Add(80*time.Minute), arrived.Add(20*time.Hour)
			},
			want: with(both, map[string]float64{
				open: 1, incidents("btp", "detention_clock", "approaching"): 1,
				`pathwayhub_live_detention_clock_within{force="btp",window="4h"}`: 1,
			}),
			state: monitor.StateApproaching,
		},
		{
			name: "clock within 1h and no update for over 2h", now: arrived.Add(23*time.Hour + 30*time.Minute),
			want: with(both, map[string]float64{
				open: 1, incidents("btp", "detention_clock", "approaching"): 1,
				`pathwayhub_live_detention_clock_within{force="btp",window="4h"}`: 1,
				`pathwayhub_live_detention_clock_within{force="btp",window="1h"}`: 1,
				incidents("btp", "no_update", "breached"):                         1,
				`pathwayhub_live_stale_incidents{force="btp"}`:                    1,
			}),
			state: monitor.StateBreached,
		},
		{
			name: "clock breached", now: arrived.Add(24*time.Hour + time.Minute),
			edit: func(i *monitor.Incident) { i.LastUpdate = arrived.Add(24 * time.Hour) },
			want: with(both, map[string]float64{
				open: 1, incidents("btp", "detention_clock", "breached"): 1,
			}),
			state: monitor.StateBreached,
		},
		{
			name: "closed: every series back to 0", now: arrived.Add(25 * time.Hour),
			edit: func(i *monitor.Incident) {
				i.Status, i.DetentionEnded = "closed", arrived.Add(24*time.Hour+30*time.Minute)
			},
			want: both,
		},
	}
	for _, step := range steps {
		if step.edit != nil {
			step.edit(&inc)
			src.put(inc)
		}
		clock.set(step.now)
		if err := m.Refresh(ctx); err != nil {
			t.Fatalf("%s: refresh: %v", step.name, err)
		}
		if diff := cmp.Diff(step.want, series(t, reg, gaugeNames...)); diff != "" {
			t.Errorf("%s: gauges (-want +got):\n%s", step.name, diff)
		}
		wantLast := map[string]float64{"pathwayhub_live_last_refresh_timestamp_seconds": float64(step.now.Unix())}
		if diff := cmp.Diff(wantLast, series(t, reg, "pathwayhub_live_last_refresh_timestamp_seconds")); diff != "" {
			t.Errorf("%s: last refresh (-want +got):\n%s", step.name, diff)
		}
		rows := m.Snapshot()
		if step.state == "" {
			if len(rows) != 0 {
				t.Errorf("%s: snapshot has %d rows, want none", step.name, len(rows))
			}
			continue
		}
		if len(rows) != 1 || rows[0].Incident.IncidentRef != "det-1" || rows[0].State != step.state || !rows[0].EvaluatedAt.Equal(step.now) {
			t.Errorf("%s: snapshot = %+v, want one row for det-1 in state %s at %s", step.name, rows, step.state, step.now)
		}
	}
}

func TestMonitorRefreshError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	arrived := time.Date(2026, 2, 1, 23, 0, 0, 0, time.UTC)
	src := newMemSource()
	clock := &fakeClock{now: arrived.Add(2 * time.Hour)}
	m, reg := newMonitor(t, src, clock)
	src.put(monitor.Incident{ForceID: "btp", IncidentRef: "a", Status: "open", IncidentType: "rcrp_call", ArrivedAtPos: arrived, HandoverAccepted: arrived})
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	before := series(t, reg, gaugeNames...)
	if before[incidents("btp", "handover", "breached")] != 0 || before[incidents("btp", "local_escalation", "approaching")] != 0 {
		t.Fatalf("unexpected state before the failure: %v", before)
	}

	boom := errors.New("connection refused")
	src.fail(boom)
	clock.set(arrived.Add(5 * time.Hour))
	err := m.Refresh(ctx)
	if !errors.Is(err, boom) {
		t.Fatalf("Refresh error = %v, want it to wrap %v", err, boom)
	}
	if diff := cmp.Diff(before, series(t, reg, gaugeNames...)); diff != "" {
		t.Errorf("gauges changed on a failed refresh (-before +after):\n%s", diff)
	}
	want := map[string]float64{
		"pathwayhub_live_refresh_errors_total":           1,
		"pathwayhub_live_last_refresh_timestamp_seconds": float64(arrived.Add(2 * time.Hour).Unix()),
	}
	if diff := cmp.Diff(want, series(t, reg, "pathwayhub_live_refresh_errors_total", "pathwayhub_live_last_refresh_timestamp_seconds")); diff != "" {
		t.Errorf("refresh metrics (-want +got):\n%s", diff)
	}
	if rows := m.Snapshot(); len(rows) != 1 || rows[0].EvaluatedAt != arrived.Add(2*time.Hour) {
		t.Errorf("snapshot after a failed refresh = %+v, want the previous one", rows)
	}
}

func TestMonitorRefreshCancelledIsNoError(t *testing.T) {
	t.Parallel()
	src := newMemSource()
	src.fail(context.Canceled)
	m, reg := newMonitor(t, src, &fakeClock{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Refresh(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh = %v, want it to wrap context.Canceled", err)
	}
	want := map[string]float64{"pathwayhub_live_refresh_errors_total": 0}
	if diff := cmp.Diff(want, series(t, reg, "pathwayhub_live_refresh_errors_total")); diff != "" {
		t.Errorf("a refresh cancelled at shutdown counted as an error (-want +got):\n%s", diff)
	}
}

func TestMonitorSnapshotOrder(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 2, 1, 23, 0, 0, 0, time.UTC)
	src := newMemSource()
	for _, k := range [][2]string{{"metropolitan", "b"}, {"btp", "z"}, {"metropolitan", "a"}, {"btp", "c"}} {
		src.put(monitor.Incident{ForceID: k[0], IncidentRef: k[1], Status: "open", IncidentType: "rcrp_call", LastUpdate: now})
	}
	m, _ := newMonitor(t, src, &fakeClock{now: now})
	if err := m.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range m.Snapshot() {
		got = append(got, r.Incident.ForceID+"/"+r.Incident.IncidentRef)
	}
	want := []string{"btp/c", "btp/z", "metropolitan/a", "metropolitan/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot order (-want +got):\n%s", diff)
	}
}

func TestMonitorRun(t *testing.T) {
	t.Parallel()
	src := newMemSource()
	src.calls = make(chan struct{})
	m, err := monitor.New(monitor.Options{Source: src, Thresholds: measures.DefaultThresholds(), Interval: time.Hour, ReloadInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	// Run reads everything at once and then on every reload: wait for three reads.
	for range 3 {
		select {
		case <-src.calls:
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

// TestMonitorNotify: a notification reads the named incidents again, and
// only those: a closed one leaves the state, a new one joins it, and one not
// named waits for the next reload. Ticks evaluate without reading.
func TestMonitorNotify(t *testing.T) {
	t.Parallel()
	src := newMemSource()
	open := func(force, ref string) monitor.Incident {
		return monitor.Incident{ForceID: force, IncidentRef: ref, Status: "open", IncidentType: "s136", LastUpdate: time.Now()}
	}
	src.put(open("btp", "a"))
	src.put(open("btp", "b"))
	changed := make(chan monitor.Change, 4)
	m, err := monitor.New(monitor.Options{Source: src, Thresholds: measures.DefaultThresholds(),
		Interval: time.Millisecond, ReloadInterval: time.Hour, Changed: func(c monitor.Change) { changed <- c }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	if c := <-changed; c.Forces != nil || c.Stored != nil || c.Lost {
		t.Errorf("first change = %+v, want every force's live state and no record", c)
	}
	closed := open("btp", "a")
	closed.Status = "closed"
	src.put(closed)
	src.put(open("metropolitan", "c"))
	src.put(open("metropolitan", "d")) // stored, but not notified
	notified := []store.IncidentKey{{ForceID: "btp", IncidentRef: "a"}, {ForceID: "metropolitan", IncidentRef: "c"}}
	m.Notify(notified)
	c := <-changed
	if !slices.Equal(c.Forces, []string{"btp", "metropolitan"}) || c.Lost {
		t.Errorf("change = %+v, want the notified incidents' forces", c)
	}
	slices.SortFunc(c.Stored, func(a, b store.IncidentKey) int {
		return strings.Compare(a.ForceID+a.IncidentRef, b.ForceID+b.IncidentRef)
	})
	if !slices.Equal(c.Stored, notified) {
		t.Errorf("change's stored incidents = %v, want %v", c.Stored, notified)
	}
	time.Sleep(20 * time.Millisecond) // some ticks
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range m.Snapshot() {
		got = append(got, r.Incident.ForceID+"/"+r.Incident.IncidentRef)
	}
	if want := []string{"btp/b", "metropolitan/c"}; !slices.Equal(got, want) {
		t.Errorf("state after the notification = %v, want %v", got, want)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.reads != 1 || len(src.asked) != 1 || len(src.asked[0]) != 2 {
		t.Errorf("reads = %d full, %v by key; want 1 full and the two notified keys", src.reads, src.asked)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	bad := measures.DefaultThresholds()
	bad.HandoverWarning = 2 * time.Hour
	tests := []struct {
		name string
		opts monitor.Options
	}{
		{"no source", monitor.Options{Thresholds: measures.DefaultThresholds()}},
		{"invalid thresholds", monitor.Options{Source: newMemSource(), Thresholds: bad}},
		{"zero thresholds", monitor.Options{Source: newMemSource()}},
		{"negative interval", monitor.Options{Source: newMemSource(), Thresholds: measures.DefaultThresholds(), Interval: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := monitor.New(tt.opts); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		t.Parallel()
		reg := prometheus.NewRegistry()
		opts := monitor.Options{Source: newMemSource(), Thresholds: measures.DefaultThresholds(), Registerer: reg}
		if _, err := monitor.New(opts); err != nil {
			t.Fatal(err)
		}
		if _, err := monitor.New(opts); err == nil {
			t.Error("second New on the same registry succeeded, want an error")
		}
	})
}

// TestMonitorReportsLostReads: when reading notified incidents fails, their
// records are never reported as stored, so the next change says records may
// have been lost (and the supervisors' shares are refreshed whole); the one
// after it does not.
func TestMonitorReportsLostReads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := newMemSource()
	var got []monitor.Change
	m, err := monitor.New(monitor.Options{Source: src, Thresholds: measures.DefaultThresholds(),
		Changed: func(c monitor.Change) { got = append(got, c) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	src.fail(errors.New("connection refused"))
	key := store.IncidentKey{ForceID: "btp", IncidentRef: "a"}
	if err := m.Update(ctx, []store.IncidentKey{key}); err == nil {
		t.Fatal("Update with a failing source succeeded")
	}
	src.fail(nil)
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(ctx, []store.IncidentKey{key}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Lost || !got[1].Lost || got[2].Lost {
		t.Fatalf("changes = %+v, want three, only the second (after the failed read) with Lost", got)
	}
	if got[1].Forces != nil {
		t.Errorf("change after the failed read names forces %v, want every force (nil)", got[1].Forces)
	}
}
