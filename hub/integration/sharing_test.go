package integration_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
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
	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	"github.com/pathwayhub/pathwayhub/ingest/wire"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Tokens of the readers and the other submitters of the example agreements.
const (
	cityToken     = "token-city"
	ralToken      = "token-trust-ral"
	nclToken      = "token-icb-ncl"
	nelToken      = "token-icb-nel"
	londonToken   = "token-region-london"
	nclRecipient  = "ncl_icb"
	nelRecipient  = "nel_icb"
	camden        = "E09000007" // North Central London
	hackney       = "E09000012" // North East London
	metSupervisor = "met_supervisors"
)

// sharingCreds are credentials for every organisation the tests play.
func sharingCreds() *auth.Credentials {
	creds := &auth.Credentials{}
	creds.Add(btpToken, auth.Org{Kind: auth.KindForce, ID: "btp"})
	creds.Add(metToken, auth.Org{Kind: auth.KindForce, ID: "metropolitan"})
	creds.Add(cityToken, auth.Org{Kind: auth.KindForce, ID: "city-of-london"})
	creds.Add(trustToken, auth.Org{Kind: auth.KindTrust, ID: "RV3"})
	creds.Add(ralToken, auth.Org{Kind: auth.KindTrust, ID: "RAL"})
	creds.Add(nclToken, auth.Org{Kind: auth.KindICB, ID: "QMJ"})
	creds.Add(nelToken, auth.Org{Kind: auth.KindICB, ID: "QMF"})
	creds.Add(londonToken, auth.Org{Kind: auth.KindRegion, ID: "london"})
	return creds
}

// startSharingHub runs a hub with every test credential and the given
// options on the shared ClickHouse, and a connection to its raw database.
func startSharingHub(t *testing.T, opts ...apptest.Option) *hub {
	t.Helper()
	return startSharingHubOn(t, shared, opts...)
}

// startSharingHubOn is startSharingHub on the ClickHouse server srv.
func startSharingHubOn(t *testing.T, srv *chserver.Server, opts ...apptest.Option) *hub {
	t.Helper()
	return startHubWith(t, srv.Addr(), sharingCreds(), opts...)
}

// shareDB is the share database of recipient on hub h.
func (h *hub) shareDB(t *testing.T, recipient string) string {
	t.Helper()
	db := h.info.SharePrefix + recipient
	if n := h.count(t, "SELECT count() FROM system.databases WHERE name = ?", db); n != 1 {
		t.Fatalf("share database %s does not exist", db)
	}
	return db
}

func (h *hub) publish(t *testing.T) {
	t.Helper()
	if _, err := h.info.Publish(t.Context()); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// detentions returns n closed s136 detentions in lad, detained on day,
// consulted or not by turn, conveyed by ambulance.
func detentions(t *testing.T, n int, lad string, day time.Time) []*pathwayv1.IncidentRecord {
	t.Helper()
	out := make([]*pathwayv1.IncidentRecord, n)
	for i := range out {
		r := s136(t)
		r.LadCode = lad
		shift := func(ts string) string {
			parsed, _ := time.Parse(time.RFC3339, ts)
			return parsed.Add(day.Sub(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))).Format(time.RFC3339)
		}
		tl := r.GetTimeline()
		tl.CallReceived, tl.Deployed, tl.Detained = ts(shift("2025-06-01T10:00:00Z")), ts(shift("2025-06-01T10:05:00Z")), ts(shift("2025-06-01T10:30:00Z"))
		tl.AmbulanceRequested, tl.AmbulanceArrived = ts(shift("2025-06-01T10:31:00Z")), ts(shift("2025-06-01T10:50:00Z"))
		tl.ArrivedAtPos, tl.HandoverAccepted = ts(shift("2025-06-01T11:10:00Z")), ts(shift("2025-06-01T11:50:00Z"))
		tl.PoliceLeftPos, tl.DetentionEnded = ts(shift("2025-06-01T11:55:00Z")), ts(shift("2025-06-01T16:00:00Z"))
		if i%3 == 0 {
			r.HcpConsulted = pathwayv1.HcpConsulted_HCP_CONSULTED_YES
		}
		out[i] = r
	}
	return out
}

