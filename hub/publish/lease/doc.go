// Package lease lets exactly one of several hubs publish at a time: the
// holder of an ephemeral node in the ZooKeeper ensemble the ClickHouse
// cluster already runs (github.com/go-zookeeper/zk). A holder that dies
// loses the node when its session expires (Options.SessionTimeout), and
// another hub takes it; a holder cut off from ZooKeeper stops leading at
// once, before its session could expire, so two hubs never lead at once
// for longer than the network takes to tell them.
//
// Layer 5, with the publisher it gates: it imports hub/store/coord only.
package lease
