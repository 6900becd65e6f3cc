package access_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/hub/api/access"
	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// failingPolicy is a policy whose evaluation breaks, as a bundle can at
// run time (a Rego runtime error, a cancelled context).
type failingPolicy struct{}

func (failingPolicy) Decide(context.Context, policy.Input) (policy.Decision, error) {
	return policy.Decision{}, errors.New("rego: eval_conflict_error: boom")
}

func (failingPolicy) Agreements() []policy.Agreement {
	return []policy.Agreement{{ID: "a", Recipients: []policy.Recipient{{ID: "r", Org: "force/btp"}}}}
}

// A policy failure reaches the operator's log with its cause, while the
// caller is told only to try again (the failure was once dropped silently).
func TestPolicyFailureIsLoggedNotShown(t *testing.T) {
	var log bytes.Buffer
	svc := access.New(failingPolicy{}, "share_", slog.New(slog.NewTextHandler(&log, nil)))
	ctx := auth.WithOrg(t.Context(), auth.Org{Kind: auth.KindForce, ID: "btp"})
	_, err := svc.DescribeAccess(ctx, connect.NewRequest(&pathwayv1.DescribeAccessRequest{}))
	if connect.CodeOf(err) != connect.CodeUnavailable || strings.Contains(err.Error(), "boom") {
		t.Errorf("error to the caller = %v, want unavailable without the cause", err)
	}
	if !strings.Contains(log.String(), "boom") || !strings.Contains(log.String(), "component=access") {
		t.Errorf("log = %q, want the cause under component=access", log.String())
	}
}
