// Package wire holds the constants of IngestService's contract that both
// sides need: a call's limits and the codes of the hub's own findings (the
// validation codes are in ingest/validate). The force-side client imports it
// instead of the hub's handler, so it links nothing of the server.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package wire
