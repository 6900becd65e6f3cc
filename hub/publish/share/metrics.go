package share

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	runs        *prometheus.CounterVec
	duration    prometheus.Histogram
	lastSuccess prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathwayhub_share_publications_total",
			Help: "Recipients per publication by outcome: success (written), refreshed (a record share brought up to date in place), unchanged (nothing it counts changed), withdrawn (the policy refused the recipient) or failure.",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pathwayhub_share_publish_seconds",
			Help:    "Time of each publication (every recipient decided; the shares a change reaches written).",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pathwayhub_share_last_success_timestamp_seconds",
			Help: "When every share was last published without error (Unix time).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("share: register metrics: %w", err)
		}
	}
	return m, nil
}
