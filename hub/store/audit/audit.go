package audit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/policy"
)

// MaxField is the most bytes any string of an audit row holds; longer ones
// are cut (at a character boundary) and end with "…".
const MaxField = 256

// Writer writes decisions to database.decisions.
type Writer struct {
	conn     driver.Conn
	db       string
	group    *chdb.Group[policy.Decision]
	headFile string
	chain    string

	// The chain's head: the last row stored. known is false until it has
	// been read from the table, and again after a failed insert, whose
	// rows may or may not have been stored.
	mu    sync.Mutex
	known bool
	seq   uint64
	head  string
}

var _ policy.Auditor = (*Writer)(nil)

// New returns a Writer for the decisions table of database db. When
// headFile is not empty, the chain's head (seq and hash of the last row) is
// written there after every insert, for Verify to check that no row was
// deleted from the end.
func New(conn driver.Conn, db, headFile string) *Writer { return NewChain(conn, db, "", headFile) }

// NewChain returns a Writer that extends chain, one of several in the
// table: each hub of a cluster writes its own, from its own head, so that
// hubs deciding at once do not fork one chain.
func NewChain(conn driver.Conn, db, chain, headFile string) *Writer {
	w := &Writer{conn: conn, db: db, headFile: headFile, chain: chain}
	w.group = chdb.NewGroup(0, nil, w.write)
	return w
}

// Audit writes one decision, together with any made meanwhile, and returns
// once the row is stored.
func (w *Writer) Audit(ctx context.Context, d policy.Decision) error {
	return w.group.Do(ctx, []policy.Decision{d})
}

// ActionAuthenticate is the action of an audit row that records refused
// authentications (Refused).
const ActionAuthenticate policy.Action = "authenticate"

// Refused records that n API requests were refused for a missing, unknown
// or revoked token since the last such row: one row per period, however
// many there were, so a flood of bad tokens cannot flood the audit.
func (w *Writer) Refused(ctx context.Context, n uint64, at time.Time) error {
	return w.Audit(ctx, policy.Decision{
		ID: rand.Text(), Time: at, Input: policy.Input{Action: ActionAuthenticate, Time: at},
		Reasons: []string{fmt.Sprintf("%d API requests refused: missing, unknown or revoked token", n)},
	})
}

// Stats reports how many decisions were stored and in how many inserts.
func (w *Writer) Stats() (rows, inserts uint64) { return w.group.Stats() }

// Row is one audit row as stored.
type Row struct {
	// Chain names the chain the row belongs to ("": the one hub's).
	Chain                                               string
	Seq                                                 uint64
	PrevHash, RowHash                                   string
	DecisionID                                          string
	DecidedAt                                           time.Time
	PolicyRevision, Action, Org, Dataset, Force, PosOrg string
	Recipient                                           string
	Allow                                               uint8
	Reasons, Agreements, GrantRecipients                []string
}

