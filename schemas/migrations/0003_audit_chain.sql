-- The decision audit becomes tamper-evident: each row carries its place in one chain (seq, from 1),
-- the hash of the row before it and its own hash, a SHA-256 over prev_hash and the row's fields
-- (hub/audit). `pathwayhub audit verify` recomputes the chain: a deleted row leaves a gap in seq, an
-- altered one a hash that no longer matches, an inserted one a link that does not. Rows written
-- before this migration have seq 0 and stand outside the chain.
ALTER TABLE ${db}.decisions ADD COLUMN seq UInt64;
ALTER TABLE ${db}.decisions ADD COLUMN prev_hash String;
ALTER TABLE ${db}.decisions ADD COLUMN row_hash String;
