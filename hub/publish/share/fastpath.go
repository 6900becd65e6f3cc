package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/policy"
)

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
		forces, all := p.pending, p.allDue
		p.pending, p.allDue = map[string]bool{}, false
		p.pendingMu.Unlock()
		if err := p.PublishRecords(ctx, forces, all); err != nil && ctx.Err() == nil {
			p.logger.Error("record shares failed", "err", err)
		}
	}
}

// PublishRecords brings up to date the record shares whose forces include
// one of forces (every record share with all): see refreshRecipient.
func (p *Publisher) PublishRecords(ctx context.Context, forces map[string]bool, all bool) error {
	now := p.opts.Now().UTC().Truncate(time.Second)
	var at time.Time // the server's clock before anything is read
	if err := p.opts.Conn.QueryRow(ctx, "SELECT now()").Scan(&at); err != nil {
		return fmt.Errorf("share: %w", err)
	}
	type job struct{ id, org string }
	var jobs []job
	seen := map[string]bool{}
	for _, a := range p.opts.Policy.Agreements() {
		for _, r := range a.Recipients {
			if seen[r.ID] || r.Granularity != policy.GranularityRecord {
				continue
			}
			seen[r.ID] = true
			if all || slices.ContainsFunc(r.Scope.Forces, func(f string) bool { return forces[f] }) {
				jobs = append(jobs, job{r.ID, r.Org})
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
				if err := p.refreshRecipient(ctx, j.id, j.org, now, at); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("recipient %s: %w", j.id, err))
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

// recordWorkers is how many record shares the fast path refreshes at once.
const recordWorkers = 4

// refreshRecipient brings a record share's incidents and live tables up to
// date in place, as the supervisors' fast path: each table is refilled
// beside itself (name_stage) and its one partition swapped in
// (REPLACE PARTITION), a few statements where a publication makes two dozen.
// The share's publication table, with its content hash, still describes the
// last publication. A share that does not exist yet, or whose recipient the
// policy now refuses, goes through publishGranted instead. at, the server's
// clock before anything was read, is what the share now reflects: a change
// logged before it needs no publication.
func (p *Publisher) refreshRecipient(ctx context.Context, id, org string, now, at time.Time) error {
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
	conn := p.opts.Conn
	for _, t := range tables {
		stage := t.name + "_stage"
		for _, q := range []string{
			fmt.Sprintf("CREATE TABLE IF NOT EXISTS %[1]s.%[2]s AS %[1]s.%[3]s", db, stage, t.name),
			fmt.Sprintf("TRUNCATE TABLE %s.%s", db, stage),
		} {
			if err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("share: refresh %s.%s: %w", db, t.name, err)
			}
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
		if err := conn.Exec(ctx, swap); err != nil {
			return fmt.Errorf("share: refresh %s.%s: %w", db, t.name, err)
		}
	}
	p.setRecordsAt(id, at)
	return nil
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