// lastMonth is a day in the previous complete month.
func lastMonth() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 9)
}

func access(t *testing.T, h *hub, token string) *pathwayv1.DescribeAccessResponse {
	t.Helper()
	c := pathwayv1connect.NewAccessServiceClient(http.DefaultClient, h.info.URL)
	req := connect.NewRequest(&pathwayv1.DescribeAccessRequest{})
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := c.DescribeAccess(t.Context(), req)
	if err != nil {
		t.Fatalf("describe access: %v", err)
	}
	return resp.Msg
}

func TestCommissionerCannotObtainRecords(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	if got := statuses(h.mustSubmit(t, metToken, detentions(t, 20, camden, lastMonth())...)); strings.Count(got, "ACCEPTED") != 20 {
		t.Fatalf("submit: %s", got)
	}
	h.publish(t)

	// The API: what the commissioner may see is aggregate only, and the
	// ingest API (the only other one) refuses it outright.
	got := access(t, h, nclToken)
	if len(got.GetRead()) == 0 {
		t.Fatal("the commissioner has no read grant at all")
	}
	for _, g := range got.GetRead() {
		if g.GetGranularity() != "aggregate" || len(g.GetFields()) != 0 {
			t.Errorf("commissioner grant %s is %s with fields %v", g.GetRecipient(), g.GetGranularity(), g.GetFields())
		}
	}
	if len(got.GetSubmit()) != 0 {
		t.Errorf("a commissioner may submit: %v", got.GetSubmit())
	}
	_, err := h.submit(t, nclToken, false, s136(t))
	if connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("commissioner submit: %v, want permission_denied", err)
	}
	for _, svc := range []string{pathwayv1connect.IngestServiceName, pathwayv1connect.AccessServiceName} {
		if !strings.HasPrefix(svc, "pathway.v1.") {
			t.Errorf("unexpected service %s", svc)
		}
	}

	// The share: no table of the commissioner's database has a column that
	// identifies an incident or a person, and the measures cover only its
	// own boroughs' data.
	db := h.shareDB(t, nclRecipient)
	rows, err := h.ch.Query(t.Context(), "SELECT table, name FROM system.columns WHERE database = ?", db)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		tables[table] = true
		if slices.Contains([]string{"incident_ref", "subject_token", "payload", "lad_code", "call_received"}, col) {
			t.Errorf("commissioner share %s.%s has record column %s", db, table, col)
		}
	}
	rows.Close()
	for _, want := range []string{"measures", "spc_summary", "funnel", "catalogue", "publication"} {
		if !tables[want] {
			t.Errorf("commissioner share lacks table %s (has %v)", want, tables)
		}
	}
	if n := h.count(t, "SELECT count() FROM "+db+".measures WHERE measure_id = 's136_detentions' AND value = 20"); n != 1 {
		t.Errorf("Camden's 20 detentions appear %d times in the NCL share, want once", n)
	}
	// North East London's commissioner does not see Camden's detentions.
	if n := h.count(t, "SELECT count() FROM "+h.shareDB(t, nelRecipient)+".measures WHERE measure_id = 's136_detentions' AND value > 0"); n != 0 {
		t.Errorf("NEL share has %d detention cells from outside its boroughs", n)
	}
}

