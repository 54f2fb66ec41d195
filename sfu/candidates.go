package sfu

import (
	"net/netip"
	"strconv"
	"strings"
)

// Remote candidates. A client names the addresses the server should send its connectivity
// checks to; on a server that is not loopback-only, a candidate at a loopback, private,
// link-local, multicast or unspecified address, or at a name rather than an address, would have
// the server send packets into its own host or network for whoever asks (the cloud's metadata
// service at 169.254.169.254, a database on the LAN). Such candidates are dropped, trickled or in
// a description, and counted (Stats.CandidatesRefused), unless Config.AllowPrivateCandidates.
// Clients on the server's own LAN still connect: their checks reach the server, which answers
// the address they came from (a peer-reflexive candidate), and the TURN relay remains: a
// candidate at the server's own relay (TrustRelay), in its port range when it has one, passes
// whatever its address.

// relayAddr is the server's own TURN relay, as clients' relay candidates name it.
type relayAddr struct {
	ip               netip.Addr
	portMin, portMax int // 0, 0: any port
}

// TrustRelay lets clients' candidates at ip (the server's TURN relay, as its relayed addresses
// show it) through, on ports portMin to portMax (both 0: any port). The node calls it once it
// has started the relay.
func (s *SFU) TrustRelay(ip netip.Addr, portMin, portMax int) {
	s.relay.Store(&relayAddr{ip: ip.Unmap(), portMin: portMin, portMax: portMax})
}

func (r *relayAddr) has(a netip.Addr, port string) bool {
	if r == nil || a.Unmap() != r.ip {
		return false
	}
	if r.portMin == 0 && r.portMax == 0 {
		return true
	}
	p, err := strconv.Atoi(port)

	return err == nil && p >= r.portMin && p <= r.portMax
}

// candidateAllowed reports whether a client's candidate line (with or without "candidate:") may
// be given to Pion. A line that does not parse is left to Pion to refuse.
func (s *SFU) candidateAllowed(line string) bool {
	if s.allowPrivate {
		return true
	}
	// foundation component transport priority address port "typ" type ...
	f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "candidate:"))
	if len(f) < 6 {
		return true
	}
	addr, err := netip.ParseAddr(f[4])
	if err == nil && s.relay.Load().has(addr, f[5]) {
		return true
	}
	if err != nil || !publicAddr(addr) {
		s.counters.candidatesRefused.Add(1)

		return false
	}

	return true
}

// publicAddr reports whether a is a unicast address outside the loopback, private, link-local
// and carrier-grade NAT ranges.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()

	return a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// filterCandidates drops from a client's description the a=candidate lines candidateAllowed
// refuses.
func (s *SFU) filterCandidates(desc string) string {
	if s.allowPrivate || !strings.Contains(desc, "a=candidate:") {
		return desc
	}
	lines := strings.SplitAfter(desc, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "a=candidate:"); ok && !s.candidateAllowed(strings.TrimRight(rest, "\r\n")) {
			continue
		}
		kept = append(kept, l)
	}

	return strings.Join(kept, "")
}
