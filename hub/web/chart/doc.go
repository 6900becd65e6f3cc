// Package chart draws the evidence pages' charts as inline SVG: statistical
// process control (SPC) charts, funnel plots and the Making Data Count icons.
// Each chart is laid out first (every point, line and tick gets its SVG
// coordinates, which tests check) and then written as SVG with no external
// assets, so a page works offline and prints well. Point markers differ in
// shape and fill as well as colour, so the charts read in greyscale.
//
// Layer 6 (hub/web): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish.
// The layers are checked by layers_test.go at the repository's top.
package chart
