package chserver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

func TestStartSelectStop(t *testing.T) {
	srv := chservertest.Start(t)
	ctx := t.Context()

	if want := "127.0.0.1:"; !strings.HasPrefix(srv.Addr(), want) || srv.TCPPort() == 0 {
		t.Fatalf("Addr() = %q, TCPPort() = %d", srv.Addr(), srv.TCPPort())
	}
	conn, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	select {
	case <-srv.Done():
		t.Fatal("Done closed while the server runs")
	default:
	}

	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if err := srv.Stop(stopCtx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), DialTimeout: time.Second}); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

func TestRestartKeepsData(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	start := func(port int) *chserver.Server {
		t.Helper()
		srv, err := chserver.Start(ctx, chserver.Options{NoPasswords: true, DataDir: dir, TCPPort: port})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Stop(context.WithoutCancel(ctx)) })
		return srv
	}
	stop := func(srv *chserver.Server) {
		t.Helper()
		stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := srv.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
	}

	srv := start(0)
	port := srv.TCPPort()
	conn, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "CREATE TABLE default.kept (n UInt32) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO default.kept (n)")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := batch.Append(uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	stop(srv)

	srv = start(port)
	if srv.TCPPort() != port {
		t.Fatalf("restarted on port %d, want %d", srv.TCPPort(), port)
	}
	conn, err = chdb.Open(ctx, chdb.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var count, sum uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(n) FROM default.kept").Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != 3 || sum != 3 {
		t.Fatalf("after restart count=%d sum=%d, want 3 and 3", count, sum)
	}
	stop(srv)
}

func TestStartErrors(t *testing.T) {
	busy := chservertest.Start(t)
	tests := []struct {
		name    string
		opts    chserver.Options
		wantIs  error
		wantMsg string
	}{
		{
			name:    "missing binary",
			opts:    chserver.Options{NoPasswords: true, Binary: "/nonexistent/clickhouse-server"},
			wantIs:  chserver.ErrBinaryNotFound,
			wantMsg: "/nonexistent/clickhouse-server",
		},
		{
			name:    "binary exits at once",
			opts:    chserver.Options{NoPasswords: true, Binary: "false"},
			wantMsg: "exited during start-up",
		},
		{
			name:    "port in use",
			opts:    chserver.Options{NoPasswords: true, TCPPort: busy.TCPPort()},
			wantMsg: "not available",
		},
		{
			name:    "no data dir",
			opts:    chserver.Options{NoPasswords: true},
			wantMsg: "empty data directory",
		},
		{
			// It goes into an XML attribute of users.xml.
			name: "users node not a plain path",
			opts: chserver.Options{NoPasswords: true, Cluster: &chserver.Cluster{Name: "c", Shard: "01", Replica: "r",
				UsersNode: `/pathwayhub/x"><users><intruder/></users><x a="`}},
			wantMsg: "not a plain absolute ZooKeeper path",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "no data dir" {
				tt.opts.DataDir = t.TempDir()
			}
			srv, err := chserver.Start(t.Context(), tt.opts)
			if err == nil {
				_ = srv.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestConfigErrorShowsLog(t *testing.T) {
	// A users.d file that is not XML makes the server fail at start-up; the
	// error must carry the server's own explanation.
	dir := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(bad, []byte("<yandex><users><oops></yandex>"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := chserver.Start(t.Context(), chserver.Options{NoPasswords: true, DataDir: dir, UsersD: []string{bad}, StartTimeout: 20 * time.Second})
	if err == nil {
		_ = srv.Stop(context.Background())
		t.Fatal("server accepted a malformed users.d file")
	}
	if !strings.Contains(err.Error(), "last lines of") {
		t.Fatalf("error lacks the server log tail: %v", err)
	}
}

func TestUsersD(t *testing.T) {
	ctx := t.Context()
	users := filepath.Join(t.TempDir(), "reader.xml")
	const xml = `<?xml version="1.0"?>
<yandex><users><reader><password>secret</password><networks><ip>127.0.0.1</ip></networks><profile>readonly</profile><quota>default</quota></reader></users></yandex>
`
	if err := os.WriteFile(users, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := chserver.Start(ctx, chserver.Options{NoPasswords: true, DataDir: t.TempDir(), UsersD: []string{users}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.WithoutCancel(ctx)) })

	conn, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Username: "reader", Password: "secret"})
	if err != nil {
		t.Fatalf("reader cannot log in: %v", err)
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 as reader = %d, %v", one, err)
	}
	if err := conn.Exec(ctx, "CREATE TABLE default.nope (n UInt8) ENGINE = Memory"); err == nil {
		t.Fatal("readonly reader created a table")
	}
	if _, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Username: "reader", Password: "wrong"}); err == nil {
		t.Fatal("wrong password accepted")
	}
}

// A managed server is no open door to local users: its default user needs a
// random password kept in a file only its owner reads, and the hub has a
// user of its own; both survive a restart.
func TestManagedServerHasPasswords(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	srv, err := chserver.Start(ctx, chserver.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.WithoutCancel(ctx)) })
	if _, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr()}); err == nil {
		t.Fatal("the default user logged in without a password")
	}
	if _, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Password: "wrong"}); err == nil {
		t.Fatal("the default user logged in with a wrong password")
	}
	for _, login := range []struct{ user, password string }{{"default", srv.DefaultPassword()}, func() struct{ user, password string } {
		u, p := srv.HubCredentials()
		return struct{ user, password string }{u, p}
	}()} {
		conn, err := chdb.Open(ctx, chdb.Options{Addr: srv.Addr(), Username: login.user, Password: login.password})
		if err != nil {
			t.Fatalf("%s with its password: %v", login.user, err)
		}
		_ = conn.Close()
	}
	if u, _ := srv.HubCredentials(); u != chserver.HubUser {
		t.Errorf("the hub logs in as %q, want %q", u, chserver.HubUser)
	}
	for _, f := range []string{chserver.DefaultPasswordFile, chserver.HubPasswordFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, st.Mode().Perm())
		}
	}
	before := srv.DefaultPassword()
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	again, err := chserver.Start(ctx, chserver.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Stop(context.WithoutCancel(ctx)) })
	if again.DefaultPassword() != before {
		t.Error("a restart changed the default password")
	}
}
