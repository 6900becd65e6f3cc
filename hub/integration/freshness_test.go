package integration_test

import (
	"maps"
	"slices"
	"strconv"
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
	// Earlier incidents, so that the share's incidents table has buckets
	// the next batch must leave alone.
	var earlier []*pathwayv1.IncidentRecord
	for range 40 {
		earlier = append(earlier, openDetention(t))
	}
	h.mustSubmit(t, metToken, earlier...)
	waitFor(t, "the earlier incidents in the supervisors' share", func() bool {
		return h.count(t, "SELECT count() FROM "+db+".incidents") == uint64(len(earlier))
	})
	// Whatever else the hub does after its start (the live state of the
	// earlier batch, say) settles first: the share's parts stay put.
	partsBefore := incidentParts(t, h, db)
	waitFor(t, "the share's parts to settle", func() bool {
		time.Sleep(time.Second)
		now := incidentParts(t, h, db)
		settled := maps.Equal(now, partsBefore)
		partsBefore = now
		return settled
	})
	before := openGauge()

	rec := openDetention(t)
	h.mustSubmit(t, metToken, rec)
	waitFor(t, "the incident in the supervisors' share and the gauge", func() bool {
		return h.count(t, "SELECT count() FROM "+db+".incidents WHERE incident_ref = ? AND status = 'open'", rec.GetIncidentRef()) == 1 &&
			h.count(t, "SELECT count() FROM "+db+".live WHERE incident_ref = ?", rec.GetIncidentRef()) > 0 &&
			openGauge() == before+1
	})
	// Only the bucket holding the new incident was written again.
	partsAfter := incidentParts(t, h, db)
	var rewritten []string
	for partition, parts := range partsAfter {
		if partsBefore[partition] != parts {
			rewritten = append(rewritten, partition)
		}
	}
	bucket := strconv.FormatUint(h.count(t, "SELECT toUInt64(cityHash64(?) % 32)", rec.GetIncidentRef()), 10)
	if len(partsBefore) < 2 || !slices.Equal(rewritten, []string{bucket}) {
		t.Errorf("the fast path rewrote partitions %v of %d, want only the new incident's bucket %s\nparts before: %v\nparts after: %v",
			rewritten, len(partsBefore), bucket, partsBefore, partsAfter)
	}

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

// incidentParts returns the active parts of a record share's incidents
// table by partition (its buckets).
func incidentParts(t *testing.T, h *hub, db string) map[string]string {
	t.Helper()
	rows, err := h.ch.Query(t.Context(), "SELECT partition, arrayStringConcat(arraySort(groupArray(name)), ',') FROM system.parts "+
		"WHERE database = ? AND table = 'incidents' AND active GROUP BY partition", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var partition, parts string
		if err := rows.Scan(&partition, &parts); err != nil {
			t.Fatal(err)
		}
		out[partition] = parts
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
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
