package evidence

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"slices"
	"time"

	"connectrpc.com/connect"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Policy decides what an organisation may see.
type Policy interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
}

// Options configure a Service.
type Options struct {
	// Conn reads the share databases.
	Conn driver.Conn
	// Policy decides every read and export.
	Policy Policy
	// Prefix starts share database names (see share.Database).
	Prefix string
	// Credentials authenticate the pages' callers (the Connect API is
	// authenticated by the interceptor given to Handler).
	Credentials *auth.Credentials
	// Chromium is the browser that prints packs to PDF; empty means
	// `chromium` or `chromium-browser` from PATH, if present. Without one,
	// packs have no PDF.
	Chromium string
	// SecureCookies marks the session cookie Secure even on a plain HTTP
	// request: set it when the hub is behind a proxy that terminates TLS.
	// (A request the hub itself serves over TLS always gets Secure.)
	SecureCookies bool
	// SigningKey signs every pack's manifest (pack.Write); its public key
	// is served at SigningKeyPath. Required.
	SigningKey ed25519.PrivateKey
	// Now is the clock of pack manifests; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service serves evidence pages, packs and the EvidenceService API.
type Service struct {
	opts   Options
	logger *slog.Logger
	// printing holds one token per PDF being printed: one Chromium at a
	// time, however many packs are asked for.
	printing chan struct{}
	// sessions are the evidence pages' login codes and sessions.
	sessions *sessions
}

var _ pathwayv1connect.EvidenceServiceHandler = (*Service)(nil)

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Conn == nil || opts.Policy == nil || opts.Credentials == nil || opts.Prefix == "" || len(opts.SigningKey) != ed25519.PrivateKeySize {
		return nil, errors.New("evidence: Conn, Policy, Credentials, Prefix and SigningKey are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Chromium == "" {
		opts.Chromium = FindChromium()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, logger: logger.With("component", "evidence"), printing: make(chan struct{}, 1),
		sessions: newSessions(opts.Credentials, opts.Now)}, nil
}

// FindChromium returns the path of `chromium` or `chromium-browser` on
// PATH, or "" when neither is there.
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Handler returns the Connect path and handler of EvidenceService, with
// opts (the authentication interceptor).
func (s *Service) Handler(opts ...connect.HandlerOption) (string, http.Handler) {
	return pathwayv1connect.NewEvidenceServiceHandler(s, opts...)
}

// Errors of a read, mapped to HTTP statuses and Connect codes at the edge.
var (
	errDenied  = errors.New("evidence: the agreements in force do not let this credential see this recipient's evidence")
	errUnknown = errors.New("evidence: the policy could not decide; try again")
)

// ListSeries implements EvidenceService.ListSeries.
func (s *Service) ListSeries(ctx context.Context, req *connect.Request[pathwayv1.ListSeriesRequest]) (*connect.Response[pathwayv1.ListSeriesResponse], error) {
	org, ok := auth.OrgFrom(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no credential"))
	}
	period, err := ParsePeriod(req.Msg.GetFrom(), req.Msg.GetTo())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	rep, d, err := s.read(ctx, org, req.Msg.GetRecipient(), policy.ActionRead, period)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(ToProto(rep, d.ID)), nil
}

func connectError(err error) error {
	switch {
	case errors.Is(err, errDenied):
		return connect.NewError(connect.CodePermissionDenied, errDenied)
	case errors.Is(err, ErrNotPublished):
		return connect.NewError(connect.CodeNotFound, ErrNotPublished)
	case errors.Is(err, ErrPeriod):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, errUnknown):
		return connect.NewError(connect.CodeUnavailable, errUnknown)
	default:
		return connect.NewError(connect.CodeInternal, errors.New("evidence: the share could not be read"))
	}
}

// read asks the policy whether org may act on recipient's evidence, then
// loads the report from the recipient's share.
func (s *Service) read(ctx context.Context, org auth.Org, recipient string, action policy.Action, period Period) (Report, policy.Decision, error) {
	g, d, err := s.grant(ctx, org, recipient, action)
	if err != nil {
		return Report{}, d, err
	}
	rep, err := Load(ctx, s.opts.Conn, s.opts.Prefix+g.Recipient, g.Recipient, g.Measures, period)
	if err != nil && !errors.Is(err, ErrNotPublished) && !errors.Is(err, ErrPeriod) {
		s.logger.Error("read share", "recipient", g.Recipient, "err", err)
	}
	return rep, d, err
}

// grant returns org's aggregate grant as recipient under action.
func (s *Service) grant(ctx context.Context, org auth.Org, recipient string, action policy.Action) (policy.Grant, policy.Decision, error) {
	if recipient == "" {
		return policy.Grant{}, policy.Decision{}, errDenied
	}
	d, err := s.opts.Policy.Decide(ctx, policy.Input{Action: action, Org: org.String(), Recipient: recipient})
	if err != nil {
		s.logger.Error("policy decision failed", "err", err)
		return policy.Grant{}, d, errUnknown
	}
	if !d.Allow {
		return policy.Grant{}, d, errDenied
	}
	i := slices.IndexFunc(d.Grants, func(g policy.Grant) bool { return g.Recipient == recipient && g.Granularity == "aggregate" })
	if i < 0 {
		return policy.Grant{}, d, errDenied
	}
	return d.Grants[i], d, nil
}

// aggregateGrants lists org's aggregate read grants.
func (s *Service) aggregateGrants(ctx context.Context, org auth.Org) ([]policy.Grant, error) {
	d, err := s.opts.Policy.Decide(ctx, policy.Input{Action: policy.ActionRead, Org: org.String()})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnknown, err)
	}
	var out []policy.Grant
	if d.Allow {
		for _, g := range d.Grants {
			if g.Granularity == "aggregate" {
				out = append(out, g)
			}
		}
	}
	return out, nil
}
