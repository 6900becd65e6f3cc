// Package pack writes and verifies evidence packs: a zip of files (the
// evidence page as one self-contained HTML file, CSV files of the numbers
// shown, a PDF when one could be printed), manifest.json, which records
// the provenance and the SHA-256 and size of every other file, and
// manifest.sig, the hub's Ed25519 signature of manifest.json. Verify checks
// the signature with the hub's public key (the hub serves it at
// /evidence/signing-key.pem), then recomputes the sums of a pack, zipped or
// unpacked into a directory, and reports every file that is missing,
// altered or not in the manifest. Without the signature, anyone could edit
// a count and the manifest and recompute the sums.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package pack
