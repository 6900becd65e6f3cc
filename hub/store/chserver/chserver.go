package chserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
)

// The files, under DataDir, of the managed server's passwords.
const (
	DefaultPasswordFile = "default-password"
	HubPasswordFile     = "hub-password"
)

// DefaultStartTimeout is how long Start waits for the server to answer when
// Options.StartTimeout is zero.
const DefaultStartTimeout = 60 * time.Second

// ErrBinaryNotFound is returned (wrapped) by Start when no ClickHouse server
// binary can be found.
var ErrBinaryNotFound = errors.New("clickhouse server binary not found")

// Options configures Start.
type Options struct {
	// Binary is the server executable, as a path or a name looked up in
	// PATH. Empty means "clickhouse-server" from PATH or, failing that,
	// "clickhouse" run as "clickhouse server". A binary whose base name is
	// "clickhouse" is always run with the "server" argument.
	Binary string
	// DataDir holds the generated configuration, the data, the logs and
	// temporary files. It is required and created if missing.
	DataDir string
	// TCPPort is the native protocol port on 127.0.0.1; zero picks a free
	// one.
	TCPPort int
	// HTTPPort is the HTTP port on 127.0.0.1, which the server requires;
	// zero picks a free one.
	HTTPPort int
	// UsersD lists extra users.d XML files to install. Start replaces the
	// contents of the users.d directory with copies of these files, so
	// users from an earlier run that are not listed again are removed.
	UsersD []string
	// KeepUsersD leaves the users.d directory as it is (UsersD is then
	// ignored): for restarting a server whose users.d the hub writes.
	KeepUsersD bool
	// NoPasswords leaves the default user without a password and defines
	// no hub user: for the tests' throw-away servers only. Otherwise the
	// default user gets a random password, kept in DataDir/default-password
	// (mode 0600), and the hub its own user (HubUser) with another, in
	// DataDir/hub-password, so no other local user can read the data.
	NoPasswords bool
	// Cluster, when set, makes the server a replica of a cluster (see
	// Cluster); TCPPort must then be the port the cluster lists for it.
	Cluster *Cluster
	// StartTimeout bounds how long Start waits for the server to answer;
	// zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
}

// Server is a running ClickHouse server process started by Start.
type Server struct {
	logger   *slog.Logger
	layout   layout
	cmd      *exec.Cmd
	stdout   *os.File
	done     chan struct{}
	waitErr  error // set before done is closed
	stopOnce sync.Once
	stopped  chan struct{} // closed when Stop has sent SIGTERM
	// defaultPassword and hubPassword are the users' passwords; empty
	// with NoPasswords.
	defaultPassword, hubPassword string
}

// DefaultPassword is the password of the server's default user ("" with
// Options.NoPasswords).
func (s *Server) DefaultPassword() string { return s.defaultPassword }

// HubCredentials are the user and password the hub connects with: HubUser,
// or the password-less default user with Options.NoPasswords.
func (s *Server) HubCredentials() (user, password string) {
	if s.hubPassword == "" {
		return "default", ""
	}
	return HubUser, s.hubPassword
}

