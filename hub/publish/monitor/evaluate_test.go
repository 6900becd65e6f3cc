package monitor_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
)

// t0 is when the evaluated incidents started: arrival at the place of
// safety, the ambulance request or the last update, as each case says.
var t0 = time.Date(2026, 1, 10, 22, 0, 0, 0, time.UTC)

// atPos is an open s136 detention that arrived at a place of safety at t0,
// was handed over and left by officers, so only its clock runs.
func atPos(edit func(*monitor.Incident)) monitor.Incident {
	inc := monitor.Incident{
		ForceID: "btp", IncidentRef: "ref", Status: "open", IncidentType: "s136",
		ArrivedAtPos: t0, HandoverAccepted: t0.Add(10 * time.Minute), PoliceLeftPos: t0.Add(15 * time.Minute),
	}
	if edit != nil {
		edit(&inc)
	}
	return inc
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	def := measures.DefaultThresholds()
	custom := def
	custom.DetentionWarnings = []time.Duration{time.Hour, 4 * time.Hour, 30 * time.Minute}
	noWarnings := def
	noWarnings.DetentionWarnings = nil
	h, m, s := time.Hour, time.Minute, time.Second
	clock := func(state monitor.State, elapsed, due, warning time.Duration) monitor.Flag {
		return monitor.Flag{Stage: monitor.StageDetentionClock, State: state, Elapsed: elapsed, Due: t0.Add(due), Warning: warning}
	}
	flag := func(stage monitor.Stage, state monitor.State, elapsed, due time.Duration) monitor.Flag {
		return monitor.Flag{Stage: stage, State: state, Elapsed: elapsed, Due: t0.Add(due)}
	}
	const (
		ok          = monitor.StateOK
		approaching = monitor.StateApproaching
		breached    = monitor.StateBreached
	)
	tests := []struct {
		name  string
		after time.Duration // now is t0 plus this
		th    measures.Thresholds
		inc   monitor.Incident
		want  []monitor.Flag
	}{
		{name: "closed incident has no flags", after: 30 * h, inc: atPos(func(i *monitor.Incident) { i.Status = "closed" })},
		{name: "withdrawn incident has no flags", after: 30 * h, inc: atPos(func(i *monitor.Incident) { i.Status = "withdrawn" })},
		{name: "open call with nothing timed has no flags", after: h, inc: monitor.Incident{ForceID: "btp", Status: "open", IncidentType: "rcrp_call"}},
		{
			name: "fresh detention at a place of safety: every stage ok", after: 30 * m,
			inc: atPos(func(i *monitor.Incident) {
				i.HandoverAccepted, i.PoliceLeftPos, i.LastUpdate = time.Time{}, time.Time{}, t0
			}),
			want: []monitor.Flag{
				clock(ok, 30*m, 24*h, 0),
				flag(monitor.StageHandover, ok, 30*m, h),
				flag(monitor.StageLocalEscalation, ok, 30*m, 4*h),
				flag(monitor.StageNoUpdate, ok, 30*m, 2*h),
			},
		},
		{name: "clock 1s before the 4h warning", after: 20*h - s, inc: atPos(nil), want: []monitor.Flag{clock(ok, 20*h-s, 24*h, 0)}},
		{name: "clock at the 4h warning", after: 20 * h, inc: atPos(nil), want: []monitor.Flag{clock(approaching, 20*h, 24*h, 4*h)}},
		{name: "clock 90m left names the 4h warning", after: 22*h + 30*m, inc: atPos(nil), want: []monitor.Flag{clock(approaching, 22*h+30*m, 24*h, 4*h)}},
		{name: "clock 30m left names the 1h warning", after: 23*h + 30*m, inc: atPos(nil), want: []monitor.Flag{clock(approaching, 23*h+30*m, 24*h, h)}},
		{name: "clock at exactly 24h is not yet breached", after: 24 * h, inc: atPos(nil), want: []monitor.Flag{clock(approaching, 24*h, 24*h, h)}},
		{name: "clock 1s past 24h is breached", after: 24*h + s, inc: atPos(nil), want: []monitor.Flag{clock(breached, 24*h+s, 24*h, 0)}},
		{
			name: "extension moves the clock", after: 24*h + s,
			inc:  atPos(func(i *monitor.Incident) { i.ExtensionHours = 6 }),
			want: []monitor.Flag{clock(ok, 24*h+s, 30*h, 0)},
		},
		{
			name: "extended clock approaching", after: 29 * h,
			inc:  atPos(func(i *monitor.Incident) { i.ExtensionHours = 6 }),
			want: []monitor.Flag{clock(approaching, 29*h, 30*h, h)},
		},
		{
			name: "unsorted warnings: tightest window entered", after: 23*h + 20*m, th: custom,
			inc: atPos(nil), want: []monitor.Flag{clock(approaching, 23*h+20*m, 24*h, h)},
		},
		{
			name: "unsorted warnings: 30m window", after: 23*h + 30*m, th: custom,
			inc: atPos(nil), want: []monitor.Flag{clock(approaching, 23*h+30*m, 24*h, 30*m)},
		},
		{name: "no warnings configured: never approaching", after: 23*h + 59*m, th: noWarnings, inc: atPos(nil), want: []monitor.Flag{clock(ok, 23*h+59*m, 24*h, 0)}},
		{name: "s135(1) detention runs the clock", after: 25 * h, inc: atPos(func(i *monitor.Incident) { i.IncidentType = "s135_1" }), want: []monitor.Flag{clock(breached, 25*h, 24*h, 0)}},
		{name: "s135(2) detention runs the clock", after: 21 * h, inc: atPos(func(i *monitor.Incident) { i.IncidentType = "s135_2" }), want: []monitor.Flag{clock(approaching, 21*h, 24*h, 4*h)}},
		{name: "RCRP call has no clock", after: 25 * h, inc: atPos(func(i *monitor.Incident) { i.IncidentType = "rcrp_call" })},
		{name: "ended detention has no clock", after: 25 * h, inc: atPos(func(i *monitor.Incident) { i.DetentionEnded = t0.Add(5 * h) })},
		{name: "detention not yet at a place of safety has no clock", after: 25 * h, inc: atPos(func(i *monitor.Incident) {
			i.ArrivedAtPos, i.HandoverAccepted, i.PoliceLeftPos = time.Time{}, time.Time{}, time.Time{}
		})},
		{name: "handover before warning", after: 45*m - s, inc: waiting(), want: []monitor.Flag{flag(monitor.StageHandover, ok, 45*m-s, h)}},
		{name: "handover at warning", after: 45 * m, inc: waiting(), want: []monitor.Flag{flag(monitor.StageHandover, approaching, 45*m, h)}},
		{name: "handover at target", after: h, inc: waiting(), want: []monitor.Flag{flag(monitor.StageHandover, approaching, h, h)}},
		{name: "handover past target", after: h + s, inc: waiting(), want: []monitor.Flag{flag(monitor.StageHandover, breached, h+s, h)}},
		{name: "handover still watched after the detention ended", after: 3 * h, inc: waiting(func(i *monitor.Incident) { i.DetentionEnded = t0.Add(2 * h) }), want: []monitor.Flag{flag(monitor.StageHandover, breached, 3*h, h)}},
		{name: "officers at PoS before two thirds", after: 2*h + 40*m - s, inc: officers(), want: []monitor.Flag{flag(monitor.StageLocalEscalation, ok, 2*h+40*m-s, 4*h)}},
		{name: "officers at PoS at two thirds", after: 2*h + 40*m, inc: officers(), want: []monitor.Flag{flag(monitor.StageLocalEscalation, approaching, 2*h+40*m, 4*h)}},
		{name: "officers at PoS at escalation", after: 4 * h, inc: officers(), want: []monitor.Flag{flag(monitor.StageLocalEscalation, approaching, 4*h, 4*h)}},
		{name: "officers at PoS past escalation", after: 4*h + s, inc: officers(), want: []monitor.Flag{flag(monitor.StageLocalEscalation, breached, 4*h+s, 4*h)}},
		{name: "ambulance before two thirds", after: 20*m - s, inc: ambulance(nil), want: []monitor.Flag{flag(monitor.StageAmbulanceWait, ok, 20*m-s, 30*m)}},
		{name: "ambulance at two thirds", after: 20 * m, inc: ambulance(nil), want: []monitor.Flag{flag(monitor.StageAmbulanceWait, approaching, 20*m, 30*m)}},
		{name: "ambulance past wait", after: 30*m + s, inc: ambulance(nil), want: []monitor.Flag{flag(monitor.StageAmbulanceWait, breached, 30*m+s, 30*m)}},
		{name: "ambulance arrived", after: h, inc: ambulance(func(i *monitor.Incident) { i.AmbulanceArrived = t0.Add(40 * m) })},
		{name: "person reached PoS another way", after: h, inc: ambulance(func(i *monitor.Incident) {
			i.ArrivedAtPos, i.HandoverAccepted, i.PoliceLeftPos = t0.Add(50*m), t0.Add(55*m), t0.Add(56*m)
		}), want: []monitor.Flag{clock(ok, 10*m, 24*h+50*m, 0)}},
		{name: "update just within stale", after: 2 * h, inc: updated(), want: []monitor.Flag{flag(monitor.StageNoUpdate, ok, 2*h, 2*h)}},
		{name: "no update past stale", after: 2*h + s, inc: updated(), want: []monitor.Flag{flag(monitor.StageNoUpdate, breached, 2*h+s, 2*h)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th := tt.th
			if th.DetentionClock == 0 {
				th = def
			}
			got := monitor.Evaluate(t0.Add(tt.after), tt.inc, th)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

// waiting is an RCRP call at a place of safety since t0 whose officers have
// left but whose handover is not yet accepted.
func waiting(edits ...func(*monitor.Incident)) monitor.Incident {
	inc := atPos(func(i *monitor.Incident) { i.IncidentType, i.HandoverAccepted = "rcrp_call", time.Time{} })
	for _, e := range edits {
		e(&inc)
	}
	return inc
}

// officers is an RCRP call at a place of safety since t0, handed over, with
// officers still there.
func officers() monitor.Incident {
	return atPos(func(i *monitor.Incident) { i.IncidentType, i.PoliceLeftPos = "rcrp_call", time.Time{} })
}

// ambulance is a detention whose ambulance was requested at t0 and has not
// arrived.
func ambulance(edit func(*monitor.Incident)) monitor.Incident {
	inc := monitor.Incident{ForceID: "btp", IncidentRef: "ref", Status: "open", IncidentType: "s136",
		Detained: t0.Add(-time.Minute), AmbulanceRequested: t0}
	if edit != nil {
		edit(&inc)
	}
	return inc
}

// updated is an open call last updated at t0 with nothing else timed.
func updated() monitor.Incident {
	return monitor.Incident{ForceID: "btp", IncidentRef: "ref", Status: "open", IncidentType: "rcrp_call", LastUpdate: t0}
}

func TestWorst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		states []monitor.State
		want   monitor.State
	}{
		{nil, monitor.StateOK},
		{[]monitor.State{monitor.StateOK, monitor.StateOK}, monitor.StateOK},
		{[]monitor.State{monitor.StateOK, monitor.StateApproaching}, monitor.StateApproaching},
		{[]monitor.State{monitor.StateBreached, monitor.StateApproaching, monitor.StateOK}, monitor.StateBreached},
	}
	for _, tt := range tests {
		var flags []monitor.Flag
		for _, s := range tt.states {
			flags = append(flags, monitor.Flag{State: s})
		}
		if got := monitor.Worst(flags); got != tt.want {
			t.Errorf("Worst(%v) = %s, want %s", tt.states, got, tt.want)
		}
	}
}
