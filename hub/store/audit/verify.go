package audit

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Problem is one break in the audit chain.
type Problem struct {
	// Chain is the chain it is in ("": the one hub's).
	Chain string
	// Seq is where the chain breaks.
	Seq uint64
	// What says how: deleted, altered, inserted.
	What string
}

// String describes the problem.
func (p Problem) String() string {
	if p.Chain != "" {
		return fmt.Sprintf("chain %s seq %d: %s", p.Chain, p.Seq, p.What)
	}
	return fmt.Sprintf("seq %d: %s", p.Seq, p.What)
}

// Verify reads every chain of database db's decisions table in order and
// recomputes it: a gap in seq is a deleted row, a row whose hash does not
// match its fields an altered one, a row whose link does not match the row
// before it (or a seq seen twice) an inserted one. When head.Seq is not 0,
// head's chain must end at head.Seq with hash head.Hash (the Writer's head
// file), so rows deleted from its end are found too. It returns the rows
// checked and every problem found.
func Verify(ctx context.Context, conn driver.Conn, db string, head Head) (int, []Problem, error) {
	rows, err := conn.Query(ctx, "SELECT chain, seq, prev_hash, row_hash, decision_id, decided_at, policy_revision, action, org, dataset, "+
		"force_id, pos_org, recipient, allow, reasons, agreements, grant_recipients FROM "+db+".decisions WHERE seq > 0 ORDER BY chain, seq, row_hash")
	if err != nil {
		return 0, nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var problems []Problem
	var n int
	type state struct {
		next uint64
		prev string
	}
	chains := map[string]*state{}
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.Chain, &r.Seq, &r.PrevHash, &r.RowHash, &r.DecisionID, &r.DecidedAt, &r.PolicyRevision, &r.Action, &r.Org,
			&r.Dataset, &r.Force, &r.PosOrg, &r.Recipient, &r.Allow, &r.Reasons, &r.Agreements, &r.GrantRecipients); err != nil {
			return n, problems, fmt.Errorf("audit: verify: %w", err)
		}
		n++
		c := chains[r.Chain]
		if c == nil {
			c = &state{next: 1}
			chains[r.Chain] = c
		}
		switch {
		case r.Seq < c.next:
			problems = append(problems, Problem{r.Chain, r.Seq, fmt.Sprintf("a second row with this seq (decision %s): inserted", r.DecisionID)})
			continue
		case r.Seq > c.next:
			problems = append(problems, Problem{r.Chain, c.next, fmt.Sprintf("rows %d to %d are missing: deleted", c.next, r.Seq-1)})
		case r.PrevHash != c.prev:
			problems = append(problems, Problem{r.Chain, r.Seq, "does not link to the row before it: inserted, or the row before was replaced"})
		}
		if RowHash(r.PrevHash, r) != r.RowHash {
			problems = append(problems, Problem{r.Chain, r.Seq, fmt.Sprintf("its fields do not match its hash (decision %s): altered", r.DecisionID)})
		}
		c.prev, c.next = r.RowHash, r.Seq+1
	}
	if err := rows.Err(); err != nil {
		return n, problems, fmt.Errorf("audit: verify: %w", err)
	}
	c := chains[head.Chain]
	if c == nil {
		c = &state{next: 1}
	}
	last := c.next - 1
	switch {
	case head.Seq > last:
		problems = append(problems, Problem{head.Chain, last + 1, fmt.Sprintf("the chain ends at %d but the head file says %d: rows deleted from the end", last, head.Seq)})
	case head.Seq != 0 && head.Seq == last && head.Hash != c.prev:
		problems = append(problems, Problem{head.Chain, last, "the last row's hash is not the head file's: altered"})
	}
	return n, problems, nil
}
