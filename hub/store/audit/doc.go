// Package audit writes every policy decision to the append-only decisions
// table of the raw database, so "who saw what, under which agreement and
// which policy revision" can always be answered. It implements
// policy.Auditor; a decision whose audit row cannot be written is not acted
// on (the policy engine fails closed).
//
// Writes are group-committed (chdb.Group): decisions made while an insert
// is in flight go into the next insert together. Audit still returns only
// once its own row is stored, so nothing is acknowledged unaudited, but a
// busy hub makes one ClickHouse insert (one part) per group rather than one
// per decision.
//
// The table is tamper-evident: every row carries seq (its place in one
// chain, from 1), prev_hash (the hash of the row before it) and row_hash, a
// SHA-256 over prev_hash and the row's own fields (RowHash). Verify
// recomputes the chain and names every gap (a deleted row), mismatch (an
// altered one) and broken link (an inserted one). The writer also keeps the
// chain's head in a file, so a deletion at the end is found too. Every
// string in a row is bounded (MaxField bytes), whatever a caller sent.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package audit
