// Package annual builds a force's annual return of section 136 detentions
// to the Home Office ("Police powers and procedures", the Mental Health
// Act detentions a force returns each financial year) from the incidents
// the force sent to the hub.
//
// What is counted: every incident of the force of type s136, at its
// latest revision (FINAL), not withdrawn, with a detention time in the
// financial year: 1 April to 31 March, by the same UTC month boundaries
// as the measure s136_detentions, so that a year's return reconciles with
// the sum of that measure's twelve months. The counts are the force's
// own, unrounded and unsuppressed, as the Home Office collects them.
//
// The tables follow the return's breakdowns: the total and the months;
// age (the standard's bands, and under 18 or not); sex; ethnicity (the
// ONS broad groups of the NHS ethnic category); the first place of safety;
// the method of conveyance, and for police vehicles the reason; police
// stations as a place of safety, why, and the under-18s taken to one; and
// whether a health professional was consulted first. Every table lists
// every category of the standard, zero or not, and its "not known" row:
// a value the force did not record is counted there, never dropped. Each
// table ends with its total, which its other rows sum to: the total of
// detentions, or for a table of a subset (police vehicles, police
// stations), that subset's row of its parent table.
//
// Query builds the one statement; Build makes the tables from its rows.
//
// Layer 2 (hub/measures): besides its own room it may import schemas, hub/sqltext, ingest, policy.
// The layers are checked by layers_test.go at the repository's top.
package annual
