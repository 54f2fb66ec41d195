package sfu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// Three participants publish Opus and VP8; each receives both tracks of both others, under the
// publisher's participant id, and nothing of its own. Every stream flows, and nothing is lost but
// what the server shed for being late on a busy machine (counted).
func TestThreeParticipantsReceiveEachOther(t *testing.T) {
	s := newTestSFU(t)
	ids := []string{"ada", "grace", "linus"}
	var cs []*testClient
	for _, id := range ids {
		c := newTestClient(t, s, "room-1", id)
		c.publish(true, true)
		cs = append(cs, c)
	}
	for _, c := range cs {
		for _, o := range cs {
			if o != c {
				c.waitReceiving(t, 25, o)
			}
		}
	}
	trackIDs := map[string]streamKey{} // by stream and track id
	for _, c := range cs {
		got := c.streams()
		if len(got) != 4 {
			t.Errorf("%s receives %d streams, want 4: %v", c.id, len(got), got)
		}
		for k, tracks := range got {
			if k.stream == c.id {
				t.Errorf("%s receives its own %s", c.id, k.kind)
			}
			if len(tracks) != 1 {
				t.Errorf("%s receives %d tracks for %v", c.id, len(tracks), k)
			}
			for _, id := range tracks {
				if want := map[Kind]string{KindAudio: "microphone", KindVideo: "camera"}[k.kind]; id != want {
					t.Errorf("%s receives %v as track %q, want %q", c.id, k, id, want)
				}
				if prev, ok := trackIDs[k.stream+"/"+id]; ok && prev != k {
					t.Errorf("track %s used for %v and %v", id, prev, k)
				}
				trackIDs[k.stream+"/"+id] = k
			}
		}
		for _, kind := range []Kind{KindAudio, KindVideo} {
			for _, o := range cs {
				if o == c {
					continue
				}
				rt, ok := c.track(o.id, kind)
				if !ok {
					t.Errorf("%s receives no %s from %s", c.id, kind, o.id)
				}
				if kind == KindVideo && !rt.firstKey {
					t.Errorf("%s's first video packet from %s is not a keyframe", c.id, o.id)
				}
			}
		}
	}
	// Subscribers negotiated transport-wide sequence numbers, which downTrack writes.
	for _, c := range cs {
		c.peer.subMu.Lock()
		for _, d := range c.peer.downs {
			if b := d.binding.Load(); b == nil || b.twccID == 0 {
				t.Errorf("%s: track %s bound without TWCC (%+v)", c.id, d.up.id, b)
			}
		}
		c.peer.subMu.Unlock()
	}
	if len(trackIDs) != 6 {
		t.Errorf("%d distinct track ids, want 6", len(trackIDs))
	}
	// More of every stream, then the accounts: the receivers miss only what the server shed.
	for _, c := range cs {
		for _, o := range cs {
			if o != c {
				c.waitReceiving(t, 75, o)
			}
		}
	}
	checkLossExplained(t, s, cs)
	st := s.Stats()
	if st.Tracks != 6 || st.Peers != 3 || st.Rooms != 1 {
		t.Errorf("stats: %d tracks %d peers %d rooms, want 6 3 1", st.Tracks, st.Peers, st.Rooms)
	}
	if st.ForwardedByKind[KindAudio] == 0 || st.ForwardedByKind[KindVideo] == 0 || st.PLIsSent == 0 {
		t.Errorf("stats: %+v", st)
	}
}

// Participants who joined before anyone published receive the first publisher's audio and video,
// which reach them in two offers in quick succession; several rooms at once, so that the second
// offer often comes while a client is still starting the first one's transports (it used to be
// taken for an ICE restart there, and that subscriber got nothing, in about one run in five).
func TestEarlyJoinersReceive(t *testing.T) {
	s := newTestSFU(t)
	const rooms = 6
	subs := make([]*testClient, rooms)
	pubs := make([]*testClient, rooms)
	for i := range rooms {
		room := fmt.Sprintf("room-%d", i)
		subs[i] = newTestClient(t, s, room, "early")
		pubs[i] = newTestClient(t, s, room, "publisher")
	}
	for _, p := range pubs {
		p.publish(true, true)
	}
	for i, c := range subs {
		c.waitReceiving(t, 10, pubs[i])
		if got := c.streams(); len(got) != 2 {
			t.Errorf("room %d: the early joiner receives %v, want the publisher's audio and video", i, got)
		}
	}
}

