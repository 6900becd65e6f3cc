-- changes: for each batch the hub is about to store, and each force in it, the first month whose
-- measures the batch may change: the month of the earliest call_received among its records and
-- the stored revisions they replace (a trust's update: of the incident it updates). Every measure
-- windows on call_received or detained, which validation keeps at or after call_received, and
-- counts forward from there (repeat detention looks a year back from each detention), so no month
-- before from_month can change. The row is written before the batch is stored: a batch stored is
-- always logged here; a row whose batch failed only costs a publication.
--
-- The share publisher reads the rows logged since its last publication and republishes only the
-- aggregate shares whose forces and published months they touch: a current month's trickle touches
-- none of them. logged_at is the server's clock at insert, the clock the publisher reads too.
CREATE TABLE IF NOT EXISTS ${db}.changes (
    logged_at DateTime DEFAULT now(),
    submission_id String,
    force_id String,
    from_month Date
) ENGINE = MergeTree
PARTITION BY toYYYYMM(logged_at)
ORDER BY (logged_at, force_id);
