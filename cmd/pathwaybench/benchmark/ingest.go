package benchmark

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// hubDatabase and ceilingDatabase are the raw databases of the hub under
// test and of the direct inserts.
const (
	hubDatabase     = "bench_hub"
	ceilingDatabase = "bench_ceiling"
)

// client is one concurrent force client.
type client struct {
	force string
	token string
}

// hub is a running hub under test.
type hub struct {
	url  string
	stop func() error
	// rss returns the hub's peak resident set size in bytes.
	rss func() (int64, error)
}

func runIngest(ctx context.Context, e *env) error {
	clients := make([]client, e.cfg.Clients)
	creds := &auth.Credentials{}
	var entries []string
	for i := range clients {
		tok, hash, err := auth.NewToken()
		if err != nil {
			return err
		}
		// One force per client; the last force is the idle recipient's.
		if i >= len(nationalForces)-1 {
			return fmt.Errorf("at most %d clients (one per force)", len(nationalForces)-1)
		}
		f := nationalForces[i].id
		clients[i] = client{force: f, token: tok}
		creds.Add(tok, auth.Org{Kind: auth.KindForce, ID: f})
		entries = append(entries, fmt.Sprintf("  - org: force/%s\n    token_sha256: %s\n", f, hash))
	}
	credFile := filepath.Join(e.cfg.Dir, "credentials.yaml")
	if err := os.WriteFile(credFile, []byte("credentials:\n"+strings.Join(entries, "")), 0o600); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	e.progress("generating %d records per client for %d clients", e.cfg.RecordsPerClient, len(clients))
	pool, err := basePool(min(e.cfg.RecordsPerClient, 4000))
	if err != nil {
		return err
	}
	ceilConn, err := e.migrated(ctx, ceilingDatabase)
	if err != nil {
		return err
	}
	defer ceilConn.Close()
	ceiling := store.New(ceilConn, ceilingDatabase)

	h, err := e.startHub(ctx, credFile, creds)
	if err != nil {
		return err
	}
	defer func() { _ = h.stop() }()
	httpClient := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: len(clients)}}
	rpc := pathwayv1connect.NewIngestServiceClient(httpClient, h.url)

	for _, size := range e.cfg.BatchSizes {
		batches := makeBatches(pool, clients, size, e.cfg.RecordsPerClient)
		insertCeiling := func(ctx context.Context, _ client, b []*pathwayv1.IncidentRecord) error {
			rows := make([]store.Incident, len(b))
			for i, r := range b {
				rows[i] = store.Incident{Record: r}
			}
			return ceiling.WriteIncidents(ctx, "ceiling", time.Now().UTC().Truncate(time.Second), rows)
		}
		viaHub := func(ctx context.Context, c client, b []*pathwayv1.IncidentRecord) error {
			return submit(ctx, rpc, c.token, b)
		}
		// Alternate ceiling and hub in rounds, so that a slow spell of this
		// shared machine falls on both rather than on one.
		var ceilLat, hubLat []time.Duration
		var ceilWall, hubWall time.Duration
		for r, part := range rounds(batches, ingestRounds) {
			e.progress("batch %d, round %d of %d: ceiling (direct inserts), then hub over Connect", size, r+1, ingestRounds)
			lat, wall, err := concurrently(ctx, part, insertCeiling)
			if err != nil {
				return fmt.Errorf("ceiling: %w", err)
			}
			ceilLat, ceilWall = append(ceilLat, lat...), ceilWall+wall
			if lat, wall, err = concurrently(ctx, part, viaHub); err != nil {
				return fmt.Errorf("hub: %w", err)
			}
			hubLat, hubWall = append(hubLat, lat...), hubWall+wall
		}
		n := 0
		for _, bs := range batches {
			for _, b := range bs {
				n += len(b)
			}
		}
		res := Ingest{
			BatchSize: size, Clients: len(clients), Records: n,
			HubRecordsPerSecond: float64(n) / hubWall.Seconds(), HubBatch: summarise(hubLat),
			CeilingRecordsPerSecond: float64(n) / ceilWall.Seconds(), CeilingBatch: summarise(ceilLat),
		}
		res.Ratio = res.HubRecordsPerSecond / res.CeilingRecordsPerSecond
		e.report.Ingest = append(e.report.Ingest, res)
		e.progress("batch %d: hub %.0f rec/s, ceiling %.0f rec/s, ratio %.2f", size, res.HubRecordsPerSecond, res.CeilingRecordsPerSecond, res.Ratio)
	}
	rss, err := h.rss()
	if err != nil {
		return err
	}
	e.report.HubPeakRSSBytes = rss
	return nil
}

