package integration_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/lease"
	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/clustertest"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// startClusterHub starts a hub on server i of cluster c, failing over to
// the others, with database db and share prefix prefix (and edit's other
// settings). The test's own reads go to the cluster unrecorded, like the
// hub's: the replay on chDB has no cluster.
func startClusterHub(t *testing.T, c *clustertest.Cluster, i int, db, prefix string, edit ...func(*config.Config)) *hub {
	t.Helper()
	addrs := c.Addrs()
	failover := strings.Join(append(append([]string{}, addrs[i+1:]...), addrs[:i]...), ",")
	h := startHubWith(t, addrs[i], sharingCreds(), apptest.WithConfig(func(cfg *config.Config) {
		cfg.ClickHouse.Database, cfg.Shares.Prefix = db, prefix
		cfg.ClickHouse.Cluster, cfg.ClickHouse.ZooKeeper, cfg.ClickHouse.Failover = clustertest.Name, c.ZooKeeper.Addr(), failover
		cfg.ClickHouse.ZooKeeperIdentity = c.Identity
		cfg.ClickHouse.Username, cfg.ClickHouse.Password = c.HubUser, c.HubPassword
		for _, e := range edit {
			e(cfg)
		}
	}))
	_ = h.ch.Close()
	h.ch = c.Open(t, i, db)
	return h
}

