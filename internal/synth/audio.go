package synth

import "time"

// Opus timing: one 20 ms frame per packet at the 48 kHz RTP clock.
const (
	OpusPacketInterval = 20 * time.Millisecond
	OpusClockRate      = 48000
	OpusTimestampStep  = OpusClockRate / 50
)

// opusTOC is config 15 (hybrid, fullband, 20 ms), mono, one frame: what a browser sends for
// speech.
const opusTOC = 0x78

// opusPayloadSize gives about 32 kbit/s at 50 packets/s, the size of a browser's voice packets.
const opusPayloadSize = 80

// Audio makes Opus payloads. It reuses one buffer: a payload is valid until the next call of Next.
type Audio struct {
	buf []byte
}

// Next returns the next Opus payload, with room for its stamp.
func (a *Audio) Next() []byte {
	if a.buf == nil {
		a.buf = make([]byte, 0, opusPayloadSize)
		a.buf = append(a.buf, opusTOC)
		a.buf = append(a.buf, noise[:opusPayloadSize-1-StampSize]...)
		a.buf = appendStampRoom(a.buf, stampTag)
	}
	return a.buf
}
