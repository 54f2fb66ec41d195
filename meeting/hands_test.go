package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

func TestRaiseAndLowerOwnHand(t *testing.T) {
	r := newEnv(t).room(2)
	r.do(r.ps[1], meeting.SetHandRaised{Raised: true})
	p := r.participant(r.ps[1].id())
	if !p.HandRaised || p.HandRaisedAt != t0.UnixMilli() {
		t.Fatalf("after raising: %+v", p)
	}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{updated(p)})
	}
	r.noMedia()

	// Raising again changes nothing, and keeps the hand's place.
	r.clock.Advance(time.Second)
	r.do(r.ps[1], meeting.SetHandRaised{Raised: true})
	r.noEvents()
	r.do(r.ps[0], meeting.SetHandRaised{Raised: true})
	r.quiet()
	late := r.join(r.id(), "Late", "")
	raisedAt := map[string]int64{}
	for _, q := range late.res.Participants {
		raisedAt[q.Name] = q.HandRaisedAt
	}
	if raisedAt["P2"] != t0.UnixMilli() || raisedAt["P1"] != t0.Add(time.Second).UnixMilli() || raisedAt["Host"] != 0 {
		t.Fatalf("a joiner sees hands raised at %v", raisedAt)
	}
	r.quiet()

	r.do(r.ps[1], meeting.SetHandRaised{Raised: false})
	down := r.participant(r.ps[1].id())
	if down.HandRaised || down.HandRaisedAt != 0 {
		t.Fatalf("after lowering: %+v", down)
	}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(down)})
	r.quiet()
	r.do(r.ps[1], meeting.SetHandRaised{Raised: false})
	r.noEvents()
}

func TestHostLowersHands(t *testing.T) {
	r := newEnv(t).room(3)
	r.do(r.ps[0], meeting.SetHandRaised{Raised: true})
	r.do(r.ps[2], meeting.SetHandRaised{Raised: true})
	r.do(r.host, meeting.SetHandRaised{Raised: true})
	r.quiet()

	r.do(r.host, meeting.LowerHand{ParticipantID: r.ps[0].id()})
	p0 := r.participant(r.ps[0].id())
	if p0.HandRaised {
		t.Fatal("the host did not lower P1's hand")
	}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{updated(p0)})
	}
	// A hand that is down: ok, no event.
	r.do(r.host, meeting.LowerHand{ParticipantID: r.ps[1].id()})
	r.noEvents()
	wantCode(t, r.host.m.Do(r.ctx, meeting.LowerHand{ParticipantID: "nobody"}), wire.CodeNotFound)
	r.noEvents()

	// Everyone's: each raised hand goes down (the host's too), told in join order.
	r.do(r.host, meeting.LowerHand{})
	host, p2 := r.participant(r.host.id()), r.participant(r.ps[2].id())
	if host.HandRaised || p2.HandRaised {
		t.Fatalf("hands still up: %+v %+v", host, p2)
	}
	wantEvents(t, "P1", r.ps[0].sink.Take(), []wire.Event{updated(host), updated(p2)})
	r.quiet()
	r.do(r.host, meeting.LowerHand{})
	r.noEvents()
}
