// Package app is the hub's lifecycle: it connects to (or starts) ClickHouse,
// applies the migrations, loads the data-sharing agreements into the policy
// engine, builds the ingest, access and evidence services, the live pathway
// monitor and the share publisher, and serves the Connect API, the evidence
// pages, gRPC reflection and health checks on one HTTP server, and /metrics
// on another (loopback by default: it is for operators). Every long-running
// part is an actor in one run group (HTTP servers, policy watcher, SIGHUP
// reloader, monitor, publisher, signals); the first to stop stops the rest,
// and shutdown is graceful within a bound.
//
// Layer 9 (hub/app): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish, hub/api, hub/web, dashboards, hub/config.
// The layers are checked by layers_test.go at the repository's top.
package app
