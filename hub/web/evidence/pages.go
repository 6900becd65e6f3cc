package evidence

import (
	"bytes"
	"crypto/ed25519"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/web/chart"
	"github.com/pathwayhub/pathwayhub/ingest/login"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/policy"
)

//go:embed templates
var templateFS embed.FS

// CookieName is the session cookie a one-time login link sets: a random
// session id, never a token.
const CookieName = "pathway_evidence"

// cookiePath scopes the cookie to the evidence pages.
const cookiePath = "/evidence/"

// templates parses the page templates; they are embedded, so a failure is
// a programming error caught by every test.
func templates() (*template.Template, template.CSS) {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	funcs := template.FuncMap{
		"forceName":      forceName,
		"variationIcon":  chart.VariationIcon,
		"assuranceIcon":  chart.AssuranceIcon,
		"variationLabel": chart.VariationLabel,
		"assuranceLabel": chart.AssuranceLabel,
		"date":           func(t time.Time) string { return t.UTC().Format("2 January 2006") },
		"datetime":       func(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 UTC") },
		"num":            func(v *float64) string { return chart.FormatNumber(*v) },
		"direction":      directionText,
	}
	t := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
	return t, template.CSS(css) //nolint:gosec // our own embedded stylesheet
}

func directionText(d string) string {
	switch d {
	case "higher":
		return "Higher is better."
	case "lower":
		return "Lower is better."
	default:
		return "Context only: neither higher nor lower is better."
	}
}

// RenderPage writes a report as a self-contained HTML page. packURL, when
// not empty, adds a link to download the pack.
func RenderPage(w io.Writer, r Report, packURL string) error {
	t, css := templates()
	return t.ExecuteTemplate(w, "page.html", struct {
		page
		CSS template.CSS
	}{newPage(r, packURL), css})
}

// Pages returns the handler of /evidence/… (mount it at "/evidence/").
func (s *Service) Pages() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /evidence/{$}", s.serveIndex)
	mux.HandleFunc("GET /evidence/{recipient}", s.servePage)
	mux.HandleFunc("GET /evidence/{recipient}/pack.zip", s.servePack)
	mux.HandleFunc("GET "+SigningKeyPath, s.serveSigningKey)
	mux.HandleFunc("POST "+LoginCodePath, s.serveLoginCode)
	mux.HandleFunc("GET /evidence/login", s.serveLogin)
	mux.HandleFunc("GET /evidence/logout", s.serveLogout)
	return securityHeaders(mux)
}

// SigningKeyPath is where the hub serves the public key that signs every
// evidence pack's manifest, as PEM, to anyone: `pathwayctl evidence verify
// --hub` fetches it.
const SigningKeyPath = pack.KeyPath

func (s *Service) serveSigningKey(w http.ResponseWriter, _ *http.Request) {
	raw, err := pack.PublicKeyPEM(s.opts.SigningKey.Public().(ed25519.PublicKey))
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "The signing key is not available.")
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(raw)
}

// securityHeaders forbids every external load (the pages have none) and
// framing, and keeps the pages out of shared caches.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "private, no-store")
		next.ServeHTTP(w, r)
	})
}

// LoginCodePath is where a caller with a token asks for a one-time login
// link to the evidence pages (login.Request; `pathwayctl evidence login`).
const LoginCodePath = login.Path

