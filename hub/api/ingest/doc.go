// Package ingest is the hub's IngestService: the Connect handler that turns
// untrusted batches from forces and NHS trusts into stored rows or clear
// per-record errors. It is the only writer of the raw tables.
//
// Incidents and health updates take one path (submit), in the same steps:
// authenticate (the credential decides the organisation; see hub/api/auth) →
// validate every record on its own (see ingest/validate) → under the
// organisation's lock, ask the policy whether it may submit (one decision
// per organisation, dataset and scope in the batch, not one per record; see
// policy/) → compare revisions with what is stored → store the new and
// higher revisions in one insert → log the submission. A dataset supplies
// only what differs (type dataset). If storage fails the call returns
// unavailable and nothing in the batch is acknowledged; because records are
// snapshots with revisions, sending the batch again is always safe.
//
// Layer 6 (hub/api): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish.
// The layers are checked by layers_test.go at the repository's top.
package ingest
