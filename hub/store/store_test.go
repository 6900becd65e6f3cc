package store_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

var shared *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &shared)) }

// TestConcurrentInsertsAreAllStored submits many batches at once, which the
// store group-commits, and checks every row of every batch is stored with
// its own submission id, and every submission is logged.
func TestConcurrentInsertsAreAllStored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		callers, perCall int
	}{{"one caller", 1, 50}, {"many small", 24, 10}, {"few large", 4, 400}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, conn := newStore(t)
			recs := simulated(t, tc.callers*tc.perCall)
			freshRefs(recs)
			received := time.Now().UTC().Truncate(time.Second)
			var wg sync.WaitGroup
			errs := make([]error, tc.callers)
			for c := range tc.callers {
				wg.Go(func() {
					part := recs[c*tc.perCall : (c+1)*tc.perCall]
					rows := make([]store.Incident, len(part))
					for i, r := range part {
						r.ForceId = "metropolitan"
						rows[i] = store.Incident{Record: r}
					}
					sub := fmt.Sprint("sub-", c)
					if errs[c] = st.InsertIncidents(t.Context(), sub, received, rows); errs[c] != nil {
						return
					}
					errs[c] = st.LogSubmission(t.Context(), store.Submission{ID: sub, OrgKind: "force", OrgID: "metropolitan", Dataset: "incidents", ReceivedAt: received},
						[]store.Rejection{{RecordIndex: 1, Field: "f", Code: "c"}})
				})
			}
			wg.Wait()
			for c, err := range errs {
				if err != nil {
					t.Fatalf("caller %d: %v", c, err)
				}
			}
			refs := make([]string, len(recs))
			for i, r := range recs {
				refs[i] = r.GetIncidentRef()
			}
			revs, err := st.IncidentRevisions(t.Context(), "metropolitan", refs)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != len(recs) {
				t.Errorf("stored %d of %d incidents", len(revs), len(recs))
			}
			assertCount(t, conn, st, "SELECT uniqExact(submission_id) FROM %s.incidents", tc.callers)
			assertCount(t, conn, st, "SELECT count() FROM %s.submissions", tc.callers)
			assertCount(t, conn, st, "SELECT count() FROM %s.rejections", tc.callers)
		})
	}
}

// TestFailedGroupFailsEveryCaller checks that when the insert carrying a
// group fails, every caller in it gets the error (nothing is acknowledged).
func TestFailedGroupFailsEveryCaller(t *testing.T) {
	t.Parallel()
	_, conn := newStore(t)
	broken := store.New(conn, "no_such_database")
	recs := simulated(t, 40)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for c := range errs {
		wg.Go(func() {
			part := recs[c*5 : (c+1)*5]
			rows := make([]store.Incident, len(part))
			for i, r := range part {
				rows[i] = store.Incident{Record: r}
			}
			errs[c] = broken.InsertIncidents(t.Context(), "s", time.Now(), rows)
		})
	}
	wg.Wait()
	for c, err := range errs {
		if err == nil {
			t.Errorf("caller %d: no error from a failed insert", c)
		}
	}
}

func assertCount(t *testing.T, conn driver.Conn, st *store.Store, query string, want int) {
	t.Helper()
	var got uint64
	if err := conn.QueryRow(t.Context(), fmt.Sprintf(query, st.Database())).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if int(got) != want {
		t.Errorf("%s: got %d, want %d", fmt.Sprintf(query, st.Database()), got, want)
	}
}

// A batch stored without its log row (the hub killed in between) is logged
// at start, marked reconciled, so the log sums to the stored rows; running
// it again adds nothing.
func TestReconcileLogsBatchesStoredButNotLogged(t *testing.T) {
	t.Parallel()
	st, conn := newStore(t)
	recs := simulated(t, 30)
	freshRefs(recs)
	received := time.Now().UTC().Truncate(time.Second)
	rows := make([]store.Incident, len(recs))
	for i, r := range recs {
		r.ForceId = "metropolitan"
		rows[i] = store.Incident{Record: r}
	}
	if err := st.InsertIncidents(t.Context(), "logged", received, rows[:10]); err != nil {
		t.Fatal(err)
	}
	if err := st.LogSubmission(t.Context(), store.Submission{ID: "logged", OrgKind: "force", OrgID: "metropolitan", Dataset: "incidents",
		ReceivedAt: received, Records: 10, Accepted: 10}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertIncidents(t.Context(), "lost", received, rows[10:]); err != nil { // and then the hub died
		t.Fatal(err)
	}
	for round, want := range []int{1, 0} {
		n, err := st.Reconcile(t.Context())
		if err != nil || n != want {
			t.Fatalf("round %d: reconciled %d, %v; want %d", round, n, err, want)
		}
	}
	assertCount(t, conn, st, "SELECT toUInt64(sum(accepted + updated)) FROM %s.submissions", 30)
	assertCount(t, conn, st, "SELECT count() FROM %s.submissions WHERE reconciled = 1 AND submission_id = 'lost' AND org_id = 'metropolitan'", 1)
}
