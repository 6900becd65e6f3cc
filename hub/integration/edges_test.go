package integration_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/api/ingest"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	evidencepkg "github.com/pathwayhub/pathwayhub/hub/web/evidence"
	"github.com/pathwayhub/pathwayhub/ingest/login"
	"github.com/pathwayhub/pathwayhub/ingest/wire"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// stalledRequest opens a raw connection to the hub and sends the headers of
// a POST to path declaring a 16 MiB body (with token, when given), then
// sends nothing more: the attack that once held the whole ingest budget.
func stalledRequest(t *testing.T, h *hub, path, token string) net.Conn {
	t.Helper()
	u, err := url.Parse(h.info.URL)
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/proto\r\nContent-Length: %d\r\n", path, u.Host, wire.MaxRequestBytes)
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// statusLine reads the first line of the hub's answer on conn, waiting at
// most wait: "" if none came.
func statusLine(conn net.Conn, wait time.Duration) string {
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// An anonymous request is refused as soon as its headers arrive: its body
// is never waited for, so a stalled anonymous connection holds nothing, and
// a real submission goes through beside many of them.
func TestAnonymousRequestsAreRefusedBeforeTheirBody(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	before := metricValue(t, h, "pathwayhub_auth_failures_total")
	var stalled []net.Conn
	for range 8 {
		stalled = append(stalled, stalledRequest(t, h, "/pathway.v1.IngestService/SubmitIncidents", ""))
	}
	for i, conn := range stalled {
		if got := statusLine(conn, 10*time.Second); !strings.HasPrefix(got, "HTTP/1.1 401") {
			t.Errorf("stalled anonymous request %d: %q, want 401 before any body", i, got)
		}
	}
	// The same before the body for every Connect service, whatever its size.
	for _, path := range []string{"/pathway.v1.AccessService/DescribeAccess", "/pathway.v1.EvidenceService/ListSeries"} {
		if got := statusLine(stalledRequest(t, h, path, "not-a-token"), 10*time.Second); !strings.HasPrefix(got, "HTTP/1.1 401") {
			t.Errorf("%s with a bad token: %q, want 401 before any body", path, got)
		}
	}
	// A liveness bound, not a speed claim: the submission must not wait on
	// the stalled connections at all.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req := connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: []*pathwayv1.IncidentRecord{s136(t)}})
	req.Header().Set("Authorization", "Bearer "+metToken)
	if _, err := h.client().SubmitIncidents(ctx, req); err != nil {
		t.Fatalf("a real submission beside stalled anonymous connections: %v", err)
	}
	if got := metricValue(t, h, "pathwayhub_auth_failures_total") - before; got < 10 {
		t.Errorf("pathwayhub_auth_failures_total rose by %v, want the 10 refusals", got)
	}
	// Audited too, as one row per period rather than one per refusal.
	if n := h.count(t, "SELECT count() FROM decisions WHERE action = 'authenticate' AND allow = 0"); n < 1 || n > 2 {
		t.Errorf("%d audit rows for 10 refusals, want one per period", n)
	}
}

// An organisation that stalls (or trickles) bodies holds at most its share
// of the ingest budget: another organisation's submission goes through
// meanwhile, long before the stalled requests' read timeout (a minute).
func TestOneOrganisationCannotStarveAnother(t *testing.T) {
	t.Parallel()
	h := startHubWith(t, shared.Addr(), sharingCreds())
	for range 3 { // more than BTP's share
		stalledRequest(t, h, "/pathway.v1.IngestService/SubmitIncidents", btpToken)
	}
	time.Sleep(200 * time.Millisecond) // let them be admitted, or queue
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req := connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: []*pathwayv1.IncidentRecord{s136(t)}})
	req.Header().Set("Authorization", "Bearer "+metToken)
	resp, err := h.client().SubmitIncidents(ctx, req)
	if err != nil || resp.Msg.GetCounts().GetAccepted() != 1 {
		t.Fatalf("the Met's submission while BTP stalls: %v %v", err, resp)
	}
}

// A body that does not arrive within the read timeout is cut off: the
// stalled connection is answered or closed, not left holding its share.
func TestStalledBodiesAreCutOff(t *testing.T) {
	t.Parallel()
	h := startHubWith(t, shared.Addr(), sharingCreds(), apptest.WithConfig(func(c *config.Config) {
		c.RequestReadTimeout = 2 * time.Second
	}))
	conn := stalledRequest(t, h, "/pathway.v1.IngestService/SubmitIncidents", btpToken)
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() { //nolint:errorlint // a net.Error from the connection itself
		t.Error("a stalled request was still open 20 s after its 2 s read timeout")
	}
}

