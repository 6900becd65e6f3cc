// Package clustertest starts, for a test, a local ClickHouse cluster
// (hub/store/cluster: ZooKeeper and ClickHouse servers on loopback ports),
// killed when the test ends. A test can kill a server (kill -9) and start
// it again on its data, and opens connections that fail over.
//
// Layer 3, with hub/store: test support, imported by tests only.
package clustertest
