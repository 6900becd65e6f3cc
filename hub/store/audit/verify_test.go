package audit_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

// A local user who can reach the decisions table deletes, alters and
// inserts rows; Verify names each, and the head file finds a deletion at
// the end. Strings in a row are bounded whatever a caller sent.
func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewRawDatabase(t, srv)
	head := filepath.Join(t.TempDir(), "audit-head")
	w := audit.New(conn, db, head)
	for i := range 12 {
		d := decision(i)
		if i == 4 {
			d.Input.Recipient = strings.Repeat("A", 20_000) // as from /evidence/AAAA…
		}
		if err := w.Audit(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	headAt, err := audit.ReadHead(head)
	if err != nil || headAt.Seq != 12 {
		t.Fatalf("head %+v, %v", headAt, err)
	}
	verify := func() []string {
		t.Helper()
		n, problems, err := audit.Verify(t.Context(), conn, db, headAt)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range problems {
			out = append(out, p.String())
		}
		t.Logf("%d rows: %v", n, out)
		return out
	}
	if got := verify(); len(got) != 0 {
		t.Fatalf("an untouched chain: %v", got)
	}
	var longest uint64
	if err := conn.QueryRow(t.Context(), "SELECT max(length(recipient)) FROM "+db+".decisions").Scan(&longest); err != nil || longest > audit.MaxField+3 {
		t.Errorf("a recipient of %d bytes was stored (%v)", longest, err)
	}

	mutate := func(q string) {
		t.Helper()
		if err := conn.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			var pending uint64
			if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.mutations WHERE database = ? AND table = 'decisions' AND is_done = 0", db).Scan(&pending); err != nil {
				t.Fatal(err)
			}
			if pending == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("mutation %q not done after 30 s", q)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Deleted: seq 3.
	mutate("ALTER TABLE " + db + ".decisions DELETE WHERE seq = 3")
	// Altered: seq 6's recipient rewritten (hashes kept).
	mutate("ALTER TABLE " + db + ".decisions UPDATE recipient = 'nel_icb' WHERE seq = 6")
	// Inserted: a forged row at seq 9, linked to nothing.
	if err := conn.Exec(t.Context(), "INSERT INTO "+db+".decisions (seq, prev_hash, row_hash, decision_id, decided_at, action, org, allow) "+
		"SELECT 9, 'forged', 'forged', 'ffff', now(), 'read', 'icb/QMF', 1"); err != nil {
		t.Fatal(err)
	}
	// Deleted from the end: seq 12.
	mutate("ALTER TABLE " + db + ".decisions DELETE WHERE seq = 12")

	got := strings.Join(verify(), "\n")
	for _, want := range []string{"seq 3: rows 3 to 3 are missing: deleted", "seq 6: its fields do not match its hash", "seq 9: a second row with this seq",
		"seq 12: the chain ends at 11 but the head file says 12"} {
		if !strings.Contains(got, want) {
			t.Errorf("verify did not report %q; it said:\n%s", want, got)
		}
	}
}

// The chain goes on across writers: a hub restarted reads the head from
// the table.
func TestChainContinuesAfterRestart(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewRawDatabase(t, srv)
	for round := range 2 {
		w := audit.New(conn, db, "")
		for i := range 3 {
			if err := w.Audit(t.Context(), decision(10*round+i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, problems, err := audit.Verify(t.Context(), conn, db, audit.Head{})
	if err != nil || n != 6 || len(problems) != 0 {
		t.Fatalf("two writers in turn: %d rows, %v, %v", n, problems, err)
	}
}

// TestHubsKeepChainsOfTheirOwn: hubs of a cluster deciding at once each
// extend a chain of their own (the one hub's unnamed chain beside them),
// and every chain verifies; a row moved to another chain, or deleted from
// one, is found in that chain.
func TestHubsKeepChainsOfTheirOwn(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewRawDatabase(t, srv)
	head := filepath.Join(t.TempDir(), "head")
	writers := []*audit.Writer{audit.New(conn, db, ""), audit.NewChain(conn, db, "hubA", head), audit.NewChain(conn, db, "hubB", "")}
	var wg sync.WaitGroup
	for w, writer := range writers {
		wg.Go(func() {
			for i := range 4 {
				if err := writer.Audit(t.Context(), decision(100*w+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	headA, err := audit.ReadHead(head)
	if err != nil || headA.Chain != "hubA" || headA.Seq != 4 {
		t.Fatalf("hubA's head %+v, %v", headA, err)
	}
	n, problems, err := audit.Verify(t.Context(), conn, db, headA)
	if err != nil || n != 12 || len(problems) != 0 {
		t.Fatalf("three chains: %d rows, %v, %v", n, problems, err)
	}
	// A row of hubB's chain claimed for hubA's: both chains break.
	if err := conn.Exec(t.Context(), "ALTER TABLE "+db+".decisions UPDATE chain = 'hubA' WHERE chain = 'hubB' AND seq = 2"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var moved uint64
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+db+".decisions WHERE chain = 'hubB'").Scan(&moved); err != nil {
			t.Fatal(err)
		}
		if moved == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mutation did not finish in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, problems, err = audit.Verify(t.Context(), conn, db, headA)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"chain hubA seq 2: a second row with this seq", "chain hubB seq 2: rows 2 to 2 are missing: deleted"} {
		if !strings.Contains(all, want) {
			t.Errorf("verify did not report %q; it said:\n%s", want, all)
		}
	}
}
