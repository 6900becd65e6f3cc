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
//
// Each refusal is counted by failed; onFailure, when set, is called at most
// once every logEvery with the number refused since, so a flood of bad
// tokens is reported without flooding the log.
func (c *Credentials) Middleware(next http.Handler, failed func(), onFailure func(refused uint64)) http.Handler {
	errs := connect.NewErrorWriter()
	var refused atomic.Uint64
	var last atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org, err := c.Authenticate(r.Header)
		if err != nil {
			if failed != nil {
				failed()
			}
			refused.Add(1)
			now, prev := time.Now().UnixNano(), last.Load()
			if onFailure != nil && now-prev >= int64(logEvery) && last.CompareAndSwap(prev, now) {
				onFailure(refused.Swap(0))
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

// logEvery is how often Middleware reports refused requests at most.
const logEvery = 10 * time.Second
