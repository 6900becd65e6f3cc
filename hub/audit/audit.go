// Package audit writes every policy decision to the append-only decisions
// table of the raw database, so "who saw what, under which agreement and
// which policy revision" can always be answered. It implements
// policy.Auditor; a decision whose audit row cannot be written is not acted
// on (the policy engine fails closed).
//
// Writes are group-committed: while one insert is in flight, decisions that
// arrive queue up and the next insert carries them all. Audit still returns
// only once its own row is stored, so nothing is acknowledged unaudited, but
// a busy hub makes one ClickHouse insert (one part) per flight rather than
// one per decision.
package audit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/policy"
)

// writeTimeout bounds one insert. A leader writes for every queued caller,
// so the insert does not stop when the leader's own context does.
const writeTimeout = 30 * time.Second

// Writer writes decisions to database.decisions.
type Writer struct {
	conn driver.Conn
	db   string

	mu       sync.Mutex
	pending  []*waiter
	flushing bool // an insert is in flight; its leader hands on to a waiter
	rows     uint64
	inserts  uint64
}

// waiter is one Audit call waiting for its row to be stored.
type waiter struct {
	d    policy.Decision
	done chan error    // the outcome of the insert that carried d
	lead chan struct{} // closed when this waiter must write the queue
}

var _ policy.Auditor = (*Writer)(nil)

// New returns a Writer for the decisions table of database db.
func New(conn driver.Conn, db string) *Writer { return &Writer{conn: conn, db: db} }

// Audit writes one decision, together with any that are queued, and returns
// once the row is stored.
func (w *Writer) Audit(ctx context.Context, d policy.Decision) error {
	me := &waiter{d: d, done: make(chan error, 1), lead: make(chan struct{})}
	w.mu.Lock()
	w.pending = append(w.pending, me)
	if !w.flushing {
		w.flushing = true
		close(me.lead)
	}
	w.mu.Unlock()
	select {
	case err := <-me.done: // another caller's insert carried our row
		return err
	case <-me.lead:
		w.flush(ctx)
		return <-me.done
	case <-ctx.Done():
		// The decision is not acted on. Our row stays queued: if the lead
		// comes to us, someone must still write the queue.
		go func() {
			select {
			case err := <-me.done: // carried by another insert; the caller has gone
				_ = err
			case <-me.lead:
				w.flush(ctx)
			}
		}()
		return fmt.Errorf("audit: %w", ctx.Err())
	}
}

// Stats reports how many decisions were stored and in how many inserts.
func (w *Writer) Stats() (rows, inserts uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rows, w.inserts
}

// flush writes everything queued, tells each caller the outcome, and hands
// the lead to the first caller that queued meanwhile (or stops leading).
func (w *Writer) flush(ctx context.Context) {
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	err := w.write(wctx, batch)
	cancel()
	for _, b := range batch {
		b.done <- err
	}

	w.mu.Lock()
	if err == nil {
		w.rows += uint64(len(batch))
		w.inserts++
	}
	if len(w.pending) > 0 {
		close(w.pending[0].lead)
	} else {
		w.flushing = false
	}
	w.mu.Unlock()
}

func (w *Writer) write(ctx context.Context, batch []*waiter) error {
	b, err := w.conn.PrepareBatch(ctx, "INSERT INTO "+w.db+".decisions (decision_id, decided_at, policy_revision, action, org, dataset, force_id, pos_org, recipient, allow, reasons, agreements, grant_recipients)")
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer func() { _ = b.Abort() }()
	for _, wt := range batch {
		d := wt.d
		recipients := make([]string, 0, len(d.Grants))
		for _, g := range d.Grants {
			recipients = append(recipients, g.Recipient)
		}
		var allow uint8
		if d.Allow {
			allow = 1
		}
		in := d.Input
		if err := b.Append(d.ID, d.Time.UTC(), d.Revision, string(in.Action), in.Org, in.Dataset, in.Force, in.PosOrg,
			in.Recipient, allow, nonNil(d.Reasons), nonNil(d.Agreements), recipients); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
