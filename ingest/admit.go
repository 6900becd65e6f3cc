package ingest

import (
	"net/http"

	"golang.org/x/sync/semaphore"
)

// DefaultInflightBytes is how many bytes of request bodies the ingest
// handler works on at once by default: one largest request, or about four
// of 10,000 records.
const DefaultInflightBytes = MaxRequestBytes

// admit lets a request through to h only once its body fits in the bytes
// in flight, and makes the rest wait their turn (or give up when the client
// does). A decoded batch takes several times its wire size in memory, so
// this, not the number of clients, bounds the hub's memory under many large
// batches at once; on a machine with few cores, working on more at once
// would not make ingest faster anyway. A body of unknown length counts as
// the largest allowed.
func (s *Service) admit(h http.Handler) http.Handler {
	if s.inflight == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		if n < 0 || n > s.inflightBytes {
			n = s.inflightBytes
		}
		n = max(n, 1)
		s.metrics.admissionWaiting.Inc()
		err := s.inflight.Acquire(r.Context(), n)
		s.metrics.admissionWaiting.Dec()
		if err != nil {
			http.Error(w, "the client went away while the request waited for the hub", http.StatusServiceUnavailable)
			return
		}
		defer s.inflight.Release(n)
		s.metrics.inflightBytes.Add(float64(n))
		defer s.metrics.inflightBytes.Sub(float64(n))
		h.ServeHTTP(w, r)
	})
}

func newInflight(limit int64) *semaphore.Weighted {
	if limit <= 0 {
		return nil
	}
	return semaphore.NewWeighted(limit)
}
