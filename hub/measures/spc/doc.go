// Package spc computes NHS England "Making Data Count" statistical process
// control for one series: an XmR chart (mean, moving range, process limits and
// near-limit band), the special-cause rules, and the variation and assurance
// icons (data-standard §6).
//
// The numbers and classifications reproduce the NHSRplotthedots R package,
// version 0.2.2, point for point; testdata/ holds the reference cases and
// describes that package's behaviour. In brief, within each period (the whole
// series, or the stretch between rebase dates):
//
//   - the centre line is the mean of the baseline points (every point, or
//     the first Options.FixAfterN of them);
//   - moving ranges |xᵢ − xᵢ₋₁| come from the baseline points; unless
//     screening is turned off, ranges of at least 3.267 × their mean are
//     dropped and the mean recomputed once;
//   - the process limits are mean ∓ 2.66 × mean moving range, and the
//     near-limit band edges mean ∓ (2 × 2.66 / 3) × mean moving range;
//   - periods of fewer than 13 points still get limits (trial limits) and
//     are marked Period.Short;
//   - each point is given at most one special cause, in priority order:
//     beyond a process limit; part of a run of 7 (Options.TrendLength)
//     strictly rising or falling points; 2 of 3 consecutive points beyond a
//     near-limit edge (but within the limit) with all three on the same side
//     of the mean; part of a run of 7 (Options.RunLength) points strictly on
//     one side of the mean. Runs and trends never cross a rebase date.
//
// Means are taken the way R takes them (a corrected two-pass mean in
// extended precision), so that points lying exactly on the mean or a limit
// are classified as the reference classifies them.
//
// Layer 2 (hub/measures): besides its own room it may import schemas, hub/sqltext, ingest, policy.
// The layers are checked by layers_test.go at the repository's top.
package spc
