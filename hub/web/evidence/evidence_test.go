package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/hub/web/chart"
	"github.com/pathwayhub/pathwayhub/hub/web/evidence"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/ingest/login"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

var srv *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &srv)) }

// Tokens of the organisations the tests play.
const (
	nclToken    = "token-icb-ncl" // icb/QMJ: ncl_icb, export allowed
	nelToken    = "token-icb-nel" // icb/QMF: nel_icb, no export
	londonToken = "token-region-london"
	npccToken   = "token-national-npcc" // national/npcc: npcc_mh_lead, by region
)

// simulatedMonths of history are submitted for each force.
const simulatedMonths = 5

// fixture is a hub with simulated history, published.
type fixture struct {
	info app.Info
	// forcesIn are the forces with incidents in each recipient's boroughs,
	// by recipient, from the simulated records themselves.
	forcesIn map[string]map[string]bool
	// grants are each recipient's agreement entry.
	grants map[string]policy.Recipient
}

// startFixture runs a hub, submits simulated history of the three forces
// (and their trusts' health updates) through the API, and publishes.
func startFixture(t *testing.T) *fixture {
	t.Helper()
	key, err := pseudo.NewKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	agreements, err := policy.LoadAgreements(apptest.AllExampleAgreements(t), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{forcesIn: map[string]map[string]bool{}, grants: map[string]policy.Recipient{}}
	for _, a := range agreements {
		for _, r := range a.Recipients {
			f.grants[r.ID] = r
			f.forcesIn[r.ID] = map[string]bool{}
		}
	}
	creds := &auth.Credentials{}
	creds.Add(nclToken, auth.Org{Kind: auth.KindICB, ID: "QMJ"})
	creds.Add(nelToken, auth.Org{Kind: auth.KindICB, ID: "QMF"})
	creds.Add(londonToken, auth.Org{Kind: auth.KindRegion, ID: "london"})
	creds.Add(npccToken, auth.Org{Kind: auth.KindNational, ID: "npcc"})
	histories := map[string]simulate.Records{}
	for _, force := range simulate.Forces() {
		creds.Add("token-"+force, auth.Org{Kind: auth.KindForce, ID: force})
		h, err := simulate.History(simulate.Options{Force: force, Months: simulatedMonths, End: end, Seed: 42, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		histories[force] = h
		for _, u := range h.HealthUpdates {
			creds.Add("token-trust-"+u.TrustID, auth.Org{Kind: auth.KindTrust, ID: u.TrustID})
		}
		for _, rec := range h.Incidents {
			for id, r := range f.grants {
				if slices.Contains(r.Scope.LADs, rec.GetLadCode()) {
					f.forcesIn[id][force] = true
				}
			}
		}
	}
	f.info = apptest.Start(t, srv.Addr(), creds, apptest.WithConfig(func(c *config.Config) { c.Agreements = apptest.AllExampleAgreements(t) }))
	ctx := t.Context()
	for _, force := range simulate.Forces() {
		h := histories[force]
		sum, err := client.New(client.Options{URL: f.info.URL, Token: "token-" + force}).SubmitIncidents(ctx, h.Incidents)
		if err != nil || sum.Rejected() > 0 {
			t.Fatalf("submit %s: %v (%d rejected: %v)", force, err, sum.Rejected(), sum.Reasons())
		}
		byTrust := map[string][]*pathwayv1.HealthUpdate{}
		for _, u := range h.HealthUpdates {
			byTrust[u.TrustID] = append(byTrust[u.TrustID], u.Update)
		}
		for trust, ups := range byTrust {
			if _, err := client.New(client.Options{URL: f.info.URL, Token: "token-trust-" + trust}).SubmitHealthUpdates(ctx, ups); err != nil {
				t.Fatalf("submit health updates of %s: %v", trust, err)
			}
		}
	}
	if _, err := f.info.Publish(ctx); err != nil {
		t.Fatalf("publish: %v", err)
	}
	return f
}

// reply is a response, read and closed.
type reply struct {
	StatusCode int
	Status     string
	Header     http.Header
	cookies    []*http.Cookie
}

// Cookies returns the cookies the response sets.
func (r reply) Cookies() []*http.Cookie { return r.cookies }

// get fetches path from the hub with a bearer token ("" for none), without
// following redirects.
func (f *fixture) get(t *testing.T, path, token string) (reply, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.info.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return reply{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, cookies: resp.Cookies()}, body
}

func (f *fixture) listSeries(t *testing.T, token string, req *pathwayv1.ListSeriesRequest) (*pathwayv1.ListSeriesResponse, error) {
	t.Helper()
	c := pathwayv1connect.NewEvidenceServiceClient(http.DefaultClient, f.info.URL)
	r := connect.NewRequest(req)
	r.Header().Set("Authorization", "Bearer "+token)
	resp, err := c.ListSeries(t.Context(), r)
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// TestEvidence runs every evidence test against one hub with simulated
// history: submitting and publishing it is the slow part.
func TestEvidence(t *testing.T) {
	t.Parallel()
	f := startFixture(t)
	t.Run("commissioner's page shows only its boroughs' forces and its measures", func(t *testing.T) {
		t.Parallel()
		testPageScope(t, f)
	})
	t.Run("a national lead's page compares regions", func(t *testing.T) {
		t.Parallel()
		testNationalPage(t, f)
	})
	t.Run("no count from 1 to the threshold is shown", func(t *testing.T) {
		t.Parallel()
		testNoSmallCounts(t, f)
	})
	t.Run("another recipient's evidence is refused", func(t *testing.T) {
		t.Parallel()
		testRefusals(t, f)
	})
	t.Run("login link sets a cookie and redirects", func(t *testing.T) {
		t.Parallel()
		testLoginLink(t, f)
	})
	t.Run("API returns the page's numbers", func(t *testing.T) {
		t.Parallel()
		testAPIMatchesPage(t, f)
	})
	t.Run("pack verifies, and fails once altered", func(t *testing.T) {
		t.Parallel()
		testPack(t, f)
	})
	t.Run("real browser", func(t *testing.T) {
		t.Parallel()
		testBrowser(t, f)
	})
}

var (
	figureID = regexp.MustCompile(`<figure id="spc-([a-z0-9_]+)-([a-z0-9-]+)">`)
	// unitFigureID also matches regions' ONS codes.
	unitFigureID = regexp.MustCompile(`<figure id="spc-([a-z0-9_]+)-([A-Za-z0-9-]+)">`)
	sectionID    = regexp.MustCompile(`<section class="measure" aria-labelledby="([a-z0-9_]+)">`)
	countCell    = regexp.MustCompile(`<td class="(?:suppressed )?count">([^<]*(?:<abbr[^>]*>\[c\]</abbr>)?)</td>`)
)

// testNationalPage: the national lead's page is by region: its columns
// and charts are regions (London, where the simulated forces' incidents
// began) and British Transport Police apart, never the territorial forces,
// and its method says how an incident is placed.
func testNationalPage(t *testing.T, f *fixture) {
	resp, body := f.get(t, "/evidence/npcc_mh_lead", npccToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /evidence/npcc_mh_lead: %s\n%s", resp.Status, body)
	}
	page := string(body)
	charted := map[string]bool{}
	for _, m := range unitFigureID.FindAllStringSubmatch(page, -1) {
		charted[m[2]] = true
	}
	for unit := range charted {
		if unit != "btp" && !strings.HasPrefix(unit, "E12") && !strings.HasPrefix(unit, "W92") {
			t.Errorf("the national lead's page charts %s, which is not a region", unit)
		}
	}
	if !charted["E12000007"] || !charted["btp"] {
		t.Errorf("the national lead's page charts %v; want London (E12000007) and British Transport Police", charted)
	}
	for _, want := range []string{"by measure and region", "Statistical process control by region", "<th scope=\"col\">London</th>",
		"<th scope=\"col\">British Transport Police</th>", "the region where it\nbegan", "national-rcrp"} {
		if !strings.Contains(page, want) {
			t.Errorf("the national lead's page lacks %q", want)
		}
	}
	// Forces appear only where they approve their months: each force signs
	// off its own data, whichever region its incidents count in.
	if !strings.Contains(page, "Which months are approved") {
		t.Error("the national lead's page does not say which months are approved")
	}
	if before, rest, ok := strings.Cut(page, `<section class="months"`); ok {
		_, after, _ := strings.Cut(rest, "</section>")
		page = before + after
	}
	for _, force := range []string{"Metropolitan Police Service", "City of London Police", `id="feed_timeliness"`, `id="ethnic_disparity"`} {
		if strings.Contains(page, force) {
			t.Errorf("the national lead's page shows %q", force)
		}
	}
	// A commissioner may not read it.
	if resp, _ := f.get(t, "/evidence/npcc_mh_lead", nclToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an ICB reading the national lead's evidence: %s", resp.Status)
	}
}

func testPageScope(t *testing.T, f *fixture) {
	resp, body := f.get(t, "/evidence/ncl_icb", nclToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /evidence/ncl_icb: %s\n%s", resp.Status, body)
	}
	page := string(body)
	want := f.forcesIn["ncl_icb"]
	if len(want) == 0 || len(want) == len(simulate.Forces()) {
		t.Fatalf("the simulation puts %v in NCL's boroughs; the test needs some but not every force", want)
	}
	charted := map[string]bool{}
	measuresCharted := map[string]bool{}
	for _, m := range figureID.FindAllStringSubmatch(page, -1) {
		charted[m[2]] = true
		measuresCharted[m[1]] = true
	}
	for force := range charted {
		if !want[force] {
			t.Errorf("the NCL page charts %s, which has no incidents in NCL's boroughs", force)
		}
	}
	for _, force := range simulate.Forces() {
		if !want[force] && strings.Contains(page, ">"+force+"<") {
			t.Errorf("the NCL page names %s", force)
		}
	}
	if !charted["metropolitan"] {
		t.Errorf("the NCL page has no chart of the Met, whose incidents are in its boroughs; charted %v", charted)
	}
	granted := f.grants["ncl_icb"].Measures
	var sections []string
	for _, m := range sectionID.FindAllStringSubmatch(page, -1) {
		sections = append(sections, m[1])
		if !slices.Contains(granted, m[1]) {
			t.Errorf("the NCL page shows measure %s, which its agreement does not grant", m[1])
		}
	}
	if len(sections) < len(granted)/2 || !slices.Contains(sections, "s136_detentions") {
		t.Errorf("the NCL page shows measures %v of the %d granted", sections, len(granted))
	}
	for _, id := range []string{"detention_rate", "police_station_use", "feed_timeliness", "officer_hours_released"} {
		if strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("ungranted measure %s has a section", id)
		}
	}
	for _, want := range []string{"<caption>", "<figcaption>", `role="img"`, "<desc>", "Latest value", "Data cut-off", "Policy revision", "Content hash", "Publication id", "london-rcrp"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func testNoSmallCounts(t *testing.T, f *fixture) {
	for _, c := range []struct{ token, recipient string }{{nclToken, "ncl_icb"}, {nelToken, "nel_icb"}, {londonToken, "london_regional_lead"}} {
		resp, body := f.get(t, "/evidence/"+c.recipient, c.token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", c.recipient, resp.Status)
		}
		threshold := f.grants[c.recipient].Disclosure.Threshold
		var shown, suppressed int
		// Each measure's section: a count of events worth more than one
		// (officer hours per deployment avoided) is checked as events.
		var cells [][2]string // measure id, cell
		sections := sectionID.FindAllStringSubmatchIndex(string(body), -1)
		for i, sec := range sections {
			end := len(body)
			if i+1 < len(sections) {
				end = sections[i+1][0]
			}
			id := string(body[sec[2]:sec[3]])
			for _, m := range countCell.FindAllStringSubmatch(string(body[sec[0]:end]), -1) {
				cells = append(cells, [2]string{id, m[1]})
			}
		}
		for _, idCell := range cells {
			cell := idCell[1]
			m, _ := measures.ByID(idCell[0])
			per := m.PerEvent(measures.DefaultThresholds())
			if strings.Contains(cell, "[c]") {
				suppressed++
				continue
			}
			if cell == "–" {
				continue
			}
			n, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				t.Errorf("%s: count cell %q is not a number", c.recipient, cell)
				continue
			}
			shown++
			events := n / per
			if events >= 1 && events <= float64(threshold) {
				t.Errorf("%s shows a count of %v (%s), inside the suppressed range 1..%d", c.recipient, n, idCell[0], threshold)
			}
			if rb := f.grants[c.recipient].Disclosure.Rounding; rb > 0 && (events != math.Trunc(events) || int(events)%rb != 0) {
				t.Errorf("%s shows a count of %v (%s), not rounded to %d", c.recipient, n, idCell[0], rb)
			}
		}
		if shown == 0 {
			t.Errorf("%s: no count cells found; the check checked nothing", c.recipient)
		}
		t.Logf("%s: %d counts shown, %d suppressed", c.recipient, shown, suppressed)
	}
}

func testRefusals(t *testing.T, f *fixture) {
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"NCL's token on NEL's page", "/evidence/nel_icb", nclToken, http.StatusForbidden},
		{"NCL's token on a supervisors' record share", "/evidence/met_supervisors", nclToken, http.StatusForbidden},
		{"NCL's token on NEL's pack", "/evidence/nel_icb/pack.zip", nclToken, http.StatusForbidden},
		{"NEL may read but not export", "/evidence/nel_icb/pack.zip", nelToken, http.StatusForbidden},
		{"NEL reads its own page", "/evidence/nel_icb", nelToken, http.StatusOK},
		{"no credential", "/evidence/ncl_icb", "", http.StatusUnauthorized},
		{"unknown token", "/evidence/ncl_icb", "not-a-token", http.StatusUnauthorized},
		{"bad period", "/evidence/ncl_icb?from=2026-13", nclToken, http.StatusBadRequest},
		{"period after the last published month", "/evidence/ncl_icb?from=2099-01", nclToken, http.StatusBadRequest},
	} {
		resp, body := f.get(t, c.path, c.token)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %s, want %d", c.name, resp.Status, c.want)
		}
		if c.want == http.StatusForbidden && (strings.Contains(string(body), "<svg class=\"chart") || strings.Contains(string(body), "<table")) {
			t.Errorf("%s: the refusal shows data", c.name)
		}
	}
	_, err := f.listSeries(t, nclToken, &pathwayv1.ListSeriesRequest{Recipient: "nel_icb"})
	if connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("ListSeries of nel_icb with NCL's token: %v, want permission_denied", err)
	}
	resp, body := f.get(t, "/evidence/", nclToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `href="ncl_icb"`) || strings.Contains(string(body), "nel_icb") {
		t.Errorf("index for NCL: %s\n%s", resp.Status, body)
	}

	// Every decision is in the audit table, the refusals too.
	conn, err := chdb.Open(t.Context(), chdb.Options{Addr: srv.Addr(), Database: f.info.Database})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		action, org, recipient string
		allow                  uint8
	}{
		{"read", "icb/QMJ", "nel_icb", 0},
		{"export", "icb/QMJ", "nel_icb", 0},
		{"export", "icb/QMF", "nel_icb", 0},
		{"read", "icb/QMF", "nel_icb", 1},
	} {
		var n uint64
		q := "SELECT count() FROM decisions WHERE action = ? AND org = ? AND recipient = ? AND allow = ?"
		if err := conn.QueryRow(t.Context(), q, c.action, c.org, c.recipient, c.allow).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("no audited decision %+v", c)
		}
	}
}

