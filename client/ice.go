package client

import (
	"encoding/json"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/wire"
)

// useICEServers takes joined.iceServers from the raw joined message and gives them to the
// subscriber connection, which exists before the join; the publisher connection is made with
// them (rtcConfig).
func (c *Client) useICEServers(raw []byte) {
	var j struct {
		ICEServers []wire.ICEServer `json:"iceServers"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return // connect reports the undecodable joined
	}
	c.iceMu.Lock()
	c.ice = j.ICEServers
	c.iceMu.Unlock()
	if c.sub == nil {
		return
	}
	if err := c.sub.peer.pc.SetConfiguration(c.rtcConfig(j.ICEServers)); err != nil {
		c.log.Warn("ice servers refused", "err", err)
	}
}

func (c *Client) iceServers() []wire.ICEServer {
	c.iceMu.Lock()
	defer c.iceMu.Unlock()
	return c.ice
}

// rtcConfig is a peer connection's configuration with servers, as Options ask.
func (c *Client) rtcConfig(servers []wire.ICEServer) webrtc.Configuration {
	var cfg webrtc.Configuration
	if c.opts.RelayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	for _, s := range servers {
		var urls []string
		for _, u := range s.URLs {
			if c.opts.TURNTransport == "" || turnTransport(u) == c.opts.TURNTransport {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
		}
	}
	return cfg
}

// turnTransport is the transport of a turn: or turns: URL ("udp", "tcp", "tls"); "" for others.
func turnTransport(url string) string {
	switch {
	case strings.HasPrefix(url, "turns:"):
		return "tls"
	case strings.HasPrefix(url, "turn:") && strings.HasSuffix(url, "?transport=tcp"):
		return "tcp"
	case strings.HasPrefix(url, "turn:"):
		return "udp"
	}
	return ""
}
