package sfu

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// A client cannot point the server's connectivity checks into its own host or network: trickled
// candidates and candidates in a description at loopback, private, link-local or
// carrier-grade-NAT addresses, or at names, are dropped and counted, before Pion sees them;
// public ones pass.
func TestPrivateCandidatesRefused(t *testing.T) {
	s := newTestSFU(t)
	s.allowPrivate = false // as on a server that is not loopback-only, before any peer exists
	p, err := s.Join("room", "mallory", func(Signal) {})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	refused := []string{
		"candidate:1 1 udp 2130706431 169.254.169.254 80 typ host",
		"candidate:2 1 udp 2130706431 127.0.0.1 6379 typ host",
		"candidate:3 1 udp 2130706431 10.0.0.5 5432 typ host",
		"candidate:4 1 udp 2130706431 192.168.1.1 53 typ host",
		"candidate:5 1 udp 2130706431 ::1 9 typ host",
		"candidate:6 1 udp 2130706431 fe80::1 9 typ host",
		"candidate:7 1 udp 2130706431 fd00::1 9 typ host",
		"candidate:8 1 udp 2130706431 100.64.0.1 9 typ host",
		"candidate:9 1 udp 2130706431 0.0.0.0 9 typ host",
		"candidate:10 1 udp 2130706431 metadata.internal 80 typ host",
		"candidate:11 1 udp 1694498815 10.1.1.1 9 typ srflx raddr 0.0.0.0 rport 0",
	}
	public := "candidate:12 1 udp 1694498815 203.0.113.7 50000 typ srflx raddr 0.0.0.0 rport 0"
	before := s.Stats().CandidatesRefused
	for _, c := range append(refused, public) {
		for _, target := range []Target{TargetPublisher, TargetSubscriber} {
			if err := p.AddCandidate(target, webrtc.ICECandidateInit{Candidate: c}); err != nil {
				t.Fatalf("%s: %v", c, err)
			}
		}
	}
	if got := s.Stats().CandidatesRefused - before; got != uint64(2*len(refused)) {
		t.Errorf("%d candidates refused, want %d", got, 2*len(refused))
	}
	p.pubMu.Lock()
	held := p.pubCands
	p.pubMu.Unlock()
	if len(held) != 1 || held[0].Candidate != public {
		t.Errorf("publisher candidates kept for Pion: %v, want only the public one", held)
	}

	desc := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
	for _, c := range refused {
		desc += "a=" + c + "\r\n"
	}
	desc += "a=" + public + "\r\na=sendrecv\r\n"
	got := s.filterCandidates(desc)
	if strings.Count(got, "a=candidate:") != 1 || !strings.Contains(got, public) || !strings.HasSuffix(got, "a=sendrecv\r\n") {
		t.Errorf("filtered description:\n%s", got)
	}

	// The server's own TURN relay on a LAN address: its relayed ports pass, no other port.
	s.TrustRelay(netip.MustParseAddr("10.0.0.9"), 50000, 50100)
	if !s.candidateAllowed("candidate:13 1 udp 16777215 10.0.0.9 50010 typ relay raddr 0.0.0.0 rport 0") {
		t.Error("a candidate at the server's own relay was refused")
	}
	if s.candidateAllowed("candidate:14 1 udp 16777215 10.0.0.9 6379 typ relay raddr 0.0.0.0 rport 0") {
		t.Error("a candidate at the relay's address but outside its ports passed")
	}

	s.allowPrivate = true
	if !s.candidateAllowed(refused[2]) {
		t.Error("a private candidate refused where they are allowed")
	}
}

func TestPublicAddr(t *testing.T) {
	for a, want := range map[string]bool{
		"8.8.8.8": true, "203.0.113.7": true, "2001:db8::1": true, "::ffff:8.8.8.8": true,
		"::ffff:10.0.0.1": false, "172.16.0.1": false, "224.0.0.1": false, "255.255.255.255": false,
	} {
		if got := publicAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("publicAddr(%s) = %v", a, got)
		}
	}
}
