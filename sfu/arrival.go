package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5/packetio"
)

// Pion decrypts a publisher's packets on its own goroutine and queues them for the track's
// reader in a buffer per SRTP stream (1 MB by default: seconds of video, minutes of audio). When
// the reader falls behind, everything it forwards afterwards has waited there, and nothing in
// what TrackRemote.Read returns says for how long. The publisher connections therefore get their
// RTP buffers from pubStreams (SettingEngine.BufferFactory): the same packetio buffer, which also
// notes when each packet arrived, so the reader can drop what has waited too long instead of
// forwarding it late (see maxForwardDelay).
//
// The buffers are also where a publisher's undeclared streams are contained (see admission.go):
// Pion opens one for every SSRC that reaches the connection, declared or not, before anything
// decides whether the stream is a track. A buffer starts small (probation) and gets its full
// size only when the stream is accepted as a layer of a declared track; a refused stream's buffer
// is emptied and drops what comes; and past maxStreams a publisher's further streams get a
// buffer that holds nothing at all.

// Limits of one accepted publisher RTP stream's buffer: Pion's size limit, and a packet count the
// arrival times are kept for (about 2.5 s of 1.5 Mbit/s video, 20 s of audio; a reader that far
// behind drops what it finds anyway). Until accepted, a stream's buffer holds a few packets: Pion
// reads the first ones itself to find the stream's section and layer.
const (
	arrivalBufferSize   = 1000 * 1000
	arrivalBufferCount  = 512
	probationBufferSize = 16 * 1000
	probationCount      = 16
	rtcpBufferSize      = 16 * 1000 // a few seconds of a publisher's sender reports
)

// errRefusedStream is what reading a refused stream's buffer returns.
var errRefusedStream = errors.New("sfu: stream refused")

// pubStreams hands out one publisher connection's SRTP read buffers, finds an RTP stream's by
// SSRC for its track's reader, and counts what the publisher sends that no offer declared.
type pubStreams struct {
	peer *Peer

	mu       sync.Mutex
	bySSRC   map[uint32]*arrivalBuffer
	streams  int             // live buffers, RTP and RTCP
	refused  map[uint32]bool // SSRCs refused, to count each once (bounded)
	nRefused int
}

// maxStreams bounds the SRTP streams (RTP and RTCP, one each per SSRC) of one publisher
// connection that get a buffer: four sources, three layers each, with RTX and RTCP, fit well
// within it.
const maxStreams = 64

func newPubStreams(p *Peer) *pubStreams {
	return &pubStreams{peer: p, bySSRC: map[uint32]*arrivalBuffer{}, refused: map[uint32]bool{}}
}

// newBuffer is the publisher API's SettingEngine.BufferFactory.
func (a *pubStreams) newBuffer(kind packetio.BufferPacketType, ssrc uint32) io.ReadWriteCloser {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.streams >= maxStreams {
		return deadBuffer{}
	}
	a.streams++
	buf := packetio.NewBuffer()
	if kind != packetio.RTPBufferPacket {
		buf.SetLimitSize(rtcpBufferSize)

		return &rtcpBuffer{plainBuffer: plainBuffer{buf}, reg: a}
	}
	buf.SetLimitSize(probationBufferSize)
	buf.SetLimitCount(probationCount)
	b := &arrivalBuffer{buf: buf, reg: a, ssrc: ssrc, times: make([]int64, probationCount)}
	a.bySSRC[ssrc] = b // a stream opened again for an SSRC replaces the old one

	return b
}

// accept gives the stream with ssrc its full buffer and returns it (nil when it has none).
func (a *pubStreams) accept(ssrc uint32) *arrivalBuffer {
	a.mu.Lock()
	b := a.bySSRC[ssrc]
	a.mu.Unlock()
	if b != nil {
		b.promote()
	}

	return b
}

// refuse notes a stream that is no track: its buffer is emptied and drops what comes. It
// returns how many streams the publisher had refused, or 0 when this SSRC was refused before.
func (a *pubStreams) refuse(ssrc uint32) int {
	a.mu.Lock()
	b := a.bySSRC[ssrc]
	n := 0
	if ssrc == 0 || !a.refused[ssrc] { // 0: a stream Pion did not name
		if len(a.refused) < 4*maxStreams { // past that, an SSRC refused twice counts twice
			a.refused[ssrc] = true
		}
		a.nRefused++
		n = a.nRefused
	}
	a.mu.Unlock()
	if b != nil && ssrc != 0 {
		b.kill()
	}

	return n
}

// remove forgets a closed RTP buffer.
func (a *pubStreams) remove(b *arrivalBuffer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.streams--
	if a.bySSRC[b.ssrc] == b {
		delete(a.bySSRC, b.ssrc)
	}
}

