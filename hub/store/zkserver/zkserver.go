package zkserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
)

// DefaultClassPath is where Debian's zookeeper package puts the server.
const DefaultClassPath = "/usr/share/java/zookeeper.jar"

// ErrNotInstalled is returned (wrapped) when java or the ZooKeeper jar is
// missing (`make deps` installs both).
var ErrNotInstalled = errors.New("zookeeper not installed")

// Options configure Start.
type Options struct {
	// DataDir holds the snapshots, the transaction log and the server's
	// output. It is required and created if missing.
	DataDir string
	// Port is the client port on 127.0.0.1; zero picks a free one.
	Port int
	// ClassPath is the server's class path; empty means DefaultClassPath.
	ClassPath string
	// StartTimeout bounds the wait for the server to answer; zero means 60 s.
	StartTimeout time.Duration
}

// Server is a running ZooKeeper server.
type Server struct {
	cmd  *exec.Cmd
	port int
	dir  string
	done chan struct{}
}

// Start starts a standalone ZooKeeper server and waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("zkserver: empty data directory")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("zkserver: %w: java: %w", ErrNotInstalled, err)
	}
	cp := opts.ClassPath
	if cp == "" {
		cp = DefaultClassPath
	}
	if _, err := os.Stat(strings.Split(cp, ":")[0]); err != nil {
		return nil, fmt.Errorf("zkserver: %w: %w", ErrNotInstalled, err)
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("zkserver: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o750); err != nil {
		return nil, fmt.Errorf("zkserver: %w", err)
	}
	port := opts.Port
	if port == 0 {
		if port, err = chserver.FreePort(ctx); err != nil {
			return nil, fmt.Errorf("zkserver: %w", err)
		}
	}
	out, err := os.OpenFile(filepath.Join(dir, "zookeeper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("zkserver: %w", err)
	}
	// The standalone main takes the port and the data directory; the
	// admin HTTP server (port 8080 by default) is turned off, and the
	// heap kept small: a test cluster's coordination is a few kilobytes.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), java, "-Xmx256m",
		"-Dzookeeper.admin.enableServer=false",
		"-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain",
		strconv.Itoa(port), filepath.Join(dir, "data"))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("zkserver: start: %w", err)
	}
	s := &Server{cmd: cmd, port: port, dir: dir, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = out.Close()
		close(s.done)
	}()
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	for {
		if ok, _ := s.ruok(ctx); ok {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("zkserver: the server exited while starting (see %s)", filepath.Join(dir, "zookeeper.log"))
		case <-ctx.Done():
			s.Kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			return nil, fmt.Errorf("zkserver: no answer on port %d within %s (see %s)", port, timeout, filepath.Join(dir, "zookeeper.log"))
		}
	}
}

// ruok reports whether the server serves sessions: a client's session is
// established and reads the root. (The "ruok" command answers "imok" as
// soon as the process listens, before the server takes sessions; a
// ClickHouse 18.16 server whose first session fails may crash.)
func (s *Server) ruok(ctx context.Context) (bool, error) {
	conn, events, err := zk.Connect([]string{s.Addr()}, 4*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		return false, err
	}
	defer conn.Close()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				_, _, err := conn.Exists("/")
				return err == nil, err
			}
		case <-deadline:
			return false, errors.New("no session")
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// quiet drops the client library's log lines.
type quiet struct{}

// Printf discards a line.
func (quiet) Printf(string, ...any) {}

// Addr is the client address, 127.0.0.1:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the client port.
func (s *Server) Port() int { return s.port }

// Pid is the server process's id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Kill stops the server at once (SIGKILL to its process group) and waits
// for it to exit.
func (s *Server) Kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}
