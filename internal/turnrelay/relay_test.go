package turnrelay_test

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/turnrelay"
)

// Pion's SRTP reader can block for good handing a new SSRC to a PeerConnection that stopped
// accepting streams while closing (pion/webrtc's undeclaredRTPMediaProcessor returns when the
// SRTCP session closed first; pion/srtp's decrypt then sends on newStream with no receiver): a
// goroutine of Pion's, after our Close returned, that this code cannot reach.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/pion/srtp/v3.(*SessionSRTP).decrypt"))
}

var loopbackIP = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// udpSink is a UDP socket standing in for a server's media port (or for anything else on the
// machine), keeping what it receives.
type udpSink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
	from []netip.AddrPort
	done chan struct{}
}

func newSink(t *testing.T, ip string) *udpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	s := &udpSink{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got, s.from = append(s.got, bytes.Clone(buf[:n])), append(s.from, from)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-s.done })
	return s
}

func (s *udpSink) addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (s *udpSink) received() (n int, from []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got), append([]netip.AddrPort(nil), s.from...)
}

func startRelay(t *testing.T, cfg turnrelay.Config) *turnrelay.Relay {
	t.Helper()
	cfg.ListenIP = loopbackIP
	r, err := turnrelay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// turnClient is a pion/turn client of the relay over UDP (or TCP when tcp is set) with these
// credentials.
func turnClient(t *testing.T, r *turnrelay.Relay, user, pass string, tcp bool) *turn.Client {
	t.Helper()
	server := net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port()))
	var conn net.PacketConn
	if tcp {
		c, err := net.Dial("tcp4", server)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	} else {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: user, Password: pass, Realm: "parley", RTO: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	return c
}

// TestCredentials: the credentials the relay issues allocate, over UDP and over TCP; a wrong
// password, a credential past its expiry (rightly signed) and one signed with another secret
// are refused.
func TestCredentials(t *testing.T) {
	media := newSink(t, "127.0.0.1")
	secret := []byte("test secret")
	r := startRelay(t, turnrelay.Config{MediaLocal: []netip.AddrPort{media.addr()}, Secret: secret})
	user, pass, expires := r.Credentials("p1")
	if until := time.Until(expires); until < turnrelay.MinTTL {
		t.Errorf("credentials expire in %s, under %s", until, turnrelay.MinTTL)
	}
	if !strings.HasSuffix(user, ":p1") || pass != turnrelay.Password(secret, user) {
		t.Errorf("credential %q/%q is not the TURN REST scheme's", user, pass)
	}
	for _, tcp := range []bool{false, true} {
		relayed, err := turnClient(t, r, user, pass, tcp).Allocate()
		if err != nil {
			t.Fatalf("allocate with issued credentials (tcp %v): %v", tcp, err)
		}
		if got := relayed.LocalAddr().(*net.UDPAddr).IP.String(); got != "127.0.0.1" {
			t.Errorf("relayed address %s, not at the relay's external IP", got)
		}
		_ = relayed.Close()
	}

	expired := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10) + ":p1"
	for name, cred := range map[string][2]string{
		"wrong password":      {user, "not-the-password"},
		"expired":             {expired, turnrelay.Password(secret, expired)},
		"another secret":      {user, turnrelay.Password([]byte("another"), user)},
		"not a REST username": {"p1", turnrelay.Password(secret, "p1")},
	} {
		for _, tcp := range []bool{false, true} {
			if relayed, err := turnClient(t, r, cred[0], cred[1], tcp).Allocate(); err == nil {
				_ = relayed.Close()
				t.Errorf("%s (tcp %v): allocated", name, tcp)
			}
		}
	}
	if n := r.AuthFailures(); n < 8 {
		t.Errorf("%d authentication failures counted for the 8 refused allocations", n)
	}
}

// TestRelaysOnlyToMedia: a permission to any IP but the media port's is refused, a datagram to
// another port of the media IP never leaves the relay while those to the media port arrive, and
// nothing but the media port gets through to the client.
func TestRelaysOnlyToMedia(t *testing.T) {
	media := newSink(t, "127.0.0.1")
	other := newSink(t, "127.0.0.1") // another service on the same address
	elsewhere := newSink(t, "127.0.0.2")
	r := startRelay(t, turnrelay.Config{MediaLocal: []netip.AddrPort{media.addr()}})
	user, pass, _ := r.Credentials("p1")
	c := turnClient(t, r, user, pass, false)
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()

	if err := c.CreatePermission(net.UDPAddrFromAddrPort(elsewhere.addr())); err == nil {
		t.Error("a permission to 127.0.0.2 was granted")
	}
	if _, err := relayed.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(elsewhere.addr())); err == nil {
		t.Error("a send to 127.0.0.2 was accepted (it needs a permission, which must be refused)")
	}
	// Same IP as the media port: the permission exists, but only the media port is reached.
	for i := 0; i < 20; i++ {
		if _, err := relayed.WriteTo([]byte("to-other"), net.UDPAddrFromAddrPort(other.addr())); err != nil {
			t.Fatal(err)
		}
		if _, err := relayed.WriteTo([]byte("to-media"), net.UDPAddrFromAddrPort(media.addr())); err != nil {
			t.Fatal(err)
		}
	}
	await.Until(t, "the datagrams for the media port", func() bool { n, _ := media.received(); return n >= 10 })
	if n, _ := other.received(); n != 0 {
		t.Errorf("another port of the media IP got %d datagrams through the relay", n)
	}
	if n, _ := elsewhere.received(); n != 0 {
		t.Errorf("127.0.0.2 got %d datagrams through the relay", n)
	}
	if r.Refused() < 10 {
		t.Errorf("refused %d datagrams, want at least the 10 that reached the relay for another port", r.Refused())
	}

	// Back to the client: the media port's answers arrive, another socket's do not.
	_, from := media.received()
	relayAddr := net.UDPAddrFromAddrPort(from[0])
	got := make(chan string, 64)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := relayed.ReadFrom(buf)
			if err != nil {
				close(got)
				return
			}
			got <- string(buf[:n])
		}
	}()
	for i := 0; i < 5; i++ {
		_, _ = other.conn.WriteTo([]byte("from-other"), relayAddr)
		_, _ = media.conn.WriteTo([]byte("from-media"), relayAddr)
	}
	seen := map[string]int{}
	deadline := time.After(await.Limit)
	for seen["from-media"] < 5 {
		select {
		case m := <-got:
			seen[m]++
		case <-deadline:
			t.Fatalf("the client got %v of the media port's 5 answers", seen)
		}
	}
	if seen["from-other"] > 0 {
		t.Errorf("the client got %d datagrams from a socket that is not the media port", seen["from-other"])
	}
}

