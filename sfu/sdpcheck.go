package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// validateSDP rejects descriptions Pion would fail on only after changing the connection's
// signaling state (Pion cannot roll back): what is not SDP, and SDP lacking what every WebRTC
// description has: media sections with a mid and formats, ICE credentials and a DTLS fingerprint
// (at session level or in some media section; a rejected section, port 0, may carry none).
func validateSDP(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: empty", ErrBadSDP)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	if len(d.MediaDescriptions) == 0 {
		return fmt.Errorf("%w: no media sections", ErrBadSDP)
	}
	has := func(attr string) bool {
		if _, ok := d.Attribute(attr); ok {
			return true
		}
		for _, m := range d.MediaDescriptions {
			if _, ok := m.Attribute(attr); ok {
				return true
			}
		}

		return false
	}
	for _, attr := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
		if !has(attr) {
			return fmt.Errorf("%w: no %s", ErrBadSDP, attr)
		}
	}
	for i, m := range d.MediaDescriptions {
		if mid, ok := m.Attribute("mid"); !ok || mid == "" {
			return fmt.Errorf("%w: media section %d has no mid", ErrBadSDP, i)
		}
		if len(m.MediaName.Formats) == 0 {
			return fmt.Errorf("%w: media section %d has no formats", ErrBadSDP, i)
		}
	}

	return nil
}
