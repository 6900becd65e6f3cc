package simulate_test

import (
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// newValidator returns the hub's validator with the wall clock.
func newValidator(t *testing.T) *validate.Validator {
	t.Helper()
	v, err := validate.New(validate.Options{Skew: 5 * time.Minute, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkIncident fails the test if the hub would reject rec, or warns about
// anything but a detention breach. It reports whether rec is a breach.
func checkIncident(t *testing.T, v *validate.Validator, rec *pathwayv1.IncidentRecord) bool {
	t.Helper()
	rep := v.Incident(rec)
	if !rep.OK() {
		t.Fatalf("%v rev %d rejected: %v", rec.GetIncidentType(), rec.GetRevision(), rep.Errors)
	}
	for _, w := range rep.Warnings {
		if w.GetCode() != validate.CodeDetentionBreach {
			t.Fatalf("%v rev %d: unexpected warning %v", rec.GetIncidentType(), rec.GetRevision(), w)
		}
	}
	return rep.Breach
}

// checkHealth fails the test if the hub would reject or warn about u.
func checkHealth(t *testing.T, v *validate.Validator, u *pathwayv1.HealthUpdate) {
	t.Helper()
	rep := v.HealthUpdate(u)
	if !rep.OK() || len(rep.Warnings) > 0 {
		t.Fatalf("health update rev %d: errors %v, warnings %v", u.GetRevision(), rep.Errors, rep.Warnings)
	}
}

func TestHistoryValid(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	for _, f := range simulate.Forces() {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			h := history(t, f)
			detentions, breaches := 0, 0
			for _, r := range h.Incidents {
				breach := checkIncident(t, v, r)
				if r.GetIncidentType() == typeRCRP {
					continue
				}
				detentions++
				if breach {
					breaches++
				}
			}
			for _, u := range h.HealthUpdates {
				checkHealth(t, v, u.Update)
			}
			share := float64(breaches) / float64(detentions)
			t.Logf("%d records valid; %d of %d detentions breach the clock (%.1f%%); %d health updates valid",
				len(h.Incidents), breaches, detentions, 100*share, len(h.HealthUpdates))
			if breaches == 0 || share > 0.05 {
				t.Errorf("%.3f of detentions are breaches; want a small share", share)
			}
		})
	}
}
