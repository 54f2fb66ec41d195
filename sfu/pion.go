package sfu

import (
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/lograte"
	"github.com/parleyhq/parley/internal/loopback"
	"github.com/parleyhq/parley/internal/pionlog"
	"github.com/parleyhq/parley/sfu/udpbatch"
)

// newMux opens the one UDP port all media of this server goes through.
// With writes non-nil every socket of the mux is a udpbatch.Conn (batched writes).
func newMux(cfg Config, lf slogFactory, writes *udpbatch.Group) (ice.UDPMux, int, error) {
	log := lf.NewLogger("udpmux")
	if cfg.LoopbackOnly {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: cfg.UDPPort})
		if err != nil {
			return nil, 0, fmt.Errorf("listen udp on loopback: %w", err)
		}
		port := conn.LocalAddr().(*net.UDPAddr).Port
		if err := setSocketBuffers(conn); err != nil {
			// Ours, not Pion's: at warning level, whatever the level of Pion's warnings.
			lf.log.Warn("media socket buffers", "err", err)
		}

		var pc net.PacketConn = conn
		if writes != nil {
			pc = udpbatch.New(conn, writes, log)
		}

		return ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: pc, Logger: log}), port, nil
	}
	port := cfg.UDPPort
	if port == 0 {
		// NewMultiUDPMuxFromPort binds the same port on every interface, so port 0 would give each
		// its own; pick one free port first (the short race with other processes is acceptable).
		probe, err := net.ListenUDP("udp", &net.UDPAddr{})
		if err != nil {
			return nil, 0, fmt.Errorf("find a free udp port: %w", err)
		}
		port = probe.LocalAddr().(*net.UDPAddr).Port
		_ = probe.Close()
	}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6),
		ice.UDPMuxFromPortWithLogger(log),
		ice.UDPMuxFromPortWithReadBufferSize(udpSocketBuffer),
		ice.UDPMuxFromPortWithWriteBufferSize(udpSocketBuffer),
	}
	if writes != nil {
		nw, err := stdnet.NewNet()
		if err != nil {
			return nil, 0, fmt.Errorf("network for the udp mux: %w", err)
		}
		opts = append(opts, ice.UDPMuxFromPortWithNet(udpbatch.Net{Net: nw, Group: writes, Log: log}))
	}
	mux, err := ice.NewMultiUDPMuxFromPort(port, opts...)
	if err != nil {
		return nil, 0, fmt.Errorf("listen udp port %d: %w", port, err)
	}

	return mux, port, nil
}

// newSettingEngine holds what both peer connections of every participant share: the UDP mux and
// its TCP twin (nil for none), the address rules and the SRTP profile order.
func newSettingEngine(cfg Config, mux ice.UDPMux, tcpMux ice.TCPMux, lf logging.LoggerFactory) (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.LoggerFactory = lf
	se.SetICEUDPMux(mux)
	if tcpMux != nil {
		se.SetICETCPMux(tcpMux)
	}
	// AES-GCM is several times cheaper per packet than AES-CM + HMAC-SHA1, and every forwarded
	// packet is encrypted once per subscriber.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	if cfg.LoopbackOnly {
		loopback.Configure(&se)
	}
	se.SetNetworkTypes(iceNetworkTypes(cfg))
	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return se, fmt.Errorf("public ips %v: %w", cfg.PublicIPs, err)
		}
	}

	return se, nil
}

// maxPublisherNACKs bounds how often the server asks a publisher for one lost packet.
const maxPublisherNACKs = 4

// pionAPIs are what the peer connections are made from. Publisher connections generate NACKs,
// receiver reports and TWCC feedback for what clients send; each publisher gets its own API
// (publisherAPI) so that its SRTP read buffers and Pion's logs about its streams are its own.
// Subscriber connections send sender reports; NACKs from subscribers are answered by downTrack
// from the per-layer cache (not Pion's responder, which keeps a copy of every packet per
// subscriber), and the TWCC sequence is written by downTrack (Pion's header extension
// interceptor allocates per packet) and its feedback read by the subscriber's estimator.
type pionAPIs struct {
	pubMedia *webrtc.MediaEngine
	pubIR    *interceptor.Registry
	pubSE    webrtc.SettingEngine
	scratch  *webrtc.API // publisher connections that never carry media (offer dry runs)
	sub      *webrtc.API
}

