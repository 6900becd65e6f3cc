package policy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	// Decision dates are taken in Europe/London whatever the host's zone
	// database holds.
	_ "time/tzdata"
)

// Action is what a decision is asked about: submit, read, export, approve
// or reopen.
type Action string

// Input is the question put to the policy.
type Input struct {
	// Action is submit, read, export, approve or reopen.
	Action Action
	// Org is the caller, e.g. "force/btp", "trust/RV3", "icb/QMJ",
	// "region/london", as authenticated.
	Org string
	// Dataset is "incidents" or "health_updates". Submit needs it; for read
	// and export it may be empty, meaning any dataset.
	Dataset string
	// Force is, for submit, the force id that owns the incident(s), e.g.
	// "btp". Required: a force may submit only its own incidents, and a
	// trust only under an agreement that names this force as a controller.
	Force string
	// PosOrg is, for a submit by a trust, the ODS organisation code of the
	// incident's place of safety; empty when unknown, which denies.
	PosOrg string
	// Recipient restricts read and export to one recipient id; empty means
	// every recipient the org is.
	Recipient string
	// Time is the decision time; zero means Options.Now().
	Time time.Time
}

// Grant is what one recipient entry of an agreement allows its reader, and
// the obligations that come with it.
type Grant struct {
	// Agreement and Recipient identify the entry.
	Agreement, Recipient string
	// Org, Role and Purpose are the recipient's.
	Org, Role, Purpose string
	// Granularity is record or aggregate.
	Granularity string
	// Datasets are the datasets the agreement covers.
	Datasets []string
	// Forces, Regions and LADs are the scope; each non-empty list must match.
	Forces, Regions, LADs []string
	// Measures (aggregate, with "all" expanded) or Fields (record) are what
	// may be shown.
	Measures, Fields []string
	// Threshold and Rounding are the disclosure control for counts.
	Threshold, Rounding int
	// Retention is how long the recipient may keep what it receives; see
	// Retention.Cutoff.
	Retention Retention
	// Export says whether evidence packs may be downloaded.
	Export bool
	// ValidUntil is the agreement's last day in force (midnight UTC).
	ValidUntil time.Time
}

// Decision is the policy's answer to one Input.
type Decision struct {
	// ID is a random 128-bit hex id, unique per decision.
	ID string
	// Revision is the policy bundle's revision (16 hex digits).
	Revision string
	// Time is the decision time.
	Time time.Time
	// Input is the question, with Time filled in.
	Input Input
	// Allow is the answer.
	Allow bool
	// Reasons explain the answer; they name organisations, agreements and
	// dates, never people.
	Reasons []string
	// Agreements are the ids of the agreements the decision rests on.
	Agreements []string
	// Grants are, for read and export, one per recipient entry allowed.
	Grants []Grant
}

// Auditor records decisions. Decide passes it every decision and fails when
// it fails.
type Auditor interface {
	Audit(ctx context.Context, d Decision) error
}

// Options configure an Engine.
type Options struct {
	// Dir is the directory of agreement files, read recursively.
	Dir string
	// Measures are the measure ids an agreement may name, in catalogue
	// order: the hub passes its catalogue's (hub/measures IDs), so a measure
	// added there can be shared without touching the policy. Required.
	Measures []string
	// Logger receives reloads (info, warn) and decisions (debug); nil
	// discards.
	Logger *slog.Logger
	// Registerer receives the engine's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Auditor receives every decision; nil audits nothing.
	Auditor Auditor
	// Now is the clock for inputs without a time; nil means time.Now.
	Now func() time.Time
	// WatchDebounce is how long Watch waits for changes to settle before
	// reloading; zero means 500ms.
	WatchDebounce time.Duration
	// NoMemo evaluates every decision afresh instead of remembering the
	// outcome of each input (per bundle and calendar day), e.g. to measure
	// what evaluation costs.
	NoMemo bool
}

