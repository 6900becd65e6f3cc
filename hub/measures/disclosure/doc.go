// Package disclosure applies statistical disclosure control to every count
// and rate that leaves the owning force (data-standard §6): small counts
// are suppressed, every other count is rounded, zero stays zero, and rates
// are computed from the rounded counts and suppressed with them.
//
// The rounding is a pure function of the count and the Rule, so the same
// count is published as the same value on every release and differencing
// two releases reveals nothing the rule hides. The threshold and base come
// from the data-sharing agreement; DefaultRule is the national default.
//
// Layer 2 (hub/measures): besides its own room it may import schemas, hub/sqltext, ingest, policy.
// The layers are checked by layers_test.go at the repository's top.
package disclosure