// loginLink asks the hub for a one-time login link landing on next, as
// `pathwayctl evidence login` does, and returns its path and query.
func (f *fixture) loginLink(t *testing.T, token, next string) string {
	t.Helper()
	link, _, err := login.Request(t.Context(), http.DefaultClient, f.info.URL, token, next)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(link, f.info.URL)
}

// The login link carries a one-time code, never the token: it makes a
// server-side session, works once, leaves nothing secret in the address
// bar, and the session ends at sign-out or when the token is revoked.
func testLoginLink(t *testing.T, f *fixture) {
	link := f.loginLink(t, nclToken, "/evidence/ncl_icb?from=2025-01")
	if strings.Contains(link, nclToken) {
		t.Fatalf("the login link %q carries the token", link)
	}
	resp, _ := f.get(t, link, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login link: %s, want 303", resp.Status)
	}
	if loc := resp.Header.Get("Location"); loc != "/evidence/ncl_icb?from=2025-01" {
		t.Errorf("login link redirects to %q, want the page without its code", loc)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == evidence.CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Value == nclToken {
		t.Fatalf("login cookie %+v, want HttpOnly, SameSite=Strict and a session id", cookie)
	}
	withCookie := func(path string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.info.URL+path, nil)
		req.AddCookie(cookie)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Body.Close()
		return r.StatusCode
	}
	if code := withCookie("/evidence/ncl_icb"); code != http.StatusOK {
		t.Errorf("page with the session cookie: %d", code)
	}
	if again, _ := f.get(t, link, ""); again.StatusCode != http.StatusUnauthorized || len(again.Cookies()) != 0 {
		t.Errorf("the login link used a second time: %s, cookies %v", again.Status, again.Cookies())
	}
	if code := withCookie("/evidence/logout"); code != http.StatusOK {
		t.Errorf("sign out: %d", code)
	}
	if code := withCookie("/evidence/ncl_icb"); code != http.StatusUnauthorized {
		t.Errorf("page with the cookie after sign-out: %d, want 401", code)
	}
	for _, bad := range []string{"/evidence/login?code=forged", "/evidence/ncl_icb?token=" + nclToken} {
		if r, _ := f.get(t, bad, ""); r.StatusCode < 400 || len(r.Cookies()) != 0 {
			t.Errorf("%s: %s, cookies %v", bad, r.Status, r.Cookies())
		}
	}
	// A link cannot send the browser away from the evidence pages.
	away := f.loginLink(t, nclToken, "https://elsewhere.example/")
	if r, _ := f.get(t, away, ""); r.Header.Get("Location") != "/evidence/" {
		t.Errorf("a login link to elsewhere redirects to %q", r.Header.Get("Location"))
	}
}