func TestShareUserIsConfinedToItsDatabase(t *testing.T) {
	t.Parallel()
	// A server of its own: loading a users file reloads every user, which
	// is no business of the other tests' connections.
	srv := chservertest.Start(t)
	var usersFile string
	h := startSharingHubOn(t, srv, apptest.WithConfig(func(c *config.Config) {
		usersFile = filepath.Join(srv.UsersDir(), c.Shares.Prefix+"users.xml")
		c.Shares.UsersFile = usersFile
	}))
	t.Cleanup(func() { _ = os.Remove(usersFile) })
	h.mustSubmit(t, metToken, detentions(t, 10, camden, lastMonth())...)
	h.publish(t)
	written, err := os.Stat(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	// The same users again: the file, whose every change makes ClickHouse
	// reload all users, is left alone.
	h.publish(t)
	if again, err := os.Stat(usersFile); err != nil || !again.ModTime().Equal(written.ModTime()) {
		t.Errorf("an unchanged users file was rewritten (%v then %v, %v)", written.ModTime(), again.ModTime(), err)
	}

	own, other := h.shareDB(t, nclRecipient), h.shareDB(t, nelRecipient)
	passwords := map[string]string{}
	raw, err := os.ReadFile(h.info.PasswordsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &passwords); err != nil {
		t.Fatal(err)
	}
	// ClickHouse re-reads users.d by itself, within a few seconds.
	var conn interface {
		Exec(ctx context.Context, q string, args ...any) error
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := chdb.Open(t.Context(), chdb.Options{Addr: srv.Addr(), Username: own, Password: passwords[nclRecipient], Database: own})
		if err == nil {
			conn = c
			t.Cleanup(func() { _ = c.Close() })
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the commissioner's ClickHouse user never became usable: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := conn.Exec(t.Context(), "SELECT count() FROM "+own+".measures"); err != nil {
		t.Fatalf("the commissioner cannot read its own share: %v", err)
	}
	refused := map[string]string{
		"raw database":        "SELECT count() FROM " + h.info.Database + ".incidents",
		"another share":       "SELECT count() FROM " + other + ".measures",
		"remote() to raw":     fmt.Sprintf("SELECT count() FROM remote('%s', %s.incidents)", srv.Addr(), h.info.Database),
		"merge() over raw":    fmt.Sprintf("SELECT count() FROM merge('%s', '.*')", h.info.Database),
		"url() table func":    "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')",
		"insert into a share": "INSERT INTO " + own + ".catalogue (measure_id) SELECT 'x'",
		"create a table":      "CREATE TABLE " + own + ".z (x UInt8) ENGINE = Memory",
	}
	for what, q := range refused {
		if err := conn.Exec(t.Context(), q); err == nil {
			t.Errorf("%s: %q succeeded for the commissioner", what, q)
		}
	}
	// Bounded: a recipient's query cannot return, read or hold without
	// limit, nor raise its limits.
	limited := map[string]struct{ q, want string }{
		"too many rows":     {fmt.Sprintf("SELECT arrayJoin(range(%d))", share.ReaderMaxResultRows*2), "Limit for result"},
		"too much memory":   {"SELECT length(groupArray(toString(x))) FROM (SELECT arrayJoin(range(20000000)) AS x)", "emory limit"},
		"raising the limit": {"SELECT 1 SETTINGS max_memory_usage = 0", "readonly"},
	}
	for what, c := range limited {
		err := conn.Exec(t.Context(), c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q gave %v, want an error about %q", what, c.q, err, c.want)
		}
	}
}

func TestNoSmallCountsInShares(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	month := lastMonth()
	h.mustSubmit(t, metToken, detentions(t, 23, camden, month)...)                  // published, rounded
	h.mustSubmit(t, metToken, detentions(t, 4, camden, month.AddDate(0, -1, 0))...) // suppressed
	h.mustSubmit(t, cityToken, detentions(t, 9, "E09000001", month)...)
	h.mustSubmit(t, btpToken, detentions(t, 12, hackney, month)...)
	h.publish(t)

	checked, suppressed := 0, 0
	for _, r := range []string{"london_regional_lead", nclRecipient, nelRecipient} {
		db := h.shareDB(t, r)
		threshold, base := h.disclosure(t, db)
		rows, err := h.ch.Query(t.Context(), `SELECT m.measure_id, c.kind, m.value, m.numerator, m.denominator, m.suppressed
			FROM `+db+`.measures AS m ANY LEFT JOIN (SELECT measure_id, kind FROM `+db+`.catalogue) AS c USING (measure_id)`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, kind string
			var value, num, den *float64
			var sup uint8
			if err := rows.Scan(&id, &kind, &value, &num, &den, &sup); err != nil {
				t.Fatal(err)
			}
			var counts []*float64
			switch kind {
			case "count":
				counts = []*float64{value, num, den}
			case "proportion":
				counts = []*float64{num, den}
			case "rate", "ratio":
				counts = []*float64{num}
			case "median":
				counts = []*float64{den}
			default:
				t.Errorf("%s: unknown kind %q", id, kind)
			}
			for _, c := range counts {
				if c == nil {
					continue
				}
				checked++
				if *c >= 1 && *c <= float64(threshold) {
					t.Errorf("%s %s: published count %v is within 1..%d", db, id, *c, threshold)
				}
				if int64(*c)%int64(base) != 0 || *c != float64(int64(*c)) {
					t.Errorf("%s %s: published count %v is not a multiple of %d", db, id, *c, base)
				}
			}
			if sup == 1 {
				suppressed++
				if value != nil {
					t.Errorf("%s %s: suppressed cell has value %v", db, id, *value)
				}
			}
		}
		rows.Close()
	}
	if checked == 0 || suppressed == 0 {
		t.Fatalf("the test checked %d counts and saw %d suppressed cells: the data did not exercise disclosure control", checked, suppressed)
	}
}

// disclosure reads the threshold and rounding base a share was published
// with.
func (h *hub) disclosure(t *testing.T, db string) (threshold, base uint32) {
	t.Helper()
	if err := h.ch.QueryRow(t.Context(), "SELECT disclosure_threshold, rounding_base FROM "+db+".publication").Scan(&threshold, &base); err != nil {
		t.Fatal(err)
	}
	if threshold == 0 || base == 0 {
		t.Fatalf("%s published with threshold %d and base %d", db, threshold, base)
	}
	return threshold, base
}

// writeAgreements writes one agreements file into a new directory.
func writeAgreements(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const expiredAgreement = `agreements:
  - id: expired-dsa
    title: An agreement that has run out
    version: "1"
    controllers: [force/btp]
    datasets: [incidents]
    valid_from: 2024-01-01
    valid_until: 2025-12-31
    retention: 3 years
    recipients:
      - id: old_lead
        org: region/london
        role: regional_lead
        purpose: Comparing forces' s136 pathways
        scope: {regions: [E12000007]}
        granularity: aggregate
        measures: [s136_detentions]
        disclosure: {threshold: 7, rounding: 5}
`

func TestExpiredAgreementStopsSubmissionAndPublication(t *testing.T) {
	t.Parallel()
	dir := writeAgreements(t, expiredAgreement)
	h := startSharingHub(t, apptest.WithConfig(func(c *config.Config) { c.Agreements = dir }))

	resp := h.mustSubmit(t, btpToken, detentions(t, 3, hackney, lastMonth())...)
	for _, r := range resp.GetResults() {
		if r.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED || len(r.GetErrors()) == 0 ||
			r.GetErrors()[0].GetCode() != wire.CodePolicyDenied ||
			!strings.Contains(r.GetErrors()[0].GetMessage(), "expired-dsa") || !strings.Contains(r.GetErrors()[0].GetMessage(), "2025-12-31") {
			t.Fatalf("submission under an expired agreement: %v", r)
		}
	}
	if n := h.storedIncidents(t); n != 0 {
		t.Errorf("%d incidents stored under an expired agreement", n)
	}
	rep, err := h.info.Publish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Published) != 0 {
		t.Errorf("published under an expired agreement: %+v", rep.Published)
	}
	if reasons := rep.Withdrawn["old_lead"]; len(reasons) == 0 || !strings.Contains(strings.Join(reasons, " "), "2025-12-31") {
		t.Errorf("withdrawal reasons %v do not name the expiry date", reasons)
	}
	if n := h.count(t, "SELECT count() FROM system.databases WHERE endsWith(name, '_old_lead')"); n != 0 {
		t.Errorf("the expired recipient still has %d share databases", n)
	}
	if n := h.count(t, "SELECT count() FROM publications WHERE recipient = 'old_lead'"); n != 0 {
		t.Errorf("%d publications logged for the expired recipient", n)
	}
}

// submitHealthUpdate sends, as token, one Met health update for incident ref
// naming the place-of-safety site, and returns its result.
func (h *hub) submitHealthUpdate(t *testing.T, token, ref, site string) *pathwayv1.RecordResult {
	t.Helper()
	up := &pathwayv1.HealthUpdate{
		SchemaVersion: 1, ForceId: "metropolitan", IncidentRef: ref, Revision: 1, PosOdsSite: site,
		HandoverAccepted: ts("2025-06-01T11:48:00Z"), Outcome: pathwayv1.Outcome_OUTCOME_INFORMAL_ADMISSION,
	}
	req := connect.NewRequest(&pathwayv1.SubmitHealthUpdatesRequest{Updates: []*pathwayv1.HealthUpdate{up}})
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := h.client().SubmitHealthUpdates(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Msg.GetResults()[0]
}

func TestTrustCannotUpdateAnotherTrustsIncident(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	rec := s136(t) // its place of safety is RAL's emergency department
	h.mustSubmit(t, metToken, rec)
	send := func(token, site string) *pathwayv1.RecordResult {
		return h.submitHealthUpdate(t, token, rec.GetIncidentRef(), site)
	}
	got := send(trustToken, "RV3AA") // RV3 claims it with its own site code
	if got.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED || got.GetErrors()[0].GetCode() != wire.CodePolicyDenied ||
		got.GetErrors()[0].GetField() != "incident_ref" {
		t.Fatalf("RV3 updating RAL's incident: %v", got)
	}
	if n := h.count(t, "SELECT count() FROM health_updates"); n != 0 {
		t.Fatalf("%d health updates stored from the wrong trust", n)
	}
	// Its own incident, but naming another trust's site: refused, naming
	// the field.
	if got := send(ralToken, "RV3AA"); got.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED ||
		got.GetErrors()[0].GetField() != "pos_ods_site" {
		t.Fatalf("RAL naming RV3's site: %v", got)
	}
	if got := send(ralToken, "RAL01"); got.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED {
		t.Fatalf("RAL updating its own incident: %v", got)
	}
}

// A trust probing incident references learns nothing from a refusal: the
// rejection of an update to another trust's incident reads exactly like
// that of an update to an incident that does not exist.
func TestRejectionDoesNotTellWhetherAnIncidentExists(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	rec := s136(t) // its place of safety is RAL's emergency department
	h.mustSubmit(t, metToken, rec)
	send := func(ref string) *pathwayv1.FieldViolation {
		r := h.submitHealthUpdate(t, trustToken, ref, "RV3AA")
		if r.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED || len(r.GetErrors()) != 1 {
			t.Fatalf("update of %s: %v", ref, r)
		}
		return r.GetErrors()[0]
	}
	decision := regexp.MustCompile(`\(decision [^)]*\)`)
	other, unknown := send(rec.GetIncidentRef()), send(randomHex(t, 32))
	if other.GetCode() != unknown.GetCode() || other.GetField() != unknown.GetField() ||
		decision.ReplaceAllString(other.GetMessage(), "") != decision.ReplaceAllString(unknown.GetMessage(), "") {
		t.Errorf("another trust's incident: %v\nan unknown incident:    %v", other, unknown)
	}
	if !strings.Contains(other.GetMessage(), "not yours to update") || strings.Contains(other.GetMessage(), "RAL") {
		t.Errorf("message %q: want \"not yours to update\" and no word of who holds it", other.GetMessage())
	}
}

func TestEveryDecisionIsAudited(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	h.mustSubmit(t, metToken, detentions(t, 8, camden, lastMonth())...)
	if _, err := h.submit(t, nclToken, false, s136(t)); connect.CodeOf(err) != connect.CodePermissionDenied { // refused before policy: not a force
		t.Fatalf("commissioner submit: %v", err)
	}
	h.publish(t)
	ids := access(t, h, londonToken).GetDecisionIds()
	ids = append(ids, access(t, h, btpToken).GetDecisionIds()...)

	// The hub's own publisher may be deciding in the background (it publishes
	// at start and shortly after ingest), so compare counts only when the
	// decision counter reads the same before and after the audit count.
	var decided float64
	var audited uint64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		decided = metricSum(t, h, "pathwayhub_policy_decisions_total")
		audited = h.count(t, "SELECT count() FROM decisions")
		if metricSum(t, h, "pathwayhub_policy_decisions_total") == decided && float64(audited) == decided || time.Now().After(deadline) {
			break
		}
	}
	if decided == 0 {
		t.Fatal("no policy decisions were counted")
	}
	if float64(audited) != decided {
		t.Errorf("%v decisions made, %d audit rows", decided, audited)
	}
	for _, id := range ids {
		if n := h.count(t, "SELECT count() FROM decisions WHERE decision_id = ?", id); n != 1 {
			t.Errorf("decision %s has %d audit rows", id, n)
		}
	}
	if n := h.count(t, "SELECT count() FROM publications AS p WHERE decision_id NOT IN (SELECT decision_id FROM decisions)"); n != 0 {
		t.Errorf("%d publications rest on unaudited decisions", n)
	}
	if n := h.count(t, "SELECT count() FROM decisions WHERE policy_revision = '' OR decision_id = ''"); n != 0 {
		t.Errorf("%d audit rows lack a revision or id", n)
	}
}

func TestBrokenAgreementOnReloadKeepsThePolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := apptest.ExampleAgreements(t)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := startSharingHub(t, apptest.WithConfig(func(c *config.Config) { c.Agreements = dir }))
	before := h.info.Policy.Revision()

	// A typo in a new file: the watcher tries to reload and fails.
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("agreements:\n  - id: broken\n    controllers: [force/BTP]\n    valid_until: soon\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for metricValue(t, h, `pathwayhub_policy_reloads_total{outcome="failure"}`) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the watcher never tried the broken bundle")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := h.info.Policy.Reload(t.Context()); err == nil {
		t.Fatal("reloading a broken bundle succeeded")
	}
	if after := h.info.Policy.Revision(); after != before {
		t.Fatalf("revision changed from %s to %s after a failed reload", before, after)
	}
	if got := statuses(h.mustSubmit(t, btpToken, s136(t))); got != "ACCEPTED" {
		t.Errorf("submission after a failed reload: %s", got)
	}
	if len(access(t, h, nclToken).GetRead()) == 0 {
		t.Error("the commissioner lost its grant after a failed reload")
	}
	if metricValue(t, h, `pathwayhub_policy_revision_info{revision="`+before+`"}`) != 1 {
		t.Error("the revision metric does not show the revision in force")
	}
}

// metricSum adds up every sample of a metric family on the hub's /metrics.
func metricSum(t *testing.T, h *hub, name string) float64 {
	t.Helper()
	var sum float64
	for _, line := range metricLines(t, h) {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			sum += v
		}
	}
	return sum
}

