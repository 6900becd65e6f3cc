// Package apptest runs a real hub for tests: app.Run on a loopback port
// against a given ClickHouse, with a fresh database, a unique share prefix,
// the example London agreements and in-memory credentials, stopped and
// cleaned up when the test ends.
//
// Layer 9 (hub/app): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish, hub/api, hub/web, dashboards, hub/config.
// The layers are checked by layers_test.go at the repository's top.
package apptest
