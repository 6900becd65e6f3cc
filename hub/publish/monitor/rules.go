package monitor

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/measures"
)

// RuleGroup is the name of the group AlertRules writes.
const RuleGroup = "pathway_live"

// The pauses before an alert fires, and the monitor's own health checks.
const (
	// incidentFor rides out one scrape that catches a refresh half-way.
	incidentFor = time.Minute
	// refreshFailingFor is how long refreshes must keep failing.
	refreshFailingFor = 10 * time.Minute
	// stalledAfter is how old the last successful refresh may be.
	stalledAfter = 10 * time.Minute
)

// Severities of the alerts.
const (
	severityInfo     = "info"
	severityWarning  = "warning"
	severityCritical = "critical"
)

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// AlertRules returns a Prometheus alerting-rules file (YAML, one group named
// RuleGroup) for the monitor's gauges under th, which should be the
// thresholds the monitor runs with. It alerts on:
//
//   - a detention within each of th.DetentionWarnings of its clock
//     (warning, label window) and past it (critical);
//   - a handover past th.HandoverWarning (info) and past th.HandoverTarget
//     (warning);
//   - officers at a place of safety past th.LocalEscalation, an ambulance
//     wait past th.AmbulanceWait and an incident with no update for
//     th.StaleAfter (warning); the two-thirds "approaching" points of the
//     first two are left to dashboards;
//   - the monitor itself failing to refresh, or not having refreshed for 10
//     minutes (warning).
//
// Incident alerts take the maximum over instances by force, so several hub
// replicas running the monitor raise one alert per force.
func AlertRules(th measures.Thresholds) ([]byte, error) {
	if err := th.Validate(); err != nil {
		return nil, fmt.Errorf("monitor: alert rules: %w", err)
	}
	var rules []rule
	clock := promDuration(th.DetentionClock)
	for _, w := range sortedWarnings(th) {
		win := promDuration(w)
		rules = append(rules, rule{
			Alert:  "PathwayDetentionClockApproaching",
			Expr:   fmt.Sprintf(`max by (force) (%s{window=%q}) > 0`, MetricDetentionClockWithin, win),
			For:    promDuration(incidentFor),
			Labels: map[string]string{"severity": severityWarning, "window": win},
			Annotations: annotations(
				"{{ $labels.force }}: {{ $value }} detention(s) within "+win+" of the "+clock+" clock",
				"The "+clock+" detention clock (from arrival at the place of safety, plus any authorised extension) runs out within "+win+" for {{ $value }} open detention(s) in {{ $labels.force }}."),
		})
	}
	rules = append(rules,
		stageRule("PathwayDetentionClockBreached", StageDetentionClock, StateBreached, severityCritical,
			"{{ $labels.force }}: {{ $value }} detention(s) past the "+clock+" clock",
			"{{ $value }} open detention(s) in {{ $labels.force }} have been held longer than "+clock+" from arrival at the place of safety plus any authorised extension."),
		stageRule("PathwayHandoverApproaching", StageHandover, StateApproaching, severityInfo,
			"{{ $labels.force }}: {{ $value }} handover(s) waiting over "+promDuration(th.HandoverWarning),
			"{{ $value }} incident(s) in {{ $labels.force }} arrived at a place of safety more than "+promDuration(th.HandoverWarning)+" ago and are not yet handed over to health; the target is "+promDuration(th.HandoverTarget)+"."),
		stageRule("PathwayHandoverTargetMissed", StageHandover, StateBreached, severityWarning,
			"{{ $labels.force }}: {{ $value }} handover(s) past the "+promDuration(th.HandoverTarget)+" target",
			"{{ $value }} incident(s) in {{ $labels.force }} arrived at a place of safety more than "+promDuration(th.HandoverTarget)+" ago and are not yet handed over to health."),
		stageRule("PathwayLocalEscalation", StageLocalEscalation, StateBreached, severityWarning,
			"{{ $labels.force }}: {{ $value }} incident(s) with officers at a place of safety over "+promDuration(th.LocalEscalation),
			"Officers have been at a place of safety for longer than the local escalation threshold of "+promDuration(th.LocalEscalation)+" in {{ $value }} open incident(s) in {{ $labels.force }}."),
		stageRule("PathwayAmbulanceWait", StageAmbulanceWait, StateBreached, severityWarning,
			"{{ $labels.force }}: {{ $value }} ambulance(s) awaited over "+promDuration(th.AmbulanceWait),
			"An ambulance requested more than "+promDuration(th.AmbulanceWait)+" ago has not arrived in {{ $value }} open incident(s) in {{ $labels.force }}."),
		rule{
			Alert:  "PathwayIncidentsStale",
			Expr:   fmt.Sprintf(`max by (force) (%s) > 0`, MetricStaleIncidents),
			For:    promDuration(incidentFor),
			Labels: map[string]string{"severity": severityWarning},
			Annotations: annotations(
				"{{ $labels.force }}: {{ $value }} open incident(s) without an update for "+promDuration(th.StaleAfter),
				"{{ $value }} open incident(s) in {{ $labels.force }} have had no new revision for longer than "+promDuration(th.StaleAfter)+"; check the force's feed."),
		},
		rule{
			Alert:  "PathwayLiveMonitorRefreshFailing",
			Expr:   fmt.Sprintf(`increase(%s[%s]) > 0`, MetricRefreshErrors, promDuration(refreshFailingFor)),
			For:    promDuration(refreshFailingFor),
			Labels: map[string]string{"severity": severityWarning},
			Annotations: annotations(
				"The live pathway monitor on {{ $labels.instance }} keeps failing to read open incidents",
				"Refreshes of the live pathway monitor have kept failing for at least "+promDuration(refreshFailingFor)+"; its gauges show the last good state. Check the hub's log and ClickHouse."),
		},
		rule{
			Alert:  "PathwayLiveMonitorStalled",
			Expr:   fmt.Sprintf(`time() - %s > %d`, MetricLastRefresh, int(stalledAfter/time.Second)),
			For:    promDuration(incidentFor),
			Labels: map[string]string{"severity": severityWarning},
			Annotations: annotations(
				"The live pathway monitor on {{ $labels.instance }} has not refreshed for "+promDuration(stalledAfter),
				"The last successful refresh of the live pathway monitor was more than "+promDuration(stalledAfter)+" ago, so its gauges are out of date."),
		},
	)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(ruleFile{Groups: []ruleGroup{{Name: RuleGroup, Rules: rules}}}); err != nil {
		return nil, fmt.Errorf("monitor: alert rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("monitor: alert rules: %w", err)
	}
	return buf.Bytes(), nil
}

// stageRule alerts while any open incident of a force is in state at stage.
func stageRule(name string, stage Stage, state State, severity, summary, description string) rule {
	return rule{
		Alert:       name,
		Expr:        fmt.Sprintf(`max by (force) (%s{stage=%q,state=%q}) > 0`, MetricIncidents, stage, state),
		For:         promDuration(incidentFor),
		Labels:      map[string]string{"severity": severity},
		Annotations: annotations(summary, description),
	}
}

func annotations(summary, description string) map[string]string {
	return map[string]string{"summary": summary, "description": description}
}

// promDuration writes d in Prometheus duration syntax, largest units first:
// 24h, 1h30m, 45m, 90s is 1m30s.
func promDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		sym  string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := int64(d / u.unit); n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.sym)
			d %= u.unit
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}
