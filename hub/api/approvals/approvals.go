package approvals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/policy"
	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Policy decides what an organisation may do.
type Policy interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
}

// Service implements pathwayv1connect.ApprovalServiceHandler.
type Service struct {
	store     *store.Store
	policy    Policy
	changed   func()
	now       func() time.Time
	logger    *slog.Logger
	validator protovalidate.Validator
}

var _ pathwayv1connect.ApprovalServiceHandler = (*Service)(nil)

// New returns a Service over st, deciding with p; now is the clock (nil:
// time.Now). changed, when non-nil, is called after a month's state
// changed (the publishers are nudged: the shares mark each month).
func New(st *store.Store, p Policy, now func() time.Time, logger *slog.Logger, changed func()) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	v, err := protovalidate.New(protovalidate.WithMessages(&pathwayv1.ApproveMonthRequest{}, &pathwayv1.ReopenMonthRequest{}, &pathwayv1.ListMonthsRequest{}))
	if err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	return &Service{store: st, policy: p, changed: changed, now: now, logger: logger.With("component", "approvals"), validator: v}, nil
}

// Handler returns the Connect path and handler, with opts (the
// authentication interceptor).
func (s *Service) Handler(opts ...connect.HandlerOption) (string, http.Handler) {
	return pathwayv1connect.NewApprovalServiceHandler(s, opts...)
}

// ApproveMonth signs off a complete month, or returns the approval in force.
func (s *Service) ApproveMonth(ctx context.Context, req *connect.Request[pathwayv1.ApproveMonthRequest]) (*connect.Response[pathwayv1.ApproveMonthResponse], error) {
	month, d, err := s.begin(ctx, req.Msg, policy.ActionApprove, req.Msg.GetForce(), req.Msg.GetMonth())
	if err != nil {
		return nil, err
	}
	force := req.Msg.GetForce()
	current, err := s.store.ApprovedMonths(ctx, force)
	if err != nil {
		return nil, s.unavailable(err)
	}
	_, already := current[month]
	if !already {
		if err := s.record(ctx, approval(force, month, store.ApprovalApproved, s.now(), d, "")); err != nil {
			return nil, s.unavailable(err)
		}
	}
	m, err := s.state(ctx, force, month)
	if err != nil {
		return nil, s.unavailable(err)
	}
	return connect.NewResponse(&pathwayv1.ApproveMonthResponse{Month: m, AlreadyApproved: already}), nil
}

// ReopenMonth makes an approved month provisional again.
func (s *Service) ReopenMonth(ctx context.Context, req *connect.Request[pathwayv1.ReopenMonthRequest]) (*connect.Response[pathwayv1.ReopenMonthResponse], error) {
	month, d, err := s.begin(ctx, req.Msg, policy.ActionReopen, req.Msg.GetForce(), req.Msg.GetMonth())
	if err != nil {
		return nil, err
	}
	force := req.Msg.GetForce()
	current, err := s.store.ApprovedMonths(ctx, force)
	if err != nil {
		return nil, s.unavailable(err)
	}
	if _, ok := current[month]; !ok {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("month: %s of %s is not approved; there is nothing to reopen", req.Msg.GetMonth(), force))
	}
	if err := s.record(ctx, approval(force, month, store.ApprovalReopened, s.now(), d, codes.Of(req.Msg.GetReason()))); err != nil {
		return nil, s.unavailable(err)
	}
	m, err := s.state(ctx, force, month)
	if err != nil {
		return nil, s.unavailable(err)
	}
	return connect.NewResponse(&pathwayv1.ReopenMonthResponse{Month: m}), nil
}

// ListMonths gives the force's months of a period, oldest first.
func (s *Service) ListMonths(ctx context.Context, req *connect.Request[pathwayv1.ListMonthsRequest]) (*connect.Response[pathwayv1.ListMonthsResponse], error) {
	org, ok := auth.OrgFrom(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no credential"))
	}
	if err := s.validator.Validate(req.Msg); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	force := req.Msg.GetForce()
	if org.Kind != auth.KindForce || org.ID != force {
		return nil, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("%s may list only its own months, not those of force %q", org, force))
	}
	to := monthOf(s.now()).AddDate(0, -1, 0)
	if v := req.Msg.GetTo(); v != "" {
		to, _ = time.Parse("2006-01", v) // validated above
	}
	from := to.AddDate(0, -23, 0)
	if v := req.Msg.GetFrom(); v != "" {
		from, _ = time.Parse("2006-01", v)
	}
	if from.After(to) || to.Sub(from) > 10*366*24*time.Hour {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("from, to: %s to %s is not a period of at most ten years", from.Format("2006-01"), to.Format("2006-01")))
	}
	months, err := States(ctx, s.store, force, from, to)
	if err != nil {
		return nil, s.unavailable(err)
	}
	return connect.NewResponse(&pathwayv1.ListMonthsResponse{Months: months}), nil
}