// metricValue returns one sample (name with labels exactly as exposed), or 0.
func metricValue(t *testing.T, h *hub, series string) float64 {
	t.Helper()
	for _, line := range metricLines(t, h) {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, series)), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
}

func metricLines(t *testing.T, h *hub) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.info.MetricsURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestAccessDescribesWhatEachCallerMaySubmitAndSee(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	recipients := func(r *pathwayv1.DescribeAccessResponse) []string {
		var out []string
		for _, g := range r.GetRead() {
			out = append(out, g.GetRecipient()+":"+g.GetGranularity())
		}
		slices.Sort(out)
		return out
	}
	submits := func(r *pathwayv1.DescribeAccessResponse) []string {
		var out []string
		for _, s := range r.GetSubmit() {
			out = append(out, fmt.Sprintf("%s/%s:%t", s.GetDataset(), s.GetForce(), s.GetAllowed()))
		}
		return out
	}
	btp := access(t, h, btpToken)
	if got, want := recipients(btp), []string{"btp_national_analysts:aggregate", "btp_supervisors:record"}; !slices.Equal(got, want) {
		t.Errorf("btp reads %v, want %v", got, want)
	}
	if got, want := submits(btp), []string{"incidents/btp:true"}; !slices.Equal(got, want) {
		t.Errorf("btp submits %v, want %v", got, want)
	}
	for _, g := range btp.GetRead() {
		if g.GetRecipient() == "btp_supervisors" && (!slices.Equal(g.GetForces(), []string{"btp"}) || len(g.GetFields()) == 0) {
			t.Errorf("btp supervisors' grant: forces %v, fields %v", g.GetForces(), g.GetFields())
		}
		if g.GetShareDatabase() != h.info.SharePrefix+g.GetRecipient() {
			t.Errorf("share database %q for %s", g.GetShareDatabase(), g.GetRecipient())
		}
	}
	ral := access(t, h, ralToken)
	if got, want := submits(ral), []string{"health_updates/btp:true", "health_updates/city-of-london:true", "health_updates/metropolitan:true"}; !slices.Equal(got, want) {
		t.Errorf("RAL submits %v, want %v", got, want)
	}
	if len(ral.GetRead()) != 0 {
		t.Errorf("a trust reads %v", recipients(ral))
	}
	lead := access(t, h, londonToken)
	if got, want := recipients(lead), []string{"london_regional_lead:aggregate"}; !slices.Equal(got, want) {
		t.Errorf("the London lead reads %v, want %v", got, want)
	}
	if lead.GetPolicyRevision() != h.info.Policy.Revision() || len(lead.GetDecisionIds()) != 1 {
		t.Errorf("revision %q (want %q), decisions %v", lead.GetPolicyRevision(), h.info.Policy.Revision(), lead.GetDecisionIds())
	}
}

