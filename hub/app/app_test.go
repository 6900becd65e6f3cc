package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/grpchealth"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

var srv *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &srv)) }

// TestSIGTERMStopsTheHubCleanly sends the process a real SIGTERM, as an
// orchestrator does, and expects Run to return nil: no error, no panic.
func TestSIGTERMStopsTheHubCleanly(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.ClickHouse.Addr = srv.Addr()
	cfg.ClickHouse.Database = "t_sigterm"
	cfg.Shares.Prefix = "s_sigterm_"
	cfg.DataDir = t.TempDir()
	cfg.Agreements = apptest.ExampleAgreements(t)
	cfg.ShutdownTimeout = 5 * time.Second

	// Our own subscription keeps the signal from killing the test process
	// before the hub's handler is listening.
	mine := make(chan os.Signal, 8)
	signal.Notify(mine, syscall.SIGTERM)
	defer signal.Stop(mine)

	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- app.Run(t.Context(), app.Options{
			Config: cfg, Credentials: &auth.Credentials{}, Registry: prometheus.NewRegistry(), HandleSignals: true,
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
			Ready:  func(app.Info) { close(ready) },
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("hub did not start: %v", err)
	}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run after SIGTERM: %v", err)
			}
			return
		case <-tick.C: // the hub's handler may not have been listening yet
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		case <-deadline:
			t.Fatal("the hub did not stop on SIGTERM")
		}
	}
}

// When the managed ClickHouse dies (kill -9), the hub does not exit: it
// answers NOT_SERVING and unavailable meanwhile, starts the server again,
// and serves; the restart is counted.
func TestManagedClickHouseIsRestarted(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Agreements = apptest.ExampleAgreements(t)
	cfg.ShutdownTimeout = 5 * time.Second
	creds := &auth.Credentials{}
	creds.Add("token-btp", auth.Org{Kind: auth.KindForce, ID: "btp"})

	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan app.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			Config: cfg, Credentials: creds, Registry: prometheus.NewRegistry(),
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
			Ready:  func(i app.Info) { ready <- i },
		})
	}()
	var info app.Info
	select {
	case info = <-ready:
	case err := <-done:
		t.Fatalf("hub did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped with error: %v", err)
		}
	})
	health := grpchealth.NewClient(http.DefaultClient, info.URL)
	serving := func() bool {
		res, err := health.Check(t.Context(), &grpchealth.CheckRequest{})
		return err == nil && res.Status == grpchealth.StatusServing
	}
	if !serving() {
		t.Fatal("not serving after start")
	}

	// kill -9 the server: ClickHouse writes its PID to the status file.
	raw, err := os.ReadFile(filepath.Join(cfg.DataDir, "clickhouse", "data", "status"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscanf(string(raw), "PID: %d", &pid); err != nil || pid <= 0 {
		t.Fatalf("status file %q: %v", raw, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Liveness bounds, not speed claims: down within 5 s, back within 90 s.
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s", what, limit)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("NOT_SERVING after the kill", 5*time.Second, func() bool { return !serving() })
	select {
	case err := <-done:
		t.Fatalf("the hub exited when its ClickHouse died: %v", err)
	default:
	}
	waitFor("serving again", 90*time.Second, serving)
	c := client.New(client.Options{URL: info.URL, Token: "token-btp", RetryFor: time.Minute})
	rec := &pathwayv1.IncidentRecord{}
	sum, err := c.SubmitIncidents(t.Context(), []*pathwayv1.IncidentRecord{rec})
	if err != nil || sum.Total() != 1 {
		t.Fatalf("a submission after the restart: %v %+v", err, sum)
	}
	metrics := func() string {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, info.MetricsURL+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return string(body)
	}
	// The server answers a moment before the supervisor records the
	// restart.
	waitFor("the restart counted", 10*time.Second, func() bool {
		m := metrics()
		return strings.Contains(m, "pathwayhub_clickhouse_restarts_total 1") && strings.Contains(m, "pathwayhub_clickhouse_up 1")
	})
}
