package integration_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// TestClickHouseStoppedMidRun stops ClickHouse under a running hub: the batch
// sent meanwhile fails with unavailable and nothing in it is acknowledged;
// once ClickHouse is back, sending the same batch again stores every record
// exactly once.
func TestClickHouseStoppedMidRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := chserver.Start(t.Context(), chserver.Options{NoPasswords: true, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tcp, httpPort := srv.TCPPort(), srv.HTTPPort()
	t.Cleanup(func() { _ = srv.Stop(context.WithoutCancel(t.Context())) })
	h := startHub(t, srv.Addr())

	before := []*pathwayv1.IncidentRecord{s136(t), s136(t)}
	h.mustSubmit(t, btpToken, before...)

	stopCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	during := []*pathwayv1.IncidentRecord{s136(t), s136(t), s136(t)}
	if _, err := h.submit(t, btpToken, false, during...); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("with ClickHouse down: %v, want unavailable", err)
	}

	srv, err = chserver.Start(t.Context(), chserver.Options{NoPasswords: true, DataDir: dir, TCPPort: tcp, HTTPPort: httpPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.WithoutCancel(t.Context())) })

	// The client's retry: the same batch again, until the hub's pool has
	// reconnected.
	var resp *pathwayv1.SubmitIncidentsResponse
	for attempt := 0; ; attempt++ {
		resp, err = h.submit(t, btpToken, false, during...)
		if err == nil {
			break
		}
		if connect.CodeOf(err) != connect.CodeUnavailable || attempt == 20 {
			t.Fatalf("retry after restart: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := statuses(resp); got != "ACCEPTED ACCEPTED ACCEPTED" {
		t.Fatalf("retry: %s", got)
	}
	// And again: a duplicate is harmless.
	if got := statuses(h.mustSubmit(t, btpToken, during...)); got != "UNCHANGED UNCHANGED UNCHANGED" {
		t.Fatalf("duplicate: %s", got)
	}
	if n := h.count(t, "SELECT count() FROM incidents"); n != 5 {
		t.Fatalf("rows = %d, want 5: every acknowledged record once", n)
	}
}