// TestAnnouncedAddress: a client that sends to the media port's announced (public) address
// reaches the local socket, and sees the answers coming from the announced address.
func TestAnnouncedAddress(t *testing.T) {
	media := newSink(t, "127.0.0.1")
	public := netip.AddrPortFrom(netip.MustParseAddr("203.0.113.7"), media.addr().Port())
	r := startRelay(t, turnrelay.Config{MediaLocal: []netip.AddrPort{media.addr()}, MediaAnnounced: []netip.AddrPort{public}})
	user, pass, _ := r.Credentials("p1")
	relayed, err := turnClient(t, r, user, pass, true).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	if _, err := relayed.WriteTo([]byte("hello"), net.UDPAddrFromAddrPort(public)); err != nil {
		t.Fatal(err)
	}
	await.Until(t, "the datagram for the public address at the local socket", func() bool { n, _ := media.received(); return n >= 1 })
	_, from := media.received()
	if _, err := media.conn.WriteToUDPAddrPort([]byte("answer"), from[0]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = relayed.SetReadDeadline(time.Now().Add(await.Limit))
	n, src, err := relayed.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "answer" || src.String() != public.String() {
		t.Errorf("got %q from %s, want \"answer\" from %s", buf[:n], src, public)
	}
}

// TestAllocationQuota: one credential holds at most MaxAllocations allocations at a time.
func TestAllocationQuota(t *testing.T) {
	media := newSink(t, "127.0.0.1")
	r := startRelay(t, turnrelay.Config{MediaLocal: []netip.AddrPort{media.addr()}, MaxAllocations: 2})
	user, pass, _ := r.Credentials("p1")
	var held []net.PacketConn
	for i := 0; i < 2; i++ {
		relayed, err := turnClient(t, r, user, pass, i == 1).Allocate()
		if err != nil {
			t.Fatalf("allocation %d: %v", i+1, err)
		}
		held = append(held, relayed)
	}
	if relayed, err := turnClient(t, r, user, pass, false).Allocate(); err == nil {
		_ = relayed.Close()
		t.Fatal("a third allocation with the same credential was granted")
	}
	other, otherPass, _ := r.Credentials("p2")
	relayed, err := turnClient(t, r, other, otherPass, false).Allocate()
	if err != nil {
		t.Fatalf("another participant's credential is refused too: %v", err)
	}
	_ = relayed.Close()
	for _, h := range held {
		_ = h.Close()
	}
}

// TestShortTTLRefused: credentials that would expire within 12 hours are a configuration error.
func TestShortTTLRefused(t *testing.T) {
	media := newSink(t, "127.0.0.1")
	if r, err := turnrelay.New(turnrelay.Config{ListenIP: loopbackIP, MediaLocal: []netip.AddrPort{media.addr()}, TTL: time.Hour}); err == nil {
		_ = r.Close()
		t.Fatal("a TTL of 1h was accepted")
	}
}

// TestRelayPortRange: with a range, relayed sockets take its ports, and an allocation beyond
// them is refused.
func TestRelayPortRange(t *testing.T) {
	media := newSink(t, "127.0.0.1")
	probe := newSink(t, "127.0.0.1") // a free port a moment ago, and the next one, for the range
	lo := int(probe.addr().Port())
	_ = probe.conn.Close()
	r := startRelay(t, turnrelay.Config{MediaLocal: []netip.AddrPort{media.addr()}, RelayPortMin: lo, RelayPortMax: lo})
	user, pass, _ := r.Credentials("p1")
	relayed, err := turnClient(t, r, user, pass, false).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	if got := relayed.LocalAddr().(*net.UDPAddr).Port; got != lo {
		t.Errorf("relayed port %d, want %d (the range)", got, lo)
	}
	if second, err := turnClient(t, r, user, pass, false).Allocate(); err == nil {
		_ = second.Close()
		t.Error("a second allocation got a port, though the range holds one and it is taken")
	}
}
