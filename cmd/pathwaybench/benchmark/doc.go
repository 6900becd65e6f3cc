// Package benchmark is the hub's benchmark harness: it starts a managed
// ClickHouse in a directory of its own, measures end-to-end ingest against a
// direct-insert ceiling taken in the same run, the cost per record of
// validation, tokenisation and encoding, the policy decision cost, national
// scale loading, share publication and dashboard query latency, and the hub's
// peak memory, then writes a Markdown and a JSON report.
//
// Ratios are taken within one run because the machines it runs on are
// shared and noisy: the absolute numbers move from run to run, the ratios
// much less.
//
// Layer 10 (cmd/pathwaybench): besides its own room it may import any package below the commands; never another command.
// The layers are checked by layers_test.go at the repository's top.
package benchmark
