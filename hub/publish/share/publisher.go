package share

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/policy"
)

// Policy is what the publisher needs of the policy engine.
type Policy interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
	Agreements() []policy.Agreement
}

// Options configure a Publisher.
type Options struct {
	// Conn is a connection that may read the raw database and create share
	// databases.
	Conn driver.Conn
	// Database is the raw database.
	Database string
	// Prefix starts every share database and recipient user name (default
	// DefaultPrefix), so several hubs can share one ClickHouse.
	Prefix string
	// Policy decides what each recipient may see.
	Policy Policy
	// Thresholds are the pathway thresholds the measures and live state use.
	Thresholds measures.Thresholds
	// UsersFile is where the ClickHouse users.d file is written; empty means
	// none is written.
	UsersFile string
	// PasswordsFile is the secrets file of recipient users' passwords;
	// required with UsersFile.
	PasswordsFile string
	// Months is how many complete months of measures are published
	// (default 36).
	Months int
	// Rebase are known change dates (e.g. an RCRP phase going live): each
	// series' SPC limits restart at the first month on or after each.
	Rebase []time.Time
	// Interval is the schedule of full publications (default 15 minutes).
	Interval time.Duration
	// Debounce is how long after the last Notify a publication starts
	// (default 5 seconds); MaxDelay bounds the wait while notifications keep
	// coming (default 1 minute).
	Debounce, MaxDelay time.Duration
	// Live, when non-nil, gives the live pathway state for supervisors'
	// shares.
	Live func() []monitor.Row
	// Now is the clock; nil means time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// snapshotSuffix names the database of the publication snapshot after the
// raw database.
const snapshotSuffix = "_snapshot"

// Prefix returns the prefix of share database and user names.
func (p *Publisher) Prefix() string { return p.opts.Prefix }

// Publisher publishes shares. Publications never overlap.
type Publisher struct {
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	notify  chan struct{}
	mu      sync.Mutex // one publication of every share at a time
	// recordsMu serialises the writing of record shares, which the fast
	// path (RunRecords) and PublishAll both do.
	recordsMu sync.Mutex
	records   chan struct{} // a NotifyRecords is pending
	pendingMu sync.Mutex
	pending   map[string]bool // forces whose record shares are due
	allDue    bool            // every record share is due
	// snapshot is the database of the current publication's snapshot of
	// the raw tables (see store.Snapshot), or "" to read them directly.
	// It is set under mu.
	snapshot string
}

// The defaults of Options, taken where a field is zero. hub/config's
// defaults are these: they are written here only.
const (
	DefaultMonths   = 36
	DefaultInterval = 15 * time.Minute
	DefaultDebounce = 5 * time.Second
	DefaultMaxDelay = time.Minute
	// RecordsDebounce is how long RunRecords lets notifications gather
	// before it publishes the record shares they name.
	RecordsDebounce = 200 * time.Millisecond
)

// New returns a Publisher.
func New(opts Options) (*Publisher, error) {
	if opts.Conn == nil || opts.Policy == nil || opts.Database == "" {
		return nil, errors.New("share: Conn, Database and Policy are required")
	}
	if opts.UsersFile != "" && opts.PasswordsFile == "" {
		return nil, errors.New("share: a users file needs a passwords file")
	}
	if opts.Months <= 0 {
		opts.Months = DefaultMonths
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !sqltext.ValidIdent(opts.Prefix) {
		return nil, fmt.Errorf("share: prefix %q must be lower-case letters, digits and underscores", opts.Prefix)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Publisher{opts: opts, logger: logger.With("component", "share"), metrics: m, notify: make(chan struct{}, 1),
		records: make(chan struct{}, 1), pending: map[string]bool{}}, nil
}

// Notify asks for a publication soon: after Debounce of quiet, or MaxDelay at
// most. Ingest calls it after storing a batch. It never blocks.
func (p *Publisher) Notify() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// NotifyRecords asks for the record shares (a force's supervisors' incidents
// and live tables) of these forces, or of every force when forces is nil, to
// be published again within RecordsDebounce. The live monitor calls it after
// its state changed. It never blocks.
func (p *Publisher) NotifyRecords(forces []string) {
	p.pendingMu.Lock()
	if forces == nil {
		p.allDue = true
	}
	for _, f := range forces {
		p.pending[f] = true
	}
	p.pendingMu.Unlock()
	select {
	case p.records <- struct{}{}:
	default:
	}
}

// RunRecords is the supervisors' fast path: it publishes the record shares
// NotifyRecords names, apart from and while the aggregate publication runs,
// until ctx is done. A failure is logged; the next notification or
// publication tries again.
func (p *Publisher) RunRecords(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.records:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(RecordsDebounce):
		}
		p.pendingMu.Lock()
		forces, all := p.pending, p.allDue
		p.pending, p.allDue = map[string]bool{}, false
		p.pendingMu.Unlock()
		if err := p.PublishRecords(ctx, forces, all); err != nil && ctx.Err() == nil {
			p.logger.Error("record shares failed", "err", err)
		}
	}
}

// PublishRecords publishes the record shares whose forces include one of
// forces (every record share with all).
func (p *Publisher) PublishRecords(ctx context.Context, forces map[string]bool, all bool) error {
	now := p.opts.Now().UTC().Truncate(time.Second)
	seen := map[string]bool{}
	var errs []error
	for _, a := range p.opts.Policy.Agreements() {
		for _, r := range a.Recipients {
			if seen[r.ID] || r.Granularity != policy.GranularityRecord {
				continue
			}
			seen[r.ID] = true
			if !all && !slices.ContainsFunc(r.Scope.Forces, func(f string) bool { return forces[f] }) {
				continue
			}
			if _, _, err := p.publishRecipient(ctx, r.ID, r.Org, now); err != nil {
				errs = append(errs, fmt.Errorf("recipient %s: %w", r.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Run publishes at start, on the schedule, and shortly after notifications,
// until ctx is done. A failed publication is logged and retried at the next
// trigger; it does not stop the hub.
func (p *Publisher) Run(ctx context.Context) error {
	ticker := time.NewTicker(p.opts.Interval)
	defer ticker.Stop()
	var debounce, deadline <-chan time.Time
	publish := func() {
		debounce, deadline = nil, nil
		if _, err := p.PublishAll(ctx); err != nil && ctx.Err() == nil {
			p.logger.Error("publication failed", "err", err)
		}
	}
	publish()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			publish()
		case <-p.notify:
			debounce = time.After(p.opts.Debounce)
			if deadline == nil {
				deadline = time.After(p.opts.MaxDelay)
			}
		case <-debounce:
			publish()
		case <-deadline:
			publish()
		}
	}
}

// Report says what one PublishAll did.
type Report struct {
	// Published are the recipients whose shares were written.
	Published []Publication
	// Withdrawn are the recipients refused by the policy, whose shares were
	// removed, with the policy's reasons.
	Withdrawn map[string][]string
	// Snapshot is how long the snapshot every recipient's measures read
	// took to make (zero when it failed and they read the raw tables).
	Snapshot time.Duration
}

// Publication describes one recipient's published share.
type Publication struct {
	ID             string
	Recipient      string
	Agreement      string
	DecisionID     string
	PolicyRevision string
	PublishedAt    time.Time
	DataCutoff     time.Time
	// Rows is the row count of each share table.
	Rows map[string]uint64
	// ContentHash is the SHA-256 (hex) of every data table as published,
	// table by table in name order, rows as text in sorted order. The
	// publication table records it.
	ContentHash string
}

// PublishAll publishes every recipient of every agreement the policy holds,
// then rewrites the users.d file for the recipients allowed to read.
func (p *Publisher) PublishAll(ctx context.Context) (Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	now := p.opts.Now().UTC().Truncate(time.Second)
	rep := Report{Withdrawn: map[string][]string{}}
	var users []User
	var errs []error
	var passwords *Passwords
	if p.opts.UsersFile != "" {
		var err error
		if passwords, err = LoadPasswords(p.opts.PasswordsFile); err != nil {
			return rep, err
		}
	}
	// Collapse the revisions once for every recipient's measures, rather
	// than once per measure and recipient, keeping only what the published
	// months can count (aggregateTables publishes the Months before the
	// cut-off's month). Should that fail, the measures read the raw tables
	// themselves, as before.
	p.snapshot = p.opts.Database + snapshotSuffix
	firstMonth := monthStart(now).AddDate(0, -p.opts.Months, 0)
	snapStart := time.Now()
	if err := store.Snapshot(ctx, p.opts.Conn, p.opts.Database, p.snapshot, firstMonth); err != nil {
		p.logger.Warn("snapshot failed; measures read the raw tables", "err", err)
		p.snapshot = ""
	} else {
		rep.Snapshot = time.Since(snapStart)
		p.logger.Info("publication snapshot taken", "database", p.snapshot, "from", firstMonth, "seconds", rep.Snapshot.Seconds())
		// The copy is dropped once published: it is raw data outside the raw
		// database, and stale by the next publication anyway.
		defer func() {
			if err := p.opts.Conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+p.snapshot); err != nil {
				p.logger.Warn("drop snapshot", "err", err)
			}
		}()
	}
	seen := map[string]bool{}
	for _, a := range p.opts.Policy.Agreements() {
		for _, r := range a.Recipients {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			pub, reasons, err := p.publishRecipient(ctx, r.ID, r.Org, now)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("recipient %s: %w", r.ID, err))
				p.metrics.runs.WithLabelValues("failure").Inc()
			case pub == nil:
				rep.Withdrawn[r.ID] = reasons
				p.metrics.runs.WithLabelValues("withdrawn").Inc()
			default:
				rep.Published = append(rep.Published, *pub)
				p.metrics.runs.WithLabelValues("success").Inc()
				if passwords != nil {
					pw, err := passwords.For(r.ID)
					if err != nil {
						return rep, err
					}
					db := Database(p.opts.Prefix, r.ID)
					users = append(users, User{Name: db, Database: db, Password: pw})
				}
			}
		}
	}
	if p.opts.UsersFile != "" {
		if err := p.writeUsers(ctx, users); err != nil {
			errs = append(errs, err)
		}
	}
	p.metrics.duration.Observe(time.Since(start).Seconds())
	if len(errs) == 0 {
		p.metrics.lastSuccess.Set(float64(now.Unix()))
	}
	return rep, errors.Join(errs...)
}

func (p *Publisher) writeUsers(ctx context.Context, users []User) error {
	var version string
	if err := p.opts.Conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return fmt.Errorf("share: server version: %w", err)
	}
	raw, err := UsersXML(users, ReadonlyLevel(version))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.opts.UsersFile), 0o755); err != nil {
		return fmt.Errorf("share: users.d: %w", err)
	}
	// ClickHouse reloads every user when the file changes, so it is rewritten
	// only when the users themselves change (an agreement or a rotation),
	// not on every publication.
	if old, err := os.ReadFile(p.opts.UsersFile); err == nil && bytes.Equal(old, raw) {
		return nil
	}
	if err := writeFileAtomic(p.opts.UsersFile, raw, 0o644); err != nil {
		return fmt.Errorf("share: users.d: %w", err)
	}
	p.logger.Info("recipient users written", "file", p.opts.UsersFile, "users", len(users))
	return nil
}

