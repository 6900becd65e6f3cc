package ingest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	"github.com/pathwayhub/pathwayhub/ingest/wire"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Datasets, as written in the submissions log.
const (
	DatasetIncidents     = "incidents"
	DatasetHealthUpdates = "health_updates"
)

// Policy decides whether an organisation may submit.
type Policy interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
}

// Options configure a Service.
type Options struct {
	Store     *store.Store
	Validator *validate.Validator
	// Policy decides who may submit what; nil means every authenticated
	// force and trust may (for tests of validation and storage alone).
	Policy Policy
	// Stored, when non-nil, is called after each batch that stored at least
	// one record (not a dry run), with its submission id and the incidents
	// it stored records of: the live monitor reads them again, the
	// publishers are nudged. It must not block.
	Stored func(submissionID string, keys []store.IncidentKey)
	Logger *slog.Logger
	// Registerer receives the ingest metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Now returns the receipt time; nil means time.Now.
	Now func() time.Time
	// InflightBytes bounds the request bodies worked on at once (see
	// admit); zero means DefaultInflightBytes, negative means no bound.
	InflightBytes int64
}

// Service implements pathwayv1connect.IngestServiceHandler.
type Service struct {
	store   *store.Store
	valid   *validate.Validator
	policy  Policy
	stored  func(submissionID string, keys []store.IncidentKey)
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics
	// admission admits requests by their bytes (nil: no bound).
	admission *admission
	// jsonFailed holds the records of JSON submissions that did not decode
	// (strictJSON), until their handler takes them.
	jsonFailed sync.Map
	// locks serialises batches of the same organisation, so two concurrent
	// batches cannot both judge the same record new.
	locks sync.Map // string → *sync.Mutex
}

