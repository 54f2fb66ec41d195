package sfu

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// levelID is the audio level extension's id in these tests' packets.
const levelID = 3

// speakerRig is a room with microphones whose packets carry audio levels.
type speakerRig struct {
	t    *testing.T
	s    *SFU
	r    *room
	mics map[string]*upTrack
	seq  uint16
}

func newSpeakerRig(t *testing.T, ids ...string) *speakerRig {
	s := &SFU{counters: newCounters()}
	rig := &speakerRig{t: t, s: s, r: newRoom(s, "room"), mics: map[string]*upTrack{}}
	codec := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}}
	for _, id := range ids {
		p := &Peer{s: s, room: rig.r, id: id}
		p.screen.Store(&streamScreen{levelID: levelID})
		gate := &atomic.Bool{}
		gate.Store(true)
		tr := newUpTrack("microphone-"+id, p, sectionDecl{mid: "0", kind: KindAudio, source: SourceMicrophone}, gate, codec)
		tr.addLayer(newUpLayer(tr, layerF, "", 1))
		rig.mics[id] = tr
		rig.r.tracks[tr] = struct{}{}
	}
	return rig
}

// send has participant id send one packet at level (-dBov) through the forwarding path.
func (rig *speakerRig) send(id string, level byte) {
	rig.t.Helper()
	rig.seq++
	p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: rig.seq, Timestamp: uint32(rig.seq) * 960, SSRC: 1}, Payload: []byte{0xfc, 1, 2, 3}}
	if err := p.SetExtension(levelID, []byte{0x80 | level}); err != nil {
		rig.t.Fatal(err)
	}
	raw, err := p.Marshal()
	if err != nil {
		rig.t.Fatal(err)
	}
	rig.mics[id].handle(raw, &rtp.Packet{}, monoNow())
}

// tick sends each participant's level for one speakerTick (five 20 ms packets) and judges.
func (rig *speakerRig) tick(now *int64, levels map[string]byte) ([]string, bool) {
	for range 5 {
		for id, level := range levels {
			rig.send(id, level)
		}
	}
	*now += int64(speakerTick)
	return rig.r.judgeSpeakers(*now)
}

// TestSpeakerDetection drives the detector with levels, tick by tick: the loudest is first; a
// change waits for ActiveSpeakerInterval; a swap reorders; a participant stays through a short
// pause (hangover) and leaves after it; a closed gate takes it out at once.
func TestSpeakerDetection(t *testing.T) {
	rig := newSpeakerRig(t, "ann", "bob")
	now := int64(time.Hour)
	list, changed := rig.tick(&now, map[string]byte{"ann": 10, "bob": 40})
	if !changed || !slices.Equal(list, []string{"ann", "bob"}) {
		t.Fatalf("first list %v (%t), want [ann bob]", list, changed)
	}
	// Swapped: within the interval nothing is told, after it the new order.
	var told [][]string
	for range 5 {
		if l, ok := rig.tick(&now, map[string]byte{"ann": 40, "bob": 10}); ok {
			told = append(told, l)
		}
	}
	if len(told) != 1 || !slices.Equal(told[0], []string{"bob", "ann"}) {
		t.Fatalf("after the swap: %v, want one list [bob ann]", told)
	}
	// Ann pauses for less than the hangover: still in; then silent for long: out.
	for range 3 {
		if l, ok := rig.tick(&now, map[string]byte{"ann": 127, "bob": 10}); ok {
			t.Fatalf("a short pause changed the list: %v", l)
		}
	}
	told = nil
	for range 15 {
		if l, ok := rig.tick(&now, map[string]byte{"ann": 127, "bob": 10}); ok {
			told = append(told, l)
		}
	}
	if len(told) != 1 || !slices.Equal(told[0], []string{"bob"}) {
		t.Fatalf("after a long silence: %v, want [bob]", told)
	}
	// Quiet noise (-60 dBov) is no speech.
	for range 10 {
		if l, ok := rig.tick(&now, map[string]byte{"ann": 60, "bob": 10}); ok {
			t.Fatalf("noise made a speaker: %v", l)
		}
	}
	// Bob's gate closes (muted): out at the next look after the interval, however loud.
	rig.mics["bob"].gate.Store(false)
	now += int64(ActiveSpeakerInterval)
	if l, ok := rig.tick(&now, map[string]byte{"ann": 127, "bob": 0}); !ok || len(l) != 0 {
		t.Fatalf("a muted speaker: %v (%t), want an empty list", l, ok)
	}
	for range 10 {
		if l, ok := rig.tick(&now, map[string]byte{"ann": 127, "bob": 0}); ok {
			t.Fatalf("the muted speaker came back: %v", l)
		}
	}
}

// TestSpeakerLevelNoAlloc: reading a microphone packet's level on the forwarding path allocates
// nothing.
func TestSpeakerLevelNoAlloc(t *testing.T) {
	rig := newSpeakerRig(t, "ann")
	p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1, SSRC: 1}, Payload: []byte{0xfc, 1, 2, 3}}
	if err := p.SetExtension(levelID, []byte{0x85}); err != nil {
		t.Fatal(err)
	}
	raw, _ := p.Marshal()
	l := rig.mics["ann"].layer(layerF)
	var pkt rtp.Packet
	seq := uint16(1)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		raw[2], raw[3] = byte(seq>>8), byte(seq)
		l.handle(raw, &pkt, monoNow(), monoNow())
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
	if got := rig.mics["ann"].takeLevel(); got != 127-5 {
		t.Fatalf("level %v, want %v", got, 127-5)
	}
}

// BenchmarkMicrophonePacket is one microphone packet with its audio level through the reader's
// path (parse, level, cache) with no subscriber: what the level read adds shows against
// BenchmarkMicrophonePacketNoLevel.
func BenchmarkMicrophonePacket(b *testing.B) { benchMicrophone(b, true) }

// BenchmarkMicrophonePacketNoLevel is BenchmarkMicrophonePacket without the extension.
func BenchmarkMicrophonePacketNoLevel(b *testing.B) { benchMicrophone(b, false) }

func benchMicrophone(b *testing.B, level bool) {
	rig := newSpeakerRig(&testing.T{}, "ann")
	p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1, SSRC: 1}, Payload: make([]byte, 80)}
	if level {
		_ = p.SetExtension(levelID, []byte{0x85})
	}
	raw, _ := p.Marshal()
	l := rig.mics["ann"].layer(layerF)
	var pkt rtp.Packet
	b.ReportAllocs()
	seq := uint16(1)
	for b.Loop() {
		seq++
		raw[2], raw[3] = byte(seq>>8), byte(seq)
		l.handle(raw, &pkt, monoNow(), monoNow())
	}
}