// publishRecipient asks the policy what recipient id may read and publishes
// it. It returns a nil publication and the policy's reasons when the
// recipient may read nothing; its share database is then dropped.
func (p *Publisher) publishRecipient(ctx context.Context, id, org string, now time.Time) (*Publication, []string, error) {
	start := time.Now()
	d, err := p.opts.Policy.Decide(ctx, policy.Input{Action: policy.ActionRead, Org: org, Recipient: id, Time: now})
	if err != nil {
		return nil, nil, err
	}
	var grant *policy.Grant
	for i := range d.Grants {
		if d.Grants[i].Recipient == id {
			grant = &d.Grants[i]
		}
	}
	db := Database(p.opts.Prefix, id)
	if !d.Allow || grant == nil {
		if err := p.opts.Conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			return nil, nil, fmt.Errorf("share: withdraw %s: %w", db, err)
		}
		p.logger.Warn("share withdrawn: the policy refused the recipient", "recipient", id, "decision_id", d.ID,
			"policy_revision", d.Revision, "reasons", d.Reasons)
		return nil, d.Reasons, nil
	}
	if err := chdb.EnsureDatabase(ctx, p.opts.Conn, db); err != nil {
		return nil, nil, fmt.Errorf("share: %w", err)
	}
	pub := &Publication{
		ID: rand.Text(), Recipient: id, Agreement: grant.Agreement, DecisionID: d.ID, PolicyRevision: d.Revision,
		PublishedAt: now, DataCutoff: now, Rows: map[string]uint64{},
	}
	var tables []table
	switch grant.Granularity {
	case policy.GranularityAggregate:
		tables, err = p.aggregateTables(ctx, *grant, pub)
	case policy.GranularityRecord:
		// Built and written under recordsMu, so that of the fast path and
		// PublishAll, the later reading of the live state is written last.
		p.recordsMu.Lock()
		defer p.recordsMu.Unlock()
		tables, err = p.recordTables(ctx, *grant, pub)
	default:
		err = fmt.Errorf("share: recipient %s: unknown granularity %q", id, grant.Granularity)
	}
	if err != nil {
		return nil, nil, err
	}
	meta := func(pub *Publication) table { return publicationTable(*grant, pub) }
	if err := p.swapIn(ctx, db, tables, meta, pub); err != nil {
		return nil, nil, err
	}
	if err := p.logPublication(ctx, pub); err != nil {
		return nil, nil, err
	}
	p.logger.Info("share published", "recipient", id, "agreement", pub.Agreement, "publication_id", pub.ID,
		"data_cutoff", pub.DataCutoff, "policy_revision", pub.PolicyRevision, "decision_id", pub.DecisionID,
		"rows", pub.Rows, "content_hash", pub.ContentHash, "seconds", time.Since(start).Seconds())
	return pub, nil, nil
}

func (p *Publisher) logPublication(ctx context.Context, pub *Publication) error {
	b, err := p.opts.Conn.PrepareBatch(ctx, "INSERT INTO "+p.opts.Database+".publications (publication_id, recipient, agreement, decision_id, policy_revision, published_at, data_cutoff, share_table, row_count, content_hash)")
	if err != nil {
		return fmt.Errorf("share: log publication: %w", err)
	}
	defer func() { _ = b.Abort() }()
	for name, n := range pub.Rows {
		if err := b.Append(pub.ID, pub.Recipient, pub.Agreement, pub.DecisionID, pub.PolicyRevision,
			pub.PublishedAt, pub.DataCutoff, name, n, pub.ContentHash); err != nil {
			return fmt.Errorf("share: log publication: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("share: log publication: %w", err)
	}
	return nil
}
