package integration_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/dashboards/panelsql"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/lease"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/clustertest"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/policy"
)

// hubBinary builds the pathwayhub command into the test's directory (the
// build cache makes a second build in the package a link).
func hubBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pathwayhub")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/pathwayhub/pathwayhub/cmd/pathwayhub").CombinedOutput(); err != nil {
		t.Fatalf("build the hub: %v\n%s", err, out)
	}
	return bin
}

// startHubProcess runs the pathwayhub command as a hub of the cluster, on
// server i and failing over to the others, with the example agreements and
// the Metropolitan Police's credentials: a process the test can kill -9.
func startHubProcess(t *testing.T, c *clustertest.Cluster, i int, db string) *exec.Cmd {
	t.Helper()
	bin := hubBinary(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.yaml")
	sum := sha256.Sum256([]byte(metToken))
	if err := os.WriteFile(creds, []byte("credentials:\n  - org: force/metropolitan\n    token_sha256: "+hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := c.Addrs()
	failover := strings.Join(append(append([]string{}, addrs[i+1:]...), addrs[:i]...), ",")
	cmd := exec.CommandContext(t.Context(), bin, "serve", "--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
		"--clickhouse="+addrs[i], "--clickhouse-failover="+failover, "--clickhouse-cluster="+clustertest.Name,
		"--zookeeper="+c.ZooKeeper.Addr(), "--clickhouse-database="+db, "--credentials="+creds, "--clickhouse-user="+c.HubUser,
		"--agreements="+apptest.ExampleAgreements(t), "--data-dir="+filepath.Join(dir, "data"), "--log-level=warn")
	cmd.Env = append(os.Environ(), "PATHWAYHUB_ZOOKEEPER_IDENTITY="+c.Identity, "PATHWAYHUB_CLICKHOUSE_PASSWORD="+c.HubPassword)
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// TestAReplicaAndThePublishingHubDieDuringALongSubmission: two hubs on a
// two-replica cluster, the first (its own process, on the first replica)
// publishing. A force submits a long history through the second hub, in
// small batches, as pathwayctl does (retrying a batch the hub could not
// store). A third of the way through, the second hub's own replica and the
// publishing hub are both killed (-9). The submission goes on through the
// surviving replica; every record is acknowledged, and stored once; the
// second hub takes the lease and publishes; every dashboard panel query of
// every recipient answers on the surviving replica, logged in as that
// recipient (its user and password having reached every server through
// ZooKeeper); and the killed replica, restarted, catches up, its copy of
// the shares alike.
func TestAReplicaAndThePublishingHubDieDuringALongSubmission(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const db = "pathway_ha"
	c := clustertest.Start(t, 1, 2, db)
	first := startHubProcess(t, c, 0, db)
	zk := []string{c.ZooKeeper.Addr()}
	holder := func() string {
		id, _ := lease.Holder(zk, c.Identity, coord.LeasePath(db))
		return id
	}
	waitFor(t, "the first hub to take the lease", func() bool {
		return strings.Contains(holder(), fmt.Sprintf("pid %d ", first.Process.Pid))
	})
	second := startClusterHub(t, c, 1, db, "share_")
	survivor := c.Open(t, 0, db)
	published := func() uint64 {
		var n uint64
		_ = survivor.QueryRow(ctx, "SELECT count() FROM "+db+".publications").Scan(&n)
		return n
	}
	waitFor(t, "the first hub's start publication", func() bool { return published() > 0 })
	// Every recipient can log in to both servers with the password kept in
	// ZooKeeper: the users reached every node.
	audiences := exampleAudiences(t, "share_")
	passwords := recipientPasswords(t, c, db, audiences)
	for _, a := range audiences {
		for i, addr := range c.Addrs() {
			waitFor(t, a.ID+" to log in to server "+fmt.Sprint(i), func() bool {
				conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Username: a.Database, Password: passwords[a.ID], Database: a.Database})
				if err != nil {
					return false
				}
				_ = conn.Close()
				return true
			})
		}
	}

	// The long submission: 1,200 detentions in batches of 20.
	recs := detentions(t, 1200, camden, time.Now().AddDate(0, 0, -5))
	var done atomic.Int64
	halfway := make(chan struct{})
	var once sync.Once
	var retries atomic.Int64
	cl := client.New(client.Options{URL: second.info.URL, Token: metToken, BatchSize: 20, RetryFor: 2 * time.Minute,
		Backoff: 200 * time.Millisecond,
		Progress: func(n int) {
			done.Store(int64(n))
			if n >= len(recs)/3 {
				once.Do(func() { close(halfway) })
			}
		},
		OnRetry: func(int, time.Duration, error) { retries.Add(1) },
	})
	type result struct {
		sum client.Summary
		err error
	}
	submitted := make(chan result, 1)
	go func() {
		sum, err := cl.SubmitIncidents(context.WithoutCancel(ctx), recs)
		submitted <- result{sum, err}
	}()
	select {
	case <-halfway:
	case r := <-submitted:
		t.Fatalf("the submission ended before a third of it: %+v %v", r.sum, r.err)
	}
	before := published()
	killed := time.Now()
	c.Kill(t, 1)
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the second hub's replica and the publishing hub after %d of %d records", done.Load(), len(recs))

	r := <-submitted
	if r.err != nil {
		t.Fatalf("the submission failed: %v (%+v)", r.err, r.sum)
	}
	acknowledged := r.sum.Counts["accepted"] + r.sum.Counts["updated"] + r.sum.Counts["unchanged"]
	t.Logf("submission: %v, %d retries, finished %.1f s after the kills", r.sum.Counts, retries.Load(), time.Since(killed).Seconds())
	if acknowledged != len(recs) || r.sum.Rejected() != 0 {
		t.Fatalf("acknowledged %d of %d records (%v)", acknowledged, len(recs), r.sum.Counts)
	}
	if retries.Load() == 0 {
		t.Error("no batch was retried: the replica died where no batch was in flight, so the test proved less than it says")
	}
	var distinct, rows uint64
	if err := survivor.QueryRow(ctx, "SELECT uniqExact(force_id, incident_ref), count() FROM "+db+".incidents_local FINAL").Scan(&distinct, &rows); err != nil {
		t.Fatal(err)
	}
	if distinct != uint64(len(recs)) || rows != distinct {
		t.Errorf("surviving replica: %d incidents in %d rows, want the %d acknowledged once each", distinct, rows, len(recs))
	}

	waitFor(t, "the second hub to take the lease and publish", func() bool {
		return strings.HasSuffix(holder(), second.info.URL) && published() > before
	})
	t.Logf("publication resumed %.1f s after the publishing hub was killed (lease session %s)", time.Since(killed).Seconds(), lease.DefaultSessionTimeout)

	ran := panelsAnswer(t, c.Addrs()[0], "share_", audiences, passwords)
	t.Logf("%d panel queries answered on the surviving replica, each as its recipient", ran)

	// The killed replica comes back, catches up with the raw tables, and
	// the publisher, retrying, writes its copy of the shares again.
	c.Restart(t, 1)
	back := c.Open(t, 1, db)
	clustertest.WaitFor(t, "the restarted replica to catch up", func() bool {
		var n uint64
		err := back.QueryRow(ctx, "SELECT uniqExact(force_id, incident_ref) FROM "+db+".incidents_local FINAL").Scan(&n)
		return err == nil && n == uint64(len(recs))
	})
	var want string
	if err := survivor.QueryRow(ctx, "SELECT content_hash FROM share_"+nclRecipient+".publication").Scan(&want); err != nil {
		t.Fatal(err)
	}
	clustertest.WaitFor(t, "the restarted replica's copy of the commissioner's share to be the survivor's", func() bool {
		var got string
		err := back.QueryRow(ctx, "SELECT content_hash FROM share_"+nclRecipient+".publication").Scan(&got)
		return err == nil && got == want
	})
}

// recipientPasswords reads the passwords of the audiences where the
// publishing hub keeps them, in ZooKeeper, with the cluster's identity,
// once it has made every one.
func recipientPasswords(t *testing.T, c *clustertest.Cluster, db string, audiences []dashboards.Audience) map[string]string {
	t.Helper()
	sess, err := coord.Dial([]string{c.ZooKeeper.Addr()}, c.Identity, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out := map[string]string{}
	waitFor(t, "the recipients' passwords in ZooKeeper", func() bool {
		data, _, found, err := sess.Get(coord.PasswordsNode(db))
		if err != nil || !found || yaml.Unmarshal(data, &out) != nil {
			return false
		}
		for _, a := range audiences {
			if out[a.ID] == "" {
				return false
			}
		}
		return true
	})
	return out
}

// exampleAudiences are the example agreements' dashboard audiences.
func exampleAudiences(t *testing.T, prefix string) []dashboards.Audience {
	t.Helper()
	agreements, err := policy.LoadAgreements(apptest.ExampleAgreements(t), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	audiences, err := dashboards.Audiences(agreements, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(audiences) < 3 {
		t.Fatalf("only %d audiences", len(audiences))
	}
	return audiences
}

// panelsAnswer runs every ClickHouse query of every generated dashboard on
// the server at addr, logged in as the dashboard's audience, with every
// value of its variables, and fails the test for each that does not
// answer. It returns how many ran. (dashboards' own tests check what the
// answers hold; this checks that they come.)
func panelsAnswer(t *testing.T, addr, prefix string, audiences []dashboards.Audience, passwords map[string]string) int {
	t.Helper()
	ctx := t.Context()
	agreements, err := policy.LoadAgreements(apptest.ExampleAgreements(t), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Prefix: prefix, Passwords: passwords})
	if err != nil {
		t.Fatal(err)
	}
	byUID := map[string]dashboards.Audience{}
	for _, a := range audiences {
		byUID[a.DatasourceUID()] = a
	}
	now := time.Now().UTC().Truncate(time.Second)
	ran := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		b, err := panelsql.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Targets) == 0 {
			continue // on Prometheus
		}
		a := byUID[b.Targets[0].DatasourceUID]
		conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Username: a.Database, Password: passwords[a.ID], Database: a.Database})
		if err != nil {
			t.Errorf("%s: %s cannot log in: %v", b.Path, a.ID, err)
			continue
		}
		from, err := panelsql.Relative(b.From, now)
		if err != nil {
			t.Fatal(err)
		}
		values := map[string][]string{}
		for _, v := range b.Variables {
			rows, err := conn.Query(ctx, v.Query)
			if err != nil {
				t.Errorf("%s: variable %s: %v", b.Path, v.Name, err)
				continue
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err == nil {
					values[v.Name] = append(values[v.Name], s)
				}
			}
			rows.Close()
		}
		for _, tg := range b.Targets {
			for _, sc := range panelsql.Scenarios(b.Variables, values, tg.Repeat) {
				sql, err := panelsql.Expand(tg.SQL, sc, panelsql.TimeRange{From: from, To: now})
				if err != nil {
					t.Fatalf("%s %q: %v", b.Path, tg.Panel, err)
				}
				ran++
				rows, err := conn.Query(ctx, sql)
				if err != nil {
					t.Errorf("%s %q %s (%s) as %s: %v", b.Path, tg.Panel, tg.RefID, sc.Name, a.ID, err)
					continue
				}
				for rows.Next() {
				}
				if err := rows.Err(); err != nil {
					t.Errorf("%s %q %s (%s) as %s: %v", b.Path, tg.Panel, tg.RefID, sc.Name, a.ID, err)
				}
				rows.Close()
			}
		}
		_ = conn.Close()
	}
	if ran < 100 {
		t.Errorf("only %d panel queries ran", ran)
	}
	return ran
}
