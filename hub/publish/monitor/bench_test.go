package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/store"
)

// benchIncidents are n open detentions spread over 44 forces and a day of
// arrivals, so every stage and state occurs.
func benchIncidents(now time.Time, n int) []monitor.Incident {
	incs := make([]monitor.Incident, n)
	for i := range incs {
		arrived := now.Add(-time.Duration(i%1440) * time.Minute)
		incs[i] = monitor.Incident{
			ForceID: fmt.Sprintf("force-%02d", i%44), IncidentRef: fmt.Sprintf("ref-%06d", i),
			Status: "open", IncidentType: "s136", ArrivedAtPos: arrived,
			AmbulanceRequested: arrived.Add(-40 * time.Minute), LastUpdate: arrived,
		}
	}
	return incs
}

func BenchmarkEvaluate(b *testing.B) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	incs := benchIncidents(now, 1440)
	th := measures.DefaultThresholds()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		monitor.Evaluate(now, incs[i%len(incs)], th)
	}
}

type staticSource []monitor.Incident

func (s staticSource) OpenIncidents(context.Context) ([]monitor.Incident, error) { return s, nil }

func (s staticSource) Incidents(context.Context, []store.IncidentKey) ([]monitor.Incident, error) {
	return nil, nil
}

// BenchmarkRefresh measures one refresh of 10,000 open incidents, from the
// source's answer to the gauges and snapshot (without ClickHouse).
func BenchmarkRefresh(b *testing.B) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	m, err := monitor.New(monitor.Options{
		Source: staticSource(benchIncidents(now, 10000)), Thresholds: measures.DefaultThresholds(),
		Now: func() time.Time { return now }, Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Refresh(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
