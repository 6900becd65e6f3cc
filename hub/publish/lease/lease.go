package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/pathwayhub/pathwayhub/hub/store/coord"
)

// DefaultSessionTimeout is how long a dead holder keeps the lease when
// Options.SessionTimeout is zero: the longest publication can stop when the
// publishing hub dies, less the time to notice and retry.
const DefaultSessionTimeout = 10 * time.Second

// Options configure Run.
type Options struct {
	// Servers are the ZooKeeper nodes, "host:port".
	Servers []string
	// Identity is the cluster's ZooKeeper login, "user:password": the
	// lease and its parents are the identity's alone (hub/store/coord).
	Identity string
	// Path is the lease's node, e.g. /pathwayhub/pathway/publisher; its
	// parents are created if missing.
	Path string
	// ID names this hub in the node's data, for operators (host and pid).
	ID string
	// SessionTimeout bounds how long the lease outlives a dead holder.
	SessionTimeout time.Duration
	// Logger receives changes of leadership; nil discards them.
	Logger *slog.Logger
}

// Run campaigns for the lease until ctx is done. While this hub holds it,
// lead runs with a context that is cancelled when the lease is lost (the
// session expired or the connection to ZooKeeper dropped) or ctx is done;
// when lead returns the lease is given up and the campaign goes on. Run
// returns nil when ctx is done, or an error when it cannot reach ZooKeeper
// at all.
func Run(ctx context.Context, opts Options, lead func(context.Context) error) error {
	if len(opts.Servers) == 0 || !strings.HasPrefix(opts.Path, "/") || path.Dir(opts.Path) == "/" {
		return fmt.Errorf("lease: need servers and an absolute path below a parent, got %v and %q", opts.Servers, opts.Path)
	}
	timeout := opts.SessionTimeout
	if timeout <= 0 {
		timeout = DefaultSessionTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "lease", "path", opts.Path)
	sess, err := coord.Dial(opts.Servers, opts.Identity, timeout)
	if err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	defer sess.Close()
	conn, events := sess.Conn(), sess.Events()
	// Session events: a disconnection or expiry ends leadership at once.
	lost := make(chan struct{}, 1)
	go func() {
		for ev := range events {
			if ev.Type == zk.EventSession && (ev.State == zk.StateDisconnected || ev.State == zk.StateExpired) {
				select {
				case lost <- struct{}{}:
				default:
				}
			}
		}
	}()
	for ctx.Err() == nil {
		if err := sess.Ensure(path.Dir(opts.Path)); err != nil {
			if errors.Is(err, coord.ErrForeignNode) {
				// Someone else's node where the lease goes: nobody may
				// publish until an operator removes it.
				return fmt.Errorf("lease: %w", err)
			}
			logger.Warn("cannot reach the coordination service; retrying", "err", err)
			if !sleep(ctx, time.Second) {
				return nil
			}
			continue
		}
		_, err := conn.Create(opts.Path, []byte(opts.ID), zk.FlagEphemeral, sess.ACL())
		switch {
		case err == nil:
			drain(lost)
			logger.Info("lease taken: this hub publishes", "id", opts.ID)
			leadCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- lead(leadCtx) }()
			select {
			case err = <-done:
			case <-lost:
				logger.Warn("lease lost: the connection to the coordination service dropped")
				cancel()
				err = <-done
			case <-ctx.Done():
				cancel()
				err = <-done
			}
			cancel()
			if err != nil && ctx.Err() == nil {
				logger.Error("leading failed", "err", err)
			}
			// Give the lease up (the node is ours only while its data is
			// our id; a new session's node is not deleted by mistake).
			if data, stat, gerr := conn.Get(opts.Path); gerr == nil && string(data) == opts.ID {
				_ = conn.Delete(opts.Path, stat.Version)
			}
			logger.Info("lease given up", "id", opts.ID)
		case errors.Is(err, zk.ErrNodeExists):
			ok, _, watch, err := conn.ExistsW(opts.Path)
			if err != nil {
				if !sleep(ctx, time.Second) {
					return nil
				}
				continue
			}
			if ok {
				select {
				case <-watch:
				case <-ctx.Done():
					return nil
				}
			}
		default:
			logger.Warn("cannot take the lease; retrying", "err", err)
			if !sleep(ctx, time.Second) {
				return nil
			}
		}
	}
	return nil
}

// Holder returns the id in the lease's node, or "" when nobody holds it.
func Holder(servers []string, identity, p string) (string, error) {
	sess, err := coord.Dial(servers, identity, DefaultSessionTimeout)
	if err != nil {
		return "", fmt.Errorf("lease: %w", err)
	}
	defer sess.Close()
	data, _, _, err := sess.Get(p)
	if err != nil {
		return "", fmt.Errorf("lease: %w", err)
	}
	return string(data), nil
}

func drain(c chan struct{}) {
	select {
	case <-c:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
