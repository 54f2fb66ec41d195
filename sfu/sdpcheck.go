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
	_, err := parseSDP(s)

	return err
}

// Bounds on a client's description, far above what browsers send (a publisher has four sources,
// a subscriber one section per track it receives): a description beyond them is refused before
// Pion, or a scratch connection, spends anything on it.
const (
	maxSDPSections  = 512 // a subscriber of a full meeting: 100 participants' tracks, and room
	maxSDPFormats   = 64  // payload types of one section
	maxSDPAttrs     = 512 // attributes of one section
	maxOfferSection = 32  // sections of a publisher offer
)

// parseSDP parses a client's description and checks what validateSDP promises, and the bounds
// above. It is the cheap check that runs before any peer connection sees the description.
func parseSDP(s string) (*sdp.SessionDescription, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadSDP)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	if err := checkSDP(&d); err != nil {
		return nil, err
	}

	return &d, nil
}

// parseOffer is parseSDP for a publisher offer, which has at most maxOfferSection sections.
func parseOffer(s string) (*sdp.SessionDescription, error) {
	d, err := parseSDP(s)
	if err != nil {
		return nil, err
	}
	if n := len(d.MediaDescriptions); n > maxOfferSection {
		return nil, fmt.Errorf("%w: %d media sections", ErrBadSDP, n)
	}

	return d, nil
}

func checkSDP(d *sdp.SessionDescription) error {
	if len(d.MediaDescriptions) == 0 {
		return fmt.Errorf("%w: no media sections", ErrBadSDP)
	}
	if len(d.MediaDescriptions) > maxSDPSections {
		return fmt.Errorf("%w: %d media sections", ErrBadSDP, len(d.MediaDescriptions))
	}
	for i, m := range d.MediaDescriptions {
		if len(m.MediaName.Formats) > maxSDPFormats || len(m.Attributes) > maxSDPAttrs {
			return fmt.Errorf("%w: media section %d has %d formats and %d attributes", ErrBadSDP, i, len(m.MediaName.Formats), len(m.Attributes))
		}
		if err := checkICECredentials(m.Attributes); err != nil {
			return err
		}
	}
	if err := checkICECredentials(d.Attributes); err != nil {
		return err
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

// checkICECredentials refuses ICE credentials outside RFC 8839's lengths (ufrag 4 to 256
// characters, password 22 to 256), which Pion would refuse only once it has changed state.
func checkICECredentials(attrs []sdp.Attribute) error {
	for _, a := range attrs {
		switch a.Key {
		case "ice-ufrag":
			if n := len(a.Value); n < 4 || n > 256 {
				return fmt.Errorf("%w: ice-ufrag of %d characters", ErrBadSDP, n)
			}
		case "ice-pwd":
			if n := len(a.Value); n < 22 || n > 256 {
				return fmt.Errorf("%w: ice-pwd of %d characters", ErrBadSDP, n)
			}
		}
	}

	return nil
}
