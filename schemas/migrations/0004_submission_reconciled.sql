-- A submissions row the hub wrote at start-up for rows stored by a batch whose own log row was
-- lost (the hub died between storing the batch and logging it): reconciled = 1. Its counts are
-- the rows stored (accepted: revision 1, updated: later revisions); what was unchanged, stale or
-- rejected in that batch is not known.
ALTER TABLE ${db}.submissions ADD COLUMN reconciled UInt8;
