// Package returns serves ReturnService: a force's annual return of
// section 136 detentions to the Home Office (hub/measures/annual), as
// tables, CSV or an XLSX workbook (github.com/xuri/excelize/v2), in a
// pack signed like an evidence pack (ingest/pack). Only the force's own
// supervisors or analysts get it, under an export decision of the policy
// that names the force; the decision is audited.
//
// Layer 6 (hub/api): besides its own room it may import the layers below.
// The layers are checked by layers_test.go at the repository's top.
package returns
