package policy

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus collectors.
type metrics struct {
	decisions  *prometheus.CounterVec
	seconds    prometheus.Histogram
	reloads    *prometheus.CounterVec
	revision   *prometheus.GaugeVec
	lastReload prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathwayhub_policy_decisions_total",
			Help: "Policy decisions made, by action and outcome.",
		}, []string{"action", "allow"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pathwayhub_policy_decision_seconds",
			Help:    "Time to evaluate a policy decision, before auditing.",
			Buckets: prometheus.ExponentialBuckets(5e-6, 2.5, 10),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathwayhub_policy_reloads_total",
			Help: "Policy bundle reloads, by outcome (success or failure).",
		}, []string{"outcome"}),
		revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pathwayhub_policy_revision_info",
			Help: "The policy revision in force (value 1).",
		}, []string{"revision"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pathwayhub_policy_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful policy load.",
		}),
	}
	// Both outcomes exist from the start, so a first failure is an increase.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.decisions, m.seconds, m.reloads, m.revision, m.lastReload} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("policy: register metrics: %w", err)
		}
	}
	return m, nil
}
