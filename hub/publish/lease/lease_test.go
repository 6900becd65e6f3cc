package lease_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/publish/lease"
	"github.com/pathwayhub/pathwayhub/hub/store/zkserver"
)

const sessionTimeout = 4 * time.Second // ZooKeeper's least: two ticks of 2 s

// identity is the hubs' ZooKeeper login in these tests.
const identity = "pathwayhub:lease-test-secret"

// TestMain runs, when asked by the test below, as another hub holding the
// lease until it is killed.
func TestMain(m *testing.M) {
	if zkAddr := os.Getenv("LEASE_TEST_HOLDER"); zkAddr != "" {
		err := lease.Run(context.Background(), lease.Options{Identity: identity, Servers: []string{zkAddr}, Path: "/pathwayhub/test/publisher",
			ID: "crashing-hub", SessionTimeout: sessionTimeout}, func(ctx context.Context) error {
			fmt.Println("leading")
			<-ctx.Done()
			return nil
		})
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestAnotherHubTakesOverWhenTheHolderDies: while one hub (another process)
// holds the lease, a second waits and does not lead; when the holder is
// killed (-9), the second leads within the session timeout and a margin;
// when it stops, the lease is free.
func TestAnotherHubTakesOverWhenTheHolderDies(t *testing.T) {
	t.Parallel()
	zk, err := zkserver.Start(t.Context(), zkserver.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zk.Kill)
	servers := []string{zk.Addr()}
	const p = "/pathwayhub/test/publisher"

	holder := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), "LEASE_TEST_HOLDER="+zk.Addr())
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "leading" {
		t.Fatalf("the first hub did not lead: %q, %v", line, err)
	}

	var leading atomic.Bool
	started := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- lease.Run(ctx, lease.Options{Identity: identity, Servers: servers, Path: p, ID: "second-hub", SessionTimeout: sessionTimeout},
			func(ctx context.Context) error {
				leading.Store(true)
				started <- time.Now()
				<-ctx.Done()
				leading.Store(false)
				return nil
			})
	}()
	time.Sleep(time.Second)
	if leading.Load() {
		t.Fatal("two hubs lead at once")
	}
	if id, err := lease.Holder(servers, identity, p); err != nil || id != "crashing-hub" {
		t.Fatalf("holder %q (%v), want crashing-hub", id, err)
	}

	killed := time.Now()
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-started:
		t.Logf("took over %.1f s after the holder was killed (session timeout %s)", at.Sub(killed).Seconds(), sessionTimeout)
	case <-time.After(sessionTimeout + 15*time.Second):
		t.Fatal("nobody took over after the holder died")
	}
	if id, err := lease.Holder(servers, identity, p); err != nil || id != "second-hub" {
		t.Fatalf("holder %q (%v), want second-hub", id, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if leading.Load() {
		t.Error("still leading after Run returned")
	}
	if id, err := lease.Holder(servers, identity, p); err != nil || id != "" {
		t.Errorf("holder %q (%v) after the second hub stopped, want none", id, err)
	}
}

// TestLeadingStopsWhenTheCoordinationServiceIsLost: a holder cut off from
// ZooKeeper stops leading at once, rather than when its session would
// expire on the other side, so it cannot publish beside the next holder.
func TestLeadingStopsWhenTheCoordinationServiceIsLost(t *testing.T) {
	t.Parallel()
	zk, err := zkserver.Start(t.Context(), zkserver.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	led, stopped := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		_ = lease.Run(ctx, lease.Options{Identity: identity, Servers: []string{zk.Addr()}, Path: "/p/publisher", ID: "hub", SessionTimeout: sessionTimeout},
			func(ctx context.Context) error {
				if once.Swap(true) {
					return nil // led once; the test is about that once
				}
				close(led)
				<-ctx.Done()
				close(stopped)
				return nil
			})
	}()
	select {
	case <-led:
	case <-time.After(30 * time.Second):
		t.Fatal("never led")
	}
	zk.Kill()
	select {
	case <-stopped:
	case <-time.After(sessionTimeout):
		t.Fatal("still leading a session timeout after the coordination service went")
	}
}