// released counts a closed RTCP buffer.
func (a *pubStreams) released() {
	a.mu.Lock()
	a.streams--
	a.mu.Unlock()
}

// arrivalBuffer is a packetio buffer with the arrival time of every packet it holds, kept in a
// ring in step with the packets (both change under mu on write; a read takes the oldest of each).
type arrivalBuffer struct {
	buf  *packetio.Buffer
	reg  *pubStreams
	ssrc uint32
	last atomic.Int64 // arrival of the packet read last, monoNow

	mu          sync.Mutex
	times       []int64
	head, count int
	closed      bool
	refused     bool
	screened    bool // the first packet was looked at (owned by the writer)
}

// promote lifts the probation limits.
func (b *arrivalBuffer) promote() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused || len(b.times) == arrivalBufferCount {
		return
	}
	times := make([]int64, arrivalBufferCount)
	for i := range b.count {
		times[i] = b.times[(b.head+i)%len(b.times)]
	}
	b.times, b.head = times, 0
	b.buf.SetLimitCount(arrivalBufferCount)
	b.buf.SetLimitSize(arrivalBufferSize)
}

// kill lets go of what a refused stream's buffer holds; from now on it drops every packet.
func (b *arrivalBuffer) kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused {
		return
	}
	b.refused = true
	old := b.buf
	b.buf = packetio.NewBuffer()
	b.buf.SetLimitSize(1)
	b.count, b.head = 0, 0
	_ = old.Close()
}

// Write queues a decrypted packet (Pion's SRTP goroutine).
func (b *arrivalBuffer) Write(p []byte) (int, error) {
	if !b.screened { // the stream's first packet; only the SRTP goroutine writes
		b.screened = true
		if reg := b.reg; reg != nil && reg.peer != nil && reg.peer.takesOver(p, b.ssrc) {
			reg.peer.refuse(b.ssrc)
		}
	}
	now := monoNow()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused {
		return 0, packetio.ErrFull // SRTP drops it silently
	}
	n, err := b.buf.Write(p, nil)
	if err == nil {
		b.times[(b.head+b.count)%len(b.times)] = now
		b.count++
	}

	return n, err
}

// Read takes the oldest packet (the track's reader, through Pion) and notes when it arrived.
func (b *arrivalBuffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	buf, refused := b.buf, b.refused
	b.mu.Unlock()
	if refused {
		return 0, errRefusedStream
	}
	n, _, err := buf.Read(p, nil)
	if err == nil || errors.Is(err, io.ErrShortBuffer) { // a short read consumes the packet too
		b.mu.Lock()
		if b.count > 0 && !b.refused {
			b.last.Store(b.times[b.head])
			b.head = (b.head + 1) % len(b.times)
			b.count--
		}
		b.mu.Unlock()
	}

	return n, err
}

// more reports whether a packet is waiting to be read.
func (b *arrivalBuffer) more() bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.count > 0
}

// lastArrival is when the packet read last arrived (0 before the first).
func (b *arrivalBuffer) lastArrival() int64 { return b.last.Load() }

// SetReadDeadline is passed on, as Pion does for its own buffers.
func (b *arrivalBuffer) SetReadDeadline(t time.Time) error {
	b.mu.Lock()
	buf := b.buf
	b.mu.Unlock()

	return buf.SetReadDeadline(t)
}

// Close ends the stream: reads return io.EOF once it is drained.
func (b *arrivalBuffer) Close() error {
	b.mu.Lock()
	closed := b.closed
	b.closed = true
	buf, reg := b.buf, b.reg
	b.mu.Unlock()
	if !closed && reg != nil {
		reg.remove(b)
	}

	return buf.Close()
}

// rtcpBuffer is a publisher's SRTCP stream buffer.
type rtcpBuffer struct {
	plainBuffer
	reg  *pubStreams
	once sync.Once
}

func (b *rtcpBuffer) Close() error {
	b.once.Do(b.reg.released)

	return b.plainBuffer.Close()
}

// plainBuffer is a packetio buffer as an io.ReadWriteCloser.
type plainBuffer struct{ *packetio.Buffer }

func (b plainBuffer) Read(p []byte) (int, error) {
	n, _, err := b.Buffer.Read(p, nil)

	return n, err
}

func (b plainBuffer) Write(p []byte) (int, error) { return b.Buffer.Write(p, nil) }

// deadBuffer is the buffer of a stream past a publisher's maxStreams: it holds nothing, and
// reading it fails at once (Pion then gives up on the stream instead of waiting for it).
type deadBuffer struct{}

func (deadBuffer) Read([]byte) (int, error)        { return 0, errRefusedStream }
func (deadBuffer) Write(p []byte) (int, error)     { return len(p), nil }
func (deadBuffer) Close() error                    { return nil }
func (deadBuffer) SetReadDeadline(time.Time) error { return nil }