func (s *Service) serveLoginCode(w http.ResponseWriter, r *http.Request) {
	if _, err := s.opts.Credentials.Authenticate(r.Header); err != nil {
		s.fail(w, http.StatusUnauthorized, "Send Authorization: Bearer <token> to get a login link.")
		return
	}
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	code, expires := s.sessions.newCode(strings.TrimSpace(token))
	q := url.Values{"code": {code}}
	if next := r.URL.Query().Get("next"); next != "" {
		q.Set("next", next)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(login.Link{URL: "/evidence/login?" + q.Encode(), ExpiresAt: expires.UTC()})
}

// serveLogin redeems a one-time login code for a session cookie, and sends
// the browser on to its page, so neither token nor code stays in the
// address bar.
func (s *Service) serveLogin(w http.ResponseWriter, r *http.Request) {
	session, ok := s.sessions.redeem(r.URL.Query().Get("code"))
	if !ok {
		s.fail(w, http.StatusUnauthorized, "This login link has expired or was used already; ask for a new one (pathwayctl evidence login).")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: session, Path: cookiePath, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.opts.SecureCookies || r.TLS != nil, MaxAge: int(SessionLifetime.Seconds()),
	})
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, cookiePath) || strings.Contains(next, "//") || strings.Contains(next, `\`) {
		next = cookiePath // only the evidence pages: never an open redirect
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// serveLogout ends the session and clears its cookie.
func (s *Service) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: cookiePath, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.opts.SecureCookies || r.TLS != nil, MaxAge: -1})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("Signed out of the evidence pages.\n"))
}

// authenticate returns the caller's organisation from the Authorization
// header or the session cookie; done is true when the response has been
// written. API tokens are never taken from a URL, where they would stay in
// the browser's history and in logs.
func (s *Service) authenticate(w http.ResponseWriter, r *http.Request) (org auth.Org, done bool) {
	if r.URL.Query().Has("token") {
		s.fail(w, http.StatusBadRequest, "API tokens never go in a URL. Ask for a one-time login link: pathwayctl evidence login.")
		return auth.Org{}, true
	}
	if r.Header.Get("Authorization") != "" {
		org, err := s.opts.Credentials.Authenticate(r.Header)
		if err != nil {
			s.fail(w, http.StatusUnauthorized, "The bearer token is missing, unknown or revoked.")
			return auth.Org{}, true
		}
		return org, false
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if org, ok := s.sessions.lookup(c.Value); ok {
			return org, false
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="pathway-evidence"`)
	s.fail(w, http.StatusUnauthorized, "Sign in with a login link (pathwayctl evidence login), or send Authorization: Bearer <token>.")
	return auth.Org{}, true
}

func (s *Service) serveIndex(w http.ResponseWriter, r *http.Request) {
	org, done := s.authenticate(w, r)
	if done {
		return
	}
	grants, err := s.aggregateGrants(r.Context(), org)
	if err != nil {
		s.fail(w, http.StatusServiceUnavailable, "The policy could not decide; try again.")
		return
	}
	t, css := templates()
	s.write(w, t, "index.html", struct {
		Org    string
		Grants []policy.Grant
		CSS    template.CSS
	}{org.String(), grants, css})
}

func (s *Service) servePage(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.pageReport(w, r, policy.ActionRead)
	if !ok {
		return
	}
	q := url.Values{"from": {month(rep.From)}, "to": {month(rep.To)}}
	var buf bytes.Buffer
	if err := RenderPage(&buf, rep, rep.Recipient+"/pack.zip?"+q.Encode()); err != nil {
		s.logger.Error("render evidence page", "recipient", rep.Recipient, "err", err)
		s.fail(w, http.StatusInternalServerError, "The page could not be drawn.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// pageReport authenticates, asks the policy and loads the report for the
// request's recipient and period, writing the refusal when it fails.
func (s *Service) pageReport(w http.ResponseWriter, r *http.Request, action policy.Action) (Report, bool) {
	org, done := s.authenticate(w, r)
	if done {
		return Report{}, false
	}
	period, err := ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		s.fail(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "evidence: "))
		return Report{}, false
	}
	rep, _, err := s.read(r.Context(), org, r.PathValue("recipient"), action, period)
	switch {
	case err == nil:
		return rep, true
	case errors.Is(err, errDenied):
		msg := "The agreements in force do not let " + org.String() + " see this evidence."
		if action == policy.ActionExport {
			msg = "The agreements in force do not let " + org.String() + " download this evidence pack."
		}
		s.fail(w, http.StatusForbidden, msg)
	default:
		s.pageError(w, err)
	}
	return Report{}, false
}

func (s *Service) fail(w http.ResponseWriter, status int, msg string) {
	t, css := templates()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.write(w, t, "error.html", struct {
		Status, Message string
		CSS             template.CSS
	}{http.StatusText(status), msg, css})
}

func (s *Service) write(w http.ResponseWriter, t *template.Template, name string, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		s.logger.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	_, _ = w.Write(buf.Bytes())
}
