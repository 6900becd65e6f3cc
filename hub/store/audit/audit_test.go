package audit_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/policy"
)

var srv *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &srv)) }

func newWriter(t *testing.T) (*audit.Writer, func(q string) uint64) {
	t.Helper()
	conn, db := chservertest.NewRawDatabase(t, srv)
	count := func(q string) uint64 {
		var n uint64
		if err := conn.QueryRow(t.Context(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	return audit.New(conn, db, ""), count
}

func decision(i int) policy.Decision {
	return policy.Decision{
		ID: fmt.Sprintf("%032x", i), Revision: "0123456789abcdef", Time: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		Input: policy.Input{Action: policy.ActionRead, Org: "icb/QMJ", Recipient: "ncl_icb"},
		Allow: i%2 == 0, Reasons: []string{"granted to recipient \"ncl_icb\""}, Agreements: []string{"london-rcrp"},
		Grants: []policy.Grant{{Agreement: "london-rcrp", Recipient: "ncl_icb"}},
	}
}

func TestEveryDecisionIsStoredOnce(t *testing.T) {
	t.Parallel()
	w, count := newWriter(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- w.Audit(t.Context(), decision(i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
	}
	if got := count("SELECT count() FROM decisions"); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	if got := count("SELECT uniqExact(decision_id) FROM decisions"); got != n {
		t.Fatalf("%d distinct decisions, want %d", got, n)
	}
	if got := count("SELECT count() FROM decisions WHERE allow = 1 AND has(grant_recipients, 'ncl_icb') AND org = 'icb/QMJ' AND action = 'read'"); got != n/2 {
		t.Fatalf("%d allowed rows with their grant, want %d", got, n/2)
	}
	rows, inserts := w.Stats()
	if rows != n || inserts == 0 || inserts > rows {
		t.Fatalf("stats: %d rows in %d inserts", rows, inserts)
	}
	t.Logf("%d concurrent decisions stored in %d inserts", rows, inserts)
}

func TestACancelledCallerStillHasItsRowWritten(t *testing.T) {
	t.Parallel()
	w, count := newWriter(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// The insert serves every caller it carries, so one caller's
	// cancellation does not abandon it: the row is stored, and later
	// decisions do not stall behind it.
	if err := w.Audit(ctx, decision(1)); err != nil {
		t.Fatalf("audit with a cancelled context: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Audit(t.Context(), decision(2)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the queue stalled behind a cancelled caller")
	}
	if got := count("SELECT count() FROM decisions"); got != 2 {
		t.Fatalf("%d rows, want 2", got)
	}
}

func TestAFailedInsertFailsEveryCallerItCarried(t *testing.T) {
	t.Parallel()
	conn, db := chservertest.NewDatabase(t, srv) // no migrations: no decisions table
	w := audit.New(conn, db, "")
	if err := w.Audit(t.Context(), decision(1)); err == nil {
		t.Fatal("audit into a missing table succeeded")
	}
}