func TestSPCLimitsRestartAtARebaseDate(t *testing.T) {
	t.Parallel()
	last := lastMonth()
	first := last.AddDate(0, -5, 0)
	change := time.Date(first.Year(), first.Month()+3, 1, 0, 0, 0, 0, time.UTC) // the fourth month
	h := startSharingHub(t, apptest.WithConfig(func(c *config.Config) { c.Shares.SPCRebase = []time.Time{change} }))
	for i, n := range []int{30, 32, 31, 60, 61, 59} { // a step up at the change
		h.mustSubmit(t, metToken, detentions(t, n, camden, first.AddDate(0, i, 0))...)
	}
	h.publish(t)
	db := h.shareDB(t, nclRecipient)
	rows, err := h.ch.Query(t.Context(), "SELECT month, spc_mean FROM "+db+".measures WHERE measure_id = 's136_detentions' AND force_id = 'metropolitan' ORDER BY month")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	means := map[bool][]float64{} // after the change → means
	for rows.Next() {
		var month time.Time
		var mean *float64
		if err := rows.Scan(&month, &mean); err != nil {
			t.Fatal(err)
		}
		if mean == nil {
			t.Fatalf("%s has no SPC mean", month)
		}
		after := !month.Before(change)
		means[after] = append(means[after], *mean)
	}
	if len(means[false]) != 3 || len(means[true]) != 3 {
		t.Fatalf("months before/after the change: %d/%d", len(means[false]), len(means[true]))
	}
	// SPC runs on the published (rounded) counts, 30 30 30 and 60 60 60,
	// so its centre lines say nothing the values do not: 30 before, 60
	// after (the unrounded counts would give 31 and 60).
	for after, want := range map[bool]float64{false: 30, true: 60} {
		for _, m := range means[after] {
			if m != want {
				t.Errorf("after=%t: SPC mean %v, want %v", after, m, want)
			}
		}
	}
}

