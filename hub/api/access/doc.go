// Package access is the hub's AccessService: it tells a caller what it may
// submit and what it may see under the data-sharing agreements in force, and
// why, by asking the policy the same questions ingest and the share
// publisher ask. Each answer rests on audited policy decisions.
//
// Layer 6 (hub/api): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish.
// The layers are checked by layers_test.go at the repository's top.
package access
