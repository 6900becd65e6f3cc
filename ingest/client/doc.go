// Package client submits records to a hub's IngestService over Connect, the
// way a force or trust should: in batches within the hub's limits, retrying a
// whole batch with backoff when the hub answers unavailable (safe, because
// records are revisioned snapshots), and totting up what happened to every
// record.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package client
