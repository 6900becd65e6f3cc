package cluster_test

import (
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/cluster"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
)

// TestRecipientsKeepTheirLoginsWhileZooKeeperIsDown: the servers take the
// recipients' users from ZooKeeper (from_zk). A user written there can log
// in on every server; when ZooKeeper goes (and every server's session has
// expired), the running servers keep it. (A server started while ZooKeeper
// is down does not start at all on 18.16: see the README, "On a cluster".)
func TestRecipientsKeepTheirLoginsWhileZooKeeperIsDown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, err := cluster.Start(ctx, cluster.Options{Dir: t.TempDir(), Shards: 1, Replicas: 2, Database: "pathway"})
	if err != nil {
		t.Fatalf("%v (run `make deps`)", err)
	}
	t.Cleanup(c.Kill)
	s, err := coord.Dial([]string{c.ZooKeeper.Addr()}, c.Identity, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const user = `<share_test><password>a-long-test-password</password><networks><ip>127.0.0.1</ip></networks>` +
		`<profile>default</profile><quota>default</quota><allow_databases><database>default</database></allow_databases></share_test>`
	if _, err := s.Put(coord.UsersNode("pathway"), map[string][]byte{"users": []byte(user), "profiles": nil, "quotas": nil}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	login := func(addr string) error {
		conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Username: "share_test", Password: "a-long-test-password", Database: "default",
			Cluster: true}) // a cluster's connection: not recorded for the replay
		if err != nil {
			return err
		}
		return conn.Close()
	}
	for _, addr := range c.Addrs() {
		deadline := time.Now().Add(30 * time.Second)
		for err := login(addr); err != nil; err = login(addr) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the user written to ZooKeeper cannot log in: %v", addr, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	c.ZooKeeper.Kill()
	time.Sleep(2 * 4 * time.Second) // twice the servers' session timeout: every session expired
	for _, addr := range c.Addrs() {
		if err := login(addr); err != nil {
			t.Errorf("%s: with ZooKeeper gone, the recipient cannot log in: %v", addr, err)
		}
	}
}