// TestFirstPublishedMonthSeesTheYearBefore publishes three months and checks
// the first of them in full: its detentions are all counted, and so are the
// repeats of people detained half a year before the published window, which
// the publication's snapshot must keep although those months are not
// published. Detentions older than a year before the window count nowhere.
func TestFirstPublishedMonthSeesTheYearBefore(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t, apptest.WithConfig(func(c *config.Config) { c.Shares.Months = 3 }))
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	counted := detentions(t, 10, camden, first.AddDate(0, 0, 9))
	earlier := detentions(t, 10, camden, first.AddDate(0, -6, 9))
	for i := range earlier {
		earlier[i].SubjectToken = counted[i].GetSubjectToken()
	}
	h.mustSubmit(t, metToken, append(append(counted, earlier...), detentions(t, 10, camden, first.AddDate(-2, 0, 9))...)...)
	h.publish(t)

	db := h.shareDB(t, "london_regional_lead")
	got := map[string]string{}
	rows, err := h.ch.Query(t.Context(), "SELECT measure_id, numerator, denominator FROM "+db+".measures "+
		"WHERE force_id = 'metropolitan' AND month = toDate(?) AND measure_id IN ('s136_detentions', 'repeat_detention')", first.Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var num, den *float64
		if err := rows.Scan(&id, &num, &den); err != nil {
			t.Fatal(err)
		}
		if num == nil || den == nil {
			t.Fatalf("%s in %s is suppressed", id, first.Format("2006-01"))
		}
		got[id] = fmt.Sprintf("%g/%g", *num, *den)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"s136_detentions": "10/10", "repeat_detention": "10/10"}; !maps.Equal(got, want) {
		t.Errorf("%s in the share: %v, want %v", first.Format("2006-01"), got, want)
	}
	if n := h.count(t, "SELECT count() FROM "+db+".measures WHERE measure_id = 's136_detentions' AND month < toDate(?)", first.Format(time.DateOnly)); n != 0 {
		t.Errorf("%d rows published for months before the window", n)
	}
}

