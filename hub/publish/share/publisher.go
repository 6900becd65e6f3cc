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
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
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
	// required with UsersFile. With Coord, it is a copy.
	PasswordsFile string
	// Coord, on a cluster, is a ZooKeeper session with the cluster's
	// identity. The recipients' users are then written under
	// coord.UsersNode(Database), where every server of the cluster reads
	// them, and their passwords kept in coord.PasswordsNode(Database).
	Coord *coord.Session
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
	// Workers is how many shares a publication builds at once (default
	// DefaultWorkers).
	Workers int
	// ChangesLag is how late a row of the changes log may become readable
	// on the server this publisher reads, after the time it was logged
	// with: each publication reads the log again from its last read less
	// this. Zero means a second, the clock's resolution, enough on one
	// server. On a cluster a row logged on another replica arrives by
	// replication, later: ClusterChangesLag. A change read twice costs a
	// share rebuilt twice; one never read costs a stale share.
	ChangesLag time.Duration
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
	// shareMu holds a lock per record share, which the fast path
	// (RunRecords) and PublishAll both write: one writer per share at a
	// time, several shares at once.
	shareMu   sync.Mutex
	shares    map[string]*sync.Mutex
	records   chan struct{} // a NotifyRecords is pending
	pendingMu sync.Mutex
	pending   pendingRecords // what the record shares must catch up with
	// snapshot is the database of the current publication's snapshot of
	// the raw tables (see store.Snapshot), or "" to read them directly.
	// It is set under mu.
	snapshot string
	// built is, for each recipient whose share is up to date, what it was
	// built from (policy revision and cut-off month); since is when the
	// changes log was last read, less Options.ChangesLag. Both are set
	// under mu.
	built map[string]string
	since time.Time
	// recordsAt is, for each record share the fast path refreshed, the
	// server's clock before it read: the share reflects every change logged
	// before then.
	atMu      sync.Mutex
	recordsAt map[string]time.Time
	// fastPath is true while RunRecords runs.
	fastPath atomic.Bool
	// months are the month states the aggregate shares of the current
	// publication have read.
	months monthMemo
}

// The defaults of Options, taken where a field is zero. hub/config's
// defaults are these: they are written here only.
const (
	DefaultMonths   = 36
	DefaultInterval = 15 * time.Minute
	DefaultDebounce = 5 * time.Second
	DefaultMaxDelay = time.Minute
	// DefaultWorkers is how many shares a publication builds at once: on
	// ClickHouse 18.16 most of a share's statements (a FINAL read, an
	// INSERT … SELECT) keep one core busy, so a second share uses a second
	// core.
	DefaultWorkers = 2
	// ClusterChangesLag is Options.ChangesLag on a cluster: replication
	// between replicas of a shard takes well under a second when they are
	// well, seconds when busy; a minute leaves room.
	ClusterChangesLag = time.Minute
	// RetryAfterFailure is how soon Run publishes again after a failed
	// publication; the wait doubles while they keep failing, up to the
	// interval.
	RetryAfterFailure = 5 * time.Second
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
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.ChangesLag <= 0 {
		opts.ChangesLag = time.Second
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
		records: make(chan struct{}, 1), pending: newPending(), built: map[string]string{},
		recordsAt: map[string]time.Time{}, shares: map[string]*sync.Mutex{}}, nil
}

