// Package chdb connects to ClickHouse over the native protocol and applies
// versioned schema migrations.
//
// All SQL issued by this package runs on ClickHouse 18.16 as well as on
// current releases: it avoids window functions, DateTime64, TTL, SQL-defined
// users and grants, and server-side {name:Type} query parameters.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package chdb
