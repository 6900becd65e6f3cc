package store

import (
	"context"
	"sync"
)

// maxGroupRows bounds the rows of one group insert (a group never splits a
// batch, so a larger batch goes alone). It keeps a group a single ClickHouse
// block, written atomically, and bounds the memory of the block being built:
// at 200,000 rows, eight concurrent 10,000-record batches took the hub's peak
// RSS to 554 MB.
const maxGroupRows = 20_000

// group commits concurrent writes together. Every ClickHouse insert makes a
// new part on disk, and a part of the incidents table (56 columns) costs tens
// of milliseconds of server time whatever its size, so inserting the batches
// of concurrent callers as one block is far cheaper than one insert each.
//
// There is no timer and no background goroutine: the first caller writes at
// once, carrying whatever is already pending; callers arriving while a write
// is in flight queue up, and when it finishes the first of them writes the
// whole queue. A lone caller therefore waits no longer than before. Each
// caller gets the error of the write that carried its items: either all of
// a group is stored or none of it.
type group[T any] struct {
	write func(ctx context.Context, items []T) error
	size  func(T) int

	mu      sync.Mutex
	pending []*waiter[T]
	busy    bool
}

type waiter[T any] struct {
	items []T
	done  chan error    // the outcome of the write that carried items
	lead  chan struct{} // closed when this waiter is to write the queue
}

// do writes items, together with those of concurrent callers.
func (g *group[T]) do(ctx context.Context, items []T) error {
	w := &waiter[T]{items: items, done: make(chan error, 1), lead: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.busy {
		g.mu.Unlock()
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
		}
	} else {
		g.busy = true
		g.mu.Unlock()
	}
	g.flush(ctx)
	return <-w.done
}

// flush writes the queue (up to maxGroupRows), reports to every waiter in
// it, then hands the lead to the next waiter or goes idle.
func (g *group[T]) flush(ctx context.Context) {
	g.mu.Lock()
	n, rows := 0, 0
	for n < len(g.pending) && (n == 0 || rows+g.sizeOf(g.pending[n]) <= maxGroupRows) {
		rows += g.sizeOf(g.pending[n])
		n++
	}
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	var items []T
	if len(batch) == 1 {
		items = batch[0].items
	} else {
		items = make([]T, 0, rows)
		for _, w := range batch {
			items = append(items, w.items...)
		}
	}
	// The write serves every caller in the group: one caller's cancellation
	// must not fail the others (the connection's read timeout still bounds it).
	err := g.write(context.WithoutCancel(ctx), items)
	for _, w := range batch {
		w.done <- err
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.busy = false
		return
	}
	close(g.pending[0].lead)
}

func (g *group[T]) sizeOf(w *waiter[T]) int {
	if g.size == nil {
		return len(w.items)
	}
	n := 0
	for _, it := range w.items {
		n += g.size(it)
	}
	return n
}
