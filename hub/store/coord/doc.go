// Package coord is ZooKeeper as the hub uses it on a cluster: sessions that
// log in with the cluster's identity (the digest "user:password" every
// ClickHouse server of the cluster logs in with too), and nodes that only
// that identity may read, change or delete. The hub keeps three things
// there: the publishing lease (hub/publish/lease), the recipients' users,
// which every server takes into its own users configuration (ClickHouse's
// from_zk substitution, see hub/store/chserver.Cluster.UsersNode), and the
// recipients' passwords, so that whichever hub publishes gives each
// recipient the same one.
//
// Anyone who reaches ZooKeeper's port could otherwise add a ClickHouse user
// of their own to every server, read the recipients' password hashes, or
// hold the lease so that nothing is published. So a node on the hub's path
// that already exists with any other ACL is refused, by name, rather than
// used.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package coord
