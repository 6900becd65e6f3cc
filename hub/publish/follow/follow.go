package follow

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store"
)

// The defaults of Options, taken where a field is zero.
const (
	// DefaultInterval is how often the logs are read: a batch stored
	// through another hub is followed within about this, plus the wait
	// for replication.
	DefaultInterval = time.Second
	// DefaultLag is how long after its changes row was logged a batch may
	// still become visible here: its store, its submissions row and their
	// replication all come after the row is logged.
	DefaultLag = 5 * time.Minute
	// syncTimeout bounds the wait for this server's replicas to catch up;
	// past it the batches are reported anyway (a replica that cannot fetch
	// a part, from a dead peer say, must not stop the hub from publishing
	// what it does hold).
	syncTimeout = 30 * time.Second
)

// Options configure a Follower.
type Options struct {
	// Store reads the logs of the hub's raw database, on the cluster.
	Store *store.Store
	// Interval is how often the logs are read (default DefaultInterval).
	Interval time.Duration
	// Lag is how far back each read looks from the last (default
	// DefaultLag).
	Lag time.Duration
	// Stored is called with the number of batches stored by other hubs
	// since the last call, once this server's replicas hold them.
	Stored func(batches int)
	// Logger; nil discards.
	Logger *slog.Logger
}

// Follower follows the batches the other hubs of a cluster store.
type Follower struct {
	opts   Options
	logger *slog.Logger

	mu   sync.Mutex
	mine map[string]time.Time // batches this hub stored, when noted
	seen map[string]time.Time // batches already reported or skipped, by logged time
}

// New returns a follower; call Run.
func New(opts Options) *Follower {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Lag <= 0 {
		opts.Lag = DefaultLag
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Follower{opts: opts, logger: logger.With("component", "follow"), mine: map[string]time.Time{}, seen: map[string]time.Time{}}
}

// Mine notes a batch this hub stored, which Run does not report: the hub
// heard of it when it stored it.
func (f *Follower) Mine(submissionID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mine[submissionID] = time.Now()
}

// Run follows the other hubs until ctx is done. What the logs held when it
// started is taken as known (the hub publishes at start anyway). A failed
// read is logged and tried again at the next interval. It returns nil when
// ctx is done.
func (f *Follower) Run(ctx context.Context) error {
	var since time.Time
	started := false
	tick := time.NewTicker(f.opts.Interval)
	defer tick.Stop()
	for {
		batches, readAt, err := f.opts.Store.StoredBatches(ctx, since)
		switch {
		case err != nil && ctx.Err() == nil:
			f.logger.Warn("reading the batches other hubs stored failed; trying again", "err", err)
		case err == nil:
			if n := f.news(batches, readAt.Add(-f.opts.Lag), started); n > 0 {
				f.report(ctx, n)
			}
			since, started = readAt.Add(-f.opts.Lag), true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// news counts the batches not seen before and not this hub's, notes them
// seen, and forgets what was logged before horizon (the next read starts
// there). Before the first read completes (!report), every batch is taken
// as known.
func (f *Follower) news(batches map[string]time.Time, horizon time.Time, report bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for id, at := range batches {
		if _, ok := f.seen[id]; ok {
			continue
		}
		f.seen[id] = at
		if _, ok := f.mine[id]; !ok && report {
			n++
		}
	}
	for id, at := range f.seen {
		if at.Before(horizon) {
			delete(f.seen, id)
		}
	}
	// A batch of this hub's is forgotten once the logs cannot show it
	// again: noted well over a lag ago.
	for id, noted := range f.mine {
		if time.Since(noted) > 2*f.opts.Lag {
			delete(f.mine, id)
		}
	}
	return n
}

// report waits for this server's replicas, then calls Stored.
func (f *Follower) report(ctx context.Context, n int) {
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	err := f.opts.Store.SyncReplicas(sctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		f.logger.Warn("this server's replicas did not catch up; reporting the batches anyway", "err", err, "batches", n)
	}
	f.logger.Debug("batches stored by other hubs", "batches", n)
	if f.opts.Stored != nil {
		f.opts.Stored(n)
	}
}
