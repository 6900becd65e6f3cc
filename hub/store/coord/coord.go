package coord

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// Dir is a hub's directory in ZooKeeper, after its raw database.
func Dir(database string) string { return "/pathwayhub/" + database }

// LeasePath is the node of the publishing lease (hub/publish/lease).
func LeasePath(database string) string { return Dir(database) + "/publisher" }

// UsersNode is where the recipients' users are: its children "profiles",
// "quotas" and "users" are what every server of the cluster adds to its own
// users configuration (hub/store/chserver.Cluster.UsersNode).
func UsersNode(database string) string { return Dir(database) + "/recipients" }

// PasswordsNode holds the recipients' passwords (YAML, recipient →
// password), so that whichever hub publishes gives a recipient the same.
func PasswordsNode(database string) string { return Dir(database) + "/passwords" }

// Session is a ZooKeeper session logged in with the cluster's identity.
type Session struct {
	conn   *zk.Conn
	events <-chan zk.Event
	acl    []zk.ACL
}

// Dial connects to the ZooKeeper servers ("host:port") and logs in with
// identity, "user:password". The session expires timeout after the
// connection is lost.
func Dial(servers []string, identity string, timeout time.Duration) (*Session, error) {
	user, password, ok := strings.Cut(identity, ":")
	if !ok || user == "" || password == "" {
		return nil, errors.New(`coord: the ZooKeeper identity must be "user:password", both non-empty`)
	}
	if len(servers) == 0 {
		return nil, errors.New("coord: no ZooKeeper servers")
	}
	conn, events, err := zk.Connect(servers, timeout, zk.WithLogger(quiet{}))
	if err != nil {
		return nil, fmt.Errorf("coord: %w", err)
	}
	if err := conn.AddAuth("digest", []byte(identity)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("coord: log in to ZooKeeper: %w", err)
	}
	return &Session{conn: conn, events: events, acl: zk.DigestACL(zk.PermAll, user, password)}, nil
}

// Conn is the session's connection, for what this package does not wrap
// (watches, ephemeral nodes).
func (s *Session) Conn() *zk.Conn { return s.conn }

// Events are the session's events (connection state changes, watches).
func (s *Session) Events() <-chan zk.Event { return s.events }

// ACL is the ACL of every node the hub makes: everything to the identity,
// nothing to anyone else.
func (s *Session) ACL() []zk.ACL { return s.acl }

// Close ends the session; its ephemeral nodes go at once.
func (s *Session) Close() { s.conn.Close() }

// ErrForeignNode is returned for a node on the hub's path that exists with
// an ACL other than the hub's.
var ErrForeignNode = errors.New("coord: node not made by the hub")

// Ensure makes p and its parents where missing, each with the hub's ACL,
// and checks that every one that already existed has exactly that ACL.
func (s *Session) Ensure(p string) error {
	if !strings.HasPrefix(p, "/") || p == "/" || path.Clean(p) != p {
		return fmt.Errorf("coord: %q is not an absolute node path", p)
	}
	var cur string
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		cur += "/" + part
		if err := s.ensure(cur, nil); err != nil {
			return err
		}
	}
	return nil
}

// ensure makes node p with data, or checks the ACL of the p that exists.
func (s *Session) ensure(p string, data []byte) error {
	_, err := s.conn.Create(p, data, 0, s.acl)
	if err == nil {
		return nil
	}
	if !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("coord: create %s: %w", p, err)
	}
	return s.CheckACL(p)
}

// CheckACL returns ErrForeignNode, naming the node and its ACL, unless p
// carries the hub's ACL and nothing more.
func (s *Session) CheckACL(p string) error {
	acl, _, err := s.conn.GetACL(p)
	if errors.Is(err, zk.ErrNoAuth) {
		return fmt.Errorf("%w: %s is closed to the hub's identity; remove it", ErrForeignNode, p)
	}
	if err != nil {
		return fmt.Errorf("coord: ACL of %s: %w", p, err)
	}
	if !slices.Equal(acl, s.acl) {
		return fmt.Errorf("%w: %s exists with ACL %s, not the hub's identity alone; remove it", ErrForeignNode, p, describe(acl))
	}
	return nil
}

// Get returns node p's data and version, or found false when there is no
// such node.
func (s *Session) Get(p string) (data []byte, version int32, found bool, err error) {
	data, stat, err := s.conn.Get(p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("coord: read %s: %w", p, err)
	}
	if err := s.CheckACL(p); err != nil {
		return nil, 0, false, err
	}
	return data, stat.Version, true, nil
}

// ErrChanged is returned by Replace when the node is not at the version
// given: another writer changed it since it was read.
var ErrChanged = errors.New("coord: node changed since it was read")

// Replace writes node p's data if it is still as read: at version, or
// missing when found is false (p is then made, with its parents). It
// returns ErrChanged otherwise.
func (s *Session) Replace(p string, data []byte, version int32, found bool) error {
	var err error
	if found {
		_, err = s.conn.Set(p, data, version)
	} else {
		if err := s.Ensure(path.Dir(p)); err != nil {
			return err
		}
		_, err = s.conn.Create(p, data, 0, s.acl)
	}
	if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists) || errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("%w: %s", ErrChanged, p)
	}
	if err != nil {
		return fmt.Errorf("coord: write %s: %w", p, err)
	}
	return nil
}

// Put sets the data of several nodes under dir in one transaction: every
// one changes, or none. dir is made if missing; a child that exists must
// carry the hub's ACL. Children whose data is already as given are left
// alone; changed reports whether any was written. Should another writer
// change a child meanwhile, Put reads again and tries again.
func (s *Session) Put(dir string, children map[string][]byte) (changed bool, err error) {
	if err := s.Ensure(dir); err != nil {
		return false, err
	}
	names := make([]string, 0, len(children))
	for name := range children {
		if name == "" || strings.Contains(name, "/") {
			return false, fmt.Errorf("coord: %q is not a child's name", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for attempt := 0; ; attempt++ {
		var ops []any
		for _, name := range names {
			p := dir + "/" + name
			old, version, found, err := s.Get(p)
			switch {
			case err != nil:
				return false, err
			case !found:
				ops = append(ops, &zk.CreateRequest{Path: p, Data: children[name], Acl: s.acl})
			case string(old) != string(children[name]):
				ops = append(ops, &zk.SetDataRequest{Path: p, Data: children[name], Version: version})
			}
		}
		if len(ops) == 0 {
			return false, nil
		}
		_, err := s.conn.Multi(ops...)
		if err == nil {
			return true, nil
		}
		conflict := errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists)
		if !conflict || attempt == 2 {
			return false, fmt.Errorf("coord: write %s: %w", dir, err)
		}
	}
}

// describe renders an ACL for an error message.
func describe(acl []zk.ACL) string {
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = fmt.Sprintf("%s:%s:%s", a.Scheme, a.ID, perms(a.Perms))
	}
	return strings.Join(parts, ",")
}

func perms(p int32) string {
	var b strings.Builder
	for _, f := range []struct {
		bit int32
		c   byte
	}{{zk.PermRead, 'r'}, {zk.PermWrite, 'w'}, {zk.PermCreate, 'c'}, {zk.PermDelete, 'd'}, {zk.PermAdmin, 'a'}} {
		if p&f.bit != 0 {
			b.WriteByte(f.c)
		}
	}
	return b.String()
}

// quiet drops the client library's own log lines (every reconnection
// attempt); the callers log what matters.
type quiet struct{}

// Printf discards a line.
func (quiet) Printf(string, ...any) {}
