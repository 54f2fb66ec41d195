package sfu

import (
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

// sprayTrack is a publisher's VP8 track that also hands out its binding's write stream, so a test
// can send packets with any SSRC and header extensions over the publisher's SRTP session.
type sprayTrack struct {
	*webrtc.TrackLocalStaticRTP
	ws    atomic.Value // webrtc.TrackLocalWriter
	pt    atomic.Uint32
	midID atomic.Uint32
	ridID atomic.Uint32
	rid   string // tags the spray with this RID as well as the MID
}

func newSprayTrack(t testing.TB, id string) *sprayTrack {
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, id, "spray")
	if err != nil {
		t.Fatal(err)
	}

	return &sprayTrack{TrackLocalStaticRTP: tr}
}

func (s *sprayTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	c, err := s.TrackLocalStaticRTP.Bind(ctx)
	if err == nil {
		s.ws.Store(ctx.WriteStream())
		s.pt.Store(uint32(c.PayloadType))
		for _, e := range ctx.HeaderExtensions() {
			switch e.URI {
			case sdp.SDESMidURI:
				s.midID.Store(uint32(e.ID))
			case sdp.SDESRTPStreamIDURI:
				s.ridID.Store(uint32(e.ID))
			}
		}
	}

	return c, err
}

// spray sends n packets on each of count SSRCs from base, tagged with mid when it is not empty.
// It stops at the first write that fails (the connection closed).
func (s *sprayTrack) spray(t testing.TB, base uint32, count, n int, mid string) {
	t.Helper()
	ws, _ := s.ws.Load().(webrtc.TrackLocalWriter)
	if ws == nil {
		t.Fatal("spray track not bound")
	}
	payload := vp8Payload(1, true, true, 900)
	for i := range count {
		for k := range n {
			h := &rtp.Header{Version: 2, PayloadType: uint8(s.pt.Load()), SSRC: base + uint32(i),
				SequenceNumber: uint16(k + 1), Timestamp: uint32(3000 * k)}
			if mid != "" {
				if err := h.SetExtension(uint8(s.midID.Load()), []byte(mid)); err != nil {
					t.Fatal(err)
				}
			}
			if s.rid != "" {
				if err := h.SetExtension(uint8(s.ridID.Load()), []byte(s.rid)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ws.WriteRTP(h, payload); err != nil {
				t.Logf("spray stopped: %v", err)

				return
			}
		}
		if i%20 == 19 {
			time.Sleep(10 * time.Millisecond) // a burst per SSRC, as a spraying client would send
		}
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)

	return m.HeapAlloc
}

// stripSSRCs removes a=ssrc and a=ssrc-group lines, as an offer that declares no SSRCs.
func stripSSRCs(offer string) string {
	var out []string
	for _, l := range strings.Split(offer, "\r\n") {
		if !strings.HasPrefix(l, "a=ssrc") {
			out = append(out, l)
		}
	}

	return strings.Join(out, "\r\n")
}

// A publisher that sprays 200 undeclared SSRCs (issue 9, item 1) gets none of them forwarded:
// the server's tracks, goroutines and heap stay flat, every refused stream is counted, Pion's
// per-stream complaints are not logged one by one, and another room's media keeps flowing.
// Three shapes of the attack: SSRCs without a MID on an offer that declares its SSRCs; SSRCs
// claiming the camera section's MID (Pion hands them the section's track: the server refuses
// the stream, and the camera ends); and a single-section offer without a=ssrc, where Pion makes
// a transceiver for every new SSRC.
func TestSSRCSprayIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mid      bool // the spray claims the camera section's MID
		single   bool // one video section, no a=ssrc
		cameraOK bool // the sprayer's own camera survives
	}{
		{name: "no-mid", cameraOK: true},
		{name: "camera-mid", mid: true, cameraOK: true},
		{name: "single-section-no-ssrc", single: true, cameraOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			logs := &logCapture{}
			s, err := New(Config{LoopbackOnly: true, Logger: slog.New(logs)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close sfu: %v", err)
				}
			})
			// Another meeting, whose media must keep flowing.
			c := newTestClient(t, s, "other", "c")
			d := newTestClient(t, s, "other", "d")
			c.publish(true, true)
			d.waitReceiving(t, 10, c)

			m := newTestClient(t, s, "room", "mallory")
			bob := newTestClient(t, s, "room", "bob")
			sprayed := 0 // packets bob got with the spray's payload (900 bytes; the camera's are 600)
			bob.mu.Lock()
			bob.inspect = func(_ *recvTrack, p *rtp.Packet) {
				if len(p.Payload) == 900 {
					sprayed++
				}
			}
			bob.mu.Unlock()
			spray := newSprayTrack(t, "cam")
			x, err := m.pub.AddTransceiverFromTrack(spray, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				t.Fatal(err)
			}
			m.senders["cam"] = x.Sender()
			m.wg.Add(1)
			go m.readSenderRTCP(x.Sender())
			m.video.Store(spray.TrackLocalStaticRTP)
			if tc.single {
				m.offerFilter = stripSSRCs
			}
			m.publish(!tc.single, false)
			waitFor(t, "bob receiving mallory's camera", func() bool { return bob.packets("mallory", KindVideo) >= 10 })

			tracks := s.Stats().Tracks
			goroutines := runtime.NumGoroutine()
			heap := heapInUse()
			refused := s.Stats().RefusedStreams
			before := len(logs.find(slog.LevelInfo, ""))
			beforeAll := len(logs.find(slog.LevelDebug, ""))
			other := d.packets("c", KindAudio)

			const ssrcs = 200
			mid := ""
			if tc.mid {
				mid = x.Mid()
			}
			// A persistent sprayer: under load the server's socket drops some of a round (Pion's
			// mux buffer is full) before anything looks at them; they come again in the next.
			deadline := time.Now().Add(waitTimeout)
			for round := 0; s.Stats().RefusedStreams < refused+ssrcs; round++ {
				if round < 5 {
					spray.spray(t, 0x50000000, ssrcs, 12, mid)
				}
				for wait := time.Now().Add(time.Second); time.Now().Before(wait) && s.Stats().RefusedStreams < refused+ssrcs; {
					time.Sleep(20 * time.Millisecond)
				}
				if time.Now().After(deadline) {
					logged := logs.find(slog.LevelDebug, "")[beforeAll:]
					t.Fatalf("refused %d of %d sprayed streams; logged: %q", s.Stats().RefusedStreams-refused, ssrcs,
						logged[:min(len(logged), 20)])
				}
				time.Sleep(20 * time.Millisecond)
			}
			waitFor(t, "the other meeting's media flowing", func() bool { return d.packets("c", KindAudio) >= other+50 })

			st := s.Stats()
			wantTracks := tracks
			if !tc.cameraOK {
				wantTracks-- // the camera's stream was taken over and refused
				waitFor(t, "the camera ended", func() bool { return s.Stats().Tracks == wantTracks })
			}
			if st.Tracks > tracks {
				t.Errorf("tracks %d -> %d", tracks, st.Tracks)
			}
			if st.RefusedStreams > refused+ssrcs+5 {
				t.Errorf("refused %d streams for %d sprayed", st.RefusedStreams-refused, ssrcs)
			}
			// Pion's probing of unknown streams ends within its bounds (25 at a time).
			waitFor(t, "goroutines back near where they were", func() bool { return runtime.NumGoroutine() <= goroutines+30 })
			grown := int64(heapInUse()) - int64(heap)
			t.Logf("refused %d, heap grew %d KB, goroutines %d -> %d, tracks %d -> %d",
				st.RefusedStreams-refused, grown/1024, goroutines, runtime.NumGoroutine(), tracks, st.Tracks)
			if grown > 24<<20 {
				t.Errorf("heap grew by %d MB for %d sprayed streams", grown>>20, ssrcs)
			}
			lines := logs.find(slog.LevelInfo, "")[before:]
			if len(lines) > 5 {
				t.Errorf("%d log lines for the spray: %q", len(lines), lines[:min(len(lines), 10)])
			}
			// Not one sprayed packet reached bob: all video he got is mallory's camera, whose
			// keyframes the harness makes 3 packets long, and the spray's payload is 900 bytes.
			if tc.cameraOK {
				vid := bob.packets("mallory", KindVideo)
				waitFor(t, "the camera still flowing", func() bool { return bob.packets("mallory", KindVideo) >= vid+10 })
			}
			if n := len(bob.streams()); n > 2 {
				t.Errorf("bob receives %d streams from mallory: %v", n, bob.streams())
			}
			bob.mu.Lock()
			if sprayed != 0 {
				t.Errorf("bob received %d sprayed packets", sprayed)
			}
			bob.mu.Unlock()
		})
	}
}