// TestTwoHubsOnAClusterLoseAReplica: two hubs share a two-replica cluster
// (each connected to its own replica, failing over to the other). One of
// them holds the publishing lease and has published, a copy of every share
// on each replica, the copies alike; a dashboard's share still answers
// when its replica is gone. Batches go through
// both; then the first hub's replica is killed (-9) and its client retries
// the batch that failed, as a client does, until the hub stores it through
// the other replica. Every acknowledged incident is stored exactly once on
// the surviving replica, and on the killed one once it is back and has
// caught up.
func TestTwoHubsOnAClusterLoseAReplica(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const db, prefix = "pathway_cluster", "sc_"
	c := clustertest.Start(t, 1, 2, db)
	a := startClusterHub(t, c, 0, db, prefix)
	b := startClusterHub(t, c, 1, db, prefix)

	// One hub publishes: it holds the lease, and its start publication is
	// logged (in a replicated table: every replica has it).
	var holder string
	waitFor(t, "a hub to hold the publishing lease and publish", func() bool {
		var err error
		holder, err = lease.Holder([]string{c.ZooKeeper.Addr()}, c.Identity, coord.LeasePath(db))
		return err == nil && holder != "" && b.count(t, "SELECT count() FROM publications") > 0
	})
	if strings.HasSuffix(holder, a.info.URL) == strings.HasSuffix(holder, b.info.URL) {
		t.Fatalf("lease holder %q is not exactly one of the hubs (%s, %s)", holder, a.info.URL, b.info.URL)
	}

	var acknowledged []*pathwayv1.IncidentRecord
	for _, h := range []*hub{a, b} {
		recs := detentions(t, 20, camden, time.Now().AddDate(0, 0, -3))
		h.mustSubmitAll(t, metToken, recs...)
		acknowledged = append(acknowledged, recs...)
	}

	// Every replica gets every share, from the same data: the publishing
	// hub writes each replica's own copy, and the copies' content hashes
	// agree.
	publisher := a
	if strings.HasSuffix(holder, b.info.URL) {
		publisher = b
	}
	for _, h := range []*hub{a, b} {
		if err := h.ch.Exec(ctx, "SYSTEM SYNC REPLICA "+db+".incidents_local"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := publisher.info.Publish(ctx); err != nil {
		t.Fatalf("publish: %v", err)
	}
	var hashes [2]string
	for i, h := range []*hub{a, b} {
		if err := h.ch.QueryRow(ctx, "SELECT content_hash FROM "+prefix+nclRecipient+".publication").Scan(&hashes[i]); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if hashes[0] == "" || hashes[0] != hashes[1] {
		t.Errorf("the replicas' copies of %s differ: content hashes %q and %q", nclRecipient, hashes[0], hashes[1])
	}

	c.Kill(t, 0)
	// The commissioner's dashboard still answers, from the other replica.
	if n := b.count(t, "SELECT count() FROM "+prefix+nclRecipient+".catalogue"); n == 0 {
		t.Error("the surviving replica's copy of the commissioner's share is empty")
	}
	recs := detentions(t, 20, camden, time.Now().AddDate(0, 0, -2))
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := a.submit(t, metToken, false, recs...)
		if err == nil && !strings.Contains(statuses(resp), "ERROR") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub never stored a batch after its replica was lost: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	acknowledged = append(acknowledged, recs...)

	assertOnce := func(conn driver.Conn, which string) {
		t.Helper()
		// A restarted replica is active again once its old session has
		// expired, then fetches what it missed.
		clustertest.WaitFor(t, "the "+which+" replica to hold every acknowledged incident", func() bool {
			var n uint64
			err := conn.QueryRow(ctx, "SELECT uniqExact(force_id, incident_ref) FROM "+db+".incidents_local FINAL").Scan(&n)
			return err == nil && n >= uint64(len(acknowledged))
		})
		var distinct, rows uint64
		if err := conn.QueryRow(ctx, "SELECT uniqExact(force_id, incident_ref), count() FROM "+db+".incidents_local FINAL").Scan(&distinct, &rows); err != nil {
			t.Fatal(err)
		}
		if distinct != uint64(len(acknowledged)) || rows != distinct {
			t.Errorf("%s replica: %d incidents in %d rows, want the %d acknowledged once each", which, distinct, rows, len(acknowledged))
		}
	}
	assertOnce(c.Open(t, 1, db), "surviving")
	c.Restart(t, 0)
	assertOnce(c.Open(t, 0, db), "restarted")

	// Both hubs decided; each extended a chain of its own, and every chain
	// verifies.
	if n := b.count(t, "SELECT uniqExact(chain) FROM "+db+".decisions WHERE seq > 0"); n != 2 {
		t.Errorf("the decision audit has %d chains, want one per hub", n)
	}
	n, problems, err := audit.Verify(ctx, b.ch, db, audit.Head{})
	if err != nil || n == 0 || len(problems) != 0 {
		t.Errorf("audit verify on the cluster: %d rows, %v, %v", n, problems, err)
	}
}

// TestTwoShardsPublishWhatOneServerPublishes: the same incidents of three
// forces, stored on a cluster of two shards (each force's incidents on
// the shard its id hashes to) and on one server, give aggregate shares
// with the same content: the measures read the Distributed tables, and
// FINAL collapses revisions on each shard, correctly because an incident's
// revisions share a shard.
func TestTwoShardsPublishWhatOneServerPublishes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const db, prefix = "pathway_sharded", "sx_"
	c := clustertest.Start(t, 2, 1, db)
	sharded := startClusterHub(t, c, 0, db, prefix)
	single := startSharingHub(t)

	// Two months of detentions of three forces.
	batches := map[string][]*pathwayv1.IncidentRecord{
		metToken:  append(detentions(t, 24, camden, lastMonth()), detentions(t, 9, hackney, lastMonth().AddDate(0, -1, 0))...),
		btpToken:  detentions(t, 17, camden, lastMonth()),
		cityToken: detentions(t, 11, "E09000001", lastMonth().AddDate(0, -1, 3)),
	}
	for _, h := range []*hub{sharded, single} {
		for token, recs := range batches {
			h.mustSubmitAll(t, token, recs...)
		}
	}
	var stored [2]uint64
	for i, h := range []*hub{sharded, single} {
		stored[i] = h.count(t, "SELECT count() FROM "+h.info.Database+".incidents FINAL")
		if _, err := h.info.Publish(ctx); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	if stored[0] != stored[1] || stored[0] != 61 {
		t.Fatalf("stored %d incidents on the cluster and %d on one server, want 61 each", stored[0], stored[1])
	}
	// Each shard holds only its forces' incidents.
	for i := range 2 {
		conn := c.Open(t, i, db)
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".incidents_local").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || n == 61 {
			t.Errorf("shard %d holds %d of the 61 incidents; the forces are spread over both", i+1, n)
		}
	}
	for _, recipient := range []string{nclRecipient, "london_regional_lead", "btp_national_analysts"} {
		var hashes [2]string
		for i, h := range []*hub{sharded, single} {
			if err := h.ch.QueryRow(ctx, "SELECT content_hash FROM "+h.info.SharePrefix+recipient+".publication").Scan(&hashes[i]); err != nil {
				t.Fatalf("%s: %v", recipient, err)
			}
		}
		if hashes[0] != hashes[1] {
			t.Errorf("%s: content hash %s on two shards, %s on one server", recipient, hashes[0], hashes[1])
		}
	}
}

// TestAnotherHubPublishesWhenThePublishingHubIsKilled: a hub running as its
// own process (the pathwayhub binary, built here) takes the publishing
// lease on a two-replica cluster; a second hub waits. The first is killed
// (-9, no clean shutdown, its lease left to expire with its ZooKeeper
// session, 10 s). The second takes the lease and publishes, within the
// session timeout and a margin, a copy of every share on both replicas,
// the copies alike.
func TestAnotherHubPublishesWhenThePublishingHubIsKilled(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const db = "pathway_killed"
	c := clustertest.Start(t, 1, 2, db)
	first := startHubProcess(t, c, 0, db)
	zk := []string{c.ZooKeeper.Addr()}
	holderIs := func(pid string) bool {
		id, err := lease.Holder(zk, c.Identity, coord.LeasePath(db))
		return err == nil && strings.Contains(id, pid)
	}
	waitFor(t, "the first hub to take the lease", func() bool { return holderIs(fmt.Sprintf("pid %d ", first.Process.Pid)) })

	second := startClusterHub(t, c, 1, db, "share_")
	waitFor(t, "the first hub's start publication", func() bool {
		return second.count(t, "SELECT count() FROM publications") > 0
	})
	published := func() uint64 { return second.count(t, "SELECT count() FROM publications") }
	before := published()

	killed := time.Now()
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second hub to take the lease and publish", func() bool {
		return holderIs(second.info.URL) && published() > before
	})
	t.Logf("the second hub published %.1f s after the first was killed (lease session 10 s)", time.Since(killed).Seconds())
	if gap := time.Since(killed); gap > 40*time.Second {
		t.Errorf("publication stopped for %s after the publishing hub died; the lease lapses after 10 s", gap)
	}
	// The new publisher writes each replica's copy; both arrive, alike.
	conns := []driver.Conn{c.Open(t, 0, db), c.Open(t, 1, db)}
	var hashes [2]string
	waitFor(t, "both replicas' copies of the commissioner's share, alike", func() bool {
		for i, conn := range conns {
			if err := conn.QueryRow(ctx, "SELECT content_hash FROM share_"+nclRecipient+".publication").Scan(&hashes[i]); err != nil {
				return false
			}
		}
		return hashes[0] != "" && hashes[0] == hashes[1]
	})
}