// /metrics carries per-force live counts that only supervisors and
// operators may see: it is not served where recipients call the API, but on
// a listener of its own, on loopback unless configured otherwise.
func TestMetricsAreServedApartFromTheAPI(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	get := func(url string) (int, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+nclToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	if code, body := get(h.info.URL + "/metrics"); code == http.StatusOK || strings.Contains(body, "pathwayhub_live_") {
		t.Errorf("the API listener serves /metrics to a commissioner: %d", code)
	}
	code, body := get(h.info.MetricsURL + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "pathwayhub_ingest") {
		t.Errorf("the metrics listener: %d", code)
	}
	// One namespace: every family the hub registers is pathwayhub_*, beside
	// the Go client's own go_*, process_* and promhttp_*.
	for _, l := range strings.Split(body, "\n") {
		name, ok := strings.CutPrefix(l, "# TYPE ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		if !strings.HasPrefix(name, "pathwayhub_") && !strings.HasPrefix(name, "go_") &&
			!strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "promhttp_") {
			t.Errorf("metric %s is outside the pathwayhub_ namespace", name)
		}
	}
	if host, _, _ := net.SplitHostPort(config.Default().MetricsListen); host != "127.0.0.1" {
		t.Errorf("/metrics listens on %q by default, want loopback", config.Default().MetricsListen)
	}
}