var _ pathwayv1connect.IngestServiceHandler = (*Service)(nil)

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Validator == nil {
		return nil, errors.New("ingest: Store and Validator are required")
	}
	s := &Service{store: opts.Store, valid: opts.Validator, policy: opts.Policy, stored: opts.Stored, logger: opts.Logger, now: opts.Now}
	limit := opts.InflightBytes
	if limit == 0 {
		limit = DefaultInflightBytes
	}
	s.admission = newAdmission(limit)
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.logger = s.logger.With("component", "ingest")
	if s.now == nil {
		s.now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Handler returns the Connect path and HTTP handler for the service, with the
// request size limit and the strict JSON codec applied, plus opts (the
// authentication interceptor).
func (s *Service) Handler(opts ...connect.HandlerOption) (string, http.Handler) {
	all := append([]connect.HandlerOption{connect.WithReadMaxBytes(wire.MaxRequestBytes)}, s.jsonCodecs()...)
	all = append(all, opts...)
	path, h := pathwayv1connect.NewIngestServiceHandler(s, all...)
	return path, explainContentType(s.admit(h))
}

// explainContentType answers a POST without a Content-Type with the same
// 415 Connect gives, but with a body that says what to send (Connect's own
// 415 is empty).
func explainContentType(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "" {
			w.Header().Set("Accept-Post", "application/json, application/proto, application/grpc, application/grpc-web")
			http.Error(w, "send Content-Type: application/json (Connect JSON) or application/proto (binary), "+
				"or use a gRPC or gRPC-Web client", http.StatusUnsupportedMediaType)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// judged is one record's key and revision, for the revision comparison.
type judged struct {
	index    int
	key      string
	revision uint32
	lastSeen time.Time
}

// SubmitIncidents stores a batch of a force's incident records.
func (s *Service) SubmitIncidents(ctx context.Context, req *connect.Request[pathwayv1.SubmitIncidentsRequest]) (*connect.Response[pathwayv1.SubmitIncidentsResponse], error) {
	recs := req.Msg.GetRecords()
	breach := make([]bool, len(recs))
	out, err := s.submit(ctx, req.Msg, len(recs), req.Msg.GetDryRun(), dataset{
		name: DatasetIncidents, kind: auth.KindForce, method: "SubmitIncidents", deniedField: "force_id",
		key: func(c judged) store.IncidentKey {
			return store.IncidentKey{ForceID: recs[c.index].GetForceId(), IncidentRef: recs[c.index].GetIncidentRef()}
		},
		earliest: func(chosen []judged) map[string]time.Time {
			out := map[string]time.Time{}
			for _, c := range chosen {
				rec := recs[c.index]
				at := rec.GetTimeline().GetCallReceived().AsTime()
				if cur, ok := out[rec.GetForceId()]; !ok || at.Before(cur) {
					out[rec.GetForceId()] = at
				}
			}
			return out
		},
		check: func(org auth.Org, i int, report validate.Report) (*pathwayv1.RecordResult, *judged) {
			rec := recs[i]
			if report.OK() {
				report = s.valid.Incident(rec)
			}
			res := &pathwayv1.RecordResult{Index: uint32(i), IncidentRef: echo(rec.GetIncidentRef()), Revision: rec.GetRevision(), Warnings: report.Warnings}
			if rec.GetForceId() != "" && rec.GetForceId() != org.ID {
				res.Warnings = append(res.Warnings, &pathwayv1.FieldViolation{
					Field: "force_id", Code: wire.CodeForceIDIgnored,
					Message: "the record names another force; it is stored as the force the credential belongs to",
				})
			}
			rec.ForceId = org.ID
			if !report.OK() {
				return reject(res, report), nil
			}
			breach[i] = report.Breach
			return res, &judged{index: i, key: rec.GetIncidentRef(), revision: rec.GetRevision(), lastSeen: latestEvent(rec)}
		},
		scope: func(_ context.Context, org auth.Org, received time.Time, _ []judged) (func(judged) policy.Input, error) {
			in := policy.Input{Action: policy.ActionSubmit, Org: org.String(), Dataset: DatasetIncidents, Force: org.ID, Time: received}
			return func(judged) policy.Input { return in }, nil
		},
		stored: func(ctx context.Context, org auth.Org, cands []judged) (map[string]uint32, error) {
			refs := make([]string, 0, len(cands))
			for _, c := range cands {
				refs = append(refs, c.key)
			}
			return s.store.IncidentRevisions(ctx, org.ID, refs)
		},
		gate: func(ctx context.Context, org auth.Org, chosen []judged, results []*pathwayv1.RecordResult) ([]judged, error) {
			approved, err := s.store.ApprovedMonths(ctx, org.ID)
			if err != nil || len(approved) == 0 {
				return chosen, err
			}
			keep := chosen[:0:0]
			for _, c := range chosen {
				rec := recs[c.index]
				at := rec.GetTimeline().GetCallReceived().AsTime().UTC()
				month := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
				if when, ok := approved[month]; ok && rec.GetRevisionReason() == pathwayv1.RevisionReason_REVISION_REASON_UNSPECIFIED {
					res := results[c.index]
					res.Status = pathwayv1.RecordStatus_RECORD_STATUS_REJECTED
					res.Errors = append(res.Errors, &pathwayv1.FieldViolation{
						Field: "revision_reason", Code: wire.CodeApprovedMonth,
						Message: fmt.Sprintf("the force approved %s (on %s): a record for it needs a revision_reason, and is then stored",
							month.Format("2006-01"), when.Format(time.DateOnly)),
					})
					continue
				}
				keep = append(keep, c)
			}
			return keep, nil
		},
		insert: func(ctx context.Context, id string, received time.Time, _ auth.Org, chosen []judged) error {
			rows := make([]store.Incident, 0, len(chosen))
			for _, c := range chosen {
				rows = append(rows, store.Incident{Record: recs[c.index], Breach: breach[c.index]})
			}
			return s.store.InsertIncidents(ctx, id, received, rows)
		},
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pathwayv1.SubmitIncidentsResponse{
		SubmissionId: out.sub.ID, Results: out.results, Counts: counts(out.sub), DryRun: out.sub.DryRun,
	}), nil
}

// SubmitHealthUpdates stores a batch of an NHS trust's health updates.
func (s *Service) SubmitHealthUpdates(ctx context.Context, req *connect.Request[pathwayv1.SubmitHealthUpdatesRequest]) (*connect.Response[pathwayv1.SubmitHealthUpdatesResponse], error) {
	ups := req.Msg.GetUpdates()
	keyOf := func(c judged) store.IncidentKey {
		return store.IncidentKey{ForceID: ups[c.index].GetForceId(), IncidentRef: ups[c.index].GetIncidentRef()}
	}
	out, err := s.submit(ctx, req.Msg, len(ups), req.Msg.GetDryRun(), dataset{
		name: DatasetHealthUpdates, kind: auth.KindTrust, method: "SubmitHealthUpdates", deniedField: "incident_ref",
		key: keyOf,
		// An update changes its incident's months, found from the incident.
		earliest: func([]judged) map[string]time.Time { return nil },
		check: func(org auth.Org, i int, report validate.Report) (*pathwayv1.RecordResult, *judged) {
			u := ups[i]
			if report.OK() {
				report = s.valid.HealthUpdate(u)
			}
			validate.OwnSite(&report, org.ID, u.GetPosOdsSite())
			res := &pathwayv1.RecordResult{Index: uint32(i), IncidentRef: echo(u.GetIncidentRef()), Revision: u.GetRevision(), Warnings: report.Warnings}
			if !report.OK() {
				return reject(res, report), nil
			}
			return res, &judged{index: i, key: u.GetForceId() + "/" + u.GetIncidentRef(), revision: u.GetRevision(), lastSeen: latestHealthEvent(u)}
		},
		// A trust may update an incident taken to one of its places of
		// safety: the policy is asked with the place the hub holds for it.
		scope: func(ctx context.Context, org auth.Org, received time.Time, cands []judged) (func(judged) policy.Input, error) {
			keys := make([]store.IncidentKey, 0, len(cands))
			for _, c := range cands {
				keys = append(keys, keyOf(c))
			}
			places, err := s.store.IncidentPlaces(ctx, keys)
			if err != nil {
				return nil, err
			}
			return func(c judged) policy.Input {
				return policy.Input{
					Action: policy.ActionSubmit, Org: org.String(), Dataset: DatasetHealthUpdates, Force: ups[c.index].GetForceId(),
					PosOrg: placeOf(org.ID, places[keyOf(c)]), Time: received,
				}
			}, nil
		},
		stored: func(ctx context.Context, org auth.Org, cands []judged) (map[string]uint32, error) {
			keys := make([]store.IncidentKey, 0, len(cands))
			for _, c := range cands {
				keys = append(keys, keyOf(c))
			}
			byKey, err := s.store.HealthRevisions(ctx, org.ID, keys)
			stored := make(map[string]uint32, len(byKey))
			for k, rev := range byKey {
				stored[k.ForceID+"/"+k.IncidentRef] = rev
			}
			return stored, err
		},
		insert: func(ctx context.Context, id string, received time.Time, org auth.Org, chosen []judged) error {
			rows := make([]store.HealthUpdate, 0, len(chosen))
			for _, c := range chosen {
				rows = append(rows, store.HealthUpdate{TrustID: org.ID, Update: ups[c.index]})
			}
			return s.store.InsertHealthUpdates(ctx, id, received, rows)
		},
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pathwayv1.SubmitHealthUpdatesResponse{
		SubmissionId: out.sub.ID, Results: out.results, Counts: counts(out.sub), DryRun: out.sub.DryRun,
	}), nil
}

// dataset is what differs between the two kinds of batch. submit runs the
// steps, the same for both and in the same order.
type dataset struct {
	name        string    // DatasetIncidents or DatasetHealthUpdates
	kind        auth.Kind // the kind of organisation that submits it
	method      string    // the RPC, for errors
	deniedField string    // the field a policy refusal is reported on
	// key names the incident a candidate is (or updates).
	key func(c judged) store.IncidentKey
	// earliest is, for each force, the earliest call_received among the
	// chosen records (nil for records that carry none).
	earliest func(chosen []judged) map[string]time.Time
	// check validates record i of org's batch, given the report of its
	// decoding (not OK when the record could not be decoded), and returns
	// its result and, when it may be stored, its candidate.
	check func(org auth.Org, i int, decoded validate.Report) (*pathwayv1.RecordResult, *judged)
	// scope returns the policy input of each candidate.
	scope func(ctx context.Context, org auth.Org, received time.Time, cands []judged) (func(judged) policy.Input, error)
	// stored returns the highest stored revision of each candidate's key.
	stored func(ctx context.Context, org auth.Org, cands []judged) (map[string]uint32, error)
	// insert stores the chosen records as submission id.
	insert func(ctx context.Context, id string, received time.Time, org auth.Org, chosen []judged) error
	// gate, when non-nil, returns the chosen records that may be stored
	// after all, rejecting the others in results: a record for a month its
	// force has approved needs a revision reason.
	gate func(ctx context.Context, org auth.Org, chosen []judged, results []*pathwayv1.RecordResult) ([]judged, error)
}

// submitted is a batch's outcome: its log row and one result per record.
type submitted struct {
	sub     store.Submission
	results []*pathwayv1.RecordResult
}

// submit is the one ingest path: authenticate → check the batch's size →
// validate each record on its own → under the organisation's lock, ask the
// policy (once per distinct scope) → compare revisions with what is stored
// → log the forces and months it changes (store.LogChanges) → store the new
// and higher revisions in one insert (not on a dry run) → log the
// submission. A storage or policy failure is unavailable and
// acknowledges nothing.
func (s *Service) submit(ctx context.Context, msg proto.Message, n int, dryRun bool, d dataset) (submitted, error) {
	start := time.Now()
	undecoded := s.decodeErrors(msg)
	org, err := s.caller(ctx, d.kind, d.method)
	if err != nil {
		return submitted{}, err
	}
	if err := checkBatchSize(n); err != nil {
		return submitted{}, err
	}
	received := s.now().UTC().Truncate(time.Second)
	results := make([]*pathwayv1.RecordResult, n)
	var candidates []judged
	for i := range n {
		var decoded validate.Report
		if v, ok := undecoded[i]; ok {
			decoded.Errors = []*pathwayv1.FieldViolation{v}
		}
		res, c := d.check(org, i, decoded)
		results[i] = res
		if c != nil {
			candidates = append(candidates, *c)
		}
	}

	unlock := s.lock(org)
	defer unlock()
	if s.policy != nil && len(candidates) > 0 {
		scope, err := d.scope(ctx, org, received, candidates)
		if err != nil {
			return submitted{}, s.unavailable(ctx, d.name, org, err)
		}
		if candidates, err = s.allowed(ctx, org, d.name, candidates, results, d.deniedField, scope); err != nil {
			return submitted{}, err
		}
	}
	stored, err := d.stored(ctx, org, candidates)
	if err != nil {
		return submitted{}, s.unavailable(ctx, d.name, org, err)
	}
	toStore := judge(candidates, stored, results)
	if d.gate != nil && len(toStore) > 0 {
		if toStore, err = d.gate(ctx, org, toStore, results); err != nil {
			return submitted{}, s.unavailable(ctx, d.name, org, err)
		}
	}
	sub := s.summarise(org, d.name, received, dryRun, results, toStore)
	keys := make([]store.IncidentKey, len(toStore))
	for i, c := range toStore {
		keys[i] = d.key(c)
	}
	if !dryRun && len(toStore) > 0 {
		// The changes log first: a batch stored is always logged there.
		if err := s.store.LogChanges(ctx, sub.ID, keys, d.earliest(toStore)); err != nil {
			return submitted{}, s.unavailable(ctx, d.name, org, err)
		}
		if err := d.insert(ctx, sub.ID, received, org, toStore); err != nil {
			return submitted{}, s.unavailable(ctx, d.name, org, err)
		}
	}
	if err := s.store.LogSubmission(ctx, sub, rejections(results)); err != nil {
		return submitted{}, s.unavailable(ctx, d.name, org, err)
	}
	s.observe(org, sub, results, time.Since(start))
	if s.stored != nil && !dryRun && len(toStore) > 0 {
		s.stored(sub.ID, keys)
	}
	return submitted{sub: sub, results: results}, nil
}

// reject marks a record rejected with its report's errors.
func reject(res *pathwayv1.RecordResult, report validate.Report) *pathwayv1.RecordResult {
	res.Status = pathwayv1.RecordStatus_RECORD_STATUS_REJECTED
	res.Errors = report.Errors
	return res
}

// caller returns the authenticated organisation, which must be of kind.
func (s *Service) caller(ctx context.Context, kind auth.Kind, method string) (auth.Org, error) {
	org, ok := auth.OrgFrom(ctx)
	if !ok {
		return auth.Org{}, connect.NewError(connect.CodeUnauthenticated, errors.New("no credential"))
	}
	if org.Kind != kind {
		return auth.Org{}, connect.NewError(connect.CodePermissionDenied,
			fmt.Errorf("%s is for %s credentials; this credential belongs to a %s", method, kind, org.Kind))
	}
	return org, nil
}

func checkBatchSize(n int) error {
	switch {
	case n == 0:
		return connect.NewError(connect.CodeInvalidArgument, errors.New("the batch is empty: send 1 to 10,000 records"))
	case n > wire.MaxRecords:
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("the batch has %d records; the limit is %d per call: split it and send each part (nothing was stored)", n, wire.MaxRecords))
	default:
		return nil
	}
}

// judge compares each valid record's revision with the highest stored one and
// with earlier records of the same batch, sets its status, and returns the
// records to store.
func judge(candidates []judged, stored map[string]uint32, results []*pathwayv1.RecordResult) []judged {
	var out []judged
	for _, c := range candidates {
		res := results[c.index]
		cur, seen := stored[c.key]
		switch {
		case !seen:
			res.Status = pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED
		case c.revision > cur:
			res.Status = pathwayv1.RecordStatus_RECORD_STATUS_UPDATED
		case c.revision == cur:
			res.Status = pathwayv1.RecordStatus_RECORD_STATUS_UNCHANGED
			continue
		default:
			res.Status = pathwayv1.RecordStatus_RECORD_STATUS_STALE
			continue
		}
		stored[c.key] = c.revision
		out = append(out, c)
	}
	return out
}

// allowed asks the policy about the candidates, once per distinct input
// (organisation, dataset and scope) rather than once per record, marks the
// refused ones rejected with the policy's reason on field, and returns the
// rest. A policy failure (e.g. the audit cannot be written) is unavailable:
// nothing is acknowledged and the batch can be sent again.
func (s *Service) allowed(ctx context.Context, org auth.Org, dataset string, candidates []judged, results []*pathwayv1.RecordResult,
	field string, scope func(judged) policy.Input) ([]judged, error) {
	if s.policy == nil {
		return candidates, nil
	}
	type key struct{ force, pos string }
	decisions := map[key]policy.Decision{}
	out := candidates[:0]
	for _, c := range candidates {
		in := scope(c)
		k := key{in.Force, in.PosOrg}
		d, ok := decisions[k]
		if !ok {
			var err error
			if d, err = s.policy.Decide(ctx, in); err != nil {
				return nil, s.unavailable(ctx, dataset, org, err)
			}
			decisions[k] = d
		}
		if d.Allow {
			out = append(out, c)
			continue
		}
		res := results[c.index]
		res.Status = pathwayv1.RecordStatus_RECORD_STATUS_REJECTED
		res.Errors = append(res.Errors, &pathwayv1.FieldViolation{
			Field: field, Code: wire.CodePolicyDenied,
			Message: "no data-sharing agreement in force lets you submit this record: " + strings.Join(d.Reasons, "; ") + " (decision " + d.ID + ")",
		})
	}
	return out, nil
}

// MaxEcho is the most bytes of a value a response echoes back: a valid
// incident_ref is far shorter, and an invalid one of megabytes must not come
// back in full.
const MaxEcho = 128

// echo returns s cut to MaxEcho bytes (at a character boundary) with "…"
// when longer.
func echo(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// placeOf picks the place-of-safety organisation a trust's update is judged
// by: the trust itself when the incident was at one of its places (first or
// transferred to), otherwise the incident's first place, or "" when the hub
// does not hold the incident yet.
func placeOf(trust string, places []string) string {
	if slices.Contains(places, trust) {
		return trust
	}
	if len(places) > 0 {
		return places[0]
	}
	return ""
}

// summarise builds the submissions-log row for a batch.
func (s *Service) summarise(org auth.Org, dataset string, received time.Time, dryRun bool, results []*pathwayv1.RecordResult, stored []judged) store.Submission {
	sub := store.Submission{
		ID: rand.Text(), OrgKind: string(org.Kind), OrgID: org.ID, Dataset: dataset,
		ReceivedAt: received, DryRun: dryRun, Records: uint32(len(results)),
	}
	for _, r := range results {
		switch r.GetStatus() {
		case pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED:
			sub.Accepted++
		case pathwayv1.RecordStatus_RECORD_STATUS_UPDATED:
			sub.Updated++
		case pathwayv1.RecordStatus_RECORD_STATUS_UNCHANGED:
			sub.Unchanged++
		case pathwayv1.RecordStatus_RECORD_STATUS_STALE:
			sub.Stale++
		case pathwayv1.RecordStatus_RECORD_STATUS_REJECTED:
			sub.Rejected++
		default:
		}
	}
	lags := make([]time.Duration, 0, len(stored))
	for _, c := range stored {
		if !c.lastSeen.IsZero() {
			lags = append(lags, max(received.Sub(c.lastSeen), 0))
		}
	}
	if len(lags) > 0 {
		slices.Sort(lags)
		sub.LagP50 = lags[len(lags)/2]
		sub.LagMax = lags[len(lags)-1]
	}
	return sub
}

func counts(sub store.Submission) *pathwayv1.ResultCounts {
	return &pathwayv1.ResultCounts{
		Accepted: sub.Accepted, Updated: sub.Updated, Unchanged: sub.Unchanged, Stale: sub.Stale, Rejected: sub.Rejected,
	}
}

// rejections lists field and code of every error of every rejected record.
func rejections(results []*pathwayv1.RecordResult) []store.Rejection {
	var out []store.Rejection
	for _, r := range results {
		for _, e := range r.GetErrors() {
			out = append(out, store.Rejection{RecordIndex: r.GetIndex(), Field: e.GetField(), Code: e.GetCode()})
		}
	}
	return out
}

// unavailable logs a storage failure and returns the error the caller sees:
// retryable, with nothing about the internals.
func (s *Service) unavailable(ctx context.Context, dataset string, org auth.Org, err error) error {
	s.metrics.storeErrors.WithLabelValues(dataset).Inc()
	s.logger.ErrorContext(ctx, "store failed; batch not acknowledged", "org", org.String(), "dataset", dataset, "err", err)
	return connect.NewError(connect.CodeUnavailable,
		errors.New("storage is unavailable: nothing in this batch was acknowledged; send the whole batch again"))
}

// observe logs a completed submission and updates the metrics.
func (s *Service) observe(org auth.Org, sub store.Submission, results []*pathwayv1.RecordResult, took time.Duration) {
	s.metrics.observe(org, sub, results, took)
	s.logger.Info("submission",
		"submission_id", sub.ID, "org", org.String(), "dataset", sub.Dataset, "dry_run", sub.DryRun,
		"records", sub.Records, "accepted", sub.Accepted, "updated", sub.Updated, "unchanged", sub.Unchanged,
		"stale", sub.Stale, "rejected", sub.Rejected,
		"lag_p50", sub.LagP50.String(), "lag_max", sub.LagMax.String(), "took", took.String())
	for _, r := range results {
		for _, e := range r.GetErrors() {
			s.logger.Info("rejection", "submission_id", sub.ID, "org", org.String(), "dataset", sub.Dataset,
				"index", r.GetIndex(), "field", e.GetField(), "code", e.GetCode())
		}
	}
}

func (s *Service) lock(org auth.Org) (unlock func()) {
	m, _ := s.locks.LoadOrStore(org.String(), &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// latestEvent returns the latest time on an incident's timeline: how current
// the force's snapshot is.
func latestEvent(rec *pathwayv1.IncidentRecord) time.Time {
	tl := rec.GetTimeline()
	return latest(tl.GetCallReceived(), tl.GetDeployed(), tl.GetHcpConsulted(), tl.GetDetained(),
		tl.GetAmbulanceRequested(), tl.GetAmbulanceArrived(), tl.GetArrivedAtPos(), tl.GetHandoverInitiated(),
		tl.GetHandoverAccepted(), tl.GetPoliceLeftPos(), tl.GetAssessmentStarted(), tl.GetAssessmentCompleted(),
		tl.GetDetentionEnded())
}

func latestHealthEvent(u *pathwayv1.HealthUpdate) time.Time {
	return latest(u.GetHandoverAccepted(), u.GetAssessmentStarted(), u.GetAssessmentCompleted())
}

func latest(ts ...*timestamppb.Timestamp) time.Time {
	var out time.Time
	for _, t := range ts {
		if t != nil && t.AsTime().After(out) {
			out = t.AsTime()
		}
	}
	return out
}
