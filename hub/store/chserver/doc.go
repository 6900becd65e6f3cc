// Package chserver runs a local ClickHouse server managed by the hub.
//
// It is the hub's embedded default: when no ClickHouse address is
// configured, the hub starts clickhouse-server from PATH on free loopback
// ports with its files under a data directory, and stops it on exit. The
// generated configuration works with ClickHouse 18.16 and current releases.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package chserver
