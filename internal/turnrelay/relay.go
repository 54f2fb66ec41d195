package turnrelay

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" // the TURN REST scheme's MAC: what browsers and every TURN server use
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"

	"github.com/parleyhq/parley/internal/pionlog"
	"github.com/parleyhq/parley/wire"
)

// Defaults of Config.
const (
	DefaultPort           = 3478
	DefaultTLSPort        = 5349
	DefaultTTL            = 24 * time.Hour
	MinTTL                = 12 * time.Hour
	DefaultMaxAllocations = 10
	realm                 = "parley"
)

// Config configures New.
type Config struct {
	// Port is the relay's UDP and TCP port (the same number for both); 0 picks a free one.
	Port int
	// TLS, when set, serves TURN over TLS on TLSPort (0 picks a free one).
	TLS     *tls.Config
	TLSPort int
	// ListenIP is where the relay listens and opens its relayed sockets; unset: every IPv4
	// address (127.0.0.1 on a loopback-only server).
	ListenIP netip.Addr
	// ExternalIP is the relay's address as clients reach it: in its relayed addresses and in the
	// turn: and stun: URLs. Unset: ListenIP when it is one address, else the first announced
	// media address's IP, else the first local one's.
	ExternalIP netip.Addr
	// MediaLocal are the addresses the media sockets listen on; MediaAnnounced the addresses
	// announced for them instead (public IPs). These are the only peers of the relay.
	MediaLocal, MediaAnnounced []netip.AddrPort
	// Secret signs the credentials; empty: 32 random bytes for this process (its credentials
	// then end with it). Several nodes behind one name share one.
	Secret []byte
	// TTL is how long issued credentials work (default DefaultTTL, at least MinTTL).
	TTL time.Duration
	// RelayPortMin and RelayPortMax, when set, are the range of the allocations' relayed UDP
	// ports (which talk only to the media port on this machine); unset: any free port.
	RelayPortMin, RelayPortMax int
	// MaxAllocations bounds the live allocations of one credential (default
	// DefaultMaxAllocations).
	MaxAllocations int
	// Logger receives the relay's logs and Pion's (at the levels of pionlog.Server); nil
	// discards them.
	Logger *slog.Logger
}

// Relay is a running TURN relay.
type Relay struct {
	cfg      Config
	log      *slog.Logger
	server   *turn.Server
	port     int
	tlsPort  int
	external netip.Addr
	route    map[netip.AddrPort]netip.AddrPort // allowed peer address -> where it is delivered
	peerIPs  map[netip.Addr]bool
	from     map[netip.AddrPort]bool // media sockets' local addresses: where answers come from

	mu     sync.Mutex
	allocs map[string]int // live allocations by username

	closeOnce sync.Once
	authFails atomic.Uint64 // requests with a wrong, expired or malformed credential
	refused   atomic.Uint64 // datagrams dropped for going to, or coming from, a non-media address
}

