package auth

import (
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
)

// Middleware authenticates every request before next sees it: before
// admission, before the body is read, decompressed or decoded. A request
// without a known token gets an unauthenticated error in the protocol it
// used (Connect, gRPC or gRPC-Web) and its body is never read, so an
// anonymous client can neither hold the hub's in-flight budget nor make it
// buffer a large or compressed body. The organisation is put in the
// request's context for the handlers (the interceptor checks it again).
// refused, when set, is called for every refusal.
func (c *Credentials) Middleware(next http.Handler, refused func()) http.Handler {
	errs := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org, err := c.Authenticate(r.Header)
		if err != nil {
			if refused != nil {
				refused()
			}
			if r.ProtoMajor == 1 {
				// Close the connection rather than drain an unread body.
				w.Header().Set("Connection", "close")
			}
			_ = errs.Write(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithOrg(r.Context(), org)))
	})
}

// Refusals counts refused requests and reports them at most once per
// period, with the number since the last report: a flood of bad tokens is
// logged and audited without flooding either.
type Refusals struct {
	every  time.Duration
	report func(n uint64)
	n      atomic.Uint64
	last   atomic.Int64
}

// NewRefusals returns a Refusals that calls report at most once every
// period.
func NewRefusals(every time.Duration, report func(n uint64)) *Refusals {
	return &Refusals{every: every, report: report}
}

// Add counts one refusal, and reports the count when the period is over.
func (r *Refusals) Add() {
	r.n.Add(1)
	now, prev := time.Now().UnixNano(), r.last.Load()
	if now-prev >= int64(r.every) && r.last.CompareAndSwap(prev, now) {
		r.report(r.n.Swap(0))
	}
}
