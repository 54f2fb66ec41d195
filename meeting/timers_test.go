package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

func ms(t time.Time) int64 { return t.UnixMilli() }

func TestTimerEndsOnTime(t *testing.T) {
	for _, tt := range []struct {
		id      string
		seconds int
	}{{"t15", 15}, {"t30", 30}, {"t45", 45}} {
		t.Run(tt.id, func(t *testing.T) {
			r := newEnv(t).room(2)
			r.clock.Advance(1234 * time.Millisecond) // endsAt is from now, not from the meeting's start
			start := r.clock.Now()
			r.do(r.host, meeting.StartTimer{TimerID: tt.id})
			d := time.Duration(tt.seconds) * time.Second
			started := wire.TimerStarted{TimerID: tt.id, Seconds: tt.seconds, EndsAt: ms(start.Add(d))}
			for _, c := range r.everyone() {
				wantEvents(t, c.name, c.sink.Take(), []wire.Event{started})
			}
			r.noMedia()

			late := r.join(r.id(), "Late", "")
			want := wire.TimerView{TimerID: tt.id, Seconds: tt.seconds, EndsAt: ms(start.Add(d))}
			if late.res.Timer == nil || *late.res.Timer != want {
				t.Fatalf("late joiner sees timer %+v, want %+v", late.res.Timer, want)
			}
			r.quiet()

			r.clock.Advance(d - time.Millisecond)
			r.noEvents()
			r.clock.Advance(time.Millisecond)
			for _, c := range append(r.everyone(), late) {
				wantEvents(t, c.name, c.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: tt.id}})
			}
			if s := r.snapshot(); s.Timer != nil {
				t.Errorf("timer still running after it ended: %+v", s.Timer)
			}
			if j := r.join(r.id(), "Later", ""); j.res.Timer != nil {
				t.Errorf("a joiner after the end sees timer %+v", j.res.Timer)
			}
			r.quiet()
			r.clock.Advance(time.Hour)
			r.noEvents()
		})
	}
}

func TestTimerRestartReplaces(t *testing.T) {
	r := newEnv(t).room(1)
	r.do(r.host, meeting.StartTimer{TimerID: "t45"})
	r.clock.Advance(10 * time.Second)
	r.quiet()
	r.do(r.host, meeting.StartTimer{TimerID: "t15"})
	restarted := wire.TimerStarted{TimerID: "t15", Seconds: 15, EndsAt: ms(t0.Add(25 * time.Second))}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{restarted})
	}
	if n := r.clock.Pending(); n != 1 {
		t.Errorf("%d timers pending after a restart, want 1", n)
	}
	r.clock.Advance(15 * time.Second)
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t15"}})
	}
	r.clock.Advance(time.Minute) // where t45 would have ended
	r.noEvents()

	// Restarting the same timer starts it over.
	r.do(r.host, meeting.StartTimer{TimerID: "t15"})
	r.clock.Advance(10 * time.Second)
	r.do(r.host, meeting.StartTimer{TimerID: "t15"})
	r.quiet()
	r.clock.Advance(10 * time.Second)
	r.noEvents()
	r.clock.Advance(5 * time.Second)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t15"}})
}

func TestTimerCancel(t *testing.T) {
	r := newEnv(t).room(1)
	// None running: no error, no event.
	r.do(r.host, meeting.CancelTimer{})
	r.noEvents()

	r.do(r.host, meeting.StartTimer{TimerID: "t30"})
	r.clock.Advance(5 * time.Second)
	r.quiet()
	r.do(r.host, meeting.CancelTimer{})
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{wire.TimerCancelled{}})
	}
	if r.clock.Pending() != 0 {
		t.Error("the cancelled timer is still scheduled")
	}
	if s := r.snapshot(); s.Timer != nil {
		t.Errorf("timer after cancel: %+v", s.Timer)
	}
	r.clock.Advance(time.Minute)
	r.noEvents()
	r.do(r.host, meeting.CancelTimer{})
	r.noEvents()
}

func TestTimerBadID(t *testing.T) {
	r := newEnv(t).room(1)
	r.do(r.host, meeting.StartTimer{TimerID: "t30"})
	r.quiet()
	snap := r.snapshot()
	for _, id := range []string{"", "t10", "T15", "t15 ", "15", "t60"} {
		wantCode(t, r.host.m.Do(r.ctx, meeting.StartTimer{TimerID: id}), wire.CodeBadRequest)
	}
	r.noEvents()
	if !equalSnapshots(snap, r.snapshot()) {
		t.Error("a bad timer id changed the running timer")
	}
	r.clock.Advance(30 * time.Second)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t30"}})
}

// lateStopClock is a Clock whose Stop always comes too late, as with a real timer that has
// fired and whose callback is waiting for the meeting's lock: the callback still runs.
type lateStopClock struct{ *meetingtest.Clock }

type tooLate struct{}

func (tooLate) Stop() bool { return false }

func (c lateStopClock) AfterFunc(d time.Duration, f func()) meeting.Stopper {
	c.Clock.AfterFunc(d, f)
	return tooLate{}
}

func TestStaleTimerFireIsIgnored(t *testing.T) {
	e := newEnv(t)
	fake := e.clock
	e = newEnv(t, func(c *meeting.Config) { c.Clock = lateStopClock{fake} })
	e.clock = fake
	r := e.room(1)

	// Replaced: t45's callback still fires at 45 s and must do nothing.
	r.do(r.host, meeting.StartTimer{TimerID: "t45"})
	r.clock.Advance(40 * time.Second)
	r.do(r.host, meeting.StartTimer{TimerID: "t15"}) // ends at 55 s
	r.quiet()
	r.clock.Advance(5 * time.Second)
	r.noEvents()
	if s := r.snapshot(); s.Timer == nil || s.Timer.TimerID != "t15" {
		t.Fatalf("a stale fire cleared the running timer: %+v", s.Timer)
	}
	r.clock.Advance(10 * time.Second)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t15"}})

	// Cancelled: its callback fires and must do nothing.
	r.do(r.host, meeting.StartTimer{TimerID: "t15"})
	r.do(r.host, meeting.CancelTimer{})
	r.quiet()
	r.clock.Advance(15 * time.Second)
	r.noEvents()

	// Restarted with the same id: the first callback must not end the second run early.
	r.do(r.host, meeting.StartTimer{TimerID: "t30"})
	r.clock.Advance(20 * time.Second)
	r.do(r.host, meeting.StartTimer{TimerID: "t30"})
	r.quiet()
	r.clock.Advance(10 * time.Second)
	r.noEvents()
	r.clock.Advance(20 * time.Second)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t30"}})

	// After the meeting ended: a fire finds a released meeting.
	r.do(r.host, meeting.StartTimer{TimerID: "t15"})
	r.do(r.host, meeting.EndMeeting{})
	r.quiet()
	r.clock.Advance(15 * time.Second)
	r.noEvents()
}

func TestTimersRunPerMeeting(t *testing.T) {
	e := newEnv(t)
	a, b := e.room(1), e.room(1)
	a.do(a.host, meeting.StartTimer{TimerID: "t15"})
	b.do(b.host, meeting.StartTimer{TimerID: "t30"})
	e.quiet()
	a.do(a.host, meeting.CancelTimer{})
	wantEvents(t, "b host", b.host.sink.Take(), nil)
	e.clock.Advance(30 * time.Second)
	wantEvents(t, "a host", a.host.sink.Take(), []wire.Event{wire.TimerCancelled{}})
	wantEvents(t, "b host", b.host.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t30"}})
}
