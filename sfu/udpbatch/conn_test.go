package udpbatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/cputime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait on a condition: generous for a loaded 2-core machine under -race.
const waitTimeout = await.Limit

// waitFor is the project's one wait on a condition (await.Until).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	await.Until(t, what, cond)
}

// udpSink is a socket on 127.0.0.1 that keeps the sequence numbers of what it receives.
type udpSink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []uint32
	done chan struct{}
}

func newUDPSink(t testing.TB) *udpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(1 << 20)
	s := &udpSink{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n >= 8 {
				seq := binary.BigEndian.Uint32(buf)
				if int(binary.BigEndian.Uint32(buf[4:])) != n {
					seq = badDatagram // cut at the wrong place
				}
				s.mu.Lock()
				s.got = append(s.got, seq)
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-s.done
	})

	return s
}

func (s *udpSink) addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (s *udpSink) received() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]uint32(nil), s.got...)
}

// waitReceived waits until the sink has n datagrams and returns them.
func (s *udpSink) waitReceived(t testing.TB, n int) []uint32 {
	t.Helper()
	var got []uint32
	waitFor(t, fmt.Sprintf("%d datagrams at %v", n, s.addr()), func() bool {
		got = s.received()

		return len(got) >= n
	})

	return got
}

func newTestConn(t testing.TB, group *Group, queueLen int, start, gso bool) *Conn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(conn, group, queueLen, gso && gsoSupported(conn))
	if !start {
		group.Hold() // the test releases it (group.Release) to let the queue go
	}

	return c
}

// badDatagram is what a sink records for a datagram whose length is not the one it carries.
const badDatagram = 1<<32 - 1

// datagramOf is a datagram of size bytes that carries its sequence number and its size.
func datagramOf(seq uint32, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, seq)
	binary.BigEndian.PutUint32(b[4:], uint32(size))

	return b
}

func wantSeqs(t *testing.T, who string, got []uint32, want []uint32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s received %d datagrams, want %d: %v", who, len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s datagram %d is %d, want %d (order per destination lost): %v", who, i, got[i], want[i], got)
		}
	}
}

