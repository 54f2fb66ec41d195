// Package node assembles one Parley node: the media plane (sfu), the meeting service (meeting),
// the adapter through which the domain acts on the media (media.go, the only code that knows
// both), the TURN relay in front of the media port (turnrelay), the edge (signaling) and the
// metrics registry they share.
//
// It is the one place that wires these together: the server binary, the end-to-end tests of
// signaling and client, and the load generator's tests all start a node through it (package
// nodetest for tests). Where a node's shared state will come from (the meeting Store: in memory
// today, Redis for several nodes) is chosen here too. It owns no behaviour of its own and must
// not be imported by the packages it assembles, nor by clients.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/cluster"
	"github.com/parleyhq/parley/internal/lograte"
	"github.com/parleyhq/parley/internal/turnrelay"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/signaling"
)

// Config configures a node. New fills in the parts that tie the pieces together (loggers,
// registry, the media adapter); everything else is the pieces' own configuration.
type Config struct {
	// Media configures the sfu: UDP port, public addresses, loopback only, batched writes. Its
	// Logger and Registerer are set by New.
	Media sfu.Config
	// Meetings configures the domain: meeting size, idle timeout, resume grace (zero: no
	// resume; the binary's default is meeting.DefaultResumeGrace), clock, Store (nil keeps
	// meetings in this process's memory). Its Media and Logger are set by New.
	Meetings meeting.Config
	// Edge configures signaling: public URL, origins, rate limits, web client. Its Registry and
	// Logger are set by New.
	Edge signaling.Config
	// TURN, when set, runs the TURN relay (package turnrelay) beside the media port and hands
	// its credentials out in joined.iceServers. Its media addresses and Logger are set by New;
	// on a loopback-only node it listens on 127.0.0.1 unless told otherwise.
	TURN *turnrelay.Config
	// Logger receives every component's logs, tagged with "component"; nil discards them.
	Logger *slog.Logger
	// Registry receives every component's metrics and is served at /metrics; nil makes one.
	Registry *prometheus.Registry
	// Cluster, when set, makes the node a member of the cluster on its Redis: meeting records
	// in Redis (it replaces Meetings.Store), each meeting placed on a node, sessions relayed to
	// their meeting's node. Its Participants, Logger and Registerer are set by New.
	Cluster *cluster.Config
}

// Node is one running node.
type Node struct {
	SFU      *sfu.SFU
	Relay    *turnrelay.Relay // nil without Config.TURN
	Meetings *meeting.Service
	Server   *signaling.Server
	Registry *prometheus.Registry
	// Cluster is the node's membership; nil for a single node.
	Cluster *cluster.Cluster
	left    atomic.Bool // Close has left the cluster
}

