// Package funnel draws Spiegelhalter funnel plots (Spiegelhalter 2005,
// doi:10.1002/sim.1970) so forces can be compared without league tables
// (data-standard §6).
//
// Three kinds of unit are supported: proportions (numerator out of
// denominator, on the arcsine-square-root scale), indirectly standardised
// ratios (observed over expected, on the log scale as in the SHMI method or
// on the square-root scale as in the CQC method) and ratios of counts (one
// count over another, such as detentions per 100,000 residents, on the log
// scale around the pooled ratio). Each unit gets a z-score, the limits at
// 95% and 99.8% for its denominator, and an outlier flag.
//
// For ratios of counts the z-score is that of log((num+½)/(den+½)), whose
// standard error √(num/(num+½)² + den/(den+½)²) allows for chance in both
// counts and whose ½ keeps a zero count finite; the limits are
// exp(log target ± z·√(1/(4·den) + τ²)), with the standard error of the
// denominator alone. The flags follow the limits, so for this kind they
// can disagree with the z-scores; both follow FunnelPlotR.
//
// Over-dispersion is handled by the additive random-effects method: the
// z-scores are Winsorised (or, for SHMI log ratios, truncated), their mean
// square is the dispersion ratio φ, and the between-unit variance τ² is
// estimated DerSimonian–Laird style and added to each unit's within-unit
// variance before the limits are drawn. The calculation follows the
// FunnelPlotR package (version 0.6.0); the reference cases in testdata were
// produced by it, and the few places where this package differs on purpose
// are explained where they occur.
//
// Layer 2 (hub/measures): besides its own room it may import schemas, hub/sqltext, ingest, policy.
// The layers are checked by layers_test.go at the repository's top.
package funnel
