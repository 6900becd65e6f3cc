package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// PrometheusUID is the uid of the Prometheus datasource.
const PrometheusUID = "prometheus"

// promQuery is a Prometheus range query with a legend.
func promQuery(expr, legendFormat string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legendFormat).Range().
		Datasource(common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr(PrometheusUID)})
}

// Operations is the hub operations dashboard on Prometheus: ingest rates,
// latency and errors, policy decisions and reloads, share publication runs,
// and the live monitor.
func Operations() (Dashboard, error) {
	b := newDashboard("hub-operations", "Hub operations",
		"The hub's own health from its Prometheus metrics: ingest, policy and publication.", "operations").
		Time("now-6h", "now").Refresh("1m")
	panel := func(title, description, unit string, w uint32, targets ...*prometheus.DataqueryBuilder) {
		p := timeSeries(title, description, unit, w, 8)
		for i, t := range targets {
			p.WithTarget(t.RefId(string(rune('A' + i))))
		}
		b.WithPanel(p)
	}
	b.WithRow(dashboard.NewRowBuilder("Ingest"))
	panel("Records received by result",
		"Records per second reaching the ingest API, by submitting organisation and result (accepted, "+
			"updated, unchanged, stale, rejected). Method: rate over 5 minutes of pathwayhub_ingest_records_total.",
		"reqps", 12, promQuery(`sum by (org, result) (rate(pathwayhub_ingest_records_total[5m]))`, "{{org}} {{result}}"))
	panel("Rejections by reason",
		"Records refused per second, by organisation and the code of the first rule they broke. Method: rate over 5 "+
			"minutes of pathwayhub_ingest_records_total with result rejected.",
		"reqps", 12, promQuery(`sum by (org, reason) (rate(pathwayhub_ingest_records_total{result="rejected"}[5m]))`, "{{org}} {{reason}}"))
	panel("Batch latency",
		"Time to validate and store one acknowledged batch, median and 95th percentile, by dataset. Method: "+
			"histogram_quantile over 5-minute rates of pathwayhub_ingest_batch_duration_seconds.",
		"s", 12,
		promQuery(`histogram_quantile(0.5, sum by (le, dataset) (rate(pathwayhub_ingest_batch_duration_seconds_bucket[5m])))`, "p50 {{dataset}}"),
		promQuery(`histogram_quantile(0.95, sum by (le, dataset) (rate(pathwayhub_ingest_batch_duration_seconds_bucket[5m])))`, "p95 {{dataset}}"))
	panel("Store errors",
		"Batches refused as unavailable because ClickHouse failed; the sender retries them. Any sustained value "+
			"needs attention. Method: rate over 5 minutes of pathwayhub_ingest_store_errors_total.",
		"reqps", 12, promQuery(`sum by (dataset) (rate(pathwayhub_ingest_store_errors_total[5m]))`, "{{dataset}}"))
	panel("Feed lag",
		"Median time from each stored record's latest event to its receipt, in each organisation's last batch. "+
			"Method: the gauge pathwayhub_ingest_feed_lag_seconds.",
		"s", 12, promQuery(`max by (org) (pathwayhub_ingest_feed_lag_seconds)`, "{{org}}"))
	panel("Time since last submission",
		"How long since each organisation's last acknowledged batch. Method: time() minus "+
			"pathwayhub_ingest_last_submission_timestamp_seconds.",
		"s", 12, promQuery(`time() - max by (org) (pathwayhub_ingest_last_submission_timestamp_seconds)`, "{{org}}"))
	b.WithRow(dashboard.NewRowBuilder("Policy and publication"))
	panel("Policy decisions",
		"Policy decisions per second by action and outcome. Method: rate over 5 minutes of pathwayhub_policy_decisions_total.",
		"reqps", 12, promQuery(`sum by (action, allow) (rate(pathwayhub_policy_decisions_total[5m]))`, "{{action}} allow={{allow}}"))
	panel("Policy reloads",
		"Reloads of the data-sharing agreements in the last hour, by outcome. A failed reload leaves the previous "+
			"agreements in force. Method: increase over 1 hour of pathwayhub_policy_reloads_total.",
		"short", 12, promQuery(`sum by (outcome) (increase(pathwayhub_policy_reloads_total[1h]))`, "{{outcome}}"))
	panel("Publication runs",
		"Recipient shares published in the last hour, by outcome: success, withdrawn (the policy refused the "+
			"recipient) or failure. Method: increase over 1 hour of pathwayhub_share_publications_total.",
		"short", 12, promQuery(`sum by (outcome) (increase(pathwayhub_share_publications_total[1h]))`, "{{outcome}}"))
	panel("Publication time and age",
		"How long a full publication takes (95th percentile) and how long since every share was last published "+
			"without error. Method: pathwayhub_share_publish_seconds and pathwayhub_share_last_success_timestamp_seconds.",
		"s", 12,
		promQuery(`histogram_quantile(0.95, sum by (le) (rate(pathwayhub_share_publish_seconds_bucket[15m])))`, "p95 publish time"),
		promQuery(`time() - pathwayhub_share_last_success_timestamp_seconds`, "since last success"))
	b.WithRow(dashboard.NewRowBuilder("Live pathway monitor"))
	panel("Open incidents by force",
		"Open incidents the live monitor is watching. Method: the gauge pathwayhub_live_open_incidents.",
		"short", 12, promQuery(`sum by (force) (pathwayhub_live_open_incidents)`, "{{force}}"))
	panel("Incidents breaching a threshold",
		"Open incidents past a threshold, by force and stage. The alert rules fire on these. Method: the gauge "+
			"pathwayhub_live_incidents with state breached.",
		"short", 12, promQuery(`sum by (force, stage) (pathwayhub_live_incidents{state="breached"})`, "{{force}} {{stage}}"))
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: operations: %w", err)
	}
	return d, nil
}
