package coord_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	"github.com/pathwayhub/pathwayhub/hub/store/zkserver"
)

const identity = "pathwayhub:coord-test-secret"

func startZK(t *testing.T) string {
	t.Helper()
	z, err := zkserver.Start(t.Context(), zkserver.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v (run `make deps`)", err)
	}
	t.Cleanup(z.Kill)
	return z.Addr()
}

func dial(t *testing.T, addr, id string) *coord.Session {
	t.Helper()
	s, err := coord.Dial([]string{addr}, id, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// anonymous is a plain session, logged in as nobody: a local user who
// found ZooKeeper's port.
func anonymous(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(quietLog{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}

// TestOthersCannotTouchTheHubsNodes: what the hub writes (the recipients'
// users every ClickHouse server takes in, their passwords, the lease's
// directory) can be neither read, changed, deleted nor added to by a
// session without the cluster's identity, logged in as nobody or as
// someone else.
func TestOthersCannotTouchTheHubsNodes(t *testing.T) {
	t.Parallel()
	addr := startZK(t)
	hub := dial(t, addr, identity)
	users := coord.UsersNode("pathway")
	changed, err := hub.Put(users, map[string][]byte{"users": []byte("<share_x/>"), "profiles": []byte("<p/>")})
	if err != nil || !changed {
		t.Fatalf("put: changed %v, %v", changed, err)
	}
	if changed, err := hub.Put(users, map[string][]byte{"users": []byte("<share_x/>"), "profiles": []byte("<p/>")}); err != nil || changed {
		t.Fatalf("the same put again: changed %v, %v; want nothing written", changed, err)
	}
	other := dial(t, addr, "someone:else")
	for name, c := range map[string]*zk.Conn{"anonymous": anonymous(t, addr), "another identity": other.Conn()} {
		if _, _, err := c.Get(users + "/users"); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("%s read the recipients' users: %v", name, err)
		}
		if _, err := c.Set(users+"/users", []byte("<intruder><password>x</password></intruder>"), -1); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("%s changed the recipients' users: %v", name, err)
		}
		if err := c.Delete(users+"/profiles", -1); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("%s deleted a node of the hub's: %v", name, err)
		}
		if _, err := c.Create(coord.LeasePath("pathway"), []byte("squatter"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("%s took the publishing lease: %v", name, err)
		}
		if _, err := c.SetACL(users+"/users", zk.WorldACL(zk.PermAll), -1); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("%s opened the recipients' users: %v", name, err)
		}
	}
	data, _, found, err := hub.Get(users + "/users")
	if err != nil || !found || string(data) != "<share_x/>" {
		t.Fatalf("the hub's users after the attempts: %q %v %v", data, found, err)
	}
}

// TestANodeMadeByAnotherIsRefused: a node on the hub's path that someone
// made first (open to anyone, or closed to the hub) is refused by name,
// not used: its children could have been written by anyone.
func TestANodeMadeByAnotherIsRefused(t *testing.T) {
	t.Parallel()
	addr := startZK(t)
	squatter := anonymous(t, addr)
	if _, err := squatter.Create("/pathwayhub", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	hub := dial(t, addr, identity)
	_, err := hub.Put(coord.UsersNode("pathway"), map[string][]byte{"users": nil})
	if !errors.Is(err, coord.ErrForeignNode) || !strings.Contains(err.Error(), "/pathwayhub ") || !strings.Contains(err.Error(), "world:anyone") {
		t.Fatalf("put under a node anyone may change: %v; want ErrForeignNode naming /pathwayhub and its ACL", err)
	}
	other := dial(t, addr, "someone:else")
	if err := other.Ensure("/closed/x"); err != nil {
		t.Fatal(err)
	}
	if err := hub.Ensure("/closed/x/y"); !errors.Is(err, coord.ErrForeignNode) || !strings.Contains(err.Error(), "/closed") {
		t.Fatalf("ensure under another identity's node: %v; want ErrForeignNode naming /closed", err)
	}
	if _, _, _, err := hub.Get("/closed/x"); !errors.Is(err, coord.ErrForeignNode) && !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("read another identity's node: %v", err)
	}
}

// TestReplaceRefusesAStaleWrite: a write based on what was read fails with
// ErrChanged when another writer changed the node meanwhile, or made it.
func TestReplaceRefusesAStaleWrite(t *testing.T) {
	t.Parallel()
	addr := startZK(t)
	a, b := dial(t, addr, identity), dial(t, addr, identity)
	p := coord.PasswordsNode("pathway")
	if err := a.Replace(p, []byte("a: 1\n"), 0, false); err != nil {
		t.Fatal(err)
	}
	if err := b.Replace(p, []byte("b: 1\n"), 0, false); !errors.Is(err, coord.ErrChanged) {
		t.Fatalf("made a node another had made: %v", err)
	}
	_, v, _, err := b.Get(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Replace(p, []byte("a: 2\n"), v, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Replace(p, []byte("b: 2\n"), v, true); !errors.Is(err, coord.ErrChanged) {
		t.Fatalf("overwrote a newer version: %v", err)
	}
	if data, _, _, _ := b.Get(p); string(data) != "a: 2\n" {
		t.Fatalf("node holds %q, want the first writer's", data)
	}
}

// TestDialNeedsAnIdentity: no session without a user and a password.
func TestDialNeedsAnIdentity(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "user", "user:", ":password"} {
		if _, err := coord.Dial([]string{"127.0.0.1:1"}, id, time.Second); err == nil {
			t.Errorf("identity %q accepted", id)
		}
	}
}