// submit sends one batch and checks every record was accepted.
func submit(ctx context.Context, rpc pathwayv1connect.IngestServiceClient, token string, b []*pathwayv1.IncidentRecord) error {
	req := connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: b})
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := rpc.SubmitIncidents(ctx, req)
	if err != nil {
		return err
	}
	if got := resp.Msg.GetCounts().GetAccepted(); int(got) != len(b) {
		for _, r := range resp.Msg.GetResults() {
			for _, v := range r.GetErrors() {
				return fmt.Errorf("accepted %d of %d: first error %s %s: %s", got, len(b), v.GetField(), v.GetCode(), v.GetMessage())
			}
		}
		return fmt.Errorf("accepted %d of %d", got, len(b))
	}
	return nil
}

// basePool returns n closed Met incidents from the simulator, ending
// yesterday so that nothing lies in the future.
func basePool(n int) ([]*pathwayv1.IncidentRecord, error) {
	key, err := pseudo.NewKey([]byte("pathway-hub-benchmark-key-32byte"))
	if err != nil {
		return nil, err
	}
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	months := max(1, (n+1499)/1500)
	h, err := simulate.History(simulate.Options{Force: "metropolitan", Months: months, End: end, Seed: 7, Key: key})
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if len(h.Incidents) == 0 {
		return nil, errors.New("simulate: no incidents")
	}
	return h.Incidents[:min(n, len(h.Incidents))], nil
}

// makeBatches gives each client perClient new incidents (copies of the pool
// with fresh references) in batches of size.
func makeBatches(pool []*pathwayv1.IncidentRecord, clients []client, size, perClient int) map[client][][]*pathwayv1.IncidentRecord {
	out := make(map[client][][]*pathwayv1.IncidentRecord, len(clients))
	for _, c := range clients {
		var batch []*pathwayv1.IncidentRecord
		for i := range perClient {
			r := proto.CloneOf(pool[i%len(pool)])
			sum := sha256.Sum256([]byte(c.force + "/" + strconv.Itoa(size) + "/" + strconv.Itoa(i)))
			r.IncidentRef = hex.EncodeToString(sum[:])
			r.ForceId = c.force
			batch = append(batch, r)
			if len(batch) == size {
				out[c] = append(out[c], batch)
				batch = nil
			}
		}
		if len(batch) > 0 {
			out[c] = append(out[c], batch)
		}
	}
	return out
}

