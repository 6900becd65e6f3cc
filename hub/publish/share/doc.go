// Package share is the share publisher: for every recipient of every
// data-sharing agreement it asks the policy what that recipient may see, then
// materialises exactly that into the recipient's own ClickHouse database,
// share_<recipient>, as tables (never views over the raw tables), and gives
// each recipient a read-only ClickHouse user allowed only its own database:
// in a users.d file, or on a cluster in ZooKeeper, where every server takes
// the users in (hub/store/coord).
//
// Aggregate recipients (regional leads, commissioners, analysts) get measures
// by force and month after disclosure control, SPC series and funnel
// positions; record recipients (a force's supervisors) get their own force's
// incident rows and the live pathway state. A recipient whose agreement is no
// longer in force gets nothing: its share database is dropped.
//
// Each share table is built beside the published one and swapped in by
// RENAME, so readers never see a half-written share. Every publication is
// logged in the raw database's publications table with its data cut-off,
// policy decision and revision, row count and a content hash.
//
// Layer 5 (hub/publish): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth.
// The layers are checked by layers_test.go at the repository's top.
package share
