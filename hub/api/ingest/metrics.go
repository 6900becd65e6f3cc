package ingest

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// metrics are the ingest metrics exposed on the hub's /metrics.
type metrics struct {
	records     *prometheus.CounterVec
	batches     *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
	lag         *prometheus.GaugeVec
	lastSeen    *prometheus.GaugeVec
	// inflightBytes and admissionWaiting show the admission control (admit).
	inflightBytes    prometheus.Gauge
	admissionWaiting prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathwayhub_ingest_records_total",
			Help: "Records received, by organisation, dataset, result (accepted, updated, unchanged, stale, rejected) and, for rejections, the code of the first broken rule.",
		}, []string{"org", "dataset", "result", "reason"}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pathwayhub_ingest_batch_duration_seconds",
			Help:    "Time to validate and store one acknowledged batch.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"dataset"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathwayhub_ingest_store_errors_total",
			Help: "Batches refused with unavailable because ClickHouse failed.",
		}, []string{"dataset"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pathwayhub_ingest_feed_lag_seconds",
			Help: "Median time from each stored record's latest event to its receipt, in the organisation's last batch that stored anything.",
		}, []string{"org", "dataset"}),
		lastSeen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pathwayhub_ingest_last_submission_timestamp_seconds",
			Help: "Unix time of the organisation's last acknowledged batch.",
		}, []string{"org", "dataset"}),
		inflightBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pathwayhub_ingest_inflight_bytes",
			Help: "Bytes of request bodies the ingest handler is working on (at most the configured ingest_inflight_bytes).",
		}),
		admissionWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pathwayhub_ingest_admission_waiting",
			Help: "Ingest requests waiting for bytes in flight to fall below the limit.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, m.batches, m.storeErrors, m.lag, m.lastSeen, m.inflightBytes, m.admissionWaiting} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ingest: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(org auth.Org, sub store.Submission, results []*pathwayv1.RecordResult, took time.Duration) {
	if sub.DryRun {
		return
	}
	for _, r := range results {
		reason := ""
		if errs := r.GetErrors(); len(errs) > 0 {
			reason = errs[0].GetCode()
		}
		m.records.WithLabelValues(org.String(), sub.Dataset, codes.Of(r.GetStatus()), reason).Inc()
	}
	m.batches.WithLabelValues(sub.Dataset).Observe(took.Seconds())
	m.lastSeen.WithLabelValues(org.String(), sub.Dataset).Set(float64(sub.ReceivedAt.Unix()))
	if sub.Accepted+sub.Updated > 0 {
		m.lag.WithLabelValues(org.String(), sub.Dataset).Set(sub.LagP50.Seconds())
	}
}
