// Package follow tells a hub of a cluster what the other hubs stored.
// Each hub hears of its own batches at once (ingest calls back); a batch
// stored through another hub reaches this one only by replication. Run
// reads the changes and submissions logs every Interval for batches
// stored since it last looked and not by this hub (Follower.Mine), waits
// until this server's replicas hold what they wrote (SYSTEM SYNC REPLICA),
// and then calls Stored: the hub's publisher and live monitor read them as
// they would the hub's own.
//
// Without it, the publishing hub would publish another hub's batch only at
// its next scheduled publication (15 minutes by default).
//
// On a cluster of several shards, the wait covers this server's shard: a
// batch stored on another shard is read from one of its replicas, which
// has it once the submissions row does, unless that replica lags; the
// publisher's next read of the changes log (share.ClusterChangesLag) makes
// up for it.
//
// Layer 5, beside the publisher and monitor it wakes: it imports hub/store.
package follow
