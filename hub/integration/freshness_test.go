package integration_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// openDetention is a Metropolitan s136 detention at a place of safety
// now, open: the handover not yet accepted.
func openDetention(t *testing.T) *pathwayv1.IncidentRecord {
	r := s136(t)
	r.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN
	r.Outcome = pathwayv1.Outcome_OUTCOME_UNSPECIFIED
	now := time.Now().UTC().Truncate(time.Second)
	at := func(ago time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-ago)) }
	r.Timeline = &pathwayv1.Timeline{
		CallReceived: at(3 * time.Hour), Deployed: at(170 * time.Minute), Detained: at(150 * time.Minute),
		AmbulanceRequested: at(149 * time.Minute), AmbulanceArrived: at(130 * time.Minute), ArrivedAtPos: at(2 * time.Hour),
	}
	return r
}

// TestSupervisorsSeeABatchWithoutAnAggregatePublication: a stored batch
// reaches its force's supervisors' share (incidents and live) and the live
// gauges on the fast path, while the aggregate publication, held back here
// by an hour's debounce, does not run. Closing the incident takes it out of
// the live table and the gauge the same way.
func TestSupervisorsSeeABatchWithoutAnAggregatePublication(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t, apptest.WithConfig(func(c *config.Config) {
		c.Shares.Interval, c.Shares.Debounce, c.Shares.MaxDelay = time.Hour, time.Hour, time.Hour
	}))
	// The publication at start.
	waitFor(t, "the first publication", func() bool {
		return h.count(t, "SELECT count() FROM publications WHERE recipient = ?", nclRecipient) > 0 &&
			h.count(t, "SELECT count() FROM publications WHERE recipient = ?", metSupervisor) > 0
	})
	aggregate := h.count(t, "SELECT count() FROM publications WHERE recipient = ?", nclRecipient)
	db := h.shareDB(t, metSupervisor)
	openGauge := func() float64 { return metricSum(t, h, `pathwayhub_live_open_incidents{force="metropolitan"}`) }
	before := openGauge()

	rec := openDetention(t)
	h.mustSubmit(t, metToken, rec)
	waitFor(t, "the incident in the supervisors' share and the gauge", func() bool {
		return h.count(t, "SELECT count() FROM "+db+".incidents WHERE incident_ref = ? AND status = 'open'", rec.GetIncidentRef()) == 1 &&
			h.count(t, "SELECT count() FROM "+db+".live WHERE incident_ref = ?", rec.GetIncidentRef()) > 0 &&
			openGauge() == before+1
	})

	closed := openDetention(t)
	closed.IncidentRef, closed.SubjectToken, closed.Revision = rec.GetIncidentRef(), rec.GetSubjectToken(), 2
	closed.Status, closed.Outcome = pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED, pathwayv1.Outcome_OUTCOME_DISCHARGED_WITH_FOLLOWUP
	closed.Timeline = rec.GetTimeline()
	closed.Timeline.HandoverAccepted = timestamppb.New(time.Now().Add(-time.Hour).Truncate(time.Second))
	closed.Timeline.PoliceLeftPos = timestamppb.New(time.Now().Add(-50 * time.Minute).Truncate(time.Second))
	closed.Timeline.DetentionEnded = timestamppb.New(time.Now().Add(-10 * time.Minute).Truncate(time.Second))
	h.mustSubmit(t, metToken, closed)
	waitFor(t, "the closed incident out of the live table and the gauge", func() bool {
		return h.count(t, "SELECT count() FROM "+db+".incidents WHERE incident_ref = ? AND status = 'closed'", rec.GetIncidentRef()) == 1 &&
			h.count(t, "SELECT count() FROM "+db+".live WHERE incident_ref = ?", rec.GetIncidentRef()) == 0 &&
			openGauge() == before
	})

	if n := h.count(t, "SELECT count() FROM publications WHERE recipient = ?", nclRecipient); n != aggregate {
		t.Errorf("the aggregate shares were published %d more times; the fast path must not need them", n-aggregate)
	}
}

// waitFor polls cond until it holds, failing the test after a minute: a
// bound on a functional wait, not a measure of speed (make bench measures
// freshness).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
