package integration_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// TestKillsDuringSubmission kills ClickHouse and the hub (kill -9) at random
// moments while a force submits many batches, restarting each, and checks
// that every record acknowledged is stored once, and that the submissions
// log accounts for every stored row (the hub reconciles at start what a
// killed hub stored but never logged). The hub runs as its own process, so
// it can be killed like one.
func TestKillsDuringSubmission(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "pathwayhub")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/pathwayhub/pathwayhub/cmd/pathwayhub")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the hub: %v\n%s", err, out)
	}
	chDir := filepath.Join(dir, "ch")
	srv, err := chserver.Start(t.Context(), chserver.Options{NoPasswords: true, DataDir: chDir})
	if err != nil {
		t.Fatal(err)
	}
	var srvMu sync.Mutex
	t.Cleanup(func() {
		srvMu.Lock()
		defer srvMu.Unlock()
		_ = srv.Stop(context.WithoutCancel(t.Context()))
	})
	tcp, httpPort := srv.TCPPort(), srv.HTTPPort()
	creds := filepath.Join(dir, "credentials.yaml")
	if err := os.WriteFile(creds, fmt.Appendf(nil, "credentials:\n  - org: force/btp\n    token_sha256: %s\n", auth.HashToken(btpToken)), 0o600); err != nil {
		t.Fatal(err)
	}
	apiPort, metricsPort := freePort(t), freePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(apiPort)

	var hubMu sync.Mutex
	var hubCmd *exec.Cmd
	startHubProcess := func() {
		hubMu.Lock()
		defer hubMu.Unlock()
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(apiPort), //nolint:noctx // killed on purpose, not by context
			"--metrics-listen", "127.0.0.1:"+strconv.Itoa(metricsPort), "--credentials", creds,
			"--agreements", apptest.ExampleAgreements(t), "--clickhouse", srv.Addr(), "--clickhouse-database", "faults",
			"--data-dir", filepath.Join(dir, "hub"), "--log-level", "error")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Errorf("start the hub: %v", err)
			return
		}
		hubCmd = cmd
		go func() { _ = cmd.Wait() }()
	}
	startHubProcess()
	t.Cleanup(func() {
		hubMu.Lock()
		defer hubMu.Unlock()
		_ = hubCmd.Process.Kill()
	})

	// 30 batches of 200 new records, each sent until acknowledged.
	const batches, perBatch = 30, 200
	recs := make([]*pathwayv1.IncidentRecord, batches*perBatch)
	for i := range recs {
		recs[i] = s136(t)
	}
	c := client.New(client.Options{URL: url, Token: btpToken, BatchSize: perBatch, RetryFor: 90 * time.Second, Backoff: 200 * time.Millisecond})
	done := make(chan struct{})
	var sum client.Summary
	var submitErr error
	go func() {
		defer close(done)
		sum, submitErr = c.SubmitIncidents(context.WithoutCancel(t.Context()), recs)
	}()

	// Faults at random moments while the submission runs: a bounded number,
	// each followed by a restart.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) //nolint:gosec // test timing, not security
	faults := 0
	for faults < 6 {
		select {
		case <-done:
		case <-time.After(time.Duration(200+rng.IntN(800)) * time.Millisecond):
		}
		select {
		case <-done:
			faults = 99
			continue
		default:
		}
		if faults%2 == 0 {
			hubMu.Lock()
			_ = hubCmd.Process.Signal(syscall.SIGKILL)
			hubMu.Unlock()
			time.Sleep(100 * time.Millisecond)
			startHubProcess()
			t.Logf("fault %d: killed and restarted the hub", faults+1)
		} else {
			srvMu.Lock()
			_ = srv.Kill()
			next, err := chserver.Start(t.Context(), chserver.Options{NoPasswords: true, DataDir: chDir, TCPPort: tcp, HTTPPort: httpPort})
			if err != nil {
				srvMu.Unlock()
				t.Fatalf("restart clickhouse: %v", err)
			}
			srv = next
			srvMu.Unlock()
			t.Logf("fault %d: killed and restarted ClickHouse", faults+1)
		}
		faults++
	}
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the submission did not finish within 3 minutes")
	}
	if submitErr != nil {
		t.Fatalf("submission: %v (%+v)", submitErr, sum.Counts)
	}
	acknowledged := sum.Counts["accepted"] + sum.Counts["unchanged"] + sum.Counts["updated"]
	if acknowledged != len(recs) || sum.Rejected() != 0 {
		t.Fatalf("acknowledged %d of %d (%+v)", acknowledged, len(recs), sum.Counts)
	}

	// A last restart of the hub, so that it reconciles the log.
	hubMu.Lock()
	_ = hubCmd.Process.Signal(syscall.SIGKILL)
	hubMu.Unlock()
	startHubProcess()
	conn, err := chdb.Open(t.Context(), chdb.Options{Addr: srv.Addr(), Database: "faults"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string) uint64 {
		var n uint64
		if err := conn.QueryRow(t.Context(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows := count("SELECT count() FROM incidents")
		logged := count("SELECT toUInt64(sum(accepted + updated)) FROM submissions WHERE dry_run = 0")
		if rows == logged {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows stored, %d logged", rows, logged)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if n := count("SELECT uniqExact(incident_ref) FROM incidents"); n != uint64(len(recs)) {
		t.Errorf("%d distinct incidents stored, %d acknowledged", n, len(recs))
	}
	if n := count("SELECT count() FROM incidents"); n != uint64(len(recs)) {
		t.Errorf("%d rows stored for %d records: duplicates", n, len(recs))
	}
	t.Logf("%d records acknowledged, stored once and logged, through %d faults (%d calls, %d retried)", len(recs), faults, sum.Batches, sum.Retries)
}

func freePort(t *testing.T) int {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}