// begin authenticates, validates msg and the month, and asks the policy.
func (s *Service) begin(ctx context.Context, msg proto.Message, action policy.Action, force, month string) (time.Time, policy.Decision, error) {
	org, ok := auth.OrgFrom(ctx)
	if !ok {
		return time.Time{}, policy.Decision{}, connect.NewError(connect.CodeUnauthenticated, errors.New("no credential"))
	}
	if err := s.validator.Validate(msg); err != nil {
		return time.Time{}, policy.Decision{}, connect.NewError(connect.CodeInvalidArgument, err)
	}
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, policy.Decision{}, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("month: %q is not YYYY-MM", month))
	}
	if action == policy.ActionApprove && !m.Before(monthOf(s.now())) {
		return m, policy.Decision{}, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("month: %s has not ended; approve a complete month", month))
	}
	d, err := s.policy.Decide(ctx, policy.Input{Action: action, Org: org.String(), Dataset: policy.DatasetIncidents, Force: force})
	if err != nil {
		s.logger.Error("policy decision failed", "err", err)
		return m, d, connect.NewError(connect.CodeUnavailable, errors.New("the policy could not decide; try again"))
	}
	if !d.Allow || len(d.Grants) == 0 {
		return m, d, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("%s may not %s months of force %q: %v (decision %s)", org, action, force, d.Reasons, d.ID))
	}
	return m, d, nil
}

// record logs a, then logs the month as changed in the changes log, so
// that the next publication marks it in every share that shows it, and
// nudges the publishers.
func (s *Service) record(ctx context.Context, a store.Approval) error {
	if err := s.store.LogApproval(ctx, a); err != nil {
		return err
	}
	if err := s.store.LogChanges(ctx, store.ApprovalChange+a.DecisionID, nil, map[string]time.Time{a.ForceID: a.Month}); err != nil {
		return err
	}
	if s.changed != nil {
		s.changed()
	}
	return nil
}

func (s *Service) unavailable(err error) error {
	s.logger.Error("approvals", "err", err)
	return connect.NewError(connect.CodeUnavailable, errors.New("the approvals could not be read or written; try again"))
}

func (s *Service) state(ctx context.Context, force string, month time.Time) (*pathwayv1.MonthApproval, error) {
	ms, err := States(ctx, s.store, force, month, month)
	if err != nil || len(ms) != 1 {
		return nil, errors.Join(err, errors.New("approvals: no state for the month"))
	}
	return ms[0], nil
}

func approval(force string, month time.Time, state string, now time.Time, d policy.Decision, reason string) store.Approval {
	g := d.Grants[0]
	return store.Approval{ForceID: force, Month: month, State: state, DecidedAt: now.UTC(), Org: "force/" + force,
		Agreement: g.Agreement, Recipient: g.Recipient, DecisionID: d.ID, ReopenReason: reason}
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// States returns the state of each of force's months from from to to
// (first days, inclusive), oldest first.
func States(ctx context.Context, st *store.Store, force string, from, to time.Time) ([]*pathwayv1.MonthApproval, error) {
	statuses, err := st.MonthStatuses(ctx, force, from, to)
	if err != nil {
		return nil, err
	}
	states := map[string]pathwayv1.MonthState{
		store.MonthProvisional: pathwayv1.MonthState_MONTH_STATE_PROVISIONAL, store.MonthApproved: pathwayv1.MonthState_MONTH_STATE_APPROVED,
		store.MonthRevisedAfterApproval: pathwayv1.MonthState_MONTH_STATE_REVISED_AFTER_APPROVAL,
	}
	reasons := codes.Values(pathwayv1.ReopenReason(0).Descriptor())
	out := make([]*pathwayv1.MonthApproval, 0, len(statuses))
	for _, ms := range statuses {
		ma := &pathwayv1.MonthApproval{Force: force, Month: ms.Month.Format("2006-01"), State: states[ms.State],
			Incidents: ms.Incidents, RevisedAfterApproval: ms.Revised}
		if a := ms.Latest; a != nil {
			ma.DecidedAt, ma.DecidedBy, ma.Recipient, ma.Agreement, ma.DecisionId = timestamppb.New(a.DecidedAt), a.Org, a.Recipient, a.Agreement, a.DecisionID
			if a.State == store.ApprovalReopened {
				ma.ReopenReason = pathwayv1.ReopenReason(reasons[a.ReopenReason])
			}
		}
		out = append(out, ma)
	}
	return out, nil
}