// New opens the relay's ports and serves until Close.
func New(cfg Config) (*Relay, error) {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < MinTTL {
		return nil, fmt.Errorf("turn credentials must last at least %s, not %s", MinTTL, cfg.TTL)
	}
	if cfg.MaxAllocations == 0 {
		cfg.MaxAllocations = DefaultMaxAllocations
	}
	if cfg.RelayPortMin < 0 || cfg.RelayPortMax > 65535 || cfg.RelayPortMin > cfg.RelayPortMax {
		return nil, fmt.Errorf("turn relay ports %d-%d: not a range of ports", cfg.RelayPortMin, cfg.RelayPortMax)
	}
	if len(cfg.MediaLocal) == 0 {
		return nil, errors.New("turn relay: no media address to relay to")
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		_, _ = rand.Read(cfg.Secret) // never fails (crypto/rand)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{cfg: cfg, log: log, allocs: map[string]int{}}
	r.external = externalIP(cfg)
	if !r.external.IsValid() {
		return nil, errors.New("turn relay: no external IP (set -turn-external-ip)")
	}
	r.routes()
	listenIP := "0.0.0.0"
	if cfg.ListenIP.IsValid() {
		listenIP = cfg.ListenIP.String()
	}
	if err := r.listen(listenIP); err != nil {
		return nil, err
	}
	log.Info("turn relay listening", "port", r.port, "tlsPort", r.tlsPort, "externalIp", r.external.String())

	return r, nil
}

func externalIP(cfg Config) netip.Addr {
	switch {
	case cfg.ExternalIP.IsValid():
		return cfg.ExternalIP.Unmap()
	case cfg.ListenIP.IsValid() && !cfg.ListenIP.IsUnspecified():
		return cfg.ListenIP.Unmap()
	case len(cfg.MediaAnnounced) > 0:
		return cfg.MediaAnnounced[0].Addr().Unmap()
	case len(cfg.MediaLocal) > 0:
		return cfg.MediaLocal[0].Addr().Unmap()
	}

	return netip.Addr{}
}

// routes fills the table of allowed peers: each local media address to itself, each announced
// one to the first local address of its family (of any family when there is none).
func (r *Relay) routes() {
	r.route, r.peerIPs, r.from = map[netip.AddrPort]netip.AddrPort{}, map[netip.Addr]bool{}, map[netip.AddrPort]bool{}
	for _, l := range r.cfg.MediaLocal {
		l = unmap(l)
		r.route[l], r.peerIPs[l.Addr()], r.from[l] = l, true, true
	}
	for _, a := range r.cfg.MediaAnnounced {
		a = unmap(a)
		if _, ok := r.route[a]; ok {
			continue
		}
		to := unmap(r.cfg.MediaLocal[0])
		for _, l := range r.cfg.MediaLocal {
			if l.Addr().Unmap().Is4() == a.Addr().Is4() {
				to = unmap(l)

				break
			}
		}
		r.route[a], r.peerIPs[a.Addr()] = to, true
	}
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// listen opens the UDP and TCP port (retrying with another when Port is 0 and the TCP twin of
// the UDP port picked is taken), the TLS port, and starts the TURN server on them.
func (r *Relay) listen(ip string) error {
	var (
		udp net.PacketConn
		tcp net.Listener
		err error
	)
	for attempt := 0; ; attempt++ {
		udp, err = net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(r.cfg.Port)))
		if err != nil {
			return fmt.Errorf("turn relay: listen udp port %d: %w", r.cfg.Port, err)
		}
		r.port = udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err = net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(r.port)))
		if err == nil {
			break
		}
		_ = udp.Close()
		if r.cfg.Port != 0 || attempt == 4 {
			return fmt.Errorf("turn relay: listen tcp port %d: %w", r.port, err)
		}
	}
	gen := &generator{r: r, ip: ip}
	perm := r.permitted
	sc := turn.ServerConfig{
		Realm:         realm,
		AuthHandler:   r.authenticate,
		QuotaHandler:  r.underQuota,
		LoggerFactory: pionlog.New(r.log, pionlog.Server, nil),
		PacketConnConfigs: []turn.PacketConnConfig{
			{PacketConn: udp, RelayAddressGenerator: gen, PermissionHandler: perm},
		},
		ListenerConfigs: []turn.ListenerConfig{
			{Listener: tcp, RelayAddressGenerator: gen, PermissionHandler: perm},
		},
		EventHandler: turn.EventHandler{
			OnAuth: func(src, _ net.Addr, protocol, username, _ string, method string, ok bool) {
				if !ok {
					r.authFails.Add(1)
					r.log.Debug("turn credentials refused", "client", src.String(), "protocol", protocol, "method", method)
				}
			},
		},
	}
	if r.cfg.TLS != nil {
		tl, err := tls.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(r.cfg.TLSPort)), r.cfg.TLS)
		if err != nil {
			_, _ = udp.Close(), tcp.Close()

			return fmt.Errorf("turn relay: listen tls port %d: %w", r.cfg.TLSPort, err)
		}
		r.tlsPort = tl.Addr().(*net.TCPAddr).Port
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: tl, RelayAddressGenerator: gen, PermissionHandler: perm})
	}
	srv, err := turn.NewServer(sc)
	if err != nil {
		for _, c := range sc.ListenerConfigs {
			_ = c.Listener.Close()
		}
		_ = udp.Close()

		return fmt.Errorf("turn relay: start: %w", err)
	}
	r.server = srv

	return nil
}

