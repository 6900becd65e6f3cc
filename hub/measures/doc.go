// Package measures is the hub's measure catalogue: every measure of the data
// standard defined once, with its definition, unit, improvement direction
// and the ClickHouse SQL that computes it, plus the thresholds the pathway is
// measured against. Dashboards, shares, evidence pages and the API all read
// this one catalogue.
package measures
