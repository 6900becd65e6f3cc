// Package measures is the hub's measure catalogue: every measure of the data
// standard defined once, with its definition, unit, improvement direction
// and the ClickHouse SQL that computes it, plus the thresholds the pathway is
// measured against. Dashboards, shares, evidence pages and the API all read
// this one catalogue.
//
// Conventions shared by every measure's SQL (Measure.Query):
//
//   - Grain: one row per force and calendar month (UTC), with a numerator
//     and a denominator; Measure.Value forms the value. A month with no row
//     has nothing to count.
//   - Month: detention measures count in the month of detention (the
//     detained time), so a detention belongs to one month in every measure;
//     RCRP and completeness measures in the month the call was received;
//     feed timeliness in the month a submission was received.
//   - Revisions: each incident is read at its latest revision (FINAL on the
//     ReplacingMergeTree, in a subquery that filters on nothing but the
//     force, so no condition is applied to superseded revisions); withdrawn
//     incidents are left out everywhere, including the repeat-detention
//     history.
//   - Health side: where the force left handover accepted or assessment
//     started empty, the trust's time is used, taken from the latest
//     revision of each trust's update; if several trusts updated one
//     incident, the earliest of their times.
//   - Scope: forces, regions and districts are ANDed and inlined as quoted
//     literals after validation against strict patterns. Repeat detention
//     looks for earlier detentions across all forces whatever the scope;
//     submissions carry no place, so a region or district scope keeps the
//     forces with any incident there.
//   - Portability: every statement runs on ClickHouse 18.16 and current
//     releases: one JOIN per SELECT (ANY LEFT JOIN … USING, with both
//     subqueries named, as current releases require), no window
//     functions, medians computed exactly from sorted arrays rather than
//     with the approximate quantile functions.
//
// Layer 2 (hub/measures): besides its own room it may import schemas, hub/sqltext, ingest, policy.
// The layers are checked by layers_test.go at the repository's top.
package measures