// Close stops the relay: its ports and every allocation's socket. A second call does nothing.
func (r *Relay) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if e := r.server.Close(); e != nil {
			err = fmt.Errorf("close turn relay: %w", e)
		}
	})

	return err
}

// Port is the relay's UDP and TCP port; TLSPort its TLS port (0 without TLS).
func (r *Relay) Port() int { return r.port }

// TLSPort is the relay's TURN-over-TLS port, 0 when it serves none.
func (r *Relay) TLSPort() int { return r.tlsPort }

// ExternalIP is the relay's address in its URLs and relayed addresses.
func (r *Relay) ExternalIP() netip.Addr { return r.external }

// Refused counts the datagrams dropped for going to, or coming from, anything but the media
// port.
func (r *Relay) Refused() uint64 { return r.refused.Load() }

// AuthFailures counts the requests refused for a wrong, expired or malformed credential.
func (r *Relay) AuthFailures() uint64 { return r.authFails.Load() }

// Allocations is the number of live allocations.
func (r *Relay) Allocations() int { return r.server.AllocationCount() }

// Credentials issues a TURN credential for participantID, valid for the configured TTL.
func (r *Relay) Credentials(participantID string) (username, password string, expires time.Time) {
	expires = time.Now().Add(r.cfg.TTL).Truncate(time.Second)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + participantID

	return username, Password(r.cfg.Secret, username), expires
}

// Password is the TURN REST password of username under secret: base64(HMAC-SHA1(secret,
// username)).
func Password(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))

	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ICEServers are participantID's joined.iceServers: a STUN entry and the relay over UDP and TCP
// at its external IP, with a fresh credential, and over TLS at tlsHost (the name its certificate
// carries; none without TLS or a name).
func (r *Relay) ICEServers(participantID, tlsHost string) []wire.ICEServer {
	user, pass, _ := r.Credentials(participantID)
	hostPort := netip.AddrPortFrom(r.external, uint16(r.port)).String()
	turnURLs := []string{"turn:" + hostPort + "?transport=udp", "turn:" + hostPort + "?transport=tcp"}
	if r.tlsPort != 0 && tlsHost != "" {
		turnURLs = append(turnURLs, "turns:"+net.JoinHostPort(tlsHost, strconv.Itoa(r.tlsPort))+"?transport=tcp")
	}

	return []wire.ICEServer{
		{URLs: []string{"stun:" + hostPort}},
		{URLs: turnURLs, Username: user, Credential: pass},
	}
}

// authenticate checks a TURN REST username and returns the key its password makes; the user id
// is the whole username, so that quotas count per credential.
func (r *Relay) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	// A refusal here is counted here; a wrong password shows later, in the message integrity
	// check, and is counted by the OnAuth event (which Pion sends for that check only).
	expiry, _, ok := strings.Cut(ra.Username, ":")
	if !ok {
		r.authFails.Add(1)

		return "", nil, false
	}
	t, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || time.Now().Unix() > t {
		r.authFails.Add(1)

		return "", nil, false
	}

	return ra.Username, turn.GenerateAuthKey(ra.Username, ra.Realm, Password(r.cfg.Secret, ra.Username)), true
}

// underQuota answers an Allocate with 486 (Allocation Quota Reached) once the credential has
// its most; the generator enforces the bound again, under the lock, where allocations are made.
func (r *Relay) underQuota(username, _ string, _ net.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.allocs[username] < r.cfg.MaxAllocations
}

func (r *Relay) reserve(username string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.allocs[username] >= r.cfg.MaxAllocations {
		return false
	}
	r.allocs[username]++

	return true
}

func (r *Relay) release(username string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.allocs[username]--; r.allocs[username] <= 0 {
		delete(r.allocs, username)
	}
}

// permitted is the permission handler: a permission or channel only to a media IP.
func (r *Relay) permitted(client net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	if ok && r.peerIPs[ip.Unmap()] {
		return true
	}
	r.log.Debug("turn permission refused", "client", client.String(), "peer", peer.String())

	return false
}
