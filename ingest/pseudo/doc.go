// Package pseudo turns a force's local identifiers into the tokens that the
// data standard allows to leave the force: keyed HMAC-SHA256 hashes, written as
// 64 lower-case hex characters.
//
// Two kinds of token exist, and each is computed under its own domain label so
// that a person identifier and an incident reference that happen to be the same
// string never give the same token:
//
//   - a subject token, from a person identifier (a local person number, PNC id,
//     or NHS number) under the region's shared key, so that repeat contact links
//     across forces;
//   - an incident reference, from the force's own incident number, so that the
//     force's supervisors can find their incidents again.
//
// Normalisation (documented in schemas/export-format.md) makes the token stable
// against the way people type identifiers: trim, remove spaces, tabs, hyphens,
// dots and slashes, and upper-case. "485 777 3456" and "4857773456" give the
// same token.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package pseudo
