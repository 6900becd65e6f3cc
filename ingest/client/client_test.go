package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/ingest/client"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// flaky answers unavailable to its first down calls, then accepts.
type flaky struct {
	pathwayv1connect.UnimplementedIngestServiceHandler
	down  int64
	calls atomic.Int64
}

func (f *flaky) SubmitIncidents(_ context.Context, req *connect.Request[pathwayv1.SubmitIncidentsRequest]) (*connect.Response[pathwayv1.SubmitIncidentsResponse], error) {
	if f.calls.Add(1) <= f.down {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("storage is down"))
	}
	res := &pathwayv1.SubmitIncidentsResponse{}
	for i := range req.Msg.GetRecords() {
		res.Results = append(res.Results, &pathwayv1.RecordResult{Index: uint32(i), Status: pathwayv1.RecordStatus_RECORD_STATUS_ACCEPTED})
	}
	return connect.NewResponse(res), nil
}

// An outage longer than the default 8 attempts is ridden out with
// RetryFor; without it the client gives up.
func TestRetryForOutlastsAnOutage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		retryFor time.Duration
		ok       bool
	}{
		{"8 attempts", 0, false},
		{"retry for 30 s", 30 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &flaky{down: 12}
			_, h := pathwayv1connect.NewIngestServiceHandler(f)
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := client.New(client.Options{URL: srv.URL, Token: "t", Backoff: time.Millisecond, RetryFor: tc.retryFor})
			sum, err := c.SubmitIncidents(t.Context(), []*pathwayv1.IncidentRecord{{}, {}})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v after %d calls, want ok %v", err, f.calls.Load(), tc.ok)
			}
			if tc.ok && (sum.Counts["accepted"] != 2 || sum.Retries != 12) {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}