// secret reads the password in file, or makes a random one there (mode
// 0600) if there is none.
func secret(file string) (string, error) {
	raw, err := os.ReadFile(file)
	if err == nil && len(strings.TrimSpace(string(raw))) >= 16 {
		return strings.TrimSpace(string(raw)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(b[:])
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

// Start writes a configuration into opts.DataDir, starts the server process
// in its own process group and waits until the native port answers
// SELECT 1, the process exits, ctx ends or opts.StartTimeout passes. On any
// failure the process is killed and the error includes the last lines of the
// server's logs.
func Start(ctx context.Context, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.DataDir == "" {
		return nil, errors.New("chserver: start: empty data directory")
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("chserver: start: %w", err)
	}
	bin, args, err := resolveBinary(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("chserver: start: %w", err)
	}
	tcpPort, err := choosePort(ctx, opts.TCPPort)
	if err != nil {
		return nil, fmt.Errorf("chserver: start: tcp port: %w", err)
	}
	httpPort, err := choosePort(ctx, opts.HTTPPort)
	if err != nil {
		return nil, fmt.Errorf("chserver: start: http port: %w", err)
	}
	if httpPort == tcpPort {
		if httpPort, err = choosePort(ctx, 0); err != nil {
			return nil, fmt.Errorf("chserver: start: http port: %w", err)
		}
	}
	l := newLayout(dir, tcpPort, httpPort)
	l.Cluster = opts.Cluster
	var defaultPassword, hubPassword string
	if !opts.NoPasswords {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("chserver: start: %w", err)
		}
		if defaultPassword, err = secret(filepath.Join(dir, DefaultPasswordFile)); err != nil {
			return nil, fmt.Errorf("chserver: start: default password: %w", err)
		}
		if hubPassword, err = secret(filepath.Join(dir, HubPasswordFile)); err != nil {
			return nil, fmt.Errorf("chserver: start: hub password: %w", err)
		}
	}
	if err := l.write(opts.UsersD, opts.KeepUsersD, defaultPassword, hubPassword); err != nil {
		return nil, fmt.Errorf("chserver: start: %w", err)
	}
	stdout, err := os.OpenFile(filepath.Join(l.LogDir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("chserver: start: %w", err)
	}
	args = append(args, "--config-file="+l.ConfigFile)
	// The server outlives the start-up context: it is stopped by Stop, not by
	// cancelling ctx, so the command gets a context that is never cancelled.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin, args...)
	cmd.Dir = dir
	cmd.Stdout = stdout
	cmd.Stderr = stdout
	cmd.Stdin = nil
	cmd.SysProcAttr = processAttr()
	startedAt := time.Now()
	if err := cmd.Start(); err != nil {
		_ = stdout.Close()
		return nil, fmt.Errorf("chserver: start %s: %w", bin, err)
	}
	s := &Server{
		logger:          logger,
		layout:          l,
		cmd:             cmd,
		stdout:          stdout,
		done:            make(chan struct{}),
		stopped:         make(chan struct{}),
		defaultPassword: defaultPassword,
		hubPassword:     hubPassword,
	}
	go s.wait()
	logger.InfoContext(ctx, "clickhouse starting", "binary", bin, "pid", cmd.Process.Pid,
		"addr", s.Addr(), "http_port", httpPort, "data_dir", dir)

	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		killCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.Stop(killCtx)
		return nil, fmt.Errorf("chserver: start: %w%s", err, s.logTail())
	}
	logger.InfoContext(ctx, "clickhouse ready", "addr", s.Addr(), "pid", cmd.Process.Pid,
		"startup", time.Since(startedAt).Round(time.Millisecond))
	return s, nil
}

// resolveBinary finds the executable and its leading arguments.
func resolveBinary(binary string) (string, []string, error) {
	if binary == "" {
		if p, err := exec.LookPath("clickhouse-server"); err == nil {
			return p, nil, nil
		}
		if p, err := exec.LookPath("clickhouse"); err == nil {
			return p, []string{"server"}, nil
		}
		return "", nil, fmt.Errorf("%w: neither clickhouse-server nor clickhouse is on PATH", ErrBinaryNotFound)
	}
	p, err := exec.LookPath(binary)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: %w", ErrBinaryNotFound, binary, err)
	}
	if filepath.Base(p) == "clickhouse" {
		return p, []string{"server"}, nil
	}
	return p, nil, nil
}

// FreePort returns a port free on 127.0.0.1 now: for a cluster, whose
// servers must know each other's ports before any starts.
func FreePort(ctx context.Context) (int, error) { return choosePort(ctx, 0) }

// choosePort returns port if it is free on 127.0.0.1, or a free port when
// port is zero.
func choosePort(ctx context.Context, port int) (int, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d not available: %w", port, err)
	}
	got := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("release port: %w", err)
	}
	return got, nil
}

