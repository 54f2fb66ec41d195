package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// validateSDP rejects descriptions Pion would fail on only after changing the connection's
// signaling state (Pion cannot roll back): what is not SDP, and SDP lacking what every WebRTC
// description has (media sections with a mid, ICE credentials, a DTLS fingerprint).
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
	_, sessionUfrag := d.Attribute("ice-ufrag")
	_, sessionPwd := d.Attribute("ice-pwd")
	_, sessionFingerprint := d.Attribute("fingerprint")
	for i, m := range d.MediaDescriptions {
		if mid, ok := m.Attribute("mid"); !ok || mid == "" {
			return fmt.Errorf("%w: media section %d has no mid", ErrBadSDP, i)
		}
		if len(m.MediaName.Formats) == 0 {
			return fmt.Errorf("%w: media section %d has no formats", ErrBadSDP, i)
		}
		if _, ok := m.Attribute("ice-ufrag"); !ok && !sessionUfrag {
			return fmt.Errorf("%w: media section %d has no ice-ufrag", ErrBadSDP, i)
		}
		if _, ok := m.Attribute("ice-pwd"); !ok && !sessionPwd {
			return fmt.Errorf("%w: media section %d has no ice-pwd", ErrBadSDP, i)
		}
		if _, ok := m.Attribute("fingerprint"); !ok && !sessionFingerprint {
			return fmt.Errorf("%w: media section %d has no fingerprint", ErrBadSDP, i)
		}
	}

	return nil
}
