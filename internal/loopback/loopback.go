// Package loopback configures Pion so that ICE uses 127.0.0.1 over UDP4 only.
//
// Tests, the load generator and the server's -loopback-only mode use it so that media never
// leaves this machine's loopback interface. It owns nothing but that configuration and must not
// know about meetings, signaling or forwarding.
package loopback

import (
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Configure restricts s to loopback host candidates over UDP4, with mDNS off.
func Configure(s *webrtc.SettingEngine) {
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(IsLoopback)
	// Remote candidates off loopback are dropped too, so no check is ever sent elsewhere.
	s.SetRemoteIPFilter(IsLoopback)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
}

// IsLoopback reports whether ip is an IPv4 loopback address.
func IsLoopback(ip net.IP) bool {
	return ip.IsLoopback() && ip.To4() != nil
}
