package benchmark

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Freshness is what the freshness step measured, on the national data with
// a trickle from every force running.
type Freshness struct {
	Forces int `json:"forces"`
	// TrickleSeconds is how long every force sent one new open incident
	// every Period; Samples is the incidents acknowledged.
	TrickleSeconds float64 `json:"trickle_seconds"`
	PeriodSeconds  float64 `json:"period_seconds"`
	Samples        int     `json:"samples"`
	// Visible is, over the samples, the time from submit acknowledged to the
	// incident in its force's supervisors' share (incidents and live
	// tables, the state the pathwayhub_live_* gauges export, set just
	// before them); Unseen counts samples not visible within a minute.
	Visible Latency `json:"visible"`
	Unseen  int     `json:"unseen"`
	// IncrementalPublishSeconds is one publication after a minute of
	// trickle, with what it published and skipped.
	IncrementalPublishSeconds float64 `json:"incremental_publish_seconds"`
	IncrementalPublished      int     `json:"incremental_published"`
	IncrementalRefreshed      int     `json:"incremental_refreshed"`
	IncrementalSkipped        int     `json:"incremental_skipped"`
	// StartPublishSeconds is the hub's first publication (every share), and
	// FullPublishSeconds a full rebuild after the trickle.
	StartPublishSeconds float64 `json:"start_publish_seconds"`
	FullPublishSeconds  float64 `json:"full_publish_seconds"`
	// IdleCPUPercent is the CPU the hub and ClickHouse used together while
	// no data arrived, in percent of one core, over IdleSeconds.
	IdleCPUPercent float64 `json:"idle_cpu_percent"`
	IdleSeconds    float64 `json:"idle_seconds"`
	// SettleSeconds is how long after the full rebuild ClickHouse's
	// background merges of the parts it wrote ran; the idle measurement
	// starts after them.
	SettleSeconds float64 `json:"settle_seconds"`
}

