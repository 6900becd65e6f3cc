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
//     Thresholds.DetentionClock plus any authorised extension hours. It is
//     approaching once the time left is within the largest of
//     Thresholds.DetentionWarnings, and Flag.Warning names the tightest
//     window entered (4h, then 1h, with the defaults).
//   - handover: from arrival at the place of safety until health accepts the
//     handover; approaching from Thresholds.HandoverWarning, breached after
//     Thresholds.HandoverTarget.
//   - local_escalation: from arrival at the place of safety while officers
//     are still there; breached after Thresholds.LocalEscalation, approaching
//     from two thirds of it, since the thresholds set no warning of their own.
//   - ambulance_wait: from the ambulance request until it arrives, unless the
//     person has reached a place of safety some other way or the detention
//     has ended; breached after Thresholds.AmbulanceWait, approaching from
//     two thirds of it (20 of 30 minutes with the defaults).
//   - no_update: from the latest revision's receipt; breached when longer
//     than Thresholds.StaleAfter ago. It has no approaching state.
//
// A stage is breached once the time since it started is strictly longer
// than its threshold, and approaching from its warning point up to and
// including the threshold itself.
//
// The gauges (see the Metric* constants) carry every label combination of
// every force the monitor has seen, set on each refresh, so a count that
// falls to nothing reads 0 rather than lingering at its last value.
//
// Layer 5 (hub/publish): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth.
// The layers are checked by layers_test.go at the repository's top.
package monitor
