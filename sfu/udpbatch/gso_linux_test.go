package udpbatch

import (
	"testing"

	"golang.org/x/sys/unix"
)

// When the kernel refuses to segment (here because the socket sends without UDP checksums, which
// GSO needs; on a real network, a device without checksum offload), the Conn sends that batch
// and every later one datagram by datagram, and nothing is lost.
func TestConnGSORefused(t *testing.T) {
	group := &Group{}
	c := newTestConn(t, group, 64, false, true)
	if c.gso == nil {
		t.Fatal("this kernel has no UDP segmentation offload (Linux 4.18+)")
	}
	rc, err := c.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	a, b := newUDPSink(t), newUDPSink(t)
	var wantA, wantB []uint32
	for i := range uint32(10) {
		if _, err := c.WriteToAddrPort(datagramOf(i, 1000), a.addr()); err != nil {
			t.Fatal(err)
		}
		wantA = append(wantA, i)
		if i%2 == 0 {
			if _, err := c.WriteToAddrPort(datagramOf(100+i, 1000), b.addr()); err != nil {
				t.Fatal(err)
			}
			wantB = append(wantB, 100+i)
		}
	}
	group.Release()
	wantSeqs(t, "sink a", a.waitReceived(t, len(wantA)), wantA)
	wantSeqs(t, "sink b", b.waitReceived(t, len(wantB)), wantB)
	// Later batches go out one by one from the start.
	if _, err := c.WriteToAddrPort(datagramOf(50, 1000), a.addr()); err != nil {
		t.Fatal(err)
	}
	wantSeqs(t, "sink a", a.waitReceived(t, len(wantA)+1), append(wantA, 50))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c.gso != nil {
		t.Error("GSO still on after the kernel refused it")
	}
	if group.gso.Load() != 0 || group.sendErrors.Load() != 0 || group.sent.Load() != uint64(len(wantA)+len(wantB)+1) {
		t.Errorf("sent %d (%d by GSO), errors %d", group.sent.Load(), group.gso.Load(), group.sendErrors.Load())
	}
}
