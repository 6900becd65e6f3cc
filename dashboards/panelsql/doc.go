// Package panelsql reads the ClickHouse queries out of generated dashboard
// JSON and turns each into the SQL the Grafana ClickHouse plugin would send
// to ClickHouse for it. The dashboards' tests run that SQL against a real
// ClickHouse as each audience's user, and the benchmark times it at national
// scale, so both see exactly what Grafana would run.
//
// Expansion follows the plugin (grafana/clickhouse-datasource v4), in its
// order:
//
//  1. In the browser (src/data/CHDatasource.ts, applyTemplateVariables):
//     first $__conditionalAll(cond, $var) becomes 1=1 when the variable's
//     current value is All or empty, else cond; then Grafana's template
//     service interpolates variables: ${v:singlequote} is every value
//     single-quoted with quotes escaped, joined by commas (All means every
//     option, as the generated variables have no custom all value); a plain
//     $v or ${v} is the value itself, or, for several values, the plugin's
//     own format: 'a','b'.
//  2. On the server (pkg/macros/macros.go, Interpolate): the $__ macros with
//     the query's time range and interval: $__timeFilter(c) is
//     c >= toDateTime(from) AND c <= toDateTime(to) in Unix seconds;
//     $__dateFilter(c) is c >= toDate('from') AND c <= toDate('to');
//     $__timeFrom(c) and $__timeTo(c) are each half of $__timeFilter;
//     $__fromTime and $__toTime are toDateTime(from) and toDateTime(to);
//     $__interval_s is the interval in whole seconds, at least 1.
//
// Only these macros are expanded: they are the ones that run on ClickHouse
// 18.16. Expand fails on anything still starting with $ afterwards, so a
// panel using another macro is caught.
//
// Layer 7 (dashboards): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish, hub/api, hub/web.
// The layers are checked by layers_test.go at the repository's top.
package panelsql