// runFreshness runs a hub on the national data with a supervisors' record
// share for every force and measures: how soon an acknowledged incident is
// visible to its force's supervisors, one publication after a minute of
// trickle from every force, a full rebuild, and the CPU used while nothing
// arrives.
func runFreshness(ctx context.Context, e *env) error {
	if e.cfg.NationalIncidents < 0 {
		e.progress("freshness skipped (no national data)")
		return nil
	}
	agreements := filepath.Join(e.cfg.Dir, "freshness-agreements")
	if err := writeFreshnessAgreement(agreements); err != nil {
		return err
	}
	creds := &auth.Credentials{}
	tokens := map[string]string{}
	for _, f := range nationalForces {
		tok := "bench-" + f.id
		creds.Add(tok, auth.Org{Kind: auth.KindForce, ID: f.id})
		tokens[f.id] = tok
	}
	templates, err := e.templates(ctx)
	if err != nil {
		return err
	}
	cfg := config.Default()
	cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.ClickHouse.Addr, cfg.ClickHouse.Database = e.srv.Addr(), nationalDatabase
	cfg.DataDir, cfg.Agreements, cfg.LogLevel = filepath.Join(e.cfg.Dir, "freshness-hub"), agreements, "warn"
	// The aggregate publication's own schedule is left out of the
	// measurement: the step calls it.
	cfg.Shares.Interval, cfg.Shares.Debounce, cfg.Shares.MaxDelay = time.Hour, time.Hour, time.Hour
	hubCtx, stopHub := context.WithCancel(ctx)
	ready, done := make(chan app.Info, 1), make(chan error, 1)
	started := time.Now()
	go func() {
		done <- app.Run(hubCtx, app.Options{Config: cfg, Logger: e.cfg.Logger, Credentials: creds, Ready: func(i app.Info) { ready <- i }})
	}()
	defer func() {
		stopHub()
		if err := <-done; err != nil {
			e.progress("freshness: the hub stopped with: %v", err)
		}
	}()
	var info app.Info
	select {
	case info = <-ready:
	case err := <-done:
		return fmt.Errorf("hub: %w", err)
	}
	period := e.cfg.FreshnessPeriod
	fr := &Freshness{Forces: len(nationalForces), PeriodSeconds: period.Seconds()}
	e.report.Freshness = fr
	// The hub publishes every share when it starts; a publication called now
	// waits for that one.
	e.progress("freshness: waiting for the hub's first publication of every share")
	if _, err := info.Publish(ctx); err != nil {
		return fmt.Errorf("first publication: %w", err)
	}
	fr.StartPublishSeconds = time.Since(started).Seconds()

	e.progress("freshness: a trickle from %d forces, one incident each every %s", len(nationalForces), period)
	rpc := pathwayv1connect.NewIngestServiceClient(http.DefaultClient, info.URL)
	w := newWatcher(e, info.SharePrefix)
	trickleCtx, stopTrickle := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var trickleErr error
	for i, f := range nationalForces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the forces over the period.
			select {
			case <-trickleCtx.Done():
				return
			case <-time.After(period * time.Duration(i) / time.Duration(len(nationalForces))):
			}
			tick := time.NewTicker(period)
			defer tick.Stop()
			for {
				rec := trickleRecord(templates[f.id])
				req := connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: []*pathwayv1.IncidentRecord{rec}})
				req.Header().Set("Authorization", "Bearer "+tokens[f.id])
				resp, err := rpc.SubmitIncidents(trickleCtx, req)
				if err == nil && resp.Msg.GetResults()[0].GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED {
					err = fmt.Errorf("%s: %v", resp.Msg.GetResults()[0].GetStatus(), resp.Msg.GetResults()[0].GetErrors())
				}
				if err != nil {
					if trickleCtx.Err() == nil {
						errMu.Lock()
						trickleErr = errors.Join(trickleErr, fmt.Errorf("force %s: %w", f.id, err))
						errMu.Unlock()
						stopTrickle()
					}
					return
				}
				w.add(f.id, rec.GetIncidentRef(), time.Now())
				select {
				case <-trickleCtx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	watchDone := make(chan error, 1)
	go func() { watchDone <- w.run(trickleCtx) }()
	trickleStart := time.Now()
	select {
	case <-ctx.Done():
	case <-trickleCtx.Done():
	case <-time.After(min(time.Minute, e.cfg.FreshnessTrickle)):
	}
	start := time.Now()
	rep, err := info.Publish(ctx)
	if err != nil {
		stopTrickle()
		return fmt.Errorf("incremental publication: %w", err)
	}
	fr.IncrementalPublishSeconds = time.Since(start).Seconds()
	fr.IncrementalPublished, fr.IncrementalRefreshed, fr.IncrementalSkipped = len(rep.Published), len(rep.Refreshed), len(rep.Skipped)
	e.progress("freshness: incremental publication after a minute of trickle: %.2f s (%d published, %d record shares refreshed, %d unchanged)",
		fr.IncrementalPublishSeconds, fr.IncrementalPublished, fr.IncrementalRefreshed, fr.IncrementalSkipped)
	select { // at least 200 samples: 44 forces every 10 s for 70 s give 308
	case <-ctx.Done():
	case <-trickleCtx.Done():
	case <-time.After(e.cfg.FreshnessTrickle - time.Since(trickleStart)):
	}
	stopTrickle()
	wg.Wait()
	fr.TrickleSeconds = time.Since(trickleStart).Seconds()
	if trickleErr != nil {
		return fmt.Errorf("trickle: %w", trickleErr)
	}
	w.finish(ctx)
	if err := <-watchDone; err != nil {
		return err
	}
	fr.Samples, fr.Visible, fr.Unseen = w.summary()
	e.progress("freshness: %d samples, visible p50 %.0f ms, p95 %.0f ms, max %.0f ms, %d unseen",
		fr.Samples, fr.Visible.P50, fr.Visible.P95, fr.Visible.Max, fr.Unseen)

	start = time.Now()
	if _, err := info.PublishFull(ctx); err != nil {
		return fmt.Errorf("full publication: %w", err)
	}
	fr.FullPublishSeconds = time.Since(start).Seconds()
	e.progress("freshness: full publication %.1f s", fr.FullPublishSeconds)

	// Let the fast path and the monitor settle, and ClickHouse finish the
	// merges the rebuild left (parts it wrote, merged in the background:
	// work the rebuild caused, not work done while idle), then measure.
	time.Sleep(5 * time.Second)
	settle := time.Now()
	for time.Since(settle) < 3*time.Minute {
		var merges uint64
		if err := e.admin.QueryRow(ctx, "SELECT count() FROM system.merges").Scan(&merges); err != nil {
			return fmt.Errorf("merges: %w", err)
		}
		if merges == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	fr.SettleSeconds = time.Since(settle).Seconds()
	e.progress("freshness: background merges done %.0f s after the rebuild", fr.SettleSeconds)
	idle := e.cfg.IdleWindow
	cpu0, err := cpuTicks(os.Getpid(), e.srv.Pid())
	if err != nil {
		return err
	}
	time.Sleep(idle)
	cpu1, err := cpuTicks(os.Getpid(), e.srv.Pid())
	if err != nil {
		return err
	}
	fr.IdleSeconds = idle.Seconds()
	fr.IdleCPUPercent = 100 * float64(cpu1-cpu0) / clockTicks / idle.Seconds()
	e.progress("freshness: idle CPU %.1f%% of one core", fr.IdleCPUPercent)
	return nil
}

// writeFreshnessAgreement writes the national agreement with a
// supervisors' record share for every force.
func writeFreshnessAgreement(dir string) error {
	if err := writeAgreement(filepath.Dir(dir), filepath.Base(dir), true); err != nil {
		return err
	}
	path := filepath.Join(dir, "national.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.Write(raw)
	for _, f := range nationalForces {
		fmt.Fprintf(&b, "      - id: %s_supervisors\n        org: force/%s\n        role: force_supervisor\n", strings.ReplaceAll(f.id, "-", "_"), f.id)
		fmt.Fprintf(&b, "        purpose: Supervise the force's open incidents.\n        scope:\n          forces: [%s]\n", f.id)
		b.WriteString("        granularity: record\n        fields: [incident_ref, status, incident_type, lad_code, arrived_at_pos, handover_accepted]\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// templates reads one stored incident of every force, as submitted, to
// make the trickle's records from.
func (e *env) templates(ctx context.Context) (map[string]*pathwayv1.IncidentRecord, error) {
	rows, err := e.admin.Query(ctx, "SELECT force_id, any(payload) FROM "+nationalDatabase+".incidents WHERE incident_type = 's136' GROUP BY force_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*pathwayv1.IncidentRecord{}
	for rows.Next() {
		var f, payload string
		if err := rows.Scan(&f, &payload); err != nil {
			return nil, err
		}
		rec := &pathwayv1.IncidentRecord{}
		if err := proto.Unmarshal([]byte(payload), rec); err != nil {
			return nil, fmt.Errorf("template of %s: %w", f, err)
		}
		out[f] = rec
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A force without a detention (at small scale) borrows another's.
	var other *pathwayv1.IncidentRecord
	for _, r := range out {
		other = r
	}
	if other == nil {
		return nil, errors.New("no s136 incident in the national data")
	}
	for _, f := range nationalForces {
		if out[f.id] == nil {
			out[f.id] = proto.Clone(other).(*pathwayv1.IncidentRecord)
		}
	}
	return out, nil
}

// trickleRecord is a new open detention made from a force's template: at a
// place of safety now, its handover not yet accepted.
func trickleRecord(tmpl *pathwayv1.IncidentRecord) *pathwayv1.IncidentRecord {
	rec := proto.Clone(tmpl).(*pathwayv1.IncidentRecord)
	var b [32]byte
	_, _ = rand.Read(b[:])
	rec.IncidentRef, rec.Revision = hex.EncodeToString(b[:]), 1
	rec.Status, rec.Outcome = pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN, pathwayv1.Outcome_OUTCOME_UNSPECIFIED
	rec.PresenceLog, rec.Transfers, rec.Extension = nil, nil, nil
	now := time.Now().UTC().Truncate(time.Second)
	at := func(ago time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-ago)) }
	rec.Timeline = &pathwayv1.Timeline{
		CallReceived: at(time.Hour), Deployed: at(55 * time.Minute), Detained: at(45 * time.Minute),
		AmbulanceRequested: at(44 * time.Minute), AmbulanceArrived: at(30 * time.Minute), ArrivedAtPos: at(10 * time.Minute),
	}
	return rec
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times.
const clockTicks = 100

// cpuTicks adds the user and system CPU ticks of the given processes.
func cpuTicks(pids ...int) (uint64, error) {
	var sum uint64
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, err
		}
		// The fields after the command name (which may hold spaces).
		fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		for _, i := range []int{11, 12} { // utime, stime: fields 14 and 15
			v, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				return 0, err
			}
			sum += v
		}
	}
	return sum, nil
}

// watcher polls the supervisors' shares for acknowledged incidents.
type watcher struct {
	e       *env
	prefix  string
	mu      sync.Mutex
	pending map[string]map[string]time.Time // force → incident_ref → acknowledged at
	seen    []time.Duration
	unseen  int
	final   chan struct{}
}

func newWatcher(e *env, prefix string) *watcher {
	return &watcher{e: e, prefix: prefix, pending: map[string]map[string]time.Time{}, final: make(chan struct{})}
}

func (w *watcher) add(force, ref string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending[force] == nil {
		w.pending[force] = map[string]time.Time{}
	}
	w.pending[force][ref] = at
}

// finish asks run to keep polling for at most a minute more, then stop.
func (w *watcher) finish(context.Context) { close(w.final) }

// run polls every 100 ms until finish has been called and nothing is
// pending, or a minute after finish.
func (w *watcher) run(ctx context.Context) error {
	var deadline <-chan time.Time
	for {
		select {
		case <-w.final:
			if deadline == nil {
				deadline = time.After(time.Minute)
			}
		default:
		}
		if deadline != nil {
			select {
			case <-deadline:
				w.mu.Lock()
				for _, refs := range w.pending {
					w.unseen += len(refs)
				}
				w.mu.Unlock()
				return nil
			default:
			}
		}
		if err := w.poll(ctx); err != nil {
			return err
		}
		w.mu.Lock()
		empty := true
		for _, refs := range w.pending {
			empty = empty && len(refs) == 0
		}
		w.mu.Unlock()
		if deadline != nil && empty {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// poll looks up every pending incident in its force's share. It keeps
// polling after ctx (the trickle's) ends, until run stops.
func (w *watcher) poll(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	w.mu.Lock()
	work := map[string][]string{}
	for f, refs := range w.pending {
		for ref := range refs {
			work[f] = append(work[f], ref)
		}
	}
	w.mu.Unlock()
	for f, refs := range work {
		db := share.Database(w.prefix, strings.ReplaceAll(f, "-", "_")+"_supervisors")
		list := "'" + strings.Join(refs, "','") + "'" // refs are hex this step made
		q := "SELECT incident_ref FROM " + db + ".incidents WHERE incident_ref IN (" + list + ") AND incident_ref IN (SELECT incident_ref FROM " + db + ".live)"
		rows, err := w.e.admin.Query(ctx, q)
		if err != nil {
			continue // the share is being swapped in: poll again
		}
		now := time.Now()
		w.mu.Lock()
		for rows.Next() {
			var ref string
			if err := rows.Scan(&ref); err != nil {
				w.mu.Unlock()
				rows.Close()
				return err
			}
			if at, ok := w.pending[f][ref]; ok {
				w.seen = append(w.seen, now.Sub(at))
				delete(w.pending[f], ref)
			}
		}
		w.mu.Unlock()
		rows.Close()
	}
	return nil
}

func (w *watcher) summary() (int, Latency, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen) + w.unseen, summarise(w.seen), w.unseen
}
