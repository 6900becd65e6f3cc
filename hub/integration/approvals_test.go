package integration_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/pathwayhub/pathwayhub/hub/web/evidence"
	"github.com/pathwayhub/pathwayhub/ingest/wire"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// approvalsAs is an ApprovalService client that sends token.
func approvalsAs(h *hub, token string) (pathwayv1connect.ApprovalServiceClient, func(connect.AnyRequest)) {
	return pathwayv1connect.NewApprovalServiceClient(http.DefaultClient, h.info.URL), func(r connect.AnyRequest) {
		if token != "" {
			r.Header().Set("Authorization", "Bearer "+token)
		}
	}
}

func approve(t *testing.T, h *hub, token, force, month string) (*pathwayv1.ApproveMonthResponse, error) {
	t.Helper()
	c, auth := approvalsAs(h, token)
	req := connect.NewRequest(&pathwayv1.ApproveMonthRequest{Force: force, Month: month})
	auth(req)
	resp, err := c.ApproveMonth(t.Context(), req)
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

func monthState(t *testing.T, h *hub, token, force, month string) *pathwayv1.MonthApproval {
	t.Helper()
	c, auth := approvalsAs(h, token)
	req := connect.NewRequest(&pathwayv1.ListMonthsRequest{Force: force, From: month, To: month})
	auth(req)
	resp, err := c.ListMonths(t.Context(), req)
	if err != nil || len(resp.Msg.GetMonths()) != 1 {
		t.Fatalf("list %s of %s: %v", month, force, err)
	}
	return resp.Msg.GetMonths()[0]
}

// TestApprovingAMonth: the City of London Police signs off last month.
// No one else can, for it or as it; a retry changes nothing; afterwards a
// record for that month without a revision reason is rejected on that
// field (and nothing stored), one with a reason is stored and the month
// shows as revised after approval; reopened, the month is provisional
// again. Every approval, refusal and reopening is an audited decision.
func TestApprovingAMonth(t *testing.T) {
	t.Parallel()
	h := startSharingHub(t)
	const force = "city-of-london"
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	last := thisMonth.AddDate(0, -1, 0)
	lastText := last.Format("2006-01")
	recs := detentions(t, 9, "E09000001", last.AddDate(0, 0, 4))
	earlier := detentions(t, 4, "E09000001", last.AddDate(0, -1, 4))
	h.mustSubmit(t, cityToken, append(append([]*pathwayv1.IncidentRecord{}, recs...), earlier...)...)

	if m := monthState(t, h, cityToken, force, lastText); m.GetState() != pathwayv1.MonthState_MONTH_STATE_PROVISIONAL || m.GetIncidents() != 9 {
		t.Fatalf("before approval: %v", m)
	}
	// Attacks first.
	for _, a := range []struct {
		token, force, month string
		code                connect.Code
		says                string
	}{
		{metToken, force, lastText, connect.CodePermissionDenied, "city-of-london"},
		{cityToken, "metropolitan", lastText, connect.CodePermissionDenied, "metropolitan"},
		{nclToken, force, lastText, connect.CodePermissionDenied, ""},
		{londonToken, force, lastText, connect.CodePermissionDenied, ""},
		{"", force, lastText, connect.CodeUnauthenticated, ""},
		{cityToken, force, thisMonth.Format("2006-01"), connect.CodeInvalidArgument, "month"},
		{cityToken, force, "2026-13", connect.CodeInvalidArgument, "month"},
		{cityToken, "city-of-london' OR 1=1", lastText, connect.CodeInvalidArgument, "force"},
	} {
		if _, err := approve(t, h, a.token, a.force, a.month); connect.CodeOf(err) != a.code || !strings.Contains(err.Error(), a.says) {
			t.Errorf("%q approving %s of %q: %v, want %s saying %q", a.token, a.month, a.force, err, a.code, a.says)
		}
	}
	c, _ := approvalsAs(h, metToken)
	listReq := connect.NewRequest(&pathwayv1.ListMonthsRequest{Force: force})
	listReq.Header().Set("Authorization", "Bearer "+metToken)
	if _, err := c.ListMonths(t.Context(), listReq); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("the Met listed the City's months: %v", err)
	}
	if n := h.count(t, "SELECT count() FROM approvals"); n != 0 {
		t.Fatalf("refused approvals left %d rows", n)
	}

	resp, err := approve(t, h, cityToken, force, lastText)
	if err != nil {
		t.Fatalf("the City's supervisors approving its last month: %v", err)
	}
	if m := resp.GetMonth(); m.GetState() != pathwayv1.MonthState_MONTH_STATE_APPROVED || resp.GetAlreadyApproved() || m.GetRecipient() != "col_supervisors" || m.GetDecisionId() == "" {
		t.Errorf("after approval: %v", resp)
	}
	again, err := approve(t, h, cityToken, force, lastText)
	if err != nil || !again.GetAlreadyApproved() || again.GetMonth().GetDecisionId() != resp.GetMonth().GetDecisionId() {
		t.Errorf("a retried approval: %v, %v", again, err)
	}
	if n := h.count(t, "SELECT count() FROM approvals"); n != 1 {
		t.Errorf("%d approvals rows after an approval and its retry, want 1", n)
	}
	// The shares mark the month: the regional lead's, and the
	// commissioner's whose districts include the City.
	shared := func(recipient string) string {
		t.Helper()
		h.publish(t)
		var state string
		if err := h.ch.QueryRow(t.Context(), "SELECT state FROM "+h.shareDB(t, recipient)+".month_status WHERE force_id = ? AND month = toDate(?)",
			force, last.Format(time.DateOnly)).Scan(&state); err != nil {
			t.Fatalf("%s's month_status: %v", recipient, err)
		}
		return state
	}
	for _, r := range []string{"london_regional_lead", nelRecipient} {
		if st := shared(r); st != "approved" {
			t.Errorf("%s's share shows the approved month as %q", r, st)
		}
	}
	// The commissioner's evidence page says so too.
	rep, err := evidence.Load(t.Context(), h.ch, h.shareDB(t, nelRecipient), nelRecipient, []string{"s136_detentions"}, evidence.Period{})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := evidence.RenderPage(&page, rep, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "Which months are approved") || !strings.Contains(page.String(), `<td class="approved">approved</td>`) {
		t.Error("the commissioner's evidence page does not mark the approved month")
	}
	if n := h.count(t, "SELECT count() FROM "+h.shareDB(t, "london_regional_lead")+".month_status WHERE force_id = ? AND month = toDate(?) AND state = 'provisional'",
		force, last.AddDate(0, -1, 0).Format(time.DateOnly)); n != 1 {
		t.Error("the month before, not approved, is not shown as provisional")
	}

	// A revision for the approved month without a reason: rejected on
	// the field, nothing stored, on a dry run too.
	rev := proto.Clone(recs[0]).(*pathwayv1.IncidentRecord)
	rev.Revision = 2
	rev.Sex = pathwayv1.Sex_SEX_NOT_KNOWN
	for _, dry := range []bool{true, false} {
		out, err := h.submit(t, cityToken, dry, rev)
		if err != nil {
			t.Fatal(err)
		}
		r := out.GetResults()[0]
		if r.GetStatus() != pathwayv1.RecordStatus_RECORD_STATUS_REJECTED || len(r.GetErrors()) != 1 ||
			r.GetErrors()[0].GetField() != "revision_reason" || r.GetErrors()[0].GetCode() != wire.CodeApprovedMonth {
			t.Errorf("dry run %t: a revision without a reason for an approved month: %v", dry, r)
		}
	}
	if n := h.count(t, "SELECT toUInt64(max(revision)) FROM incidents WHERE incident_ref = ?", rev.GetIncidentRef()); n != 1 {
		t.Errorf("the rejected revision was stored (revision %d)", n)
	}
	// A new incident for an earlier month, not approved, needs none.
	late := detentions(t, 1, "E09000001", last.AddDate(0, -1, 20))
	if out := h.mustSubmit(t, cityToken, late...); out.GetCounts().GetAccepted() != 1 {
		t.Errorf("a record for a month not approved: %v", statuses(out))
	}
	// With a reason it is stored, and the month is revised after approval.
	rev.RevisionReason = pathwayv1.RevisionReason_REVISION_REASON_CORRECTION
	if out := h.mustSubmit(t, cityToken, rev); out.GetCounts().GetUpdated() != 1 {
		t.Fatalf("a revision with a reason for an approved month: %v", statuses(out))
	}
	if n := h.count(t, "SELECT count() FROM incidents WHERE incident_ref = ? AND revision = 2 AND revision_reason = 'correction'", rev.GetIncidentRef()); n != 1 {
		t.Errorf("the revision's reason is not stored")
	}
	if m := monthState(t, h, cityToken, force, lastText); m.GetState() != pathwayv1.MonthState_MONTH_STATE_REVISED_AFTER_APPROVAL || m.GetRevisedAfterApproval() != 1 {
		t.Errorf("after a revision with a reason: %v", m)
	}
	if st := shared("london_regional_lead"); st != "revised_after_approval" {
		t.Errorf("the regional lead's share shows the revised month as %q", st)
	}

	// Reopening: a reason is required; then the month is provisional, and
	// a second reopening has nothing to reopen.
	reopen := func(reason pathwayv1.ReopenReason) error {
		c, auth := approvalsAs(h, cityToken)
		req := connect.NewRequest(&pathwayv1.ReopenMonthRequest{Force: force, Month: lastText, Reason: reason})
		auth(req)
		_, err := c.ReopenMonth(t.Context(), req)
		return err
	}
	if err := reopen(pathwayv1.ReopenReason_REOPEN_REASON_UNSPECIFIED); connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "reason") {
		t.Errorf("reopening without a reason: %v", err)
	}
	if err := reopen(pathwayv1.ReopenReason_REOPEN_REASON_LATE_RECORDS); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if m := monthState(t, h, cityToken, force, lastText); m.GetState() != pathwayv1.MonthState_MONTH_STATE_PROVISIONAL || m.GetReopenReason() != pathwayv1.ReopenReason_REOPEN_REASON_LATE_RECORDS {
		t.Errorf("after reopening: %v", m)
	}
	if st := shared("london_regional_lead"); st != "provisional" {
		t.Errorf("the regional lead's share shows the reopened month as %q", st)
	}
	if err := reopen(pathwayv1.ReopenReason_REOPEN_REASON_OTHER); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("reopening a provisional month: %v", err)
	}
	rev3 := proto.Clone(rev).(*pathwayv1.IncidentRecord)
	rev3.Revision, rev3.RevisionReason = 3, pathwayv1.RevisionReason_REVISION_REASON_UNSPECIFIED
	if out := h.mustSubmit(t, cityToken, rev3); out.GetCounts().GetUpdated() != 1 {
		t.Errorf("a revision without a reason for a reopened month: %v", statuses(out))
	}

	// Every decision is in the audit: allowed and refused.
	waitFor(t, "the approval decisions in the audit", func() bool {
		return h.count(t, "SELECT count() FROM decisions WHERE action IN ('approve', 'reopen') AND allow = 1") == 4 &&
			h.count(t, "SELECT count() FROM decisions WHERE action = 'approve' AND allow = 0") == 4
	})
}