// Notify asks for a publication soon: after Debounce of quiet, or MaxDelay at
// most. Ingest calls it after storing a batch. It never blocks.
func (p *Publisher) Notify() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Run publishes at start, on the schedule, and shortly after notifications,
// until ctx is done. A failed publication is logged and retried at the next
// trigger; it does not stop the hub.
func (p *Publisher) Run(ctx context.Context) error {
	ticker := time.NewTicker(p.opts.Interval)
	defer ticker.Stop()
	var debounce, deadline, retry <-chan time.Time
	wait := RetryAfterFailure
	publish := func() {
		debounce, deadline, retry = nil, nil, nil
		_, err := p.PublishAll(ctx)
		if err == nil || ctx.Err() != nil {
			wait = RetryAfterFailure
			return
		}
		// A share not written (its server down, say) is due again: try
		// soon rather than at the next interval, backing off to it.
		p.logger.Error("publication failed; trying again", "err", err, "in", wait)
		retry = time.After(wait)
		wait = min(2*wait, p.opts.Interval)
	}
	publish()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			publish()
		case <-retry:
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
	// Full is true when every share was rebuilt, whatever had changed.
	Full bool
	// Changed is, for each force whose batches were stored since the last
	// publication, the first month they may have changed.
	Changed map[string]time.Time
	// Published are the recipients whose shares were written.
	Published []Publication
	// Refreshed are the record shares whose incidents and live tables were
	// brought up to date in place (as the supervisors' fast path does),
	// because a change to their forces had not reached them yet.
	Refreshed []string
	// Delegated are the record shares left to the supervisors' fast path,
	// which runs and had a change to apply to them.
	Delegated []string
	// Skipped are the recipients whose shares nothing had changed since
	// they were last written: same policy revision, same cut-off month, no
	// change to a force and month they count (or, for a record share, none
	// the fast path had not applied).
	Skipped []string
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
	// ContentHash is the SHA-256 (hex) of every data table of an aggregate
	// share as published, table by table in name order, rows as text in
	// sorted order. The publication table records it. A record share has
	// none: the supervisors' fast path rewrites it batch by batch.
	ContentHash string
}

// PublishAll publishes, of every recipient of every agreement the policy
// holds, the shares that may have changed since the last publication (all of
// them the first time), then rewrites the users.d file for the recipients
// allowed to read. A share is due when the policy's revision or decision
// changed, when its cut-off month moved, or when the changes log holds a
// batch of a force it counts that may change a month it publishes: for an
// aggregate share a month before the cut-off, for a record share any month.
// A current month's trickle is due to no aggregate share.
func (p *Publisher) PublishAll(ctx context.Context) (Report, error) { return p.publish(ctx, false) }

// PublishFull rebuilds every share, whatever changed: what `pathwayhub
// publish --full` runs, and what incremental publication is tested against.
func (p *Publisher) PublishFull(ctx context.Context) (Report, error) { return p.publish(ctx, true) }

// due is one recipient's decision in a publication and whether its share is
// due.
type due struct {
	id, org  string
	decision policy.Decision
	grant    *policy.Grant
	key      string // what the share was built from: policy revision and cut-off month
	due      bool   // the share is published again
	refresh  bool   // (a record share) its tables are refreshed in place
	// delegated (a record share) is left to the running fast path.
	delegated bool
}

