// Package zkserver starts and stops a local ZooKeeper server, the
// coordination service a ClickHouse cluster's replicated tables and ON
// CLUSTER DDL need: Debian's zookeeper package run with java directly (its
// zkServer.sh hard-codes /etc and /var/log paths), on a loopback port, with
// its data under a directory of its own. The cluster tests and the cluster
// demo start one; a production cluster runs its own ensemble (or ClickHouse
// Keeper) and the hub is only told where it is.
//
// Layer 3 (beside hub/store's other servers): it imports chserver's
// FreePort only.
package zkserver