func newAPIs(se webrtc.SettingEngine, lf logging.LoggerFactory) (*pionAPIs, error) {
	pubMedia, subMedia := &webrtc.MediaEngine{}, &webrtc.MediaEngine{}
	if err := registerMedia(pubMedia, true); err != nil {
		return nil, fmt.Errorf("register publisher codecs: %w", err)
	}
	if err := registerMedia(subMedia, false); err != nil {
		return nil, fmt.Errorf("register subscriber codecs: %w", err)
	}
	if err := registerSubscriberExtensions(subMedia); err != nil {
		return nil, fmt.Errorf("register subscriber header extensions: %w", err)
	}

	pubIR := &interceptor.Registry{}
	// A packet repaired on an RTX stream never reaches the generator's log of the media
	// stream (Pion unwraps it later): without a bound it is asked for until it leaves the log.
	nackGen, err := nack.NewGeneratorInterceptor(nack.WithGeneratorLoggerFactory(lf),
		nack.GeneratorMaxNacksPerPacket(maxPublisherNACKs))
	if err != nil {
		return nil, fmt.Errorf("nack generator: %w", err)
	}
	rr, err := report.NewReceiverInterceptor(report.WithReceiverLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("receiver reports: %w", err)
	}
	twccFeedback, err := twcc.NewSenderInterceptor(twcc.WithLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("twcc feedback: %w", err)
	}
	pubIR.Add(nackGen)
	pubIR.Add(rr)
	pubIR.Add(twccFeedback)

	subIR := &interceptor.Registry{}
	sr, err := report.NewSenderInterceptor(report.WithSenderLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sender reports: %w", err)
	}
	subIR.Add(sr)

	a := &pionAPIs{pubMedia: pubMedia, pubIR: pubIR, pubSE: se}
	// A dry run's connection is closed as soon as its answer is made, often before Pion's queued
	// start of its ICE transport runs, which then fails on a closed transport and says so at
	// warning level ("Failed to start manager"): noise, counted as a fault, that no client
	// caused. Whatever a dry run finds wrong comes back as an error; its log says nothing more.
	scratchSE := se
	scratchSE.LoggerFactory = &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}
	a.scratch = webrtc.NewAPI(webrtc.WithMediaEngine(pubMedia), webrtc.WithInterceptorRegistry(pubIR),
		webrtc.WithSettingEngine(scratchSE))
	a.sub = webrtc.NewAPI(webrtc.WithMediaEngine(subMedia), webrtc.WithInterceptorRegistry(subIR),
		webrtc.WithSettingEngine(se))

	return a, nil
}

// publisherAPI is the API for one publisher's connections: its SRTP streams get their buffers
// from streams, and Pion's logs go through lf.
func (a *pionAPIs) publisherAPI(streams *pubStreams, lf logging.LoggerFactory) *webrtc.API {
	se := a.pubSE
	se.BufferFactory = streams.newBuffer
	se.LoggerFactory = lf

	return webrtc.NewAPI(webrtc.WithMediaEngine(a.pubMedia), webrtc.WithInterceptorRegistry(a.pubIR),
		webrtc.WithSettingEngine(se))
}

// slogFactory routes Pion's logs into the sfu's logger, at the levels a server wants
// (pionlog.Server), counting Pion's faults for the metrics.
type slogFactory struct {
	log     *slog.Logger
	faults  *pionlog.Faults
	repeats *lograte.Limiter // Pion's per-datagram lines (logrepeat.go)
}

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return repeatLogger{LeveledLogger: pionlog.New(f.log, pionlog.Server, f.faults).NewLogger(scope), lim: f.repeats}
}
