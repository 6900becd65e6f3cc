-- decisions: the append-only audit of every policy decision (policy/): who asked to do what with
-- which data, whether it was allowed and why, under which agreements and policy revision. Nothing
-- updates or deletes it; it answers "who saw what, under which agreement".
CREATE TABLE IF NOT EXISTS ${db}.decisions (
    decision_id String,
    decided_at DateTime,
    policy_revision String,
    action String,
    org String,
    dataset String,
    force_id String,
    pos_org String,
    recipient String,
    allow UInt8,
    reasons Array(String),
    agreements Array(String),
    grant_recipients Array(String)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(decided_at)
ORDER BY (org, decided_at);

-- publications: one row per share table the publisher (hub/share) wrote for a recipient: when,
-- the data cut-off, the policy decision and revision it rested on, the row count and a content
-- hash of exactly what was published, so a recipient can prove what it was given.
CREATE TABLE IF NOT EXISTS ${db}.publications (
    publication_id String,
    recipient String,
    agreement String,
    decision_id String,
    policy_revision String,
    published_at DateTime,
    data_cutoff DateTime,
    share_table String,
    row_count UInt64,
    content_hash String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(published_at)
ORDER BY (recipient, published_at);
