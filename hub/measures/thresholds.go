package measures

import (
	"errors"
	"fmt"
	"time"
)

// Thresholds are the pathway standards the hub measures against. None of
// them is law except the 24-hour detention clock; every one is
// configuration, so a region can set its own (data-standard §1 and §5).
type Thresholds struct {
	// DetentionClock is the section 136 detention limit from arrival at the
	// place of safety (24 hours, Policing and Crime Act 2017 s.82).
	DetentionClock time.Duration `yaml:"detention_clock"`
	// DetentionWarnings are how long before the clock (plus any extension)
	// runs out an open detention is flagged as approaching, e.g. 4h and 1h.
	DetentionWarnings []time.Duration `yaml:"detention_warnings"`
	// HandoverTarget is the RCRP expectation for handover to health after
	// arrival at the place of safety (one hour in the national agreement).
	HandoverTarget time.Duration `yaml:"handover_target"`
	// HandoverWarning is when an open handover is flagged as approaching
	// the target, e.g. 45 minutes.
	HandoverWarning time.Duration `yaml:"handover_warning"`
	// LocalEscalation is the region's own escalation point for officers
	// still at a place of safety, e.g. 4 hours.
	LocalEscalation time.Duration `yaml:"local_escalation"`
	// AmbulanceWait is the ambulance availability threshold (30 minutes in
	// the Home Office reason codes).
	AmbulanceWait time.Duration `yaml:"ambulance_wait"`
	// StaleAfter flags an open incident with no update for this long.
	StaleAfter time.Duration `yaml:"stale_after"`
	// BaselineOfficerHours is the documented baseline of officer hours per
	// police deployment that "officer hours released" multiplies by.
	BaselineOfficerHours float64 `yaml:"baseline_officer_hours"`
}

// DefaultThresholds returns the national defaults: the 24-hour clock with
// warnings 4 hours and 1 hour before it, the one-hour handover with a
// warning at 45 minutes, a 4-hour local escalation, the 30-minute ambulance
// threshold, stale after 2 hours, and a baseline of 2.5 officer hours per
// deployment (two officers for about 75 minutes; a design assumption to be
// replaced by a region's own figure).
func DefaultThresholds() Thresholds {
	return Thresholds{
		DetentionClock:       24 * time.Hour,
		DetentionWarnings:    []time.Duration{4 * time.Hour, time.Hour},
		HandoverTarget:       time.Hour,
		HandoverWarning:      45 * time.Minute,
		LocalEscalation:      4 * time.Hour,
		AmbulanceWait:        30 * time.Minute,
		StaleAfter:           2 * time.Hour,
		BaselineOfficerHours: 2.5,
	}
}

// Validate reports the first threshold that makes no sense, naming it.
func (t Thresholds) Validate() error {
	var errs []error
	pos := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("thresholds.%s: must be positive, got %s", name, d))
		}
	}
	pos("detention_clock", t.DetentionClock)
	pos("handover_target", t.HandoverTarget)
	pos("handover_warning", t.HandoverWarning)
	pos("local_escalation", t.LocalEscalation)
	pos("ambulance_wait", t.AmbulanceWait)
	pos("stale_after", t.StaleAfter)
	if t.HandoverWarning >= t.HandoverTarget && t.HandoverTarget > 0 {
		errs = append(errs, fmt.Errorf("thresholds.handover_warning: %s must be before handover_target %s", t.HandoverWarning, t.HandoverTarget))
	}
	for i, w := range t.DetentionWarnings {
		if w <= 0 || w >= t.DetentionClock {
			errs = append(errs, fmt.Errorf("thresholds.detention_warnings[%d]: %s must be between 0 and detention_clock", i, w))
		}
	}
	if t.BaselineOfficerHours < 0 {
		errs = append(errs, fmt.Errorf("thresholds.baseline_officer_hours: must not be negative, got %g", t.BaselineOfficerHours))
	}
	return errors.Join(errs...)
}