// A publisher that goes on sending undeclared streams past the bound is disconnected; the others
// of its room stay.
func TestSprayBeyondBoundClosesPeer(t *testing.T) {
	s := newTestSFU(t)
	s.maxRefused = 50
	m := newTestClient(t, s, "room", "mallory")
	bob := newTestClient(t, s, "room", "bob")
	spray := newSprayTrack(t, "cam")
	x, err := m.pub.AddTransceiverFromTrack(spray, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	m.senders["cam"] = x.Sender()
	m.video.Store(spray.TrackLocalStaticRTP)
	m.publish(true, false)
	bob.publish(true, false)
	waitFor(t, "bob receiving mallory's camera", func() bool { return bob.packets("mallory", KindVideo) >= 10 })
	for round := 0; ; round++ {
		if round < 10 {
			spray.spray(t, 0x60000000+uint32(round)*100, 100, 12, "")
		}
		select {
		case <-m.peer.Done():
		case <-time.After(time.Second):
			if round > 20 {
				t.Fatalf("mallory still connected after %d refused streams", s.Stats().RefusedStreams)
			}

			continue
		}

		break
	}
	if s.Stats().RefusedStreams <= 50 {
		t.Errorf("closed after %d refused streams", s.Stats().RefusedStreams)
	}
	if bob.peer.isClosed() {
		t.Error("bob's peer was closed too")
	}
}