// New starts a node: it opens the media port; the HTTP side serves once Handler is mounted.
func New(cfg Config) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	// One limiter of repetitive log lines for the node, its counter exported once.
	repeats := lograte.New(0)
	if err := reg.Register(repeats.Collector()); err != nil {
		return nil, fmt.Errorf("register log limiter: %w", err)
	}
	mc := cfg.Media
	mc.Logger, mc.Registerer, mc.Repeats = log.With("component", "sfu"), reg, repeats
	// The sfu's word on who speaks goes to the domain, which tells the meeting; the domain is
	// made after the sfu (it acts on it), hence the pointer.
	var domain atomic.Pointer[meeting.Service]
	mc.ActiveSpeakers = func(roomID string, speakers []string) {
		if d := domain.Load(); d != nil {
			d.SetActiveSpeakers(roomID, speakers)
		}
	}
	media, err := sfu.New(mc)
	if err != nil {
		return nil, fmt.Errorf("start media: %w", err)
	}
	var relay *turnrelay.Relay
	if cfg.TURN != nil {
		tc := *cfg.TURN
		tc.MediaLocal, tc.MediaAnnounced = media.MediaAddrs()
		tc.Logger = log.With("component", "turn")
		if mc.LoopbackOnly && !tc.ListenIP.IsValid() {
			tc.ListenIP = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		if relay, err = turnrelay.New(tc); err != nil {
			_ = media.Close()
			return nil, fmt.Errorf("start turn relay: %w", err)
		}
		// Clients' relay candidates name the relay's address, private on a LAN server.
		media.TrustRelay(relay.ExternalIP(), tc.RelayPortMin, tc.RelayPortMax)
	}
	if relay != nil {
		if err := registerRelay(reg, relay); err != nil {
			_, _ = relay.Close(), media.Close()
			return nil, err
		}
	}
	dc := cfg.Meetings
	dc.Media, dc.Logger = meetingMedia{media}, log.With("component", "meeting")
	ec := cfg.Edge
	ec.Registry, ec.Logger, ec.Repeats = reg, log.With("component", "signaling"), repeats
	if relay != nil {
		ec.ICEServers = relay.ICEServers
	}
	var cl *cluster.Cluster
	if cfg.Cluster != nil {
		cc := *cfg.Cluster
		cc.Participants, cc.Logger, cc.Registerer = media.Participants, log.With("component", "cluster"), reg
		cl, err = cluster.Join(context.Background(), cc)
		if err != nil {
			if relay != nil {
				_ = relay.Close()
			}
			_ = media.Close()
			return nil, err
		}
		dc.Store, ec.Cluster = cl.Store(), cl
	}
	meetings := meeting.NewService(dc)
	domain.Store(meetings)
	srv := signaling.New(ec, meetings, media)
	return &Node{SFU: media, Relay: relay, Meetings: meetings, Server: srv, Registry: reg, Cluster: cl}, nil
}

// Handler serves the web client, the API, the WebSocket and the metrics; in a cluster, the
// requests about a meeting only its owner can answer go to the owner.
func (n *Node) Handler() http.Handler {
	if n.Cluster == nil {
		return n.Server.Handler()
	}
	return n.Cluster.Proxy(n.Server.Handler(), func(r *http.Request) bool {
		_, ok := n.Server.Relayed(r)
		return ok
	})
}

// Drain stops taking meetings and connections and waits for the sessions to end, or ctx. A
// cluster member first leaves the registry, so that the clients it tells to reconnect take
// their meetings over on the nodes they reach next.
func (n *Node) Drain(ctx context.Context) error {
	if n.Cluster != nil {
		if err := n.Cluster.Retire(ctx); err != nil {
			return errors.Join(err, n.Server.Drain(ctx)) // Redis is down: drain all the same
		}
	}
	err := n.Server.Drain(ctx)
	// The sessions' seats wait for their resumes in the takeover state: written before the
	// node lets Redis go, so that the node taking its meetings over seats them.
	return errors.Join(err, n.Meetings.Flush(ctx))
}

// Close cuts off every session, then closes the TURN relay and the media plane; when it returns
// the node's goroutines have ended.
func (n *Node) Close() error {
	n.Server.Close()
	var errs []error
	if n.Cluster != nil && n.left.CompareAndSwap(false, true) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		errs = append(errs, n.Meetings.Flush(ctx), n.Cluster.Leave(ctx))
		cancel()
	}
	if n.Relay != nil {
		if err := n.Relay.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := n.SFU.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close media: %w", err))
	}
	return errors.Join(errs...)
}

// registerRelay exports the TURN relay's counts.
func registerRelay(reg prometheus.Registerer, r *turnrelay.Relay) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_turn_allocations", Help: "Live allocations on the TURN relay."},
			func() float64 { return float64(r.Allocations()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_turn_auth_failures_total", Help: "TURN requests refused for a wrong, expired or malformed credential."},
			func() float64 { return float64(r.AuthFailures()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_turn_refused_datagrams_total", Help: "Datagrams the TURN relay dropped for going to, or coming from, anything but the media port."},
			func() float64 { return float64(r.Refused()) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register turn metrics: %w", err)
		}
	}
	return nil
}
