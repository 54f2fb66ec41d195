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
// RTP buffers from arrivals (SettingEngine.BufferFactory): the same packetio buffer, which also
// notes when each packet arrived, so the reader can drop what has waited too long instead of
// forwarding it late (see maxForwardDelay).

// Limits of one publisher RTP stream's buffer: Pion's size limit, and a packet count the arrival
// times are kept for (about 2.5 s of 1.5 Mbit/s video, 20 s of audio; a reader that far behind
// drops what it finds anyway).
const (
	arrivalBufferSize  = 1000 * 1000
	arrivalBufferCount = 512
	rtcpBufferSize     = 100 * 1000 // Pion's default for SRTCP streams
)

// arrivals hands out the publisher connections' SRTP read buffers and finds an RTP stream's by
// SSRC for its track's reader.
type arrivals struct {
	mu     sync.Mutex
	bySSRC map[uint32][]*arrivalBuffer
}

func newArrivals() *arrivals { return &arrivals{bySSRC: map[uint32][]*arrivalBuffer{}} }

// newBuffer is the publisher API's SettingEngine.BufferFactory.
func (a *arrivals) newBuffer(kind packetio.BufferPacketType, ssrc uint32) io.ReadWriteCloser {
	buf := packetio.NewBuffer()
	if kind != packetio.RTPBufferPacket {
		buf.SetLimitSize(rtcpBufferSize)

		return plainBuffer{buf}
	}
	buf.SetLimitSize(arrivalBufferSize)
	buf.SetLimitCount(arrivalBufferCount)
	b := &arrivalBuffer{buf: buf, reg: a, ssrc: ssrc}
	a.mu.Lock()
	a.bySSRC[ssrc] = append(a.bySSRC[ssrc], b)
	a.mu.Unlock()

	return b
}

// lookup returns the live buffer of the RTP stream with ssrc, or nil when there is none or when
// two publishers happen to use the same SSRC (their buffers cannot be told apart).
func (a *arrivals) lookup(ssrc uint32) *arrivalBuffer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if bs := a.bySSRC[ssrc]; len(bs) == 1 {
		return bs[0]
	}

	return nil
}

func (a *arrivals) remove(b *arrivalBuffer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	bs := a.bySSRC[b.ssrc]
	for i, x := range bs {
		if x == b {
			bs = append(bs[:i], bs[i+1:]...)

			break
		}
	}
	if len(bs) == 0 {
		delete(a.bySSRC, b.ssrc)
	} else {
		a.bySSRC[b.ssrc] = bs
	}
}

// arrivalBuffer is a packetio buffer with the arrival time of every packet it holds, kept in a
// ring in step with the packets (both change under mu on write; a read takes the oldest of each).
type arrivalBuffer struct {
	buf  *packetio.Buffer
	reg  *arrivals
	ssrc uint32
	last atomic.Int64 // arrival of the packet read last, monoNow

	mu          sync.Mutex
	times       [arrivalBufferCount]int64
	head, count int
	closed      bool
}

// Write queues a decrypted packet (Pion's SRTP goroutine).
func (b *arrivalBuffer) Write(p []byte) (int, error) {
	now := monoNow()
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p, nil)
	if err == nil {
		b.times[(b.head+b.count)%arrivalBufferCount] = now
		b.count++
	}

	return n, err
}

// Read takes the oldest packet (the track's reader, through Pion) and notes when it arrived.
func (b *arrivalBuffer) Read(p []byte) (int, error) {
	n, _, err := b.buf.Read(p, nil)
	if err == nil || errors.Is(err, io.ErrShortBuffer) { // a short read consumes the packet too
		b.mu.Lock()
		if b.count > 0 {
			b.last.Store(b.times[b.head])
			b.head = (b.head + 1) % arrivalBufferCount
			b.count--
		}
		b.mu.Unlock()
	}

	return n, err
}

// lastArrival is when the packet read last arrived (0 before the first).
func (b *arrivalBuffer) lastArrival() int64 { return b.last.Load() }

// SetReadDeadline is passed on, as Pion does for its own buffers.
func (b *arrivalBuffer) SetReadDeadline(t time.Time) error { return b.buf.SetReadDeadline(t) }

// Close ends the stream: reads return io.EOF once it is drained.
func (b *arrivalBuffer) Close() error {
	b.mu.Lock()
	closed := b.closed
	b.closed = true
	b.mu.Unlock()
	if !closed {
		b.reg.remove(b)
	}

	return b.buf.Close()
}

// plainBuffer is a packetio buffer as an io.ReadWriteCloser, for SRTCP streams.
type plainBuffer struct{ *packetio.Buffer }

func (b plainBuffer) Read(p []byte) (int, error) {
	n, _, err := b.Buffer.Read(p, nil)

	return n, err
}

func (b plainBuffer) Write(p []byte) (int, error) { return b.Buffer.Write(p, nil) }
