package monitor

import (
	"slices"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store"
)

// StatusOpen is the incident status the monitor watches; closed and
// withdrawn incidents carry no live flags.
const StatusOpen = "open"

// Incident is what the monitor needs of one open incident, as hub/store
// reads it.
type Incident = store.OpenIncident

// Stage names one of the pathway points the monitor watches.
type Stage string

// The stages, in the order Evaluate reports them.
const (
	StageDetentionClock  Stage = "detention_clock"
	StageHandover        Stage = "handover"
	StageLocalEscalation Stage = "local_escalation"
	StageAmbulanceWait   Stage = "ambulance_wait"
	StageNoUpdate        Stage = "no_update"
)

// Stages lists every stage, in the order Evaluate reports them.
func Stages() []Stage {
	return []Stage{StageDetentionClock, StageHandover, StageLocalEscalation, StageAmbulanceWait, StageNoUpdate}
}

// State is how far a stage has gone towards its threshold.
type State string

// The states, from least to most urgent.
const (
	StateOK          State = "ok"
	StateApproaching State = "approaching"
	StateBreached    State = "breached"
)

// rank orders states by urgency.
func (s State) rank() int {
	switch s {
	case StateBreached:
		return 2
	case StateApproaching:
		return 1
	default:
		return 0
	}
}

// Flag is the state of one stage of one incident at the time of evaluation.
type Flag struct {
	Stage Stage
	State State
	// Elapsed is the time since the stage started: arrival at the place of
	// safety, the ambulance request, or the latest update.
	Elapsed time.Duration
	// Due is when the stage breaches, or breached.
	Due time.Time
	// Warning is, for an approaching detention clock, the tightest of
	// Thresholds.DetentionWarnings the remaining time has entered (with
	// warnings of 4h and 1h and 30 minutes left, 1h). It is zero otherwise.
	Warning time.Duration
}

// Evaluate returns a flag for every stage that applies to inc at now, in the
// order of Stages, each with its state (see the package documentation for
// the rules). It is pure: the same arguments always give the same flags. An
// incident that is not open has no flags.
func Evaluate(now time.Time, inc Incident, th measures.Thresholds) []Flag {
	if inc.Status != StatusOpen {
		return nil
	}
	var flags []Flag
	add := func(f Flag, ok bool) {
		if ok {
			flags = append(flags, f)
		}
	}
	add(detentionClock(now, inc, th))
	add(handover(now, inc, th))
	add(localEscalation(now, inc, th))
	add(ambulanceWait(now, inc, th))
	add(noUpdate(now, inc, th))
	return flags
}

// IsDetention reports whether an incident type is a detention under the
// Mental Health Act to which the 24-hour clock applies.
func IsDetention(incidentType string) bool {
	switch incidentType {
	case "s136", "s135_1", "s135_2":
		return true
	default:
		return false
	}
}

// detentionClock applies to a detention at a place of safety that has not
// ended. It is approaching once the time left is within the largest warning
// window, and names the tightest window entered.
func detentionClock(now time.Time, inc Incident, th measures.Thresholds) (Flag, bool) {
	if !IsDetention(inc.IncidentType) || inc.ArrivedAtPos.IsZero() || !inc.DetentionEnded.IsZero() {
		return Flag{}, false
	}
	due := inc.ArrivedAtPos.Add(th.DetentionClock + time.Duration(inc.ExtensionHours)*time.Hour)
	f := Flag{Stage: StageDetentionClock, State: StateOK, Elapsed: now.Sub(inc.ArrivedAtPos), Due: due}
	if now.After(due) {
		f.State = StateBreached
		return f, true
	}
	left := due.Sub(now)
	for _, w := range th.DetentionWarnings {
		if left <= w && (f.Warning == 0 || w < f.Warning) {
			f.Warning = w
		}
	}
	if f.Warning > 0 {
		f.State = StateApproaching
	}
	return f, true
}

// handover applies from arrival at the place of safety until health
// accepts the handover.
func handover(now time.Time, inc Incident, th measures.Thresholds) (Flag, bool) {
	if inc.ArrivedAtPos.IsZero() || !inc.HandoverAccepted.IsZero() {
		return Flag{}, false
	}
	return timed(now, StageHandover, inc.ArrivedAtPos, th.HandoverWarning, th.HandoverTarget), true
}

// localEscalation applies while officers are still at the place of safety.
func localEscalation(now time.Time, inc Incident, th measures.Thresholds) (Flag, bool) {
	if inc.ArrivedAtPos.IsZero() || !inc.PoliceLeftPos.IsZero() {
		return Flag{}, false
	}
	return timed(now, StageLocalEscalation, inc.ArrivedAtPos, twoThirds(th.LocalEscalation), th.LocalEscalation), true
}

// ambulanceWait applies from the ambulance request until the ambulance
// arrives. Once the person has reached a place of safety, or the detention
// has ended, nobody is waiting any more: they went some other way.
func ambulanceWait(now time.Time, inc Incident, th measures.Thresholds) (Flag, bool) {
	if inc.AmbulanceRequested.IsZero() || !inc.AmbulanceArrived.IsZero() ||
		!inc.ArrivedAtPos.IsZero() || !inc.DetentionEnded.IsZero() {
		return Flag{}, false
	}
	return timed(now, StageAmbulanceWait, inc.AmbulanceRequested, twoThirds(th.AmbulanceWait), th.AmbulanceWait), true
}

// noUpdate applies to every open incident with a known last update. It has
// no approaching state.
func noUpdate(now time.Time, inc Incident, th measures.Thresholds) (Flag, bool) {
	if inc.LastUpdate.IsZero() {
		return Flag{}, false
	}
	f := timed(now, StageNoUpdate, inc.LastUpdate, th.StaleAfter, th.StaleAfter)
	if f.State == StateApproaching {
		f.State = StateOK
	}
	return f, true
}

// timed is a stage that started at start, approaches at start+warn and
// breaches once strictly past start+limit.
func timed(now time.Time, stage Stage, start time.Time, warn, limit time.Duration) Flag {
	f := Flag{Stage: stage, State: StateOK, Elapsed: now.Sub(start), Due: start.Add(limit)}
	switch {
	case f.Elapsed > limit:
		f.State = StateBreached
	case f.Elapsed >= warn:
		f.State = StateApproaching
	}
	return f
}

// twoThirds is the approaching point of a stage whose thresholds set no
// warning of their own.
func twoThirds(d time.Duration) time.Duration {
	return d * 2 / 3
}

// Worst returns the most urgent state among flags, StateOK when there are
// none.
func Worst(flags []Flag) State {
	worst := StateOK
	for _, f := range flags {
		if f.State.rank() > worst.rank() {
			worst = f.State
		}
	}
	return worst
}

// sortedWarnings returns the detention warning windows, largest first.
func sortedWarnings(th measures.Thresholds) []time.Duration {
	ws := slices.Clone(th.DetentionWarnings)
	slices.Sort(ws)
	slices.Reverse(ws)
	return slices.Compact(ws)
}
