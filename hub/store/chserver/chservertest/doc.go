// Package chservertest provides test helpers that run a real local
// ClickHouse server through chserver and create throw-away databases on it,
// empty or holding the hub's raw tables.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package chservertest
