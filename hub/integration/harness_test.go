// Package integration tests the hub end to end: a real ClickHouse server
// started for the run, the hub serving on a loopback port, and the generated
// Connect client speaking real HTTP to it.
package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

var shared *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &shared)) }

// Tokens of the test organisations.
const (
	btpToken   = "token-btp"
	metToken   = "token-met"
	trustToken = "token-trust-rv3"
)

// hub is a running hub under test.
type hub struct {
	info app.Info
	ch   driver.Conn // connection to the hub's raw database
}

// startHub runs a hub against the ClickHouse at chAddr with a fresh database,
// and stops it when the test ends.
func startHub(t *testing.T, chAddr string) *hub {
	t.Helper()
	creds := &auth.Credentials{}
	creds.Add(btpToken, auth.Org{Kind: auth.KindForce, ID: "btp"})
	creds.Add(metToken, auth.Org{Kind: auth.KindForce, ID: "metropolitan"})
	creds.Add(trustToken, auth.Org{Kind: auth.KindTrust, ID: "RV3"})
	creds.Add(ralToken, auth.Org{Kind: auth.KindTrust, ID: "RAL"})
	return startHubWith(t, chAddr, creds)
}

// startHubWith runs a hub with creds and opts against the ClickHouse at
// chAddr, with a connection to its raw database; the database is dropped
// when the test ends.
func startHubWith(t *testing.T, chAddr string, creds *auth.Credentials, opts ...apptest.Option) *hub {
	t.Helper()
	// Registered before the hub's own clean-up, so it runs after the hub
	// has stopped: a hub still running must not see its database go.
	h := &hub{}
	t.Cleanup(func() {
		if h.ch != nil {
			_ = h.ch.Exec(context.WithoutCancel(t.Context()), "DROP DATABASE IF EXISTS "+h.info.Database)
			_ = h.ch.Close()
		}
	})
	h.info = apptest.Start(t, chAddr, creds, opts...)
	conn, err := chdb.Open(t.Context(), chdb.Options{Addr: chAddr, Database: h.info.Database, Username: h.info.ClickHouseUser, Password: h.info.ClickHousePassword})
	if err != nil {
		t.Fatal(err)
	}
	h.ch = conn
	return h
}

func (h *hub) client() pathwayv1connect.IngestServiceClient {
	return pathwayv1connect.NewIngestServiceClient(http.DefaultClient, h.info.URL)
}

func (h *hub) submit(t *testing.T, token string, dryRun bool, recs ...*pathwayv1.IncidentRecord) (*pathwayv1.SubmitIncidentsResponse, error) {
	t.Helper()
	req := connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: recs, DryRun: dryRun})
	if token != "" {
		req.Header().Set("Authorization", "Bearer "+token)
	}
	resp, err := h.client().SubmitIncidents(t.Context(), req)
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

func (h *hub) mustSubmit(t *testing.T, token string, recs ...*pathwayv1.IncidentRecord) *pathwayv1.SubmitIncidentsResponse {
	t.Helper()
	resp, err := h.submit(t, token, false, recs...)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return resp
}

// count runs a count query against the hub's raw database.
func (h *hub) count(t *testing.T, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := h.ch.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// storedIncidents counts distinct stored incidents (one per force and ref).
func (h *hub) storedIncidents(t *testing.T) uint64 {
	t.Helper()
	return h.count(t, "SELECT count() FROM incidents FINAL")
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func ts(s string) *timestamppb.Timestamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

// s136 returns a valid, closed s136 incident with a random reference.
func s136(t testing.TB) *pathwayv1.IncidentRecord {
	t.Helper()
	return &pathwayv1.IncidentRecord{
		SchemaVersion: 1, IncidentRef: randomHex(t, 32), Revision: 1,
		Status:        pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED,
		SubjectToken:  randomHex(t, 32),
		IncidentType:  pathwayv1.IncidentType_INCIDENT_TYPE_S136,
		RcrpCategory:  pathwayv1.RcrpCategory_RCRP_CATEGORY_S136_HANDOVER,
		RcrpThreshold: pathwayv1.RcrpThreshold_RCRP_THRESHOLD_RISK_TO_LIFE_OR_SERIOUS_HARM,
		Disposition:   pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED,
		AgeBand:       pathwayv1.AgeBand_AGE_BAND_25_34, Sex: pathwayv1.Sex_SEX_MALE,
		Ethnicity: pathwayv1.Ethnicity_ETHNICITY_A_WHITE_BRITISH,
		LadCode:   "E09000033", RegionCode: "E12000007",
		FirstPosType: pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT,
		PosOdsOrg:    "RAL", PosOdsSite: "RAL01",
		HcpConsulted:     pathwayv1.HcpConsulted_HCP_CONSULTED_NO_NOT_PRACTICABLE,
		ConveyanceMethod: pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE, AmbulanceRequested: true,
		Timeline: &pathwayv1.Timeline{
			CallReceived: ts("2025-06-01T10:00:00Z"), Deployed: ts("2025-06-01T10:05:00Z"),
			Detained: ts("2025-06-01T10:30:00Z"), AmbulanceRequested: ts("2025-06-01T10:31:00Z"),
			AmbulanceArrived: ts("2025-06-01T10:50:00Z"), ArrivedAtPos: ts("2025-06-01T11:10:00Z"),
			HandoverAccepted: ts("2025-06-01T11:50:00Z"), PoliceLeftPos: ts("2025-06-01T11:55:00Z"),
			DetentionEnded: ts("2025-06-01T16:00:00Z"),
		},
		Outcome: pathwayv1.Outcome_OUTCOME_DISCHARGED_WITH_FOLLOWUP,
	}
}

func statuses(resp *pathwayv1.SubmitIncidentsResponse) string {
	var b strings.Builder
	for i, r := range resp.GetResults() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s", strings.TrimPrefix(r.GetStatus().String(), "RECORD_STATUS_"))
	}
	return b.String()
}
