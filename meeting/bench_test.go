package meeting_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

type discard struct{}

func (discard) Deliver([]*wire.EventMessage) {}
func (discard) Flush()                       {}

// benchRoom is a meeting with a host and n participants whose sinks drop everything.
func benchRoom(b *testing.B, n int) (*meeting.Service, meeting.Created, *meeting.Member, []*meeting.Member) {
	b.Helper()
	svc := meeting.NewService(meeting.Config{Clock: meetingtest.NewClock(t0), MaxParticipants: n + 10})
	ctx := context.Background()
	c, err := svc.Create(ctx, "Host")
	if err != nil {
		b.Fatal(err)
	}
	host, _, err := svc.Join(ctx, meeting.JoinRequest{MeetingID: c.MeetingID, Name: "Host", HostKey: c.HostKey}, discard{})
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]*meeting.Member, n)
	for i := range ps {
		if ps[i], _, err = svc.Join(ctx, meeting.JoinRequest{MeetingID: c.MeetingID, Name: fmt.Sprintf("P%d", i)}, discard{}); err != nil {
			b.Fatal(err)
		}
	}
	return svc, c, host, ps
}

func BenchmarkJoinLeave(b *testing.B) {
	for _, n := range []int{10, 99} {
		b.Run(fmt.Sprintf("meeting of %d", n), func(b *testing.B) {
			svc, c, _, _ := benchRoom(b, n-1)
			ctx := context.Background()
			req := meeting.JoinRequest{MeetingID: c.MeetingID, Name: "Joiner"}
			b.ReportAllocs()
			for b.Loop() {
				m, _, err := svc.Join(ctx, req, discard{})
				if err != nil {
					b.Fatal(err)
				}
				m.Leave()
			}
		})
	}
}

func BenchmarkSetMuted(b *testing.B) {
	_, _, _, ps := benchRoom(b, 9)
	ctx := context.Background()
	reqs := []meeting.Request{meeting.SetMuted{Kind: wire.KindAudio, Muted: true}, meeting.SetMuted{Kind: wire.KindAudio}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := ps[0].Do(ctx, reqs[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMuteAll is the domain's share of a mute all (its whole lock section, sinks that
// drop what they are given, no media): every participant's state changes, so N broadcasts of
// participantUpdated reach N members each.
func BenchmarkMuteAll(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("participants=%d", n), func(b *testing.B) {
			_, _, host, _ := benchRoom(b, n-1)
			ctx := context.Background()
			reqs := []meeting.Request{meeting.MuteAll{}, meeting.AllowUnmute{}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := host.Do(ctx, reqs[i&1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkForbidden(b *testing.B) {
	_, _, _, ps := benchRoom(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := ps[0].Do(ctx, meeting.EndMeeting{}); meeting.CodeOf(err) != wire.CodeForbidden {
			b.Fatal(err)
		}
	}
}

// BenchmarkParallelMeetings has each goroutine work in its own meeting: meetings do not contend.
func BenchmarkParallelMeetings(b *testing.B) {
	svc := meeting.NewService(meeting.Config{Clock: meetingtest.NewClock(t0)})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c, err := svc.Create(ctx, "Host")
		if err != nil {
			b.Error(err)
			return
		}
		m, _, err := svc.Join(ctx, meeting.JoinRequest{MeetingID: c.MeetingID, Name: "Host", HostKey: c.HostKey}, discard{})
		if err != nil {
			b.Error(err)
			return
		}
		muted := false
		for pb.Next() {
			muted = !muted
			if err := m.Do(ctx, meeting.SetMuted{Kind: wire.KindVideo, Muted: muted}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
