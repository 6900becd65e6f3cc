// Package export reads and writes the force export format: the flat CSV or
// NDJSON file a force's own systems produce before `pathwayctl submit`
// pseudonymises it and sends it to the hub. The format is documented for
// integrators in schemas/export-format.md.
//
// A Reader turns each row into a pathwayv1.IncidentRecord. While doing so it
// replaces the two raw local identifiers of a row, incident_number and
// person_id, with their keyed HMAC tokens (see package pseudo), so a record
// never holds a raw identifier. Columns that look like direct identifiers
// (names, dates of birth, NHS numbers, addresses, free text) are refused
// outright.
//
// No error produced by this package contains a cell value: errors name the
// line and the column only, so they can be printed and logged without
// leaking the identifiers they are about.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package export
