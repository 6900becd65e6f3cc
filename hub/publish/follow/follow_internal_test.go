package follow

import (
	"testing"
	"time"
)

// TestNewsCountsOtherHubsBatchesOnce: the first read is taken as known; a
// batch is reported once, and never when it is this hub's own; what fell
// behind the horizon is forgotten.
func TestNewsCountsOtherHubsBatchesOnce(t *testing.T) {
	f := New(Options{})
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		batches map[string]time.Time
		mine    []string
		report  bool
		want    int
	}{
		{batches: map[string]time.Time{"old": t0}, report: false, want: 0},
		{batches: map[string]time.Time{"old": t0, "a": t0.Add(time.Second)}, report: true, want: 1},
		{batches: map[string]time.Time{"old": t0, "a": t0.Add(time.Second), "b": t0.Add(2 * time.Second)}, mine: []string{"b"}, report: true, want: 0},
		{batches: map[string]time.Time{"a": t0.Add(time.Second), "c": t0.Add(3 * time.Second), "d": t0.Add(3 * time.Second)}, report: true, want: 2},
	}
	for i, s := range steps {
		for _, id := range s.mine {
			f.Mine(id)
		}
		if got := f.news(s.batches, t0, s.report); got != s.want {
			t.Errorf("step %d: %d new batches, want %d", i, got, s.want)
		}
	}
	f.news(nil, t0.Add(time.Hour), true)
	if len(f.seen) != 0 {
		t.Errorf("batches logged before the horizon are still remembered: %v", f.seen)
	}
}