// A participant who leaves disappears from the others by renegotiation, its packets stop, and its
// connections and goroutines are gone.
func TestLeaveRemovesTracks(t *testing.T) {
	for _, how := range []string{"close", "remove"} {
		t.Run(how, func(t *testing.T) {
			s := newTestSFU(t)
			a := newTestClient(t, s, "room", "a")
			b := newTestClient(t, s, "room", "b")
			c := newTestClient(t, s, "room", "c")
			for _, x := range []*testClient{a, b, c} {
				x.publish(true, true)
			}
			a.waitReceiving(t, 10, b, c)
			b.waitReceiving(t, 10, a, c)

			if how == "close" {
				c.peer.Close()
			} else {
				s.RemoveParticipant("room", "c")
			}
			waitFor(t, "c's peer done", func() bool {
				select {
				case <-c.peer.Done():
					return true
				default:
					return false
				}
			})
			waitFor(t, "c's tracks removed at a and b", func() bool { return a.allEnded("c") && b.allEnded("c") })
			fromC := a.packets("c", KindAudio) + a.packets("c", KindVideo) + b.packets("c", KindAudio) + b.packets("c", KindVideo)
			// c's client keeps sending; a and b keep receiving from each other meanwhile.
			sent := c.audioSent.Load()
			base := a.packets("b", KindAudio)
			waitFor(t, "c sending 50 more and a receiving 50 more from b", func() bool {
				return c.audioSent.Load() >= sent+50 && a.packets("b", KindAudio) >= base+50
			})
			if now := a.packets("c", KindAudio) + a.packets("c", KindVideo) + b.packets("c", KindAudio) + b.packets("c", KindVideo); now != fromC {
				t.Errorf("packets from c after it left: %d -> %d", fromC, now)
			}
			if st := s.Stats(); st.Tracks != 4 || st.Peers != 2 {
				t.Errorf("after leave: %d tracks %d peers, want 4 and 2", st.Tracks, st.Peers)
			}
			if state := c.peer.pub().ConnectionState(); state != webrtc.PeerConnectionStateClosed {
				t.Errorf("c's publisher connection %s", state)
			}
			if state := c.peer.sub.ConnectionState(); state != webrtc.PeerConnectionStateClosed {
				t.Errorf("c's subscriber connection %s", state)
			}
			a.peer.subMu.Lock()
			left := len(a.peer.downs)
			a.peer.subMu.Unlock()
			if left != 2 {
				t.Errorf("a still subscribed to %d tracks, want 2", left)
			}
		})
	}
}