func (p *Publisher) publish(ctx context.Context, full bool) (Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Approvals may have changed since the last publication.
	p.months.clear()
	start := time.Now()
	now := p.opts.Now().UTC().Truncate(time.Second)
	rep := Report{Withdrawn: map[string][]string{}}
	var users []User
	var errs []error
	var passwords *Passwords
	if p.writesUsers() {
		var err error
		if p.opts.Coord != nil {
			passwords, err = LoadPasswordsFrom(p.opts.Coord, coord.PasswordsNode(p.opts.Database), p.opts.PasswordsFile)
		} else {
			passwords, err = LoadPasswords(p.opts.PasswordsFile)
		}
		if err != nil {
			return rep, err
		}
	}
	changes, err := store.New(p.opts.Conn, p.opts.Database).ChangesSince(ctx, p.since)
	if err != nil {
		return rep, fmt.Errorf("share: %w", err)
	}
	rep.Full, rep.Changed = full || p.since.IsZero(), changes.From
	cutoff := monthStart(now)

	// Decide first, so that the snapshot is taken only when an aggregate
	// share is due.
	var plan []due
	snapshot := false
	seen := map[string]bool{}
	for _, a := range p.opts.Policy.Agreements() {
		for _, r := range a.Recipients {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			d, grant, err := p.decide(ctx, r.ID, r.Org, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("recipient %s: %w", r.ID, err))
				p.metrics.runs.WithLabelValues("failure").Inc()
				delete(p.built, r.ID)
				continue
			}
			u := due{id: r.ID, org: r.Org, decision: d, grant: grant, key: d.Revision + " " + cutoff.Format("2006-01")}
			u.due = rep.Full || grant == nil || p.built[r.ID] != u.key
			if !u.due && touched(changes.From, *grant, cutoff) {
				// A record share the fast path has refreshed since the
				// last change to its forces needs nothing. One it has not
				// is left to it when it runs (the live monitor, which
				// reads every stored batch, tells it what was stored, and
				// that reads were lost when a read fails), else refreshed
				// whole here.
				if grant.Granularity == policy.GranularityRecord {
					if !p.covered(r.ID, *grant, changes.Latest) {
						if p.fastPath.Load() {
							u.delegated = true
						} else {
							u.refresh = true
						}
					}
				} else {
					u.due = true
				}
			}
			snapshot = snapshot || (u.due && grant != nil && grant.Granularity == policy.GranularityAggregate)
			plan = append(plan, u)
		}
	}
	if snapshot {
		p.takeSnapshot(ctx, now, &rep)
		defer p.dropSnapshot(ctx)
	}
	// The shares are built a few at once (Workers): most of a share's
	// statements keep one core of ClickHouse busy at a time.
	type outcome struct {
		pub     *Publication
		reasons []string
		err     error
	}
	outcomes := make([]outcome, len(plan))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(p.opts.Workers, len(plan)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				u, o := plan[i], &outcomes[i]
				switch {
				case u.due:
					o.pub, o.reasons, o.err = p.publishGranted(ctx, u.id, u.decision, u.grant, now)
				case u.refresh:
					o.err = p.refreshRecipient(ctx, u.id, u.org, now, changes.ReadAt, recordRefresh{whole: true})
				}
			}
		}()
	}
	for i := range plan {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, u := range plan {
		pub, reasons, err := outcomes[i].pub, outcomes[i].reasons, outcomes[i].err
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("recipient %s: %w", u.id, err))
			p.metrics.runs.WithLabelValues("failure").Inc()
			delete(p.built, u.id)
			continue
		case u.due && pub == nil:
			rep.Withdrawn[u.id] = reasons
			p.metrics.runs.WithLabelValues("withdrawn").Inc()
			delete(p.built, u.id)
			continue
		case u.due:
			rep.Published = append(rep.Published, *pub)
			p.metrics.runs.WithLabelValues("success").Inc()
			p.built[u.id] = u.key
			if u.grant.Granularity == policy.GranularityRecord {
				p.setRecordsAt(u.id, changes.ReadAt)
			}
		case u.refresh:
			rep.Refreshed = append(rep.Refreshed, u.id)
			p.metrics.runs.WithLabelValues("refreshed").Inc()
		case u.delegated:
			rep.Delegated = append(rep.Delegated, u.id)
		default:
			rep.Skipped = append(rep.Skipped, u.id)
			p.metrics.runs.WithLabelValues("unchanged").Inc()
		}
		if passwords != nil {
			pw, err := passwords.For(u.id)
			if err != nil {
				return rep, err
			}
			db := Database(p.opts.Prefix, u.id)
			users = append(users, User{Name: db, Database: db, Password: pw})
		}
	}
	// A batch logged during this publication has logged_at at or after
	// ReadAt less a second (the clock's resolution), and one logged on
	// another replica before it may arrive up to ChangesLag late: the next
	// publication reads from there.
	p.since = changes.ReadAt.Add(-p.opts.ChangesLag)
	if p.writesUsers() {
		if err := p.writeUsers(ctx, users); err != nil {
			errs = append(errs, err)
		}
	}
	p.metrics.duration.Observe(time.Since(start).Seconds())
	if len(errs) == 0 {
		p.metrics.lastSuccess.Set(float64(now.Unix()))
	}
	p.logger.Info("publication done", "full", rep.Full, "published", len(rep.Published), "unchanged", len(rep.Skipped),
		"withdrawn", len(rep.Withdrawn), "changed_forces", len(rep.Changed), "seconds", time.Since(start).Seconds())
	return rep, errors.Join(errs...)
}

// covered reports whether the fast path has refreshed record share id
// since the last change logged for each of the grant's forces.
func (p *Publisher) covered(id string, g policy.Grant, latest map[string]time.Time) bool {
	for _, f := range g.Forces {
		if at, ok := latest[f]; ok && !p.recordsCover(id, at) {
			return false
		}
	}
	return true
}

// touched reports whether the changes log's entries (each force's first
// changed month) reach a share of grant whose published months end before
// cutoff: a force the grant counts (any force when it is scoped by region or
// district alone), at any month for a record share, before the cut-off for
// an aggregate one.
func touched(changed map[string]time.Time, g policy.Grant, cutoff time.Time) bool {
	for f, from := range changed {
		if len(g.Forces) > 0 && !slices.Contains(g.Forces, f) {
			continue
		}
		if g.Granularity == policy.GranularityRecord || from.Before(cutoff) {
			return true
		}
	}
	return false
}

