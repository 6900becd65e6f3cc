package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// base is the time the stored incidents are built around.
var base = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(base.Add(d)) }

// record is a s136 detention of force at a place of safety, open at
// revision 1, with the handover not yet accepted.
func record(force, ref string, rev uint32, status pathwayv1.IncidentStatus) *pathwayv1.IncidentRecord {
	return &pathwayv1.IncidentRecord{
		SchemaVersion: 1, ForceId: force, IncidentRef: ref, Revision: rev, Status: status,
		IncidentType: pathwayv1.IncidentType_INCIDENT_TYPE_S136,
		LadCode:      "E09000033", RegionCode: "E12000007",
		FirstPosType: pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS,
		Timeline: &pathwayv1.Timeline{
			CallReceived: at(0), Detained: at(20 * time.Minute),
			AmbulanceRequested: at(21 * time.Minute), AmbulanceArrived: at(40 * time.Minute),
			ArrivedAtPos: at(time.Hour),
		},
	}
}

// migrated returns a store and a source over a new database holding the
// raw tables.
func migrated(t *testing.T) *store.Store {
	t.Helper()
	conn, db := chservertest.NewRawDatabase(t, shared)
	return store.New(conn, db)
}

func TestOpenIncidents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := migrated(t)
	open, closed, withdrawn := pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN, pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED, pathwayv1.IncidentStatus_INCIDENT_STATUS_WITHDRAWN
	firstAt, secondAt := base.Add(2*time.Hour), base.Add(3*time.Hour)

	// Each insert is its own part, so only FINAL (not a merge) can pick
	// the highest revision.
	closedLater := record("btp", "closed-later", 1, open)
	withdrawnLater := record("btp", "withdrawn-later", 1, open)
	extended := record("btp", "extended", 1, open)
	extended.Extension = &pathwayv1.Extension{Authorised: true, Hours: 6}
	fromTrusts := record("metropolitan", "from-trusts", 1, open)
	forceWins := record("metropolitan", "force-wins", 1, open)
	forceWins.Timeline.HandoverAccepted = at(90 * time.Minute)
	forceWins.Timeline.AssessmentStarted = at(100 * time.Minute)
	insertIncidents(ctx, t, st, firstAt, closedLater, withdrawnLater, extended, fromTrusts, forceWins)

	reopened := record("btp", "closed-later", 2, closed)
	reopened.Timeline.PoliceLeftPos = at(2 * time.Hour)
	insertIncidents(ctx, t, st, secondAt, reopened, record("btp", "withdrawn-later", 2, withdrawn))
	stillOpen := record("metropolitan", "from-trusts", 2, open)
	stillOpen.Timeline.PoliceLeftPos = at(150 * time.Minute)
	insertIncidents(ctx, t, st, secondAt, stillOpen)

	// Trust RV3 accepts the handover in its second revision; trust RAT
	// accepts later still; the force's own time beats any trust's.
	insertHealth(ctx, t, st, firstAt, "RV3", &pathwayv1.HealthUpdate{SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: "from-trusts", Revision: 1})
	insertHealth(ctx, t, st, secondAt, "RV3", &pathwayv1.HealthUpdate{SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: "from-trusts", Revision: 2,
		HandoverAccepted: at(75 * time.Minute), AssessmentStarted: at(80 * time.Minute), AssessmentCompleted: at(110 * time.Minute)})
	insertHealth(ctx, t, st, secondAt, "RAT", &pathwayv1.HealthUpdate{SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: "from-trusts", Revision: 1,
		HandoverAccepted: at(5 * time.Hour)})
	insertHealth(ctx, t, st, secondAt, "RV3", &pathwayv1.HealthUpdate{SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: "force-wins", Revision: 1,
		HandoverAccepted: at(70 * time.Minute), AssessmentStarted: at(72 * time.Minute), AssessmentCompleted: at(95 * time.Minute)})

	got, err := st.OpenIncidents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.OpenIncident{
		incident("btp", "extended", firstAt, func(i *store.OpenIncident) { i.ExtensionHours = 6 }),
		incident("metropolitan", "force-wins", firstAt, func(i *store.OpenIncident) {
			i.HandoverAccepted, i.AssessmentStarted = base.Add(90*time.Minute), base.Add(100*time.Minute)
			i.AssessmentCompleted = base.Add(95 * time.Minute)
		}),
		incident("metropolitan", "from-trusts", secondAt, func(i *store.OpenIncident) {
			i.HandoverAccepted, i.AssessmentStarted = base.Add(75*time.Minute), base.Add(80*time.Minute)
			i.AssessmentCompleted, i.PoliceLeftPos = base.Add(110*time.Minute), base.Add(150*time.Minute)
		}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OpenIncidents (-want +got):\n%s", diff)
	}

	// Read by key, the same incidents come back whatever their status, with
	// the same health-side times; a key the hub never saw is absent.
	byKey, err := st.Incidents(ctx, []store.IncidentKey{
		{ForceID: "btp", IncidentRef: "closed-later"}, {ForceID: "btp", IncidentRef: "withdrawn-later"},
		{ForceID: "metropolitan", IncidentRef: "from-trusts"}, {ForceID: "metropolitan", IncidentRef: "never-sent"},
		{ForceID: "btp", IncidentRef: "from-trusts"}, // another force's reference
	})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, inc := range byKey {
		status[inc.ForceID+"/"+inc.IncidentRef] = inc.Status
		if inc.IncidentRef == "from-trusts" {
			if diff := cmp.Diff(want[2], inc); diff != "" {
				t.Errorf("Incidents: from-trusts (-want +got):\n%s", diff)
			}
		}
	}
	wantStatus := map[string]string{"btp/closed-later": "closed", "btp/withdrawn-later": "withdrawn", "metropolitan/from-trusts": "open"}
	if diff := cmp.Diff(wantStatus, status); diff != "" {
		t.Errorf("Incidents by key: statuses (-want +got):\n%s", diff)
	}
}

// incident is the Incident that record(force, ref, ...) reads back as,
// received at received, changed by edit.
func incident(force, ref string, received time.Time, edit func(*store.OpenIncident)) store.OpenIncident {
	inc := store.OpenIncident{
		ForceID: force, IncidentRef: ref, Status: "open", IncidentType: "s136",
		LADCode: "E09000033", FirstPosType: "hbpos",
		Detained: base.Add(20 * time.Minute), AmbulanceRequested: base.Add(21 * time.Minute),
		AmbulanceArrived: base.Add(40 * time.Minute), ArrivedAtPos: base.Add(time.Hour),
		LastUpdate: received,
	}
	edit(&inc)
	return inc
}

func insertIncidents(ctx context.Context, t *testing.T, st *store.Store, received time.Time, recs ...*pathwayv1.IncidentRecord) {
	t.Helper()
	rows := make([]store.Incident, len(recs))
	for i, r := range recs {
		rows[i] = store.Incident{Record: r}
	}
	if err := st.InsertIncidents(ctx, "sub-"+received.Format(time.RFC3339), received, rows); err != nil {
		t.Fatal(err)
	}
}

func insertHealth(ctx context.Context, t *testing.T, st *store.Store, received time.Time, trust string, u *pathwayv1.HealthUpdate) {
	t.Helper()
	if err := st.InsertHealthUpdates(ctx, "sub-health", received, []store.HealthUpdate{{TrustID: trust, Update: u}}); err != nil {
		t.Fatal(err)
	}
}
