package share

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/policy"
)

// pendingRecords is what the record shares must catch up with, gathered
// from NotifyRecords between two rounds of the fast path.
type pendingRecords struct {
	whole   map[string]bool            // forces whose record shares are refilled whole
	all     bool                       // every record share is refilled whole
	live    map[string]bool            // forces whose live state changed
	anyLive bool                       // every force's live state may have changed
	stored  map[string]map[string]bool // incident refs stored, by force
}

func newPending() pendingRecords {
	return pendingRecords{whole: map[string]bool{}, live: map[string]bool{}, stored: map[string]map[string]bool{}}
}

func (q *pendingRecords) empty() bool {
	return !q.all && !q.anyLive && len(q.whole) == 0 && len(q.live) == 0 && len(q.stored) == 0
}

func (q *pendingRecords) addStored(force string, refs ...string) {
	if q.stored[force] == nil {
		q.stored[force] = map[string]bool{}
	}
	for _, r := range refs {
		q.stored[force][r] = true
	}
}

// forShare returns what share g must catch up with, and whether anything.
func (q *pendingRecords) forShare(forces []string) (recordRefresh, bool) {
	r := recordRefresh{whole: q.all}
	due := q.all || q.anyLive
	for _, f := range forces {
		due = due || q.live[f] || q.whole[f] || len(q.stored[f]) > 0
		r.whole = r.whole || q.whole[f]
		for ref := range q.stored[f] {
			r.stored = append(r.stored, storedRef{f, ref})
		}
	}
	return r, due
}

// recordRefresh is what one refresh of a record share rewrites: its live
// table always; its incidents table whole, or the buckets holding the
// stored incidents.
type recordRefresh struct {
	whole  bool
	stored []storedRef
}

type storedRef struct{ force, ref string }

// NotifyRecords tells the fast path what changed in the live monitor's
// state: the forces whose live state changed (their record shares' live
// tables are written again), the incidents stored (the buckets of the
// incidents tables holding them are refilled), or, when reads were lost,
// everything (every record share is refilled whole). The live monitor calls
// it after its state changed. It never blocks.
func (p *Publisher) NotifyRecords(c monitor.Change) {
	p.pendingMu.Lock()
	switch {
	case c.Lost:
		p.pending.all = true
	case c.Forces == nil:
		p.pending.anyLive = true
	}
	for _, f := range c.Forces {
		p.pending.live[f] = true
	}
	for _, k := range c.Stored {
		p.pending.addStored(k.ForceID, k.IncidentRef)
	}
	p.pendingMu.Unlock()
	p.wakeRecords()
}

func (p *Publisher) wakeRecords() {
	select {
	case p.records <- struct{}{}:
	default:
	}
}

// RunRecords is the supervisors' fast path: it brings the record shares
// up to date with what NotifyRecords reports, apart from and while the
// aggregate publication runs, until ctx is done. What fails is kept and
// tried again a second later.
func (p *Publisher) RunRecords(ctx context.Context) error {
	p.fastPath.Store(true)
	defer p.fastPath.Store(false)
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
		q := p.pending
		p.pending = newPending()
		p.pendingMu.Unlock()
		if q.empty() {
			continue
		}
		if err := p.PublishRecords(ctx, q); err != nil && ctx.Err() == nil {
			p.logger.Error("record shares failed; trying again", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			p.wakeRecords()
		}
	}
}

