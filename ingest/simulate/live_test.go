package simulate_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// recordingSink checks and keeps what RunLive sends, and cancels the run once
// it has seen enough.
type recordingSink struct {
	t      *testing.T
	v      *validate.Validator
	cancel context.CancelFunc

	mu         sync.Mutex
	incidents  map[string]*pathwayv1.IncidentRecord // latest snapshot by ref
	health     map[string]uint32                    // latest revision by trust and ref
	opened     int                                  // first snapshots: revision 1, OPEN
	updated    int                                  // later snapshots
	closed     int
	healthSent int
	failed     bool
}

// newRecordingSink returns a sink that validates with the clock now.
func newRecordingSink(t *testing.T, now func() time.Time, cancel context.CancelFunc) *recordingSink {
	v, err := validate.New(validate.Options{Skew: time.Second, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &recordingSink{
		t: t, v: v, cancel: cancel,
		incidents: map[string]*pathwayv1.IncidentRecord{},
		health:    map[string]uint32{},
	}
}

// fail records a failure; t.Fatal may not be called from RunLive's goroutine.
func (s *recordingSink) fail(format string, args ...any) {
	s.t.Errorf(format, args...)
	s.failed = true
	s.cancel()
}

// Incidents implements simulate.Sink.
func (s *recordingSink) Incidents(_ context.Context, recs []*pathwayv1.IncidentRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if r.GetForceId() != recs[0].GetForceId() {
			s.fail("one batch holds records of %s and %s", recs[0].GetForceId(), r.GetForceId())
		}
		if rep := s.v.Incident(r); !rep.OK() {
			s.fail("live %v rev %d rejected: %v", r.GetIncidentType(), r.GetRevision(), rep.Errors)
		}
		prev := s.incidents[r.GetIncidentRef()]
		switch {
		case prev == nil && (r.GetRevision() != 1 || r.GetStatus() != pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN):
			s.fail("first snapshot has revision %d, status %v", r.GetRevision(), r.GetStatus())
		case prev == nil:
			s.opened++
		case r.GetRevision() != prev.GetRevision()+1:
			s.fail("revision %d follows %d", r.GetRevision(), prev.GetRevision())
		case prev.GetStatus() == pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED:
			s.fail("snapshot after the incident closed")
		default:
			s.updated++
		}
		if r.GetStatus() == pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED {
			s.closed++
		}
		s.incidents[r.GetIncidentRef()] = r
	}
	s.maybeDone()
	return nil
}

// HealthUpdates implements simulate.Sink.
func (s *recordingSink) HealthUpdates(_ context.Context, trustID string, ups []*pathwayv1.HealthUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range ups {
		if rep := s.v.HealthUpdate(u); !rep.OK() {
			s.fail("live health update rejected: %v", rep.Errors)
		}
		rec := s.incidents[u.GetIncidentRef()]
		switch {
		case rec == nil:
			s.fail("health update for an incident not yet sent")
		case rec.GetPosOdsOrg() != trustID || !strings.HasPrefix(u.GetPosOdsSite(), trustID):
			s.fail("health update from %s for a place of safety of %s", trustID, rec.GetPosOdsOrg())
		}
		key := trustID + "/" + u.GetIncidentRef()
		if u.GetRevision() != s.health[key]+1 {
			s.fail("health revision %d follows %d", u.GetRevision(), s.health[key])
		}
		s.health[key] = u.GetRevision()
		s.healthSent++
	}
	s.maybeDone()
	return nil
}

// maybeDone cancels the run once every kind of event has been seen a few
// times.
func (s *recordingSink) maybeDone() {
	if s.opened >= 50 && s.updated >= 50 && s.closed >= 20 && s.healthSent >= 10 {
		s.cancel()
	}
}

func TestRunLive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// A wall clock a month behind: no record may lie after it.
	now := func() time.Time { return time.Now().AddDate(0, -1, 0) }
	sink := newRecordingSink(t, now, cancel)
	opts := simulate.LiveOptions{
		Seed:  3,
		Key:   testKey(t),
		Speed: 100000, // the 24-hour lookback passes in under a second
		Rate:  200,
		Now:   now,
	}
	start := time.Now()
	if err := simulate.RunLive(ctx, opts, sink); err != nil {
		t.Fatalf("RunLive: %v", err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	t.Logf("after %v: %d opened, %d updates, %d closed, %d health updates",
		time.Since(start).Round(time.Millisecond), sink.opened, sink.updated, sink.closed, sink.healthSent)
	if sink.failed {
		return
	}
	if ctx.Err() == nil || (sink.opened < 50 || sink.closed < 20 || sink.healthSent < 10) {
		t.Errorf("the run ended before the feed showed opens, updates, closes and health updates")
	}
	forces := map[string]bool{}
	for _, r := range sink.incidents {
		forces[r.GetForceId()] = true
	}
	if len(forces) != len(simulate.Forces()) {
		t.Errorf("live incidents from %v; want every force", forces)
	}
}

func TestRunLiveOptions(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	for _, tc := range []struct {
		name string
		opts simulate.LiveOptions
	}{
		{"unknown force", simulate.LiveOptions{Forces: []string{"kent"}, Key: key}},
		{"negative speed", simulate.LiveOptions{Speed: -1, Key: key}},
		{"negative rate", simulate.LiveOptions{Rate: -1, Key: key}},
		{"no key", simulate.LiveOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := simulate.RunLive(t.Context(), tc.opts, nil); err == nil {
				t.Error("RunLive succeeded; want an error")
			}
		})
	}
}

func TestRunLiveCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := simulate.RunLive(ctx, simulate.LiveOptions{Key: testKey(t)}, newRecordingSink(t, time.Now, cancel)); err != nil {
		t.Errorf("RunLive on a cancelled context: %v", err)
	}
}
