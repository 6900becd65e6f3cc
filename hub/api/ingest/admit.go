package ingest

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/ingest/wire"
)

// DefaultInflightBytes is how many bytes of request bodies the ingest
// handler works on at once by default: two largest requests, or about
// eight of 10,000 records.
const DefaultInflightBytes = 2 * wire.MaxRequestBytes

// admission bounds the bytes of request bodies worked on at once, in total
// and per organisation. A decoded batch takes several times its wire size
// in memory, so this, not the number of clients, bounds the hub's memory
// under many large batches at once; on a machine with few cores, working on
// more at once would not make ingest faster anyway.
//
// Each organisation may hold at most half of the budget (its share), so a
// client that sends large batches, or stalls or trickles a body until the
// server's read timeout, delays only its own organisation's other
// requests: the other half is always there for everyone else.
type admission struct {
	total *semaphore.Weighted
	limit int64
	share int64

	mu   sync.Mutex
	orgs map[string]*orgShare
}

type orgShare struct {
	sem   *semaphore.Weighted
	users int
}

// newAdmission returns an admission of limit bytes, or nil (no bound) when
// limit ≤ 0.
func newAdmission(limit int64) *admission {
	if limit <= 0 {
		return nil
	}
	return &admission{total: semaphore.NewWeighted(limit), limit: limit, share: max(limit/2, 1), orgs: map[string]*orgShare{}}
}

// acquire waits until n bytes fit in org's share and in the total, and
// returns the release and the bytes actually charged (n, capped at the
// share).
func (a *admission) acquire(ctx context.Context, org string, n int64) (release func(), charged int64, err error) {
	n = min(max(n, 1), a.share)
	a.mu.Lock()
	o := a.orgs[org]
	if o == nil {
		o = &orgShare{sem: semaphore.NewWeighted(a.share)}
		a.orgs[org] = o
	}
	o.users++
	a.mu.Unlock()
	done := func() {
		a.mu.Lock()
		if o.users--; o.users == 0 {
			delete(a.orgs, org)
		}
		a.mu.Unlock()
	}
	if err := o.sem.Acquire(ctx, n); err != nil {
		done()
		return nil, 0, err
	}
	if err := a.total.Acquire(ctx, n); err != nil {
		o.sem.Release(n)
		done()
		return nil, 0, err
	}
	return func() {
		a.total.Release(n)
		o.sem.Release(n)
		done()
	}, n, nil
}

// admit lets a request through to h only once its body fits in its
// organisation's share and the total (see admission), and makes the rest
// wait their turn (or give up when the client does). It runs after
// authentication (auth.Middleware), which names the organisation.
//
// A request is charged what its body can become once decoded: its length,
// or, when its length is unknown or the body is compressed, the largest
// body the handler reads (a 300 KiB gzip body may inflate to the limit).
func (s *Service) admit(h http.Handler) http.Handler {
	if s.admission == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		if n < 0 || n > wire.MaxRequestBytes || compressed(r.Header) {
			n = wire.MaxRequestBytes
		}
		org, _ := auth.OrgFrom(r.Context())
		s.metrics.admissionWaiting.Inc()
		release, charged, err := s.admission.acquire(r.Context(), org.String(), n)
		s.metrics.admissionWaiting.Dec()
		if err != nil {
			http.Error(w, "the client went away while the request waited for the hub", http.StatusServiceUnavailable)
			return
		}
		defer release()
		s.metrics.inflightBytes.Add(float64(charged))
		defer s.metrics.inflightBytes.Sub(float64(charged))
		h.ServeHTTP(w, r)
	})
}

// compressed reports whether a request's body is compressed, in any of the
// ways the Connect, gRPC and gRPC-Web protocols allow.
func compressed(h http.Header) bool {
	for _, k := range []string{"Content-Encoding", "Connect-Content-Encoding", "Grpc-Encoding"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" && !strings.EqualFold(v, "identity") {
			return true
		}
	}
	return false
}