// wait reaps the process and closes done.
func (s *Server) wait() {
	err := s.cmd.Wait()
	_ = s.stdout.Close()
	s.waitErr = err
	close(s.done)
	select {
	case <-s.stopped:
		s.logger.Info("clickhouse stopped", "pid", s.cmd.Process.Pid)
	default:
		s.logger.Error("clickhouse exited unexpectedly", "pid", s.cmd.Process.Pid, "err", err)
	}
}

// waitReady polls the native port until SELECT 1 succeeds.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if lastErr = s.ping(ctx); lastErr == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("clickhouse server exited during start-up: %w", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("clickhouse server not ready after %s: %w (last error: %w)", timeout, ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// ping runs SELECT 1 through a fresh connection.
func (s *Server) ping(ctx context.Context) error {
	conn, err := chdb.Open(ctx, chdb.Options{
		Addr:         s.Addr(),
		Password:     s.defaultPassword,
		DialTimeout:  time.Second,
		ReadTimeout:  5 * time.Second,
		MaxOpenConns: 1,
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	if one != 1 {
		return fmt.Errorf("SELECT 1 returned %d", one)
	}
	return nil
}

// logTail returns the last lines of the server's error log and stdout, each
// prefixed by a newline, or "" when both are empty.
func (s *Server) logTail() string {
	var b strings.Builder
	for _, name := range []string{"clickhouse-server.err.log", "stdout.log"} {
		p := filepath.Join(s.layout.LogDir, name)
		if lines := tailLines(p, 15); len(lines) > 0 {
			fmt.Fprintf(&b, "\n--- last lines of %s ---\n%s", p, strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

// tailLines returns up to n last non-empty lines of the file, reading at most
// its last 64 KiB.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const maxRead = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > maxRead {
		if _, err := f.Seek(st.Size()-maxRead, io.SeekStart); err != nil {
			return nil
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxRead+1)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines = append(lines, sc.Text())
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Addr returns the native protocol address, "127.0.0.1:<tcp port>".
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.layout.TCPPort))
}

// TCPPort returns the native protocol port.
func (s *Server) TCPPort() int { return s.layout.TCPPort }

// HTTPPort returns the HTTP port the server listens on.
func (s *Server) HTTPPort() int { return s.layout.HTTPPort }

// DataDir returns the absolute data directory.
func (s *Server) DataDir() string { return s.layout.Dir }

// UsersDir returns the users.d directory. ClickHouse re-reads XML files
// placed there while it runs, so users can be added without a restart.
func (s *Server) UsersDir() string { return s.layout.UsersDir }

// Pid is the server process's id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done returns a channel closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns the process's exit error once Done is closed, and nil before.
// After Stop the error reflects the termination signal.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.waitErr
	default:
		return nil
	}
}

// Kill ends the server at once, as a crash would (SIGKILL: no clean
// shutdown), and waits until it has exited. For fault tests.
func (s *Server) Kill() error {
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("chserver: kill: %w", err)
	}
	<-s.done
	return nil
}

// Stop sends SIGTERM and waits for the process to exit. If ctx ends first it
// kills the process group with SIGKILL and waits for the exit. Stop is
// idempotent and safe for concurrent use; it returns ctx's error when the
// server had to be killed.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.stopped)
		select {
		case <-s.done:
		default:
			if err := terminate(s.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
				s.logger.WarnContext(ctx, "clickhouse: sigterm failed", "err", err)
			}
		}
	})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.logger.WarnContext(ctx, "clickhouse did not stop in time: killing", "pid", s.cmd.Process.Pid)
	if err := kill(s.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.logger.WarnContext(ctx, "clickhouse: sigkill failed", "err", err)
	}
	<-s.done
	return fmt.Errorf("chserver: stop: killed: %w", ctx.Err())
}
