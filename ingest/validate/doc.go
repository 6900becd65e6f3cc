// Package validate checks incident records and health updates against the data
// standard before anything is stored: first the field rules declared in the
// proto (protovalidate), then the pathway rules that need more than one field —
// unknown fields, timestamps in pathway order and not in the future, and the
// legal checks of the Mental Health Act and its regulations.
//
// Every problem is reported as a FieldViolation naming the field by its path
// inside the record ("timeline.detained", "transfers[1].pos_type"), a stable
// code, and a message a person understands. Messages never contain the values
// that were submitted.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package validate
