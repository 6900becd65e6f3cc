// Package store is the hub's storage in ClickHouse. It writes the raw
// tables: incidents, health updates, and the submission and rejection logs,
// and is their only writer (see schemas/migrations for their definitions).
// It also runs the statements that read them for the other parts: stored
// revisions for ingest, the publication's snapshot (Snapshot, from the
// statement hub/measures builds), the live monitor's open incidents
// (OpenIncidents) and the counts per force and month.
//
// Its sub-packages: chdb (connections, migrations, group commit, the
// statement log and its replay on a current release), chserver (the managed
// ClickHouse server), zkserver and cluster (ZooKeeper and a local cluster,
// for the tests and the cluster demo), coord (ZooKeeper as the hub uses it
// on a cluster) and audit (the decisions table, hash chains).
//
// Every statement runs on ClickHouse 18.16 and on current releases: inserts
// name their columns, values are bound on the client side, and reads that need
// the current revision use max(revision) rather than FINAL so they are cheap.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package store