// concurrently runs each client's batches in order, the clients in
// parallel, and returns every batch's latency and the wall time.
func concurrently(ctx context.Context, batches map[client][][]*pathwayv1.IncidentRecord,
	send func(context.Context, client, []*pathwayv1.IncidentRecord) error) ([]time.Duration, time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for c, bs := range batches {
		wg.Go(func() {
			for _, b := range bs {
				t := time.Now()
				err := send(ctx, c, b)
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", c.force, err))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return lat, time.Since(start), errors.Join(errs...)
}

// ingestRounds is how many times the ingest measurement alternates between
// ceiling and hub at each batch size.
const ingestRounds = 3

// rounds splits each client's batches into n consecutive parts (fewer when a
// client has fewer batches).
func rounds(batches map[client][][]*pathwayv1.IncidentRecord, n int) []map[client][][]*pathwayv1.IncidentRecord {
	most := 0
	for _, bs := range batches {
		most = max(most, len(bs))
	}
	n = max(min(n, most), 1)
	out := make([]map[client][][]*pathwayv1.IncidentRecord, n)
	for r := range out {
		out[r] = map[client][][]*pathwayv1.IncidentRecord{}
		for c, bs := range batches {
			lo, hi := r*len(bs)/n, (r+1)*len(bs)/n
			if hi > lo {
				out[r][c] = bs[lo:hi]
			}
		}
	}
	return out
}

// summarise returns percentiles of ds in milliseconds.
func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(p*float64(len(s))+0.999999) - 1
		return float64(s[min(max(i, 0), len(s)-1)]) / 1e6
	}
	return Latency{P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: float64(s[len(s)-1]) / 1e6}
}

// startHub runs the hub under test: the built binary as a separate process
// when the config names one, else inside this process.
func (e *env) startHub(ctx context.Context, credFile string, creds *auth.Credentials) (*hub, error) {
	hubDir := filepath.Join(e.cfg.Dir, "hub")
	if err := os.MkdirAll(hubDir, 0o755); err != nil {
		return nil, err
	}
	agreements := filepath.Join(e.cfg.Dir, "ingest-agreements")
	if e.cfg.HubBinary == "" {
		return e.inProcessHub(ctx, hubDir, agreements, creds)
	}
	port, err := freePort(ctx)
	if err != nil {
		return nil, err
	}
	metricsPort, err := freePort(ctx)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	metricsAddr := "127.0.0.1:" + strconv.Itoa(metricsPort)
	args := []string{"serve", "--listen", addr, "--metrics-listen", metricsAddr, "--credentials", credFile, "--agreements", agreements,
		"--clickhouse", e.srv.Addr(), "--clickhouse-database", hubDatabase, "--data-dir", hubDir, "--log-level", "warn"}
	e.report.HubCommand = append([]string{e.cfg.HubBinary}, args...)
	logFile, err := os.Create(filepath.Join(hubDir, "hub.log"))
	if err != nil {
		return nil, err
	}
	// Not CommandContext: the hub is stopped with SIGTERM, not killed.
	cmd := exec.Command(e.cfg.HubBinary, args...) //nolint:noctx // stopped by h.stop with SIGTERM
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start hub: %w", err)
	}
	e.progress("hub pid %d on %s", cmd.Process.Pid, addr)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); _ = logFile.Close() }()
	h := &hub{
		url: "http://" + addr,
		stop: func() error {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-done:
				return err
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				return <-done
			}
		},
		rss: func() (int64, error) { return peakRSS(cmd.Process.Pid) },
	}
	if err := waitServing(ctx, "http://"+metricsAddr, done); err != nil {
		_ = h.stop()
		return nil, fmt.Errorf("hub did not start (see %s): %w", filepath.Join(hubDir, "hub.log"), err)
	}
	return h, nil
}

func (e *env) inProcessHub(ctx context.Context, hubDir, agreements string, creds *auth.Credentials) (*hub, error) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.ClickHouse.Addr = e.srv.Addr()
	cfg.ClickHouse.Database = hubDatabase
	cfg.DataDir = hubDir
	cfg.Agreements = agreements
	cfg.LogLevel = "warn"
	e.report.HubInProcess = true
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan app.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Config: cfg, Logger: e.cfg.Logger, Credentials: creds, Ready: func(i app.Info) { ready <- i }})
	}()
	select {
	case info := <-ready:
		return &hub{
			url:  info.URL,
			stop: func() error { cancel(); return <-done },
			rss:  func() (int64, error) { return peakRSS(os.Getpid()) },
		}, nil
	case err := <-done:
		cancel()
		return nil, fmt.Errorf("hub: %w", err)
	case <-time.After(2 * time.Minute):
		cancel()
		return nil, errors.New("hub: not ready after 2 minutes")
	}
}

func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// waitServing polls the hub's /metrics until it answers.
func waitServing(ctx context.Context, url string, done <-chan error) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("exited: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("timed out")
}

// peakRSS reads VmHWM of a process from /proc.
func peakRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak rss: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("peak rss: no VmHWM")
}
