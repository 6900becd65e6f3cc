// Package cluster starts a ClickHouse cluster on this machine's loopback
// ports: a ZooKeeper server (hub/store/zkserver) and ClickHouse servers
// (hub/store/chserver), each shard's replicas listed in every server's
// configuration. The cluster demo and the cluster tests (through
// hub/store/chserver/clustertest) run on it; a production cluster is its
// operator's, and the hub is only told its addresses.
//
// Layer 3, with hub/store.
package cluster