// PublishRecords brings up to date the record shares q concerns (see
// refreshRecipient). What fails is put back to be tried again.
func (p *Publisher) PublishRecords(ctx context.Context, q pendingRecords) error {
	now := p.opts.Now().UTC().Truncate(time.Second)
	var at time.Time // the server's clock before anything is read
	if err := p.opts.Conn.QueryRow(ctx, "SELECT now()").Scan(&at); err != nil {
		p.requeue(q)
		return fmt.Errorf("share: %w", err)
	}
	type job struct {
		id, org string
		forces  []string
		r       recordRefresh
	}
	var jobs []job
	seen := map[string]bool{}
	for _, a := range p.opts.Policy.Agreements() {
		for _, r := range a.Recipients {
			if seen[r.ID] || r.Granularity != policy.GranularityRecord {
				continue
			}
			seen[r.ID] = true
			if rr, due := q.forShare(r.Scope.Forces); due {
				jobs = append(jobs, job{r.ID, r.Org, r.Scope.Forces, rr})
			}
		}
	}
	// A few shares at once: each is a handful of small statements, and
	// ClickHouse spends most of each waiting on its metadata.
	var mu sync.Mutex
	var errs []error
	work := make(chan job)
	var wg sync.WaitGroup
	for range min(recordWorkers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if err := p.refreshRecipient(ctx, j.id, j.org, now, at, j.r); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("recipient %s: %w", j.id, err))
					p.requeueShare(j.forces, j.r)
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// requeue puts back everything q asked for.
func (p *Publisher) requeue(q pendingRecords) {
	p.pendingMu.Lock()
	defer p.pendingMu.Unlock()
	p.pending.all = p.pending.all || q.all
	p.pending.anyLive = p.pending.anyLive || q.anyLive
	for f := range q.whole {
		p.pending.whole[f] = true
	}
	for f := range q.live {
		p.pending.live[f] = true
	}
	for f, refs := range q.stored {
		for ref := range refs {
			p.pending.addStored(f, ref)
		}
	}
}

// requeueShare puts back what a failed refresh of a share of forces was
// to do.
func (p *Publisher) requeueShare(forces []string, r recordRefresh) {
	p.pendingMu.Lock()
	defer p.pendingMu.Unlock()
	for _, f := range forces {
		p.pending.live[f] = true
		if r.whole {
			p.pending.whole[f] = true
		}
	}
	for _, s := range r.stored {
		p.pending.addStored(s.force, s.ref)
	}
}

// recordWorkers is how many record shares the fast path refreshes at once.
const recordWorkers = 4

// maxStoredRefs is how many stored incidents a refresh looks up the
// buckets of; more than that are likely to touch most buckets, and the
// incidents table is refilled whole.
const maxStoredRefs = 4 * recordBuckets

// refreshRecipient brings a record share's incidents and live tables up to
// date in place, as the supervisors' fast path. The live table is refilled
// beside itself (live_stage) and swapped in (REPLACE PARTITION). The
// incidents table is refilled the same way when r says whole (or when it
// has no buckets, its grant lacking incident_ref); otherwise only the
// buckets holding r's stored incidents are refilled, each swapped in on its
// own. The share's publication table, with its content hash, still
// describes the last publication. A share that does not exist yet, or whose
// recipient the policy now refuses, goes through publishGranted instead.
// at, the server's clock before anything was read, is noted as what the
// share reflects (see recordsCover).
func (p *Publisher) refreshRecipient(ctx context.Context, id, org string, now, at time.Time, r recordRefresh) error {
	d, grant, err := p.decide(ctx, id, org, now)
	if err != nil {
		return err
	}
	unlock := p.lockShare(id)
	defer func() { unlock() }()
	db := Database(p.opts.Prefix, id)
	existing, err := p.tablesIn(ctx, db)
	if err != nil {
		return err
	}
	if grant == nil || grant.Granularity != policy.GranularityRecord || !existing["incidents"] || !existing["live"] {
		unlock()
		unlock = func() {}
		_, _, err := p.publishGranted(ctx, id, d, grant, now)
		if err == nil {
			p.setRecordsAt(id, at)
		}
		return err
	}
	tables, err := p.recordTables(ctx, *grant, nil)
	if err != nil {
		return err
	}
	for _, t := range tables {
		switch {
		case t.name != "incidents":
			err = p.refillWhole(ctx, db, t)
		case t.partitionBy == "" && (r.whole || len(r.stored) > 0):
			err = p.refillWhole(ctx, db, t)
		case r.whole || len(r.stored) > maxStoredRefs:
			err = p.refillBuckets(ctx, db, t, *grant, nil)
		case len(r.stored) > 0:
			var buckets []int
			if buckets, err = p.bucketsOf(ctx, r.stored); err == nil {
				err = p.refillBuckets(ctx, db, t, *grant, buckets)
			}
		}
		if err != nil {
			return err
		}
	}
	p.setRecordsAt(id, at)
	return nil
}

// stage creates (if need be) and empties name_stage beside share table t.
func (p *Publisher) stage(ctx context.Context, db string, t table) (string, error) {
	stage := t.name + "_stage"
	for _, q := range []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %[1]s.%[2]s AS %[1]s.%[3]s", db, stage, t.name),
		fmt.Sprintf("TRUNCATE TABLE %s.%s", db, stage),
	} {
		if err := p.opts.Conn.Exec(ctx, q); err != nil {
			return "", fmt.Errorf("share: refresh %s.%s: %w", db, t.name, err)
		}
	}
	return stage, nil
}

