package sfu

import (
	"fmt"
	"strings"
	"time"

	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// A publisher's tracks are exactly what its last offer declared: one per sending section, each
// with the source the offer named (or the default microphone and camera), on up to three
// simulcast layers. Every other RTP stream (SSRC) that reaches the publisher connection is
// refused: it never becomes a track, its buffer is emptied (arrival.go), and it is counted in
// RefusedStreams without a log line of its own. A publisher that sends more than
// maxRefusedStreams undeclared streams is disconnected: each still costs Pion some state
// (and, for a single-section offer without a=ssrc, a transceiver) for the connection's life.
//
// Pion is told the MID, RID and repaired-RID header extensions (codecs.go), so it routes a
// declared stream to its section and layer by what the packet says instead of guessing from the
// payload type. Pion reports the streams it could not route only in its log; the publisher's
// Pion logger (refusalLog) turns those lines into refusals.

// A stream claiming a layer that is already received under another SSRC (by its MID and RID
// header extensions) is refused before Pion sees it: Pion would hand it the layer's track,
// leaving the real stream unread, while the layer's reader is reading (a race in Pion). A
// repair (RTX) stream names its layer by the repaired-RID extension and an RTX payload type,
// and passes.

// streamScreen is what a publisher's negotiation says of its streams' header extensions and
// payload types, for telling which stream a new SSRC claims to be.
type streamScreen struct {
	midID, ridID uint8
	levelID      uint8     // the audio level extension (speakers.go); 0 when not negotiated
	rtx          [128]bool // RTX payload types
}

// updateScreen reads the publisher connection's negotiated extensions and codecs; callers hold
// pubMu, after an offer was applied.
func (p *Peer) updateScreen() {
	sc := &streamScreen{}
	for _, tr := range p.pub().GetTransceivers() {
		params := tr.Receiver().GetParameters()
		for _, e := range params.HeaderExtensions {
			switch {
			case e.ID <= 0 || e.ID > 255:
			case e.URI == sdp.SDESMidURI:
				sc.midID = uint8(e.ID)
			case e.URI == sdp.SDESRTPStreamIDURI:
				sc.ridID = uint8(e.ID)
			case e.URI == sdp.AudioLevelURI:
				sc.levelID = uint8(e.ID)
			}
		}
		for _, c := range params.Codecs {
			if strings.EqualFold(c.MimeType, webrtc.MimeTypeRTX) && c.PayloadType < 128 {
				sc.rtx[c.PayloadType] = true
			}
		}
	}
	p.screen.Store(sc)
}

// takesOver reports whether a new stream's first packet claims a layer being received under
// another SSRC.
func (p *Peer) takesOver(pkt []byte, ssrc uint32) bool {
	sc := p.screen.Load()
	if sc == nil || sc.midID == 0 {
		return false
	}
	var h rtp.Header
	if _, err := h.Unmarshal(pkt); err != nil {
		return false
	}
	mid := string(h.GetExtension(sc.midID))
	var rid string
	if sc.ridID != 0 {
		rid = string(h.GetExtension(sc.ridID))
	}
	if mid == "" || (rid == "" && sc.rtx[h.PayloadType&0x7f]) {
		return false // no claim, or a repair stream
	}
	layer := layerF
	if rid != "" {
		layer = layerOfRID(rid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.bySource {
		if t.mid == mid {
			l := t.layer(layer)

			return l != nil && l.ssrc.Load() != ssrc
		}
	}

	return false
}

// maxRefusedStreams is how many undeclared streams a publisher connection may send before the
// peer is closed; no client that follows its own offer comes near it.
const maxRefusedStreams = 1000

// midOf returns the mid of the transceiver recv belongs to ("" for one Pion made on its own).
func midOf(pc *webrtc.PeerConnection, recv *webrtc.RTPReceiver) string {
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == recv {
			return tr.Mid()
		}
	}

	return ""
}

// declaredFor finds the section and layer a new remote track belongs to; false when the offer
// declared no such stream.
func (p *Peer) declaredFor(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) (sectionDecl, int, bool) {
	secs := p.sections()
	mid := midOf(p.pub(), recv)
	decl, ok := secs[mid]
	if !ok && mid == "" && len(secs) == 1 {
		// Pion gives a stream of a single-section offer without a=ssrc a transceiver of its
		// own: it is that section's stream, unless the section has one already (then addLayer
		// refuses it).
		for _, d := range secs {
			decl, ok = d, true
		}
	}
	if !ok {
		return sectionDecl{}, 0, false
	}
	kind := KindAudio
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		kind = KindVideo
	}
	if kind != decl.kind || !decl.allows(uint32(remote.SSRC())) {
		return sectionDecl{}, 0, false
	}
	rid := remote.RID()
	if rid == "" {
		return decl, layerF, decl.layers == 0
	}
	layer := layerOfRID(rid)

	return decl, layer, layer >= 0 && decl.layers&(1<<layer) != 0
}

// orphan lets go of the stream a track of the publisher read before Pion moved it to another
// SSRC (a stream claiming a declared section's MID): nothing reads the old stream any more.
func (p *Peer) orphan(remote *webrtc.TrackRemote) {
	p.mu.Lock()
	var old *arrivalBuffer
	for t := range p.tracks {
		for i := range numLayers {
			if l := t.layer(i); l != nil && l.remote == remote {
				old = l.arrival.Swap(nil)
			}
		}
	}
	p.mu.Unlock()
	if old != nil {
		old.kill()
	}
}

// refuse counts a stream the publisher sent that is no track.
func (p *Peer) refuse(ssrc uint32) {
	n := p.streams.refuse(ssrc)
	if n == 0 {
		return
	}
	p.s.counters.refused.Add(1)
	switch n {
	case 1:
		p.log.Info("publisher sends streams its offer did not declare; refusing them", "ssrc", ssrc)
	case p.s.maxRefused + 1:
		p.log.Warn("publisher sent too many undeclared streams; closing the peer", "refused", n-1)
		go p.Close()
	}
}

// Pion's log lines about one stream it could not use; everything else passes.
var pionStreamRefusals = []string{
	"Incoming unhandled RTP ssrc(",
	"Could not determine PayloadType for SSRC",
	"Failed to set codec settings for track SSRC",
}

// pionInboundDrop is Pion's log line for each packet its ICE agent could not queue for the
// publisher connection (its buffer is full: the client sends faster than the server reads).
const pionInboundDrop = "Failed to write packet: "

// overflowLogInterval is how often a publisher's inbound drops are logged at most.
const overflowLogInterval = 10 * time.Second

// overflowed counts a packet Pion dropped from the publisher connection for a full buffer, and
// logs the drops at most once per overflowLogInterval: a flood must not become a flood of log
// lines.
func (p *Peer) overflowed() {
	n := p.overflows.Add(1)
	now, last := monoNow(), p.overflowLogged.Load()
	if (last == 0 || now-last >= int64(overflowLogInterval)) && p.overflowLogged.CompareAndSwap(last, now) {
		p.log.Warn("publisher sends faster than the server reads; dropping its packets", "dropped", n)
	}
}

// refusalLog is a publisher's Pion logger factory: Pion's per-stream refusals become counted
// refusals (a flood of undeclared streams must not become a flood of log lines); the rest goes
// to the sfu's log.
type refusalLog struct {
	next logging.LoggerFactory
	peer *Peer
}

func (f refusalLog) NewLogger(scope string) logging.LeveledLogger {
	return refusalLogger{LeveledLogger: f.next.NewLogger(scope), peer: f.peer}
}

type refusalLogger struct {
	logging.LeveledLogger
	peer *Peer
}

// refused reports whether a log line is a stream refusal or a dropped packet, and counts it.
func (l refusalLogger) refused(format string, args []any) bool {
	if strings.HasPrefix(format, pionInboundDrop) {
		l.peer.overflowed()

		return true
	}
	if format == webrtc.ErrSimulcastProbeOverflow.Error() {
		l.peer.refuse(0)

		return true
	}
	for _, prefix := range pionStreamRefusals {
		if strings.HasPrefix(format, prefix) {
			var ssrc uint32
			if len(args) > 0 {
				_, _ = fmt.Sscan(fmt.Sprint(args[0]), &ssrc)
			}
			l.peer.refuse(ssrc)

			return true
		}
	}

	return false
}

func (l refusalLogger) Warn(msg string) {
	if !l.refused(msg, nil) {
		l.LeveledLogger.Warn(msg)
	}
}

func (l refusalLogger) Warnf(format string, args ...any) {
	if !l.refused(format, args) {
		l.LeveledLogger.Warnf(format, args...)
	}
}

func (l refusalLogger) Errorf(format string, args ...any) {
	if !l.refused(format, args) {
		l.LeveledLogger.Errorf(format, args...)
	}
}
