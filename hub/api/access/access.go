package access

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Policy decides what an organisation may do.
type Policy interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
	Agreements() []policy.Agreement
}

// Service implements pathwayv1connect.AccessServiceHandler.
type Service struct {
	policy Policy
	prefix string
	logger *slog.Logger
}

var _ pathwayv1connect.AccessServiceHandler = (*Service)(nil)

// New returns a Service that answers from p; prefix starts share database
// names (see share.Database). Policy failures are logged to logger (nil
// discards); the caller is told only to try again.
func New(p Policy, prefix string, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{policy: p, prefix: prefix, logger: logger.With("component", "access")}
}

// Handler returns the Connect path and handler, with opts (the
// authentication interceptor).
func (s *Service) Handler(opts ...connect.HandlerOption) (string, http.Handler) {
	return pathwayv1connect.NewAccessServiceHandler(s, opts...)
}

// submitDatasets are the datasets each kind of organisation submits.
var submitDatasets = map[auth.Kind]string{
	auth.KindForce: "incidents",
	auth.KindTrust: "health_updates",
}

// DescribeAccess lists what the caller may submit and see.
func (s *Service) DescribeAccess(ctx context.Context, _ *connect.Request[pathwayv1.DescribeAccessRequest]) (*connect.Response[pathwayv1.DescribeAccessResponse], error) {
	org, ok := auth.OrgFrom(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no credential"))
	}
	out := &pathwayv1.DescribeAccessResponse{Org: org.String()}
	if ds, ok := submitDatasets[org.Kind]; ok {
		for _, force := range s.forcesFor(org) {
			in := policy.Input{Action: policy.ActionSubmit, Org: org.String(), Dataset: ds, Force: force}
			if org.Kind == auth.KindTrust {
				in.PosOrg = org.ID // incidents taken to its own places of safety
			}
			d, err := s.decide(ctx, in, out)
			if err != nil {
				return nil, err
			}
			out.Submit = append(out.Submit, &pathwayv1.SubmitAccess{Dataset: ds, Force: force, Allowed: d.Allow, Agreements: d.Agreements, Reasons: d.Reasons})
		}
	}
	d, err := s.decide(ctx, policy.Input{Action: policy.ActionRead, Org: org.String()}, out)
	if err != nil {
		return nil, err
	}
	if d.Allow {
		for _, g := range d.Grants {
			out.Read = append(out.Read, readGrant(g, s.prefix))
		}
	}
	return connect.NewResponse(out), nil
}

// forcesFor lists the forces whose incidents org might submit about: a
// force's own, or for a trust every force that is a controller of an
// agreement the trust is also a controller of. The policy then decides each.
func (s *Service) forcesFor(org auth.Org) []string {
	if org.Kind == auth.KindForce {
		return []string{org.ID}
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range s.policy.Agreements() {
		if !slices.Contains(a.Controllers, org.String()) {
			continue
		}
		for _, c := range a.Controllers {
			if f, ok := strings.CutPrefix(c, string(auth.KindForce)+"/"); ok && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (s *Service) decide(ctx context.Context, in policy.Input, out *pathwayv1.DescribeAccessResponse) (policy.Decision, error) {
	d, err := s.policy.Decide(ctx, in)
	if err != nil {
		s.logger.ErrorContext(ctx, "policy decision failed", "action", in.Action, "org", in.Org, "err", err)
		return d, connect.NewError(connect.CodeUnavailable, errors.New("the policy could not decide; try again"))
	}
	out.PolicyRevision = d.Revision
	out.DecidedAt = timestamppb.New(d.Time)
	out.DecisionIds = append(out.DecisionIds, d.ID)
	out.Reasons = append(out.Reasons, d.Reasons...)
	return d, nil
}

func readGrant(g policy.Grant, prefix string) *pathwayv1.ReadGrant {
	rg := &pathwayv1.ReadGrant{
		Agreement: g.Agreement, Recipient: g.Recipient, Role: g.Role, Purpose: g.Purpose, Granularity: g.Granularity,
		Forces: g.Forces, Regions: g.Regions, Lads: g.LADs, Measures: g.Measures, Fields: g.Fields,
		DisclosureThreshold: uint32(max(g.Threshold, 0)), RoundingBase: uint32(max(g.Rounding, 0)), Export: g.Export,
		ShareDatabase: share.Database(prefix, g.Recipient),
	}
	if !g.ValidUntil.IsZero() {
		rg.ValidUntil = timestamppb.New(g.ValidUntil)
	}
	return rg
}
