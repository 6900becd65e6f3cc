package returns

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/measures/annual"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Policy decides what an organisation may do.
type Policy interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
}

// Options configure a Service.
type Options struct {
	// Conn reads the raw database Database.
	Conn     driver.Conn
	Database string
	Policy   Policy
	// SigningKey signs the packs' manifests (the evidence packs' key).
	SigningKey ed25519.PrivateKey
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service implements pathwayv1connect.ReturnServiceHandler.
type Service struct {
	opts      Options
	logger    *slog.Logger
	validator protovalidate.Validator
}

var _ pathwayv1connect.ReturnServiceHandler = (*Service)(nil)

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Conn == nil || opts.Policy == nil || len(opts.SigningKey) != ed25519.PrivateKeySize {
		return nil, errors.New("returns: need a connection, a policy and a signing key")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	v, err := protovalidate.New(protovalidate.WithMessages(&pathwayv1.GetAnnualReturnRequest{}))
	if err != nil {
		return nil, fmt.Errorf("returns: %w", err)
	}
	return &Service{opts: opts, logger: logger.With("component", "returns"), validator: v}, nil
}

// Handler returns the Connect path and handler, with opts (the
// authentication interceptor).
func (s *Service) Handler(opts ...connect.HandlerOption) (string, http.Handler) {
	return pathwayv1connect.NewReturnServiceHandler(s, opts...)
}

// returnRoles are the roles whose grant allows a force's return.
var returnRoles = []string{policy.RoleForceSupervisor, policy.RoleForceAnalyst}

// GetAnnualReturn returns the caller's force's return for a year.
func (s *Service) GetAnnualReturn(ctx context.Context, req *connect.Request[pathwayv1.GetAnnualReturnRequest]) (*connect.Response[pathwayv1.GetAnnualReturnResponse], error) {
	org, ok := auth.OrgFrom(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no credential"))
	}
	msg := req.Msg
	if err := s.validator.Validate(msg); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	year, err := annual.ParseYear(msg.GetYear())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	d, err := s.opts.Policy.Decide(ctx, policy.Input{Action: policy.ActionExport, Org: org.String(), Dataset: policy.DatasetIncidents, Force: msg.GetForce()})
	if err != nil {
		s.logger.Error("policy decision failed", "err", err)
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("the policy could not decide; try again"))
	}
	i := slices.IndexFunc(d.Grants, func(g policy.Grant) bool {
		return slices.Contains(returnRoles, g.Role) && slices.Equal(g.Forces, []string{msg.GetForce()})
	})
	if !d.Allow || i < 0 {
		return nil, connect.NewError(connect.CodePermissionDenied,
			fmt.Errorf("%s may not export the return of force %q: %v (decision %s)", org, msg.GetForce(), d.Reasons, d.ID))
	}
	grant := d.Grants[i]

	cutoff, ret, err := store.New(s.opts.Conn, s.opts.Database).AnnualReturn(ctx, msg.GetForce(), year)
	if err != nil {
		s.logger.Error("read the return", "force", msg.GetForce(), "year", year.String(), "err", err)
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("the incidents could not be read; try again"))
	}
	start, end := year.Bounds()
	prov := &pathwayv1.ReturnProvenance{
		Force: msg.GetForce(), Year: year.String(), PeriodStart: timestamppb.New(start), PeriodEnd: timestamppb.New(end),
		Cutoff: timestamppb.New(cutoff), Provisional: cutoff.Before(end), Detentions: ret.Detentions, Revised: ret.Revised,
		PolicyRevision: d.Revision, DecisionId: d.ID, Agreement: grant.Agreement, Recipient: grant.Recipient,
		ContentHash: ret.Hash(),
	}
	if !ret.LastReceived.IsZero() {
		prov.LastReceived = timestamppb.New(ret.LastReceived)
	}
	file, err := render(ret, msg.GetFormat(), prov)
	if err != nil {
		s.logger.Error("render the return", "err", err)
		return nil, connect.NewError(connect.CodeInternal, errors.New("the return could not be written"))
	}
	var zip bytes.Buffer
	m := pack.Manifest{
		Recipient: grant.Recipient, From: start.Format("2006-01"), To: end.AddDate(0, -1, 0).Format("2006-01"),
		CreatedAt: s.opts.Now().UTC().Truncate(time.Second), DecisionID: d.ID,
		Provenance: pack.Provenance{Agreement: grant.Agreement, Role: grant.Role, PolicyRevision: d.Revision,
			DataCutoff: cutoff, ContentHash: prov.ContentHash},
		Return: &pack.Return{Force: prov.Force, Year: prov.Year, Provisional: prov.Provisional, Detentions: ret.Detentions,
			Revised: ret.Revised, LastReceived: ret.LastReceived},
	}
	if err := pack.Write(&zip, m, []pack.File{file}, s.opts.SigningKey); err != nil {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("returns: %w", err))
	}
	out := &pathwayv1.GetAnnualReturnResponse{Provenance: prov, Pack: zip.Bytes(),
		PackName: fmt.Sprintf("return-%s-%s.zip", prov.Force, prov.Year)}
	for _, t := range ret.Tables {
		pt := &pathwayv1.ReturnTable{Id: t.ID, Title: t.Title, Note: t.Note}
		for _, r := range t.Rows {
			pt.Rows = append(pt.Rows, &pathwayv1.ReturnRow{Code: r.Code, Label: r.Label, Detentions: r.Detentions})
		}
		out.Tables = append(out.Tables, pt)
	}
	return connect.NewResponse(out), nil
}
