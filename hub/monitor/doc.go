// Package monitor is the live pathway monitor (data standard §5, "Live
// thresholds"). It polls the open incidents, evaluates each against the
// configured thresholds (measures.Thresholds) and exports the result as
// Prometheus gauges; AlertRules turns the same thresholds into a Prometheus
// alerting-rules file, and Evaluate is the pure function the share publisher
// calls to give supervisors the same live state.
//
// Five stages are watched while an incident is open:
//
//   - detention_clock: a detention (s136, s135(1) or s135(2)) that has
//     reached a place of safety and not ended runs out at arrival plus
//     Thresholds.DetentionClock plus any authorised extension. It is
//     approaching once within the largest of Thresholds.DetentionWarnings;
//     the flag names the tightest warning window it has entered.
//   - handover: from arrival at the place of safety until health accepts the
//     handover; approaching after Thresholds.HandoverWarning, breached after
//     Thresholds.HandoverTarget.
//   - local_escalation: officers still at the place of safety; breached after
//     Thresholds.LocalEscalation, approaching after two thirds of it.
//   - ambulance_wait: an ambulance requested that has not arrived (and the
//     person has not reached a place of safety some other way); breached
//     after Thresholds.AmbulanceWait, approaching after two thirds
//     of it.
//   - no_update: no new revision of the incident for longer than
//     Thresholds.StaleAfter. It is either ok or breached.
//
// A stage is breached once the time since its start is strictly longer than
// its threshold, and approaching from its warning point up to and including
// the threshold itself.
package monitor