// Packets of a removed track still on their way to a subscriber when it applied the offer that
// removed the track (a congested path, a busy receiver) make no new track there. Pion, like any
// receiver without the MID header extension, would take them for the first m-section with their
// payload type, here the removed track's own, now without SSRC or msid: a track with an empty
// id. The subscriber's m-sections therefore carry the MID extension (negotiated: receivers route
// by MID and SSRC and drop what matches neither).
func TestLatePacketsOfARemovedTrack(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a", clientOptions{holdable: true})
	c := newTestClient(t, s, "room", "c")
	c.publish(true, true)
	a.waitReceiving(t, 10, c) // c's m-sections come first in a's subscriber connection
	b := newTestClient(t, s, "room", "b")
	b.publish(true, true)
	a.waitReceiving(t, 10, b)

	a.hold.hold()
	sent := c.audioSent.Load()
	waitFor(t, "c sending 10 more audio packets while a holds what arrives", func() bool {
		return c.audioSent.Load() >= sent+10 && a.hold.heldCount() >= 10
	})
	c.peer.Close()
	waitFor(t, "c's tracks removed at a", func() bool { return a.allEnded("c") })
	held := a.hold.heldCount()
	a.hold.release()
	base := a.packets("b", KindAudio)
	waitFor(t, fmt.Sprintf("a getting the %d held packets and 25 more of b's audio", held), func() bool {
		return a.hold.delivered.Load() >= int64(held) && a.packets("b", KindAudio) >= base+25
	})
	want := map[streamKey]int{{"b", KindAudio}: 1, {"b", KindVideo}: 1, {"c", KindAudio}: 1, {"c", KindVideo}: 1}
	got := a.streams()
	for k, ids := range got {
		if len(ids) != want[k] {
			t.Errorf("a received %d %s tracks from %q (%v), want %d", len(ids), k.kind, k.stream, ids, want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("a received %v, want b's and c's audio and video once each", got)
	}
	t.Logf("%d packets held, %d delivered after the removal", held, a.hold.delivered.Load())
}

// Two rooms side by side: not one packet crosses between them.
func TestRoomsAreIsolated(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room-1", "a")
	b := newTestClient(t, s, "room-1", "b")
	c := newTestClient(t, s, "room-2", "c")
	d := newTestClient(t, s, "room-2", "d")
	for _, x := range []*testClient{a, b, c, d} {
		x.publish(true, true)
	}
	a.waitReceiving(t, 50, b)
	b.waitReceiving(t, 50, a)
	c.waitReceiving(t, 50, d)
	d.waitReceiving(t, 50, c)
	partner := map[*testClient]string{a: "b", b: "a", c: "d", d: "c"}
	for x, p := range partner {
		for k := range x.streams() {
			if k.stream != p {
				t.Errorf("%s received %s from %s", x.id, k.kind, k.stream)
			}
		}
	}
	if st := s.Stats(); st.Rooms != 2 || st.Tracks != 8 {
		t.Errorf("stats: %d rooms %d tracks", st.Rooms, st.Tracks)
	}
}

// Closing a participant's audio gate stops its audio at once while video goes on; reopening it
// resumes audio with consecutive sequence numbers and a timestamp moved on by the pause.
func TestSetForwardingAudio(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b") // b only subscribes: all audio forwarded goes to b
	a.publish(true, true)
	b.waitReceiving(t, 25, a)

	s.SetForwarding("room", "a", KindAudio, false)
	forwarded := s.Stats().ForwardedByKind[KindAudio]
	waitFor(t, "b receiving every audio packet forwarded before the gate closed", func() bool {
		return uint64(b.packets("a", KindAudio)) == forwarded
	})
	sent, video := a.audioSent.Load(), b.packets("a", KindVideo)
	waitFor(t, "a sending 50 more audio packets, b receiving more video", func() bool {
		return a.audioSent.Load() >= sent+50 && b.packets("a", KindVideo) >= video+10
	})
	if got := b.packets("a", KindAudio); uint64(got) != forwarded {
		t.Fatalf("audio arrived while gated: %d -> %d", forwarded, got)
	}
	st := s.Stats()
	if st.ForwardedByKind[KindAudio] != forwarded {
		t.Fatalf("server forwarded audio while gated: %d -> %d", forwarded, st.ForwardedByKind[KindAudio])
	}
	// The last packets the client sent may still be on their way to the server's gate.
	waitFor(t, "the server to count 50 audio packets dropped by the gate", func() bool {
		return s.Stats().PacketsDropped["muted"] >= 50
	})

	s.SetForwarding("room", "a", KindAudio, true)
	waitFor(t, "audio resuming", func() bool { return uint64(b.packets("a", KindAudio)) >= forwarded+25 })
	rt, _ := b.track("a", KindAudio)
	checkPause(t, rt, 48000, 960)
	checkLossExplained(t, s, []*testClient{b}, "muted", "stale")
}

// checkPause wants exactly one pause made by the gate: consecutive sequence numbers with a
// timestamp that moved by more than ten packets' worth, matching the wall time the pause lasted.
// Other stalls are the loaded machine's: packets delayed (consecutive numbers and timestamps) or
// shed by the server (a sequence gap, which checkLossExplained accounts for).
func checkPause(t *testing.T, rt recvTrack, clock float64, step uint32) {
	t.Helper()
	var gated []pause
	for _, p := range rt.pauses {
		if p.seqDelta == 1 && p.tsDelta > 10*step {
			gated = append(gated, p)
		}
	}
	if len(gated) != 1 {
		t.Fatalf("%d pauses seen, want 1: %+v", len(gated), rt.pauses)
	}
	p := gated[0]
	tsSeconds := float64(p.tsDelta) / clock
	wall := p.wall.Seconds()
	if diff := tsSeconds - wall; diff > 0.25+0.1*wall || diff < -(0.25+0.1*wall) {
		t.Errorf("timestamp moved %.3fs across a %.3fs pause", tsSeconds, wall)
	}
	if rt.kind == KindVideo && !p.keyframe {
		t.Error("video resumed without a keyframe")
	}
	t.Logf("pause %.3fs, timestamp moved %.3fs", wall, tsSeconds)
}

// Video behind a closed gate resumes on a keyframe (asked for with a PLI), with continuous
// sequence numbers and timestamps.
func TestSetForwardingVideo(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(true, true)
	b.waitReceiving(t, 25, a)

	s.SetForwarding("room", "a", KindVideo, false)
	audio := b.packets("a", KindAudio)
	waitFor(t, "audio going on while video is gated", func() bool { return b.packets("a", KindAudio) >= audio+30 })
	plis := a.plisReceived.Load()
	s.SetForwarding("room", "a", KindVideo, true)
	video := b.packets("a", KindVideo)
	waitFor(t, "video resuming", func() bool { return b.packets("a", KindVideo) >= video+20 })
	if a.plisReceived.Load() == plis {
		t.Error("no keyframe request reached the publisher when video resumed")
	}
	rt, _ := b.track("a", KindVideo)
	checkPause(t, rt, 90000, 3600)
	checkLossExplained(t, s, []*testClient{b}, "muted", "stale")
}

// A host reconnecting: the same participant id joins again, the old peer is closed and replaced,
// the new one publishes and the others receive it. Its gates survive the replacement.
func TestReconnectReplacesPeer(t *testing.T) {
	s := newTestSFU(t)
	host := newTestClient(t, s, "room", "host")
	guest := newTestClient(t, s, "room", "guest")
	host.publish(true, true)
	guest.publish(true, true)
	guest.waitReceiving(t, 10, host)
	s.SetForwarding("room", "host", KindAudio, false)

	again := newTestClient(t, s, "room", "host")
	waitFor(t, "old host peer closed", func() bool {
		select {
		case <-host.peer.Done():
			return true
		default:
			return false
		}
	})
	waitFor(t, "old host tracks removed at the guest", func() bool { return guest.allEnded("host") })
	again.publish(true, true)
	again.waitReceiving(t, 10, guest)
	waitFor(t, "guest receiving the new host's video", func() bool {
		rt, ok := guest.track("host", KindVideo)
		return ok && rt.packets >= 10
	})
	if rt, ok := guest.track("host", KindAudio); ok && rt.packets > 0 {
		t.Fatalf("the new host's audio arrived although its gate was closed (%d packets)", rt.packets)
	}
	s.SetForwarding("room", "host", KindAudio, true)
	waitFor(t, "guest receiving the new host's audio", func() bool {
		rt, ok := guest.track("host", KindAudio)
		return ok && rt.packets >= 10
	})
	if st := s.Stats(); st.Peers != 2 || st.Tracks != 4 {
		t.Errorf("stats: %d peers %d tracks, want 2 and 4", st.Peers, st.Tracks)
	}
}

// Bad SDP and candidates get an error wrapping ErrBadSDP and break nothing: the same peer then
// negotiates properly and media flows.
func TestBadSDP(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	ctx := context.Background()

	// A real offer to mangle.
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = pc.Close()

	lines := strings.Split(offer.SDP, "\r\n")
	bad := []string{
		"", "   ", "garbage", "v=0\r\n", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
		offer.SDP[:len(offer.SDP)/2],
		strings.ReplaceAll(offer.SDP, "a=fingerprint", "a=fingerprintx"),
		strings.ReplaceAll(offer.SDP, "a=ice-ufrag", "a=ice-ufragx"),
		strings.Join(lines[:len(lines)/3], "\r\n"),
		strings.Repeat("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", 50),
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 300\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n",
	}
	for i, sdp := range bad {
		if _, err := a.peer.Offer(ctx, sdp); !errors.Is(err, ErrBadSDP) {
			t.Errorf("bad offer %d: %v, want ErrBadSDP", i, err)
		}
		if st := a.peer.pub().SignalingState(); st != webrtc.SignalingStateStable {
			t.Errorf("bad offer %d left the publisher %s", i, st)
		}
	}
	if err := a.peer.Answer(offer.SDP); !errors.Is(err, ErrBadSDP) {
		t.Errorf("answer with no offer pending: %v, want ErrBadSDP", err)
	}
	if err := a.peer.Answer("nonsense"); !errors.Is(err, ErrBadSDP) {
		t.Errorf("unparsable answer: %v, want ErrBadSDP", err)
	}
	if err := a.peer.AddCandidate("sideways", webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}); !errors.Is(err, ErrBadSDP) {
		t.Errorf("unknown target: %v, want ErrBadSDP", err)
	}
	flood, err := s.Join("room", "flood", func(Signal) {})
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	for i := 0; i < maxHeldCandidates+1; i++ {
		err = flood.AddCandidate(TargetSubscriber, webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
	}
	if !errors.Is(err, ErrBadSDP) {
		t.Errorf("candidate flood: %v, want ErrBadSDP", err)
	}

	// The peers still work.
	a.publish(true, true)
	b.publish(true, true)
	a.waitReceiving(t, 10, b)
	b.waitReceiving(t, 10, a)
	if err := b.peer.AddCandidate(TargetPublisher, webrtc.ICECandidateInit{Candidate: "candidate:not a candidate"}); !errors.Is(err, ErrBadSDP) {
		t.Errorf("malformed candidate: %v, want ErrBadSDP", err)
	}
	// Renegotiations that Pion rejects only after changing its state are caught by the dry run.
	real := b.pub.LocalDescription().SDP
	for i, sdp := range []string{
		"v=0",
		strings.Replace(real, "t=0 0\r\n", "t=0 0\r\na=ice-ufrag:abcd\r\n", 1),
		strings.Replace(real, "a=fmtp:97 apt=96", "a=fmtp:97 apt=999", 1),
	} {
		if _, err := b.peer.Offer(ctx, sdp); !errors.Is(err, ErrBadSDP) {
			t.Errorf("bad renegotiation %d: %v, want ErrBadSDP", i, err)
		}
		if st := b.peer.pub().SignalingState(); st != webrtc.SignalingStateStable {
			t.Errorf("bad renegotiation %d left the publisher %s", i, st)
		}
	}
	base := a.packets("b", KindAudio)
	waitFor(t, "media still flowing", func() bool { return a.packets("b", KindAudio) >= base+25 })
	if b.peer.isClosed() || a.peer.isClosed() {
		t.Error("a peer was closed by bad input")
	}
}

// Subscribers' NACKs are answered from the track's cache; the publisher is NACKed for upstream
// loss. Either way the receiver ends up with every packet.
func TestNACK(t *testing.T) {
	every25 := func(seq uint16) bool { return seq%25 == 0 }
	for _, tc := range []struct {
		name        string
		pub, sub    clientOptions
		wantAnswers bool
	}{
		{name: "downstream", sub: clientOptions{receiveDropper: every25}, wantAnswers: true},
		{name: "upstream", pub: clientOptions{sendDropper: every25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSFU(t)
			a := newTestClient(t, s, "room", "a", tc.pub)
			b := newTestClient(t, s, "room", "b", tc.sub)
			a.publish(false, true)
			// A loaded machine may shed packets and make the track congested for a while, which
			// leaves NACKs unanswered; the simulated loss keeps coming, so some are answered.
			waitFor(t, "300 video packets and a NACK answered", func() bool {
				return b.packets("a", KindVideo) >= 300 && (!tc.wantAnswers || s.Stats().NACKsAnswered > 0)
			})
			// Every sequence number but the newest few (whose repair may be in flight) arrived,
			// unless the server shed it, or did not answer its NACK for a documented reason: the
			// track was congested (it had just shed), or the NACK came too late.
			_, missing, shed, kernel, st := lossAccount(t, s, []*testClient{b})
			checkDropReasons(t, st)
			excused := shed + kernel + st.NACKsIgnored["congested"] + st.NACKsIgnored["too_old"]
			if uint64(missing) > excused {
				t.Errorf("%d video packets never arrived, more than the %d shed, dropped by the kernel or left unrepaired for a reason (drops %v, NACKs ignored %v)",
					missing, excused, st.PacketsDropped, st.NACKsIgnored)
			}
			if rt, _ := b.track("a", KindVideo); rt.gaps == 0 {
				t.Error("no loss was simulated")
			}
			t.Logf("missing %d, shed %d, kernel drops %d, NACKs received %d, answered %d, ignored %v", missing, shed,
				kernel, st.NACKsReceived, st.NACKsAnswered, st.NACKsIgnored)
		})
	}
}

// Closing the room or the SFU ends every peer.
func TestCloseRoom(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	other := newTestClient(t, s, "other", "c")
	a.publish(true, true)
	b.publish(true, false)
	other.publish(true, false)
	b.waitReceiving(t, 5, a)
	s.CloseRoom("room")
	for _, p := range []*Peer{a.peer, b.peer} {
		select {
		case <-p.Done():
		case <-time.After(waitTimeout):
			t.Fatal("peer not done after CloseRoom")
		}
	}
	if st := s.Stats(); st.Rooms != 1 || st.Peers != 1 || st.Tracks != 1 {
		t.Errorf("after CloseRoom: %+v", st)
	}
	select {
	case <-other.peer.Done():
		t.Error("a peer of another room was closed")
	default:
	}
}

// A publisher renegotiates: a track added later reaches the others, a track removed leaves them.
func TestPublisherRenegotiation(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(true, false)
	waitFor(t, "b receiving a's audio", func() bool { return b.packets("a", KindAudio) >= 10 })
	if n := b.packets("a", KindVideo); n != 0 {
		t.Fatalf("video before it was published: %d", n)
	}
	a.publish(false, true)
	waitFor(t, "b receiving a's video", func() bool { return b.packets("a", KindVideo) >= 10 })
	a.unpublishVideo()
	waitFor(t, "a's video removed at b", func() bool {
		rt, ok := b.track("a", KindVideo)
		return !ok && rt.packets == 0 && s.Stats().Tracks == 1
	})
	video, audio := b.packets("a", KindVideo), b.packets("a", KindAudio)
	waitFor(t, "audio going on", func() bool { return b.packets("a", KindAudio) >= audio+25 })
	if b.packets("a", KindVideo) != video {
		t.Error("video arrived after it was unpublished")
	}
	// And published again: a new track.
	a.publish(false, true)
	waitFor(t, "b receiving a's new video", func() bool {
		rt, ok := b.track("a", KindVideo)
		return ok && rt.packets >= 10
	})
	if got := len(b.streams()[streamKey{"a", KindVideo}]); got != 2 {
		t.Errorf("b saw %d video tracks from a, want 2", got)
	}
}