// Every datagram arrives whole, in the order written to its destination, through however many
// batches were made, held or not; with GSO, runs of equal-sized datagrams to one destination go out as
// one message and still arrive one by one.
func TestConnDeliversInOrder(t *testing.T) {
	for _, gso := range []bool{false, true} {
		t.Run(fmt.Sprintf("gso=%v", gso), func(t *testing.T) {
			group := &Group{}
			c := newTestConn(t, group, writeQueueLen, false, gso)
			sinks := []*udpSink{newUDPSink(t), newUDPSink(t), newUDPSink(t)}
			const perSink = 300
			want := make([][]uint32, len(sinks))
			for i := range perSink {
				for j, s := range sinks {
					seq := uint32(j*perSink + i)
					want[j] = append(want[j], seq)
					size := 1000 // a frame's packets: full size, and a short one to end it
					if i%7 == 6 {
						size = 300 + i
					}
					// Alternate the write methods the mux and Pion use.
					var err error
					if i%2 == 0 {
						_, err = c.WriteToAddrPort(datagramOf(seq, size), s.addr())
					} else {
						_, err = c.WriteTo(datagramOf(seq, size), net.UDPAddrFromAddrPort(s.addr()))
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				switch {
				case i == 20:
					group.Release() // the first batch holds runs to every destination, for sure
				case i%50 == 0:
					group.Hold() // and now and then a held stretch again
				case i%50 == 10:
					group.Release()
				}
			}
			for j, s := range sinks {
				wantSeqs(t, fmt.Sprintf("sink %d", j), s.waitReceived(t, perSink), want[j])
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			total := uint64(perSink * len(sinks))
			if got := group.sent.Load(); got != total {
				t.Errorf("sent %d, want %d", got, total)
			}
			if b := group.batches.Load(); b == 0 || b > total {
				t.Errorf("%d batches for %d datagrams", b, total)
			}
			if group.sendErrors.Load() != 0 {
				t.Errorf("%d send errors, want none", group.sendErrors.Load())
			}
			if gso && c.gso != nil && group.gso.Load() == 0 {
				t.Error("no datagram went out in a GSO message")
			}
			if !gso && group.gso.Load() != 0 {
				t.Errorf("%d datagrams in GSO messages with GSO off", group.gso.Load())
			}
			t.Logf("%d datagrams in %d sendmmsg calls, %d of them in GSO messages", total, group.batches.Load(), group.gso.Load())
		})
	}
}

// fillQueue fills c's (held) queue with queueLen datagrams to s, numbered from 0, and returns
// their numbers.
func fillQueue(t *testing.T, c *Conn, s *udpSink, queueLen int) []uint32 {
	t.Helper()
	var want []uint32
	for i := range uint32(queueLen) {
		if _, err := c.WriteToAddrPort(datagramOf(i, 64), s.addr()); err != nil {
			t.Fatal(err)
		}
		want = append(want, i)
	}

	return want
}

// A write that finds the queue full (held) sends it first, then queues: nothing is lost and the
// order per destination holds.
func TestConnFullQueueSends(t *testing.T) {
	group := &Group{}
	const queueLen = 8
	c := newTestConn(t, group, queueLen, false, false)
	s := newUDPSink(t)
	want := fillQueue(t, c, s, queueLen)
	if got := group.sent.Load(); got != 0 {
		t.Fatalf("%d datagrams sent while held", got)
	}
	if _, err := c.WriteToAddrPort(datagramOf(queueLen, 64), s.addr()); err != nil {
		t.Fatal(err)
	}
	wantSeqs(t, "sink", s.waitReceived(t, queueLen), want)
	if group.fullWaits.Load() != 1 {
		t.Errorf("full queue met %d times, want 1", group.fullWaits.Load())
	}
	group.Release()
	wantSeqs(t, "sink", s.waitReceived(t, queueLen+1), append(want, queueLen))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// While another goroutine is sending, a write to a full queue waits for it to take the queue.
func TestConnFullQueueWaitsForSender(t *testing.T) {
	group := &Group{}
	const queueLen = 8
	c := newTestConn(t, group, queueLen, false, false)
	s := newUDPSink(t)
	want := fillQueue(t, c, s, queueLen)
	c.send.Lock() // another goroutine in the middle of a send
	wrote := make(chan error, 1)
	go func() {
		_, err := c.WriteToAddrPort(datagramOf(queueLen, 64), s.addr())
		wrote <- err
	}()
	waitFor(t, "the writer to wait for room", func() bool { return group.fullWaits.Load() == 1 })
	select {
	case err := <-wrote:
		t.Fatalf("write to a full queue returned (%v) while another goroutine was sending", err)
	default:
	}
	for c.flushOnce() { // what that sender does before it stops
	}
	c.send.Unlock()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	group.Release()
	wantSeqs(t, "sink", s.waitReceived(t, queueLen+1), append(want, queueLen))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close releases a writer waiting for room (with net.ErrClosed) and still sends what was queued.
func TestConnCloseReleasesWaitingWriter(t *testing.T) {
	group := &Group{}
	const queueLen = 8
	c := newTestConn(t, group, queueLen, false, false)
	s := newUDPSink(t)
	want := fillQueue(t, c, s, queueLen)
	c.send.Lock() // another goroutine in the middle of a send
	wrote := make(chan error, 1)
	go func() {
		_, err := c.WriteToAddrPort(datagramOf(queueLen, 64), s.addr())
		wrote <- err
	}()
	waitFor(t, "the writer to wait for room", func() bool { return group.fullWaits.Load() == 1 })
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	if err := <-wrote; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("waiting write: %v, want net.ErrClosed", err)
	}
	c.send.Unlock() // Close sends the queue once the other sender is done
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wantSeqs(t, "sink", s.waitReceived(t, queueLen), want)
}

// A datagram waits in a held queue at most about maxHold: the next write after that sends it.
func TestConnHoldIsBounded(t *testing.T) {
	group := &Group{}
	c := newTestConn(t, group, 64, false, false)
	defer func() { _ = c.Close() }()
	s := newUDPSink(t)
	if _, err := c.WriteToAddrPort(datagramOf(0, 64), s.addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first datagram to be overdue", func() bool { return c.overdue(nanotime()) })
	if group.sent.Load() != 0 {
		t.Fatal("a held datagram was sent without a write or a release")
	}
	if _, err := c.WriteToAddrPort(datagramOf(1, 64), s.addr()); err != nil {
		t.Fatal(err)
	}
	wantSeqs(t, "sink", s.waitReceived(t, 2), []uint32{0, 1})
	// A release that leaves another holder sends an overdue queue too.
	group.Hold()
	if _, err := c.WriteToAddrPort(datagramOf(2, 64), s.addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the third datagram to be overdue", func() bool { return c.overdue(nanotime()) })
	group.Release()
	wantSeqs(t, "sink", s.waitReceived(t, 3), []uint32{0, 1, 2})
	if group.holds.Load() != 1 {
		t.Errorf("holds %d, want the test's 1", group.holds.Load())
	}
}

// A datagram the kernel refuses (here an IPv6 destination on an IPv4 socket) is counted and
// skipped; the rest of its batch still goes out.
func TestConnSkipsRefusedDatagram(t *testing.T) {
	group := &Group{}
	c := newTestConn(t, group, 16, false, false)
	s := newUDPSink(t)
	bad := netip.AddrPortFrom(netip.IPv6Loopback(), s.addr().Port())
	for i, dst := range []netip.AddrPort{s.addr(), bad, s.addr(), bad, bad, s.addr()} {
		if _, err := c.WriteToAddrPort(datagramOf(uint32(i), 64), dst); err != nil {
			t.Fatal(err)
		}
	}
	group.Release()
	wantSeqs(t, "sink", s.waitReceived(t, 3), []uint32{0, 2, 5})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if group.sent.Load() != 3 || group.sendErrors.Load() != 3 {
		t.Errorf("sent %d, errors %d; want 3 and 3", group.sent.Load(), group.sendErrors.Load())
	}
}

// A refused datagram in the middle of a batch leaves no error pending on the socket: the mux's
// read loop ends at the first read error, which would stop all media.
func TestConnRefusalLeavesReadsAlone(t *testing.T) {
	group := &Group{}
	c := newTestConn(t, group, 16, false, false)
	defer func() { _ = c.Close() }()
	s := newUDPSink(t)
	bad := netip.AddrPortFrom(netip.IPv6Loopback(), s.addr().Port())
	for i, dst := range []netip.AddrPort{s.addr(), bad, s.addr()} {
		if _, err := c.WriteToAddrPort(datagramOf(uint32(i), 64), dst); err != nil {
			t.Fatal(err)
		}
	}
	group.Release()
	s.waitReceived(t, 2)
	waitFor(t, "the refusal counted", func() bool { return group.sendErrors.Load() == 1 })
	if _, err := s.conn.WriteToUDPAddrPort([]byte("hello"), c.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 64)
	if n, _, err := c.ReadFromAddrPort(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read after a refused datagram: %q, %v", buf[:n], err)
	}
}

// Close sends what is still queued (held or not), refuses later writes and closes the socket.
func TestConnClose(t *testing.T) {
	group := &Group{}
	c := newTestConn(t, group, 64, false, false)
	s := newUDPSink(t)
	for i := range uint32(20) {
		if _, err := c.WriteToAddrPort(datagramOf(i, 64), s.addr()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	want := make([]uint32, 20)
	for i := range want {
		want[i] = uint32(i)
	}
	wantSeqs(t, "sink", s.waitReceived(t, 20), want)
	if _, err := c.WriteToAddrPort(datagramOf(99, 64), s.addr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
	if _, _, err := c.ReadFromAddrPort(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
}

// Reads pass through: the mux gets what arrives at the socket, with its source.
func TestConnReads(t *testing.T) {
	c := newTestConn(t, &Group{}, 8, true, false)
	defer func() { _ = c.Close() }()
	peer := newUDPSink(t)
	if _, err := peer.conn.WriteToUDPAddrPort([]byte("hello"), c.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 64)
	n, from, err := c.ReadFromAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "hello" || from != peer.addr() {
		t.Errorf("read %q from %v, want hello from %v", buf[:n], from, peer.addr())
	}
}

// BenchmarkConn is the cost per datagram of the batched write path alone against one sendto
// per datagram, to destinations on loopback whose sockets read nothing (the kernel drops at the
// full receive buffer, as for the sinks of BenchmarkForward). sendmmsg=n queues n datagrams to n
// destinations and flushes them on the benchmark's goroutine: one sendmmsg of n, no hand-off.
// unheld=n writes n datagrams back to back with nothing held: each write sends itself (one
// sendmmsg of one datagram, on the writer's goroutine). fanout/* is a video frame of 5 packets
// (1 200 bytes) fanned out to 32 subscribers, packet by packet as the lanes write it: one sendto
// each, one sendmmsg for all, or grouped by subscriber into GSO messages.
func BenchmarkConn(b *testing.B) {
	dsts := make([]netip.AddrPort, 32)
	for i := range dsts {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rx.Close() })
		dsts[i] = rx.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	p := make([]byte, 1200)
	perDatagram := func(b *testing.B, n int, cpu0 time.Duration) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/dgram")
		b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/dgram")
	}
	sendto := func(b *testing.B, n int) {
		tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = tx.Close() }()
		b.ReportAllocs()
		cpu0 := cputime.Process()
		for b.Loop() {
			for i := range n {
				if _, err := tx.WriteToUDPAddrPort(p, dsts[i%len(dsts)]); err != nil {
					b.Fatal(err)
				}
			}
		}
		perDatagram(b, n, cpu0)
	}
	batched := func(b *testing.B, n int, gso bool) {
		group := &Group{}
		c := newTestConn(b, group, writeQueueLen, false, gso)
		defer func() { _ = c.Close() }()
		b.ReportAllocs()
		cpu0 := cputime.Process()
		for b.Loop() {
			for i := range n {
				if _, err := c.WriteToAddrPort(p, dsts[i%len(dsts)]); err != nil {
					b.Fatal(err)
				}
			}
			c.flushOnce()
		}
		if group.sendErrors.Load() != 0 {
			b.Fatalf("%d send errors", group.sendErrors.Load())
		}
		perDatagram(b, n, cpu0)
		b.ReportMetric(float64(group.gso.Load())/float64(max(group.sent.Load(), 1)), "gso-share")
	}
	b.Run("sendto", func(b *testing.B) { sendto(b, 1) })
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("sendmmsg=%d", n), func(b *testing.B) { batched(b, n, false) })
	}
	for _, n := range []int{1, 32} {
		b.Run(fmt.Sprintf("unheld=%d", n), func(b *testing.B) {
			group := &Group{}
			c := newTestConn(b, group, writeQueueLen, true, false)
			defer func() { _ = c.Close() }()
			b.ReportAllocs()
			var want uint64
			cpu0 := cputime.Process()
			for b.Loop() {
				for i := range n {
					if _, err := c.WriteToAddrPort(p, dsts[i%len(dsts)]); err != nil {
						b.Fatal(err)
					}
				}
				want += uint64(n)
				for group.sent.Load()+group.sendErrors.Load() < want {
					runtime.Gosched()
				}
			}
			perDatagram(b, n, cpu0)
			b.ReportMetric(float64(group.sent.Load())/float64(max(group.batches.Load(), 1)), "dgrams/batch")
		})
	}
	const frame = 5 * 32
	b.Run("fanout/sendto", func(b *testing.B) { sendto(b, frame) })
	b.Run("fanout/sendmmsg", func(b *testing.B) { batched(b, frame, false) })
	b.Run("fanout/gso", func(b *testing.B) { batched(b, frame, true) })
}

// Holds are the server's, not a socket's: the last release sends what every Conn sharing the
// Group queued meanwhile, nested and overlapping holds included, and a closed Conn is left out.
func TestHoldSpansConns(t *testing.T) {
	group := &Group{}
	a := newTestConn(t, group, 64, true, false)
	b := newTestConn(t, group, 64, true, false)
	closed := newTestConn(t, group, 64, true, false)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	s := newUDPSink(t)
	group.Hold()
	group.Hold() // a second holder, e.g. a writer lane next to the reader
	for i := range uint32(3) {
		if _, err := a.WriteToAddrPort(datagramOf(i, 64), s.addr()); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WriteToAddrPort(datagramOf(10+i, 64), s.addr()); err != nil {
			t.Fatal(err)
		}
	}
	group.Release()
	if got := group.sent.Load(); got != 0 {
		t.Fatalf("%d datagrams sent while a holder remained", got)
	}
	group.Release()
	got := s.waitReceived(t, 6)
	var fromA, fromB []uint32
	for _, seq := range got {
		if seq < 10 {
			fromA = append(fromA, seq)
		} else {
			fromB = append(fromB, seq)
		}
	}
	wantSeqs(t, "from a", fromA, []uint32{0, 1, 2})
	wantSeqs(t, "from b", fromB, []uint32{10, 11, 12})
	if n := group.Snapshot().Flushes[causeReleased]; n != 2 {
		t.Errorf("%d queues sent on release, want 2 (one per Conn)", n)
	}
	for _, c := range []*Conn{a, b} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if list := group.conns.Load(); list != nil && len(*list) != 0 {
		t.Errorf("%d Conns still listed after Close", len(*list))
	}
}
