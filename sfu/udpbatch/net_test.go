package udpbatch

import (
	"net"
	"testing"

	"github.com/pion/transport/v5/stdnet"
	"github.com/prometheus/client_golang/prometheus"
)

// Net opens real sockets as Conns that count into its Group, and the collector exports those
// counters under the prefix it was given.
func TestNetAndCollector(t *testing.T) {
	nw, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	group := &Group{}
	n := Net{Net: nw, Group: group}
	uc, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := uc.(*Conn)
	if !ok {
		t.Fatalf("ListenUDP returned a %T, want a *Conn", uc)
	}
	s := newUDPSink(t)
	for i := range uint32(5) {
		if _, err := c.WriteToUDP(datagramOf(i, 1000), net.UDPAddrFromAddrPort(s.addr())); err != nil {
			t.Fatal(err)
		}
	}
	wantSeqs(t, "sink", s.waitReceived(t, 5), []uint32{0, 1, 2, 3, 4})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := group.Snapshot()
	if got.Sockets != 1 || got.Queued != 5 || got.Sent != 5 || got.Pending() != 0 || got.Batches == 0 {
		t.Errorf("counts %+v", got)
	}

	reg := prometheus.NewRegistry()
	if err := reg.Register(NewCollector("test", group)); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"test_udp_datagrams_sent_total":    5,
		"test_udp_write_batches_total":     float64(got.Batches),
		"test_udp_gso_datagrams_total":     float64(got.GSO),
		"test_udp_write_queue_waits_total": 0,
		"test_udp_write_errors_total":      0,
	} {
		found := false
		for _, f := range fams {
			if f.GetName() == name {
				found = true
				if v := f.GetMetric()[0].GetCounter().GetValue(); v != want {
					t.Errorf("%s = %v, want %v", name, v, want)
				}
			}
		}
		if !found {
			t.Errorf("%s not exported", name)
		}
	}
}
