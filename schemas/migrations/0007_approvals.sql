-- approvals: each sign-off (state 'approved') or reopening (state 'reopened') of a month of a
-- force's incidents (ApprovalService), after the policy allowed it. Append-only: a month's state is
-- its latest row (argMax by decided_ns, the decision time in Unix nanoseconds: two decisions may
-- fall in one second); a month with no row is provisional. The month is that of an incident's
-- call_received, UTC.
CREATE TABLE IF NOT EXISTS ${db}.approvals (
    force_id String,
    month Date,
    state String,
    decided_at DateTime,
    decided_ns UInt64,
    org String,
    agreement String,
    recipient String,
    decision_id String,
    reopen_reason String
) ENGINE = MergeTree
ORDER BY (force_id, month, decided_ns);

-- Why a revision was sent, from IncidentRecord.revision_reason; required for a month its force
-- has approved, '' when none was given.
ALTER TABLE ${db}.incidents ADD COLUMN revision_reason String;
