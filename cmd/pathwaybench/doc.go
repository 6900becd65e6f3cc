// Command pathwaybench runs the hub's benchmarks (cmd/pathwaybench/benchmark) and writes
// report.md and report.json: end-to-end ingest against the direct-insert
// ceiling, cost per record, national-scale load, publication and panel
// latency, and the hub's peak memory.
//
// Layer 10 (cmd/pathwaybench): besides its own room it may import any package below the commands; never another command.
// The layers are checked by layers_test.go at the repository's top.
package main
