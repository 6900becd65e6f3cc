// Package clustertest starts, for a test, a ClickHouse cluster on loopback
// ports: a ZooKeeper server (hub/store/zkserver) and ClickHouse servers
// (hub/store/chserver), each shard's replicas listed in every server's
// remote_servers, stopped when the test ends. A test can kill a server
// (kill -9) and start it again on its data.
//
// Layer 3, with hub/store: test support, imported by tests only.
package clustertest