// A rejected value is not echoed back in full: a megabyte incident_ref
// comes back as at most MaxEcho bytes.
func TestRejectedValuesAreNotEchoedInFull(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	rec := s136(t)
	rec.IncidentRef = strings.Repeat("a", 1<<20)
	resp := h.mustSubmit(t, metToken, rec)
	r := resp.GetResults()[0]
	if r.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED {
		t.Fatalf("a megabyte incident_ref was %v", r.GetStatus())
	}
	if n := len(r.GetIncidentRef()); n > ingest.MaxEcho+len("…") || !strings.HasSuffix(r.GetIncidentRef(), "…") {
		t.Errorf("the incident_ref came back as %d bytes", n)
	}
	for _, e := range r.GetErrors() {
		if len(e.GetMessage()) > 1024 {
			t.Errorf("error message of %d bytes", len(e.GetMessage()))
		}
	}
}

// Reflection, health checks and the small services read at most
// SmallRequestBytes of a body, even from a caller with a good token.
func TestEveryHandlerHasAReadLimit(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	body := strings.NewReader(strings.Repeat("x", 1<<20))
	for _, path := range []string{"/grpc.health.v1.Health/Check", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"/pathway.v1.AccessService/DescribeAccess"} {
		_, _ = body.Seek(0, io.SeekStart)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.info.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/proto")
		req.Header.Set("Authorization", "Bearer "+metToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue // the hub may close the connection on an oversized body
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && resp.Header.Get("Grpc-Status") == "" {
			t.Errorf("%s accepted a 1 MiB body", path)
		}
	}
}

// Removing a token from the credentials file revokes it within seconds,
// without a restart, on the API and on the evidence pages; a broken file
// leaves the credentials in force.
func TestRevokedTokenStopsWorking(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "credentials.yaml")
	write := func(orgs map[string]string) {
		var b strings.Builder
		b.WriteString("credentials:\n")
		for token, org := range orgs {
			fmt.Fprintf(&b, "  - org: %s\n    token_sha256: %s\n", org, auth.HashToken(token))
		}
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	write(map[string]string{metToken: "force/metropolitan", btpToken: "force/btp"})
	h := startHubWith(t, shared.Addr(), nil, apptest.WithConfig(func(c *config.Config) { c.Credentials = file }))
	if _, err := h.submit(t, metToken, true, s136(t)); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	// A browser session on the evidence pages, started with the token.
	link, _, err := login.Request(t.Context(), http.DefaultClient, h.info.URL, metToken, "")
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	linkReq, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	linkResp, err := noRedirect.Do(linkReq)
	if err != nil {
		t.Fatal(err)
	}
	_ = linkResp.Body.Close()
	var session *http.Cookie
	for _, c := range linkResp.Cookies() {
		if c.Name == evidencepkg.CookieName {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("the login link set no session: %s", linkResp.Status)
	}
	evidence := func() int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.info.URL+"/evidence/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := evidence(); code != http.StatusOK {
		t.Fatalf("evidence pages before revocation: %d", code)
	}

	write(map[string]string{btpToken: "force/btp"})
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := h.submit(t, metToken, true, s136(t))
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked token still worked 15 s after its removal: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := evidence(); code == http.StatusOK {
		t.Error("the revoked token's evidence session still works")
	}
	if _, err := h.submit(t, btpToken, true, s136(t)); err != nil {
		t.Errorf("a token that was kept: %v", err)
	}

	if err := os.WriteFile(file, []byte("credentials: [not valid"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // past the reload's debounce
	if _, err := h.submit(t, btpToken, true, s136(t)); err != nil {
		t.Errorf("a broken credentials file locked out a valid token: %v", err)
	}
}

// Behind a proxy that terminates TLS (--behind-tls), the session cookie is
// Secure, so a browser never sends it in the clear.
func TestSessionCookieIsSecureBehindTLS(t *testing.T) {
	t.Parallel()
	h := startHubWith(t, shared.Addr(), sharingCreds(), apptest.WithConfig(func(c *config.Config) { c.BehindTLS = true }))
	link, _, err := login.Request(t.Context(), http.DefaultClient, h.info.URL, nclToken, "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly {
		t.Errorf("session cookies %+v, want one, Secure and HttpOnly", cookies)
	}
}

// A stalled anonymous gRPC stream (HTTP/2, its body never sent) is refused
// from its headers too, with gRPC's unauthenticated status.
func TestAnonymousStalledGRPCStreamIsRefused(t *testing.T) {
	t.Parallel()
	h := startHub(t, shared.Addr())
	h2c := &http.Client{Transport: &http.Transport{Protocols: new(http.Protocols)}}
	h2c.Transport.(*http.Transport).Protocols.SetUnencryptedHTTP2(true)
	body, stall := io.Pipe()
	defer func() { _ = stall.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.info.URL+"/pathway.v1.IngestService/SubmitIncidents", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := h2c.Do(req)
	if err != nil {
		t.Fatalf("a stalled anonymous gRPC call got no answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	status := resp.Header.Get("Grpc-Status")
	if status == "" {
		status = resp.Trailer.Get("Grpc-Status")
	}
	if resp.ProtoMajor != 2 || status != "16" {
		t.Errorf("HTTP/%d, grpc-status %q, want HTTP/2 and 16 (unauthenticated)", resp.ProtoMajor, status)
	}
}
