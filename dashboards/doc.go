// Package dashboards generates the Grafana dashboards and provisioning files
// of Pathway Hub from the measure catalogue (hub/measures) and the
// data-sharing agreements (policy): one set of dashboards per audience (each
// share recipient), each bound to a ClickHouse datasource that logs in as
// that recipient's read-only user and names only its share database, plus a
// hub operations dashboard on Prometheus.
//
// Aggregate recipients (regional leads, commissioners, analysts) get a
// regional overview, pathway performance (SPC charts under a Making Data
// Count summary matrix), force comparison (funnel plots) and, when granted
// the feed measures, feed health; record recipients (a force's supervisors)
// get the live pathway of their own force's open incidents.
//
// The grafana-foundation-sdk has no query type for the ClickHouse plugin, so
// ClickHouseQuery adds one (the plugin's v4 SQL-editor model) through the
// SDK's dataquery variant interface. Every query uses only the plugin macros
// that run on ClickHouse 18.16 as well as current releases: $__timeFilter,
// $__fromTime, $__toTime, $__interval_s and $__conditionalAll.
//
// Layer 7 (dashboards): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish, hub/api, hub/web.
// The layers are checked by layers_test.go at the repository's top.
package dashboards