// takeSnapshot collapses the revisions once for every due recipient's
// measures, rather than once per measure and recipient, keeping only what
// the published months can count (aggregateTables publishes the Months
// before the cut-off's month). Should that fail, the measures read the raw
// tables themselves. The copy is dropped when the publication ends (see
// dropSnapshot): it is raw data outside the raw database.
func (p *Publisher) takeSnapshot(ctx context.Context, now time.Time, rep *Report) {
	p.snapshot = p.opts.Database + snapshotSuffix
	firstMonth := monthStart(now).AddDate(0, -p.opts.Months, 0)
	snapStart := time.Now()
	if err := store.Snapshot(ctx, p.opts.Conn, p.opts.Database, p.snapshot, firstMonth); err != nil {
		p.logger.Warn("snapshot failed; measures read the raw tables", "err", err)
		p.snapshot = ""
		return
	}
	rep.Snapshot = time.Since(snapStart)
	p.logger.Info("publication snapshot taken", "database", p.snapshot, "from", firstMonth, "seconds", rep.Snapshot.Seconds())
}

// dropSnapshot drops the publication's snapshot, if it took one.
func (p *Publisher) dropSnapshot(ctx context.Context) {
	if p.snapshot == "" {
		return
	}
	if err := p.opts.Conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+p.snapshot); err != nil {
		p.logger.Warn("drop snapshot", "err", err)
	}
	p.snapshot = ""
}

// writesUsers is whether the publisher writes recipients' users (and so
// keeps their passwords).
func (p *Publisher) writesUsers() bool { return p.opts.UsersFile != "" || p.opts.Coord != nil }

func (p *Publisher) writeUsers(ctx context.Context, users []User) error {
	var version string
	if err := p.opts.Conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return fmt.Errorf("share: server version: %w", err)
	}
	if p.opts.Coord != nil {
		c, err := RenderUsers(users, ReadonlyLevel(version))
		if err != nil {
			return err
		}
		// As with the file, the nodes change only when the users do: every
		// server reloads every user when one does.
		changed, err := p.opts.Coord.Put(coord.UsersNode(p.opts.Database), map[string][]byte{"profiles": c.Profiles, "quotas": c.Quotas, "users": c.Users})
		if err != nil {
			return fmt.Errorf("share: users: %w", err)
		}
		if changed {
			p.logger.Info("recipient users written", "zookeeper", coord.UsersNode(p.opts.Database), "users", len(users))
		}
		return nil
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

// decide asks the policy what recipient id may read now, and returns the
// decision and the recipient's grant (nil when it may read nothing).
func (p *Publisher) decide(ctx context.Context, id, org string, now time.Time) (policy.Decision, *policy.Grant, error) {
	d, err := p.opts.Policy.Decide(ctx, policy.Input{Action: policy.ActionRead, Org: org, Recipient: id, Time: now})
	if err != nil {
		return d, nil, err
	}
	if !d.Allow {
		return d, nil, nil
	}
	for i := range d.Grants {
		if d.Grants[i].Recipient == id {
			return d, &d.Grants[i], nil
		}
	}
	return d, nil, nil
}

// publishGranted publishes what decision d grants recipient id, or, when
// grant is nil, drops its share and returns the policy's reasons.
func (p *Publisher) publishGranted(ctx context.Context, id string, d policy.Decision, grant *policy.Grant, now time.Time) (*Publication, []string, error) {
	start := time.Now()
	var err error
	db := Database(p.opts.Prefix, id)
	if grant == nil {
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
		// Built and written under the share's lock, so that of the fast
		// path and PublishAll, the later reading of the live state is
		// written last.
		defer p.lockShare(id)()
		tables, err = p.recordTables(ctx, *grant, pub)
	default:
		err = fmt.Errorf("share: recipient %s: unknown granularity %q", id, grant.Granularity)
	}
	if err != nil {
		return nil, nil, err
	}
	meta := func(pub *Publication) table { return publicationTable(*grant, pub) }
	// A record share changes with every stored batch (see RunRecords): a
	// hash of it would describe it for a second, and reading it back costs
	// as much as writing it. Only aggregate shares are hashed.
	if err := p.swapIn(ctx, db, tables, meta, pub, grant.Granularity == policy.GranularityAggregate); err != nil {
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
