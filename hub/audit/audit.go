// Package audit writes every policy decision to the append-only decisions
// table of the raw database, so "who saw what, under which agreement and
// which policy revision" can always be answered. It implements
// policy.Auditor; a decision whose audit row cannot be written is not acted
// on (the policy engine fails closed).
//
// Writes are group-committed (chdb.Group): decisions made while an insert
// is in flight go into the next insert together. Audit still returns only
// once its own row is stored, so nothing is acknowledged unaudited, but a
// busy hub makes one ClickHouse insert (one part) per group rather than one
// per decision.
package audit

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/chdb"
	"github.com/pathwayhub/pathwayhub/policy"
)

// Writer writes decisions to database.decisions.
type Writer struct {
	conn  driver.Conn
	db    string
	group *chdb.Group[policy.Decision]
}

var _ policy.Auditor = (*Writer)(nil)

// New returns a Writer for the decisions table of database db.
func New(conn driver.Conn, db string) *Writer {
	w := &Writer{conn: conn, db: db}
	w.group = chdb.NewGroup(0, nil, w.write)
	return w
}

// Audit writes one decision, together with any made meanwhile, and returns
// once the row is stored.
func (w *Writer) Audit(ctx context.Context, d policy.Decision) error {
	return w.group.Do(ctx, []policy.Decision{d})
}

// Stats reports how many decisions were stored and in how many inserts.
func (w *Writer) Stats() (rows, inserts uint64) { return w.group.Stats() }

func (w *Writer) write(ctx context.Context, batch []policy.Decision) error {
	b, err := w.conn.PrepareBatch(ctx, "INSERT INTO "+w.db+".decisions (decision_id, decided_at, policy_revision, action, org, dataset, force_id, pos_org, recipient, allow, reasons, agreements, grant_recipients)")
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer func() { _ = b.Abort() }()
	for _, d := range batch {
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
