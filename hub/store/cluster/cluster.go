package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	"github.com/pathwayhub/pathwayhub/hub/store/zkserver"
)

// Name is the local cluster's name in ON CLUSTER and Distributed tables.
const Name = "pathway"

// Options configure Start.
type Options struct {
	// Dir holds ZooKeeper's and every server's data, one directory each.
	Dir string
	// Shards and Replicas are the layout (each at least 1).
	Shards, Replicas int
	// SessionTimeout is the servers' ZooKeeper session timeout: how soon a
	// killed replica, started again, is active, and how long a server may
	// stall (a busy machine) before its session expires. Zero means 10 s,
	// as in the compose cluster: with 4 s, ZooKeeper's least, servers of a
	// loaded test machine saw their sessions expire mid-migration, and
	// ClickHouse 18.16 then crashed in its ZooKeeper client or stopped its
	// distributed DDL worker.
	SessionTimeout time.Duration
	// Database is the raw database of the hubs the cluster is for: the
	// servers take the recipients' users from its coord.UsersNode in
	// ZooKeeper. Empty: from nowhere.
	Database string
}

// Local is a running local cluster.
type Local struct {
	ZooKeeper *zkserver.Server
	// Identity is the "user:password" the servers log in to ZooKeeper
	// with, random for each cluster: the hub must log in with it too.
	Identity string
	// HubUser and HubPassword are the hub's login on every server (the
	// same on each, so a connection can fail over), random for each
	// cluster and kept in each server's data directory
	// (chserver.HubPasswordFile); the servers log in to each other with
	// it too. The default user has a random password of its own: no local
	// user reads the data without one of them.
	HubUser, HubPassword string
	// Servers are shard by shard, each shard's replicas in order.
	Servers []*chserver.Server

	mu   sync.Mutex
	opts []chserver.Options
}

// Start starts ZooKeeper and the servers (loopback only, with passwords:
// see Local.HubPassword) and returns once every server answers.
func Start(ctx context.Context, o Options) (*Local, error) {
	if o.Dir == "" || o.Shards < 1 || o.Replicas < 1 {
		return nil, errors.New("cluster: need a directory, and at least one shard of one replica")
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 10 * time.Second
	}
	zk, err := zkserver.Start(ctx, zkserver.Options{DataDir: filepath.Join(o.Dir, "zookeeper")})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	// Kept under Dir, so that a cluster started again on its data logs in
	// as before (its ZooKeeper nodes are the identity's alone).
	var secrets [3]string // identity, hub, default
	for i, name := range []string{"zookeeper-identity", "hub-password", "default-password"} {
		if secrets[i], err = persistentSecret(filepath.Join(o.Dir, name)); err != nil {
			zk.Kill()
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	var usersNode string
	if o.Database != "" {
		usersNode = coord.UsersNode(o.Database)
	}
	c := &Local{ZooKeeper: zk, Identity: "pathwayhub:" + secrets[0], HubUser: chserver.HubUser, HubPassword: secrets[1]}
	layout := make([][]chserver.Endpoint, o.Shards)
	var ports []int
	for s := range o.Shards {
		for range o.Replicas {
			p, err := chserver.FreePort(ctx)
			if err != nil {
				zk.Kill()
				return nil, fmt.Errorf("cluster: %w", err)
			}
			ports = append(ports, p)
			layout[s] = append(layout[s], chserver.Endpoint{Host: "127.0.0.1", Port: p})
		}
	}
	for i, p := range ports {
		inter, err := chserver.FreePort(ctx)
		if err != nil {
			zk.Kill()
			return nil, fmt.Errorf("cluster: %w", err)
		}
		s, r := i/o.Replicas, i%o.Replicas
		name := fmt.Sprintf("s%dr%d", s+1, r+1)
		dir := filepath.Join(o.Dir, name)
		// The servers share the hub's and the default user's passwords:
		// chserver keeps the ones it finds in the data directory.
		for file, pw := range map[string]string{chserver.HubPasswordFile: secrets[1], chserver.DefaultPasswordFile: secrets[2]} {
			if err := writeSecret(filepath.Join(dir, file), pw); err != nil {
				zk.Kill()
				return nil, fmt.Errorf("cluster: %w", err)
			}
		}
		c.opts = append(c.opts, chserver.Options{
			DataDir: dir, TCPPort: p,
			Cluster: &chserver.Cluster{
				Name: Name, Shards: layout, ZooKeeper: []chserver.Endpoint{{Host: "127.0.0.1", Port: zk.Port()}},
				Shard: fmt.Sprintf("%02d", s+1), Replica: name, InterserverPort: inter, SessionTimeout: o.SessionTimeout,
				Identity: c.Identity, UsersNode: usersNode, User: c.HubUser, Password: c.HubPassword,
			},
		})
	}
	c.Servers = make([]*chserver.Server, len(c.opts))
	errs := make([]error, len(c.opts))
	var wg sync.WaitGroup
	for i := range c.opts {
		wg.Go(func() { c.Servers[i], errs[i] = chserver.Start(ctx, c.opts[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Kill()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return c, nil
}

// Addrs are the servers' native addresses, in Servers' order.
func (c *Local) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Addr()
	}
	return out
}

// KillServer kills server i at once (SIGKILL), as a lost machine.
func (c *Local) KillServer(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Servers[i].Kill()
}

// Restart starts server i again on its data, after KillServer.
func (c *Local) Restart(ctx context.Context, i int) error {
	s, err := chserver.Start(ctx, c.opts[i])
	if err != nil {
		return fmt.Errorf("cluster: restart server %d: %w", i, err)
	}
	c.mu.Lock()
	c.Servers[i] = s
	c.mu.Unlock()
	return nil
}

// Kill stops every server and ZooKeeper at once. The data stays in Dir.
func (c *Local) Kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.Servers {
		if s != nil {
			_ = s.Kill()
		}
	}
	c.ZooKeeper.Kill()
}

// Stop stops every server gracefully, then ZooKeeper.
func (c *Local) Stop(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range c.Servers {
		if s != nil {
			wg.Go(func() { _ = s.Stop(ctx) })
		}
	}
	wg.Wait()
	c.ZooKeeper.Kill()
}

// persistentSecret returns the secret in file, or makes a random one there
// (mode 0600).
func persistentSecret(file string) (string, error) {
	if raw, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(raw))) >= 16 {
		return strings.TrimSpace(string(raw)), nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), writeSecret(file, hex.EncodeToString(b[:]))
}

// writeSecret writes a password file (mode 0600).
func writeSecret(path, pw string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(pw+"\n"), 0o600)
}