// RowHash is the hash of r chained to prev: SHA-256 over prev and every
// field of r but the hashes, each length-prefixed, in hex. The chain is
// hashed when it is named (rows of the one hub's chain hash as they always
// have).
func RowHash(prev string, r Row) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	if r.Chain != "" {
		field("chain")
		field(r.Chain)
	}
	field(prev)
	field(strconv.FormatUint(r.Seq, 10))
	for _, s := range []string{r.DecisionID, strconv.FormatInt(r.DecidedAt.Unix(), 10), r.PolicyRevision, r.Action, r.Org,
		r.Dataset, r.Force, r.PosOrg, r.Recipient, strconv.Itoa(int(r.Allow))} {
		field(s)
	}
	for _, list := range [][]string{r.Reasons, r.Agreements, r.GrantRecipients} {
		field(strconv.Itoa(len(list)))
		for _, s := range list {
			field(s)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// rowOf is the audit row of decision d, every string bounded.
func rowOf(d policy.Decision) Row {
	recipients := make([]string, 0, len(d.Grants))
	for _, g := range d.Grants {
		recipients = append(recipients, bound(g.Recipient))
	}
	var allow uint8
	if d.Allow {
		allow = 1
	}
	in := d.Input
	return Row{
		DecisionID: bound(d.ID), DecidedAt: d.Time.UTC().Truncate(time.Second), PolicyRevision: bound(d.Revision),
		Action: bound(string(in.Action)), Org: bound(in.Org), Dataset: bound(in.Dataset), Force: bound(in.Force),
		PosOrg: bound(in.PosOrg), Recipient: bound(in.Recipient), Allow: allow,
		Reasons: boundAll(d.Reasons), Agreements: boundAll(d.Agreements), GrantRecipients: recipients,
	}
}

// bound cuts s to MaxField bytes.
func bound(s string) string {
	if len(s) <= MaxField {
		return s
	}
	cut := MaxField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// boundAll bounds every string of list, and the list to 64 entries.
func boundAll(list []string) []string {
	out := make([]string, 0, min(len(list), 64))
	for i, s := range list {
		if i == 64 {
			out = append(out, "…")
			break
		}
		out = append(out, bound(s))
	}
	return out
}

// readHead reads the chain's head from the table: its highest seq.
func (w *Writer) readHead(ctx context.Context) error {
	var seq uint64
	var hash string
	rows, err := w.conn.Query(ctx, "SELECT seq, row_hash FROM "+w.db+".decisions WHERE seq > 0 AND chain = ? ORDER BY seq DESC LIMIT 1", w.chain)
	if err != nil {
		return fmt.Errorf("audit: read the chain's head: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&seq, &hash); err != nil {
			return fmt.Errorf("audit: read the chain's head: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: read the chain's head: %w", err)
	}
	w.seq, w.head, w.known = seq, hash, true
	return nil
}

// write stores a group of decisions as the chain's next rows. Group runs
// one write at a time, so the chain has one writer per hub.
func (w *Writer) write(ctx context.Context, batch []policy.Decision) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.known {
		if err := w.readHead(ctx); err != nil {
			return err
		}
	}
	b, err := w.conn.PrepareBatch(ctx, "INSERT INTO "+w.db+".decisions (chain, seq, prev_hash, row_hash, decision_id, decided_at, policy_revision, action, org, dataset, force_id, pos_org, recipient, allow, reasons, agreements, grant_recipients)")
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer func() { _ = b.Abort() }()
	seq, head := w.seq, w.head
	for _, d := range batch {
		r := rowOf(d)
		r.Chain = w.chain
		seq++
		r.Seq, r.PrevHash = seq, head
		r.RowHash = RowHash(head, r)
		head = r.RowHash
		if err := b.Append(r.Chain, r.Seq, r.PrevHash, r.RowHash, r.DecisionID, r.DecidedAt, r.PolicyRevision, r.Action, r.Org, r.Dataset,
			r.Force, r.PosOrg, r.Recipient, r.Allow, r.Reasons, r.Agreements, r.GrantRecipients); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		// The rows may have been stored all the same: read the head
		// again before the next write rather than fork the chain.
		w.known = false
		return fmt.Errorf("audit: %w", err)
	}
	w.seq, w.head = seq, head
	if w.headFile != "" {
		if err := writeHead(w.headFile, Head{Chain: w.chain, Seq: seq, Hash: head}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// Head is a chain's last row, as the Writer's head file keeps it.
type Head struct {
	Chain string
	Seq   uint64
	Hash  string
}

// writeHead replaces the head file with "seq hash", and the chain when it
// is named.
func writeHead(path string, h Head) error {
	line := strconv.FormatUint(h.Seq, 10) + " " + h.Hash
	if h.Chain != "" {
		line += " " + h.Chain
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(line+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadHead reads a head file written by the Writer.
func ReadHead(path string) (Head, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Head{}, fmt.Errorf("audit: %w", err)
	}
	f := strings.Fields(string(raw))
	if len(f) != 2 && len(f) != 3 {
		return Head{}, fmt.Errorf("audit: %s: want \"seq hash [chain]\"", path)
	}
	seq, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return Head{}, fmt.Errorf("audit: %s: %w", path, err)
	}
	h := Head{Seq: seq, Hash: f[1]}
	if len(f) == 3 {
		h.Chain = f[2]
	}
	return h, nil
}