// TestThePublishingHubPublishesWhatAnotherHubStored: on a cluster a batch
// stored through a hub that does not hold the publishing lease reaches the
// one that does only by replication. With scheduled publications an hour
// apart, the commissioner's share is republished soon after a back-dated
// batch goes in through the other hub: the lease holder followed it.
// Before hub/publish/follow, it waited for the next scheduled publication.
func TestThePublishingHubPublishesWhatAnotherHubStored(t *testing.T) {
	t.Parallel()
	const db, prefix = "pathway_follow", "sf_"
	c := clustertest.Start(t, 1, 2, db)
	hourly := func(cfg *config.Config) { cfg.Shares.Interval, cfg.Shares.MaxDelay = time.Hour, time.Hour }
	a := startClusterHub(t, c, 0, db, prefix, hourly)
	b := startClusterHub(t, c, 1, db, prefix, hourly)

	var holder string
	waitFor(t, "a hub to hold the publishing lease and publish", func() bool {
		var err error
		holder, err = lease.Holder([]string{c.ZooKeeper.Addr()}, c.Identity, coord.LeasePath(db))
		return err == nil && holder != "" && a.count(t, "SELECT count() FROM publications WHERE recipient = ?", nclRecipient) > 0
	})
	publisher, other := a, b
	if strings.HasSuffix(holder, b.info.URL) {
		publisher, other = b, a
	}

	// Last month's detentions, which the commissioner's share counts.
	now := time.Now().UTC()
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	sent := time.Now()
	other.mustSubmitAll(t, metToken, detentions(t, 20, camden, lastMonth.AddDate(0, 0, 9))...)
	waitFor(t, "the lease holder's copy of the commissioner's share to count last month's 20 detentions, stored through the other hub", func() bool {
		return publisher.count(t, "SELECT count() FROM "+prefix+nclRecipient+".measures WHERE measure_id = 's136_detentions' AND month = toDate(?) AND value = 20",
			lastMonth.Format(time.DateOnly)) == 1
	})
	t.Logf("the lease holder published the batch %.1f s after it was sent to the other hub (debounce 5 s)", time.Since(sent).Seconds())
	sent = time.Now()
	// An approval through the other hub reaches the lease holder's shares
	// the same way.
	if _, err := approve(t, other, metToken, "metropolitan", lastMonth.Format("2006-01")); err != nil {
		t.Fatalf("approve through the hub without the lease: %v", err)
	}
	waitFor(t, "the lease holder's copy of the commissioner's share to mark the month approved through the other hub", func() bool {
		return publisher.count(t, "SELECT count() FROM "+prefix+nclRecipient+".month_status WHERE force_id = 'metropolitan' AND month = toDate(?) AND state = 'approved'",
			lastMonth.Format(time.DateOnly)) == 1
	})
	t.Logf("and marked the approval %.1f s after it was made through the other hub", time.Since(sent).Seconds())
}
