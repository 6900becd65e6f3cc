package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/ingest/wire"
	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Defaults for Options.
const (
	DefaultBatchSize   = 1000
	DefaultMaxAttempts = 8
	DefaultBackoff     = 500 * time.Millisecond
	maxBackoff         = 30 * time.Second
)

// Options configure a Client.
type Options struct {
	// URL is the hub's base URL, e.g. "http://127.0.0.1:8080".
	URL string
	// Token is the bearer token of the submitting force or trust.
	Token string
	// HTTPClient defaults to a client with a 2-minute timeout.
	HTTPClient connect.HTTPClient
	// BatchSize is the number of records per call, at most wire.MaxRecords.
	BatchSize int
	// MaxAttempts bounds the tries of one batch when the hub is unavailable.
	MaxAttempts int
	// RetryFor, when positive, keeps retrying a batch while the hub is
	// unavailable for up to this long from the batch's first failure,
	// however many attempts that takes (MaxAttempts is then ignored): for
	// riding out an outage of the hub's storage.
	RetryFor time.Duration
	// Backoff is the first wait between attempts; it doubles, with jitter.
	Backoff time.Duration
	// DryRun asks the hub to validate and report without storing.
	DryRun bool
	// Progress, when non-nil, is called after each batch with the number of
	// records done so far.
	Progress func(done int)
	// OnRetry, when non-nil, is told about each retry.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Client submits batches.
type Client struct {
	rpc  pathwayv1connect.IngestServiceClient
	opts Options
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if opts.BatchSize <= 0 || opts.BatchSize > wire.MaxRecords {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	return &Client{rpc: pathwayv1connect.NewIngestServiceClient(opts.HTTPClient, opts.URL), opts: opts}
}

// Problem is one error or warning the hub reported on one record.
type Problem struct {
	// Index is the record's position in the submitted slice.
	Index   int
	Field   string
	Code    string
	Message string
}

// Summary is what happened to every record of a submission.
type Summary struct {
	// Counts by status code name: "accepted", "updated", "unchanged",
	// "stale", "rejected".
	Counts   map[string]int
	Errors   []Problem
	Warnings []Problem
	// Batches and Retries count the calls made.
	Batches int
	Retries int
}

// Rejected returns the number of rejected records.
func (s *Summary) Rejected() int { return s.Counts["rejected"] }

// Total returns the number of records with a result.
func (s *Summary) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Reasons returns the number of errors per "field code", most frequent first.
func (s *Summary) Reasons() []ReasonCount {
	m := map[string]int{}
	for _, p := range s.Errors {
		m[p.Field+" "+p.Code]++
	}
	out := make([]ReasonCount, 0, len(m))
	for k, n := range m {
		out = append(out, ReasonCount{Reason: k, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// ReasonCount is a reason ("field code") and how often it occurred.
type ReasonCount struct {
	Reason string
	Count  int
}

func (s *Summary) add(offset int, results []*pathwayv1.RecordResult) {
	if s.Counts == nil {
		s.Counts = map[string]int{}
	}
	for _, r := range results {
		s.Counts[codes.Of(r.GetStatus())]++
		for _, e := range r.GetErrors() {
			s.Errors = append(s.Errors, Problem{Index: offset + int(r.GetIndex()), Field: e.GetField(), Code: e.GetCode(), Message: e.GetMessage()})
		}
		for _, w := range r.GetWarnings() {
			s.Warnings = append(s.Warnings, Problem{Index: offset + int(r.GetIndex()), Field: w.GetField(), Code: w.GetCode(), Message: w.GetMessage()})
		}
	}
}

// SubmitIncidents sends records in batches. On error, the summary covers the
// batches acknowledged before it; later batches were not sent.
func (c *Client) SubmitIncidents(ctx context.Context, recs []*pathwayv1.IncidentRecord) (Summary, error) {
	return submitBatches(ctx, c, "records", recs, func(batch []*pathwayv1.IncidentRecord) ([]*pathwayv1.RecordResult, error) {
		r := connect.NewRequest(&pathwayv1.SubmitIncidentsRequest{Records: batch, DryRun: c.opts.DryRun})
		c.authorise(r.Header())
		resp, err := c.rpc.SubmitIncidents(ctx, r)
		if err != nil {
			return nil, err
		}
		return resp.Msg.GetResults(), nil
	})
}

// SubmitHealthUpdates sends health updates in batches, like SubmitIncidents.
func (c *Client) SubmitHealthUpdates(ctx context.Context, ups []*pathwayv1.HealthUpdate) (Summary, error) {
	return submitBatches(ctx, c, "updates", ups, func(batch []*pathwayv1.HealthUpdate) ([]*pathwayv1.RecordResult, error) {
		r := connect.NewRequest(&pathwayv1.SubmitHealthUpdatesRequest{Updates: batch, DryRun: c.opts.DryRun})
		c.authorise(r.Header())
		resp, err := c.rpc.SubmitHealthUpdates(ctx, r)
		if err != nil {
			return nil, err
		}
		return resp.Msg.GetResults(), nil
	})
}

// submitBatches splits items into batches of the configured size and sends
// each with send, retrying it while the hub is unavailable.
func submitBatches[T any](ctx context.Context, c *Client, noun string, items []T, send func([]T) ([]*pathwayv1.RecordResult, error)) (Summary, error) {
	var sum Summary
	for start := 0; start < len(items); start += c.opts.BatchSize {
		batch := items[start:min(start+c.opts.BatchSize, len(items))]
		var results []*pathwayv1.RecordResult
		err := c.retry(ctx, &sum, func() error {
			var err error
			results, err = send(batch)
			return err
		})
		if err != nil {
			return sum, fmt.Errorf("client: %s %d to %d: %w", noun, start, start+len(batch)-1, err)
		}
		sum.add(start, results)
		if c.opts.Progress != nil {
			c.opts.Progress(start + len(batch))
		}
	}
	return sum, nil
}

func (c *Client) authorise(h http.Header) {
	h.Set("Authorization", "Bearer "+c.opts.Token)
}

// retryable reports whether a failed call may be sent again: the hub said
// unavailable, or the connection broke under the call (the hub died or
// restarted; Connect reports that as canceled or unknown) while the caller
// itself still wants the answer. Resending is always safe: a batch the hub
// did store comes back unchanged.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeAborted:
		return true
	case connect.CodeCanceled, connect.CodeUnknown:
		var netErr net.Error
		return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
	default:
		return false
	}
}

// retry calls fn until it succeeds, fails with an error other than
// unavailable, or runs out of attempts.
func (c *Client) retry(ctx context.Context, sum *Summary, fn func() error) error {
	wait := c.opts.Backoff
	var firstFailure time.Time
	for attempt := 1; ; attempt++ {
		sum.Batches++
		err := fn()
		if err == nil {
			return nil
		}
		if firstFailure.IsZero() {
			firstFailure = time.Now()
		}
		if !retryable(ctx, err) {
			return err
		}
		if c.opts.RetryFor > 0 {
			if time.Since(firstFailure) >= c.opts.RetryFor {
				return fmt.Errorf("still unavailable after %s of retries: %w", c.opts.RetryFor, err)
			}
		} else if attempt >= c.opts.MaxAttempts {
			return err
		}
		sum.Retries++
		jittered := wait/2 + rand.N(wait/2+1) //nolint:gosec // jitter needs no cryptographic randomness
		if c.opts.OnRetry != nil {
			c.opts.OnRetry(attempt, jittered, err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(jittered):
		}
		wait = min(wait*2, maxBackoff)
	}
}