// Engine evaluates decisions against the bundle in force. It is safe for
// concurrent use.
type Engine struct {
	dir      string
	measures []string
	logger   *slog.Logger
	auditor  Auditor
	now      func() time.Time
	debounce time.Duration
	noMemo   bool
	london   *time.Location
	metrics  *metrics

	reload  sync.Mutex // serialises reloads
	current atomic.Pointer[bundle]
}

// New loads, validates and compiles the agreements under opts.Dir and
// returns an Engine with them in force.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, errors.New("policy: Options.Dir is required")
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	e := &Engine{
		dir:      opts.Dir,
		measures: opts.Measures,
		logger:   opts.Logger,
		auditor:  opts.Auditor,
		now:      opts.Now,
		debounce: opts.WatchDebounce,
		noMemo:   opts.NoMemo,
		london:   london,
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	e.logger = e.logger.With("component", "policy")
	if e.now == nil {
		e.now = time.Now
	}
	if e.debounce <= 0 {
		e.debounce = 500 * time.Millisecond
	}
	e.metrics, err = newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Revision returns the revision of the bundle in force.
func (e *Engine) Revision() string { return e.current.Load().revision }

// Agreements returns the agreements in force, sorted by id.
func (e *Engine) Agreements() []Agreement {
	b := e.current.Load()
	out := make([]Agreement, len(b.agreements))
	copy(out, b.agreements)
	return out
}

// Reload reads, validates and compiles the agreements again, then swaps the
// new bundle in atomically. On any error the bundle in force stays.
func (e *Engine) Reload(ctx context.Context) error {
	e.reload.Lock()
	defer e.reload.Unlock()
	b, err := buildBundle(ctx, e.dir, e.measures)
	if err == nil && !e.noMemo {
		b.memo = &memo{m: map[memoKey]outcome{}}
	}
	if err != nil {
		e.metrics.reloads.WithLabelValues("failure").Inc()
		if prev := e.current.Load(); prev != nil {
			e.logger.WarnContext(ctx, "policy reload failed; previous revision stays in force",
				"revision", prev.revision, "error", err)
		}
		return fmt.Errorf("policy: reload: %w", err)
	}
	prev := e.current.Swap(b)
	e.metrics.reloads.WithLabelValues("success").Inc()
	e.metrics.revision.Reset()
	e.metrics.revision.WithLabelValues(b.revision).Set(1)
	e.metrics.lastReload.SetToCurrentTime()
	switch {
	case prev == nil:
		e.logger.InfoContext(ctx, "policy loaded", "revision", b.revision,
			"agreements", len(b.agreements), "dir", e.dir)
	case prev.revision == b.revision:
		e.logger.DebugContext(ctx, "policy reloaded, unchanged", "revision", b.revision)
	default:
		e.logger.InfoContext(ctx, "policy reloaded", "revision", b.revision, "previous", prev.revision,
			"agreements", len(b.agreements), "dir", e.dir)
	}
	return nil
}

// Decide evaluates in against the bundle in force, logs and audits the
// decision. It returns an error, and no decision, when evaluation or the
// Auditor fails; callers then deny.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	start := time.Now()
	if in.Time.IsZero() {
		in.Time = e.now()
	}
	b := e.current.Load()
	d := Decision{ID: rand.Text(), Revision: b.revision, Time: in.Time, Input: in}
	if err := b.eval(ctx, e.london, &d); err != nil {
		return Decision{}, fmt.Errorf("policy: decide: %w", err)
	}
	e.metrics.seconds.Observe(time.Since(start).Seconds())
	e.metrics.decisions.WithLabelValues(string(in.Action), boolLabel(d.Allow)).Inc()
	e.logger.LogAttrs(ctx, slog.LevelDebug, "policy decision",
		slog.String("id", d.ID), slog.String("revision", d.Revision),
		slog.String("action", string(in.Action)), slog.String("org", in.Org),
		slog.Bool("allow", d.Allow))
	if e.auditor != nil {
		if err := e.auditor.Audit(ctx, d); err != nil {
			return Decision{}, fmt.Errorf("policy: audit decision %s: %w", d.ID, err)
		}
	}
	return d, nil
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