// refillWhole refills unpartitioned share table t beside itself and swaps
// the refill in.
func (p *Publisher) refillWhole(ctx context.Context, db string, t table) error {
	stage, err := p.stage(ctx, db, t)
	if err != nil {
		return err
	}
	n, err := p.fill(ctx, db, stage, t)
	if err != nil {
		return err
	}
	// Current releases refuse to replace a partition from an empty one
	// (it would drop the data silently, they say): an empty table is
	// emptied instead.
	swap := fmt.Sprintf("ALTER TABLE %[1]s.%[2]s REPLACE PARTITION tuple() FROM %[1]s.%[3]s", db, t.name, stage)
	if n == 0 {
		swap = fmt.Sprintf("TRUNCATE TABLE %s.%s", db, t.name)
	}
	if err := p.opts.Conn.Exec(ctx, swap); err != nil {
		return fmt.Errorf("share: refresh %s.%s: %w", db, t.name, err)
	}
	return nil
}

// refillBuckets refills the given buckets (every bucket when nil) of a
// record share's incidents table t beside it, and swaps each in on its own:
// a bucket the refill left empty is dropped, since current releases refuse
// to replace a partition from an empty one.
func (p *Publisher) refillBuckets(ctx context.Context, db string, t table, g policy.Grant, buckets []int) error {
	stage, err := p.stage(ctx, db, t)
	if err != nil {
		return err
	}
	t.query = p.recordQuery(g, t, buckets)
	if _, err := p.fill(ctx, db, stage, t); err != nil {
		return err
	}
	filled := map[int]bool{}
	got, err := p.buckets(ctx, fmt.Sprintf("SELECT DISTINCT toUInt32(%s) AS b FROM %s.%s", bucketKey, db, stage))
	if err != nil {
		return fmt.Errorf("share: refresh %s.%s: %w", db, t.name, err)
	}
	for _, b := range got {
		filled[b] = true
	}
	if buckets == nil {
		for b := range recordBuckets {
			buckets = append(buckets, b)
		}
	}
	for _, b := range buckets {
		swap := fmt.Sprintf("ALTER TABLE %[1]s.%[2]s REPLACE PARTITION %[4]d FROM %[1]s.%[3]s", db, t.name, stage, b)
		if !filled[b] {
			swap = fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION %d", db, t.name, b)
		}
		if err := p.opts.Conn.Exec(ctx, swap); err != nil {
			return fmt.Errorf("share: refresh %s.%s bucket %d: %w", db, t.name, b, err)
		}
	}
	return nil
}

// bucketsOf returns the buckets of the stored incidents, as the server
// computes them.
func (p *Publisher) bucketsOf(ctx context.Context, stored []storedRef) ([]int, error) {
	refs := make([]string, len(stored))
	for i, s := range stored {
		refs[i] = s.ref
	}
	q := fmt.Sprintf("SELECT DISTINCT toUInt32(%s) AS b FROM (SELECT arrayJoin([%s]) AS incident_ref) ORDER BY b",
		bucketKey, sqltext.List(refs))
	out, err := p.buckets(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("share: buckets: %w", err)
	}
	return out, nil
}

// buckets runs q, a query of one UInt32 column b, and returns its values.
func (p *Publisher) buckets(ctx context.Context, q string) ([]int, error) {
	rows, err := p.opts.Conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var b uint32
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, int(b))
	}
	return out, rows.Err()
}

// lockShare locks record share id against the other writer, and returns
// its unlock.
func (p *Publisher) lockShare(id string) (unlock func()) {
	p.shareMu.Lock()
	mu := p.shares[id]
	if mu == nil {
		mu = &sync.Mutex{}
		p.shares[id] = mu
	}
	p.shareMu.Unlock()
	mu.Lock()
	return mu.Unlock
}

// setRecordsAt notes that record share id reflects every change logged
// before at.
func (p *Publisher) setRecordsAt(id string, at time.Time) {
	p.atMu.Lock()
	p.recordsAt[id] = at
	p.atMu.Unlock()
}

// recordsCover reports whether record share id reflects every change
// logged at or before latest.
func (p *Publisher) recordsCover(id string, latest time.Time) bool {
	p.atMu.Lock()
	defer p.atMu.Unlock()
	at, ok := p.recordsAt[id]
	return ok && latest.Before(at)
}
