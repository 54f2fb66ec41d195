package client

import (
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/parleyhq/parley/internal/synth"
)

// LayerCounts describes the simulcast layers that arrived on one received video stream (one
// publisher's camera), from the layer each payload's stamp names (synth.StampLayer), and checks
// what the server owes a subscriber across layer switches and pauses (PROTOCOL.md 1.1): every
// switch lands on a keyframe, timestamps only move forward, and the VP8 picture id moves on by
// one with each new frame. Packets after a sequence gap (a packet the server shed, or lost)
// are not judged against the ones before it; the gaps themselves are in Received.
type LayerCounts struct {
	// Packets counts media packets by layer RID ("" for a stream of no layer); padding is not
	// counted.
	Packets map[string]uint64
	// Current is the layer of the latest media packet.
	Current string
	// Switches counts changes of layer from one media packet to the next.
	Switches uint64
	// SwitchesOffKeyframe counts the switches whose first packet did not start a keyframe.
	SwitchesOffKeyframe uint64
	// TimestampBackwards counts packets whose RTP timestamp is behind the previous packet's.
	TimestampBackwards uint64
	// PictureIDJumps counts VP8 frames whose picture id is not the previous frame's plus one.
	PictureIDJumps uint64
	// SSRCs is how many SSRCs the stream arrived on (one per track the server sent).
	SSRCs int
}

// layerTracker keeps a stream's LayerCounts. observe is called by the stream's reader; counts
// from any goroutine.
type layerTracker struct {
	mu     sync.Mutex
	c      LayerCounts
	ssrcs  map[uint32]bool
	have   bool // last* describe the previous packet of the current track
	ssrc   uint32
	seq    uint16
	ts     uint32
	pic    uint16
	picOK  bool // pic is the previous media packet's VP8 picture id
	vp8    codecs.VP8Packet
	layerT bool // the previous media packet's layer is known (Current)
}

func newLayerTracker() *layerTracker {
	return &layerTracker{c: LayerCounts{Packets: map[string]uint64{}}, ssrcs: map[uint32]bool{}}
}

// newTrack starts a new track on the stream: nothing is compared with the previous one's.
func (l *layerTracker) newTrack() {
	l.mu.Lock()
	l.have, l.picOK = false, false
	l.mu.Unlock()
}

// observe takes one packet; payload is without padding (empty for a padding-only packet).
func (l *layerTracker) observe(h *rtp.Header, payload []byte, codec synth.Codec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ssrcs[h.SSRC] {
		l.ssrcs[h.SSRC] = true
		l.c.SSRCs = len(l.ssrcs)
	}
	inOrder := l.have && h.SSRC == l.ssrc && h.SequenceNumber == l.seq+1
	if l.have && h.SSRC == l.ssrc && int16(h.SequenceNumber-l.seq) <= 0 {
		return // a late or repeated packet: it was judged, or its place was, already
	}
	if inOrder && int32(h.Timestamp-l.ts) < 0 {
		l.c.TimestampBackwards++
	}
	l.have, l.ssrc, l.seq = true, h.SSRC, h.SequenceNumber
	newFrame := h.Timestamp != l.ts
	l.ts = h.Timestamp
	if !synth.Stamped(payload) {
		return // padding, or a payload of no stamp (an H.264 parameter set)
	}
	rid := synth.StampLayer(payload)
	l.c.Packets[rid]++
	if l.layerT && rid != l.c.Current {
		l.c.Switches++
		if inOrder && !synth.IsKeyframe(codec, payload) {
			l.c.SwitchesOffKeyframe++
		}
	}
	l.c.Current, l.layerT = rid, true
	if codec != synth.VP8 {
		return
	}
	if _, err := l.vp8.Unmarshal(payload); err != nil || l.vp8.I == 0 {
		l.picOK = false
		return
	}
	pic := l.vp8.PictureID
	if inOrder && l.picOK && newFrame {
		mask := uint16(0x7f)
		if payload[2]&0x80 != 0 { // M: a 15-bit picture id (I is set, so X is: byte 2 holds it)
			mask = 0x7fff
		}
		if pic != (l.pic+1)&mask {
			l.c.PictureIDJumps++
		}
	}
	l.pic, l.picOK = pic, true
}

func (l *layerTracker) counts() LayerCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.c
	c.Packets = make(map[string]uint64, len(l.c.Packets))
	for k, v := range l.c.Packets {
		c.Packets[k] = v
	}
	return c
}