func testAPIMatchesPage(t *testing.T, f *fixture) {
	api, err := f.listSeries(t, nclToken, &pathwayv1.ListSeriesRequest{Recipient: "ncl_icb"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, "/evidence/ncl_icb", nclToken)
	page := string(body)
	if api.GetProvenance().GetContentHash() == "" || !strings.Contains(page, api.GetProvenance().GetContentHash()) {
		t.Errorf("the page lacks the API's content hash %q", api.GetProvenance().GetContentHash())
	}
	if api.GetDecisionId() == "" {
		t.Error("the API gives no decision id")
	}
	var series int
	for _, m := range api.GetMeasures() {
		if !slices.Contains(f.grants["ncl_icb"].Measures, m.GetId()) {
			t.Errorf("the API returns ungranted measure %s", m.GetId())
		}
		for _, s := range m.GetForces() {
			series++
			id := "spc-" + m.GetId() + "-" + s.GetForce()
			i := strings.Index(page, `<figure id="`+id+`">`)
			if i < 0 {
				t.Errorf("the page has no chart %s", id)
				continue
			}
			fig := page[i : i+strings.Index(page[i:], "</figure>")]
			var last *pathwayv1.SeriesPoint
			for _, p := range s.GetPoints() {
				if p.Value != nil {
					last = p
				}
			}
			if last == nil {
				continue
			}
			if want := "Latest value " + chart.FormatNumber(last.GetValue()); !strings.Contains(fig, want) {
				t.Errorf("chart %s does not say %q", id, want)
			}
			if got := strings.Count(fig, `class="pt `); got != countValues(s) {
				t.Errorf("chart %s plots %d points, the API has %d values", id, got, countValues(s))
			}
		}
	}
	if got := len(figureID.FindAllString(page, -1)); got != series {
		t.Errorf("the page has %d SPC charts, the API %d series", got, series)
	}

	// grpcurl and buf curl can discover the service.
	h2c := &http.Client{Transport: &http.Transport{Protocols: new(http.Protocols)}}
	h2c.Transport.(*http.Transport).Protocols.SetUnencryptedHTTP2(true)
	stream := grpcreflect.NewClient(h2c, f.info.URL, connect.WithGRPC()).NewStream(t.Context())
	defer func() { _, _ = stream.Close() }()
	names, err := stream.ListServices()
	if err != nil || !slices.Contains(names, pathwayv1connect.EvidenceServiceName) {
		t.Errorf("reflection lists %v (%v), want %s", names, err, pathwayv1connect.EvidenceServiceName)
	}
}

func countValues(s *pathwayv1.ForceSeries) int {
	n := 0
	for _, p := range s.GetPoints() {
		if p.Value != nil {
			n++
		}
	}
	return n
}

func testPack(t *testing.T, f *fixture) {
	resp, body := f.get(t, "/evidence/ncl_icb/pack.zip", nclToken)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("pack: %s %s\n%.300s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "pack.zip")
	if err := os.WriteFile(zipPath, body, 0o600); err != nil {
		t.Fatal(err)
	}
	// The hub's public key is served to anyone, without a token.
	keyResp, keyPEM := f.get(t, pack.KeyPath, "")
	if keyResp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", pack.KeyPath, keyResp.Status)
	}
	pub, err := pack.ParsePublicKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	m, err := pack.Verify(zipPath, pub)
	if err != nil {
		t.Fatalf("the unaltered pack fails verification: %v", err)
	}
	if m.SigningKey != pack.KeyID(pub) {
		t.Errorf("manifest names key %s, the hub serves %s", m.SigningKey, pack.KeyID(pub))
	}
	var names []string
	for _, e := range m.Files {
		names = append(names, e.Name)
	}
	for _, want := range []string{"index.html", "measures.csv", "summary.csv", "funnel.csv", "months.csv", "report.pdf"} {
		if !slices.Contains(names, want) {
			t.Errorf("the pack lacks %s (has %v)", want, names)
		}
	}
	if m.Recipient != "ncl_icb" || m.Provenance.ContentHash == "" || m.DecisionID == "" {
		t.Errorf("manifest provenance: %+v", m)
	}

	// The CSV holds the API's numbers, as the page shows them.
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	csvData := readZip(t, zr, "measures.csv")
	api, err := f.listSeries(t, nclToken, &pathwayv1.ListSeriesRequest{Recipient: "ncl_icb", From: m.From, To: m.To})
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	for _, me := range api.GetMeasures() {
		for _, s := range me.GetForces() {
			for _, p := range s.GetPoints() {
				rows++
				if p.Value != nil {
					line := me.GetId() + "," + s.GetForce() + "," + p.GetMonth() + "," + chart.FormatNumber(p.GetValue()) + ","
					if !strings.Contains(csvData, line) {
						t.Errorf("measures.csv lacks %q", line)
					}
				}
			}
		}
	}
	if got := strings.Count(csvData, "\n") - 1; got != rows {
		t.Errorf("measures.csv has %d rows, the API %d points", got, rows)
	}

	for _, alter := range []struct {
		name   string
		change func(files map[string][]byte)
		want   string
	}{
		{"a number changed", func(fs map[string][]byte) {
			fs["measures.csv"] = bytes.Replace(fs["measures.csv"], []byte(",metropolitan,"), []byte(",metropolitan,9"), 1)
		}, "measures.csv"},
		{"a file removed", func(fs map[string][]byte) { delete(fs, "report.pdf") }, "report.pdf: missing"},
		{"a file added", func(fs map[string][]byte) { fs["extra.csv"] = []byte("x\n") }, "extra.csv: not in the manifest"},
		// The forgery the review made: a count changed, and the manifest
		// changed to match, its sums recomputed.
		{"a number and the manifest changed together", func(fs map[string][]byte) {
			fs["measures.csv"] = bytes.Replace(fs["measures.csv"], []byte(",metropolitan,"), []byte(",metropolitan,9"), 1)
			var man pack.Manifest
			if err := json.Unmarshal(fs[pack.ManifestName], &man); err != nil {
				t.Fatal(err)
			}
			for i, e := range man.Files {
				if e.Name == "measures.csv" {
					man.Files[i].SHA256, man.Files[i].Bytes = pack.Sum(fs["measures.csv"]), int64(len(fs["measures.csv"]))
				}
			}
			man.Provenance.Agreement = "another-agreement"
			raw, _ := json.MarshalIndent(man, "", "  ")
			fs[pack.ManifestName] = append(raw, '\n')
		}, "manifest.sig is not the signature"},
		{"the signature removed", func(fs map[string][]byte) { delete(fs, pack.SignatureName) }, "not signed"},
	} {
		files := map[string][]byte{}
		for _, zf := range zr.File {
			files[zf.Name] = []byte(readZip(t, zr, zf.Name))
		}
		alter.change(files)
		altered := filepath.Join(dir, "altered.zip")
		writeZip(t, altered, files)
		_, err := pack.Verify(altered, pub)
		if !errors.Is(err, pack.ErrAltered) || !strings.Contains(err.Error(), alter.want) {
			t.Errorf("%s: verify = %v, want ErrAltered naming %q", alter.name, err, alter.want)
		}
	}

	// Unpacked into a directory: passes, then fails once a byte changes.
	unpacked := filepath.Join(dir, "unpacked")
	if err := os.MkdirAll(unpacked, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if err := os.WriteFile(filepath.Join(unpacked, zf.Name), []byte(readZip(t, zr, zf.Name)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pack.Verify(unpacked, pub); err != nil {
		t.Errorf("unpacked pack: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := pack.Verify(unpacked, other); !errors.Is(err, pack.ErrAltered) {
		t.Errorf("a pack checked against another hub's key: %v", err)
	}
	html := filepath.Join(unpacked, "index.html")
	data, _ := os.ReadFile(html)
	data[len(data)/2] ^= 1
	if err := os.WriteFile(html, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pack.Verify(unpacked, pub); !errors.Is(err, pack.ErrAltered) || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("unpacked pack with index.html altered: %v", err)
	}
}

func readZip(t *testing.T, zr *zip.Reader, name string) string {
	t.Helper()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ctxTimeout is a test context with a deadline.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
