package meetingtest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

var start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestClockFiresInOrderAtDueTime(t *testing.T) {
	c := meetingtest.NewClock(start)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(start).String()) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	c.AfterFunc(time.Second, at("b")) // same instant: in the order made
	c.AfterFunc(10*time.Second, at("late"))
	c.Advance(999 * time.Millisecond)
	if len(got) != 0 {
		t.Fatalf("fired early: %v", got)
	}
	c.Advance(5 * time.Second)
	want := []string{"a@1s", "b@1s", "c@3s"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if now := c.Now().Sub(start); now != 5999*time.Millisecond {
		t.Errorf("now %v after advancing, want 5.999s", now)
	}
	if c.Pending() != 1 {
		t.Errorf("pending %d, want 1", c.Pending())
	}
}

func TestClockStop(t *testing.T) {
	c := meetingtest.NewClock(start)
	fired := false
	s := c.AfterFunc(time.Second, func() { fired = true })
	if !s.Stop() {
		t.Error("Stop of a pending timer returned false")
	}
	if s.Stop() {
		t.Error("second Stop returned true")
	}
	c.Advance(time.Minute)
	if fired {
		t.Error("a stopped timer fired")
	}
	s2 := c.AfterFunc(time.Second, func() {})
	c.Advance(time.Second)
	if s2.Stop() {
		t.Error("Stop after firing returned true")
	}
}

// A callback may schedule and stop timers (the clock's lock is not held while it runs); what it
// schedules within the advanced span fires in the same Advance.
func TestClockCallbacksMayUseTheClock(t *testing.T) {
	c := meetingtest.NewClock(start)
	var got []time.Duration
	var tick func()
	tick = func() {
		got = append(got, c.Now().Sub(start))
		if len(got) < 3 {
			c.AfterFunc(2*time.Second, tick)
		}
	}
	c.AfterFunc(time.Second, tick)
	c.Advance(10 * time.Second)
	want := []time.Duration{time.Second, 3 * time.Second, 5 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ticks at %v, want %v", got, want)
	}
}

func TestRecorders(t *testing.T) {
	trace := &meetingtest.Trace{}
	m := meetingtest.NewMedia(trace)
	s := meetingtest.NewSink("ann", trace)
	m.SetForwarding("m", "p", wire.SourceMicrophone, false)
	s.Deliver([]*wire.EventMessage{wire.NewEventMessage(wire.Kicked{})})
	m.RequestKeyframe("m", "p")
	if fwd, known := m.Forwarding("m", "p", wire.SourceMicrophone); fwd || !known {
		t.Errorf("gate %t/%t, want closed and known", fwd, known)
	}
	m.RemoveParticipant("m", "p")
	if _, known := m.Forwarding("m", "p", wire.SourceMicrophone); known {
		t.Error("gate known after RemoveParticipant")
	}
	m.SetForwarding("m", "q", wire.SourceCamera, true)
	m.ReleaseMeeting("m")
	if _, known := m.Forwarding("m", "q", wire.SourceCamera); known {
		t.Error("gate known after EndMeeting")
	}
	want := []string{
		"media SetForwarding p microphone false", "event ann kicked", "media RequestKeyframe p",
		"media RemoveParticipant p", "media SetForwarding q camera true", "media ReleaseMeeting m",
	}
	if got := trace.Entries(); !reflect.DeepEqual(got, want) {
		t.Errorf("trace %q, want %q", got, want)
	}
	if got := s.Types(); !reflect.DeepEqual(got, []string{"kicked"}) {
		t.Errorf("types %v", got)
	}
	if len(m.Take()) != 5 || len(m.Calls()) != 0 {
		t.Error("Take did not empty the calls")
	}
	if len(s.Take()) != 1 || len(s.Events()) != 0 {
		t.Error("Take did not empty the events")
	}
}
