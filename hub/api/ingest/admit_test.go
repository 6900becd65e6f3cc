package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAdmitBoundsBytesInFlight sends eight 400 kB requests at once through
// a 1 MB admission limit over real HTTP: never more than two are worked
// on at a time, and every one is answered.
func TestAdmitBoundsBytesInFlight(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	const limit, size = 1_000_000, 400_000
	s := &Service{metrics: m, admission: newAdmission(limit)}
	var now, most atomic.Int64
	srv := httptest.NewServer(s.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(r.ContentLength)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // long enough for the others to pile up
		now.Add(-r.ContentLength)
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srv.Close()

	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, bytes.NewReader(make([]byte, size)))
			if err != nil {
				t.Error(err)
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_ = resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusNoContent {
			t.Errorf("request %d: status %d", i, c)
		}
	}
	if got := most.Load(); got > limit || got < size {
		t.Errorf("at most %d bytes were in flight at once; want between %d and %d", got, size, limit)
	}
}

// TestAdmitGivesUpWithTheClient checks that a request whose client goes
// away while it waits is never worked on.
func TestAdmitGivesUpWithTheClient(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{metrics: m, admission: newAdmission(10)}
	if !s.admission.total.TryAcquire(10) { // the hub is full
		t.Fatal("could not fill the limit")
	}
	called := false
	h := s.admit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader([]byte("x")))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if called || rec.Code != http.StatusServiceUnavailable {
		t.Errorf("handler called %v, status %d; want not called and 503", called, rec.Code)
	}
}

// TestAdmissionShares: one organisation may hold at most half the budget,
// so another is admitted while it is full; a compressed or unsized body is
// charged as the largest body the handler reads.
func TestAdmissionShares(t *testing.T) {
	t.Parallel()
	a := newAdmission(100)
	releaseA, charged, err := a.acquire(t.Context(), "force/a", 1000)
	if err != nil || charged != 50 {
		t.Fatalf("first request charged %d, %v; want the share, 50", charged, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := a.acquire(ctx, "force/a", 1); err == nil {
		t.Error("force/a was admitted beyond its share")
	}
	releaseB, _, err := a.acquire(t.Context(), "force/b", 50)
	if err != nil {
		t.Fatalf("force/b was kept out by force/a: %v", err)
	}
	releaseA()
	releaseB()
	if len(a.orgs) != 0 {
		t.Errorf("%d organisations still held", len(a.orgs))
	}

	for _, tc := range []struct {
		header map[string]string
		want   bool
	}{
		{map[string]string{"Content-Encoding": "gzip"}, true},
		{map[string]string{"Connect-Content-Encoding": "gzip"}, true},
		{map[string]string{"Grpc-Encoding": "gzip"}, true},
		{map[string]string{"Grpc-Encoding": "identity"}, false},
		{map[string]string{}, false},
	} {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := compressed(h); got != tc.want {
			t.Errorf("compressed(%v) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
