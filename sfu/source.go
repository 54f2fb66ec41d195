package sfu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Source is what a published track carries, as a publisher's offer names it. It is the track id
// subscribers see.
type Source string

// The sources a participant may publish, at most one track each.
const (
	SourceMicrophone  Source = "microphone"
	SourceCamera      Source = "camera"
	SourceScreen      Source = "screen"
	SourceScreenAudio Source = "screenAudio"
)

// Valid reports whether s is one of the four sources.
func (s Source) Valid() bool {
	switch s {
	case SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio:
		return true
	}

	return false
}

// Kind is the kind of track that carries the source.
func (s Source) Kind() Kind {
	if s == SourceCamera || s == SourceScreen {
		return KindVideo
	}

	return KindAudio
}

// SourcesError is a publisher offer whose sending sections and sources do not fit the rules: a
// sending section without a source beyond the default microphone and camera, an unknown source,
// two sections with one source, a source on a section of the other kind, simulcast on audio or
// with RIDs other than q, h and f. It wraps ErrBadSDP, so it is a client mistake (bad_request).
type SourcesError struct {
	Mid    string // the section at fault, when there is one
	Reason string
}

func (e *SourcesError) Error() string {
	if e.Mid == "" {
		return "sfu: publisher sources: " + e.Reason
	}

	return fmt.Sprintf("sfu: publisher sources: section %q: %s", e.Mid, e.Reason)
}

// Unwrap makes a SourcesError an ErrBadSDP.
func (e *SourcesError) Unwrap() error { return ErrBadSDP }

// sectionDecl is what an offer declares for one sending section.
type sectionDecl struct {
	mid    string
	kind   Kind
	source Source
	// layers is the set of simulcast layers declared (bit i for layer i); 0 for a single
	// encoding, which is received as layer f.
	layers uint8
	// ssrcs are the SSRCs the section declared (a=ssrc); none: any SSRC Pion routes to it.
	ssrcs []uint32
}

// allows reports whether the section may carry a stream with ssrc.
func (s sectionDecl) allows(ssrc uint32) bool {
	return len(s.ssrcs) == 0 || slices.Contains(s.ssrcs, ssrc)
}

// simulcast reports whether the section sends more than one layer.
func (s sectionDecl) simulcast() bool { return s.layers&(s.layers-1) != 0 }

// declaredLayers is the set of layers a track of the section is received on.
func (s sectionDecl) declaredLayers() uint8 {
	if s.layers == 0 {
		return 1 << layerF
	}

	return s.layers
}

// offerSections reads the sending sections of a publisher offer and gives each its source:
// sources names sections by mid; without a name, the first audio section is the microphone and
// the first video section the camera. The result is keyed by mid.
func offerSections(offer string, sources map[string]Source) (map[string]sectionDecl, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}

	return sectionsOf(&d, sources)
}

// sectionsOf is offerSections of a parsed offer.
func sectionsOf(d *sdp.SessionDescription, sources map[string]Source) (map[string]sectionDecl, error) {
	mids := map[string]bool{}
	var sending []sectionDecl
	for _, m := range d.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		mids[mid] = true
		kind := Kind(strings.ToLower(m.MediaName.Media))
		if (kind != KindAudio && kind != KindVideo) || rejected(m) || !sends(m) {
			continue
		}
		layers, err := sendLayers(m)
		if err != nil {
			return nil, &SourcesError{Mid: mid, Reason: err.Error()}
		}
		if layers != 0 && kind == KindAudio {
			return nil, &SourcesError{Mid: mid, Reason: "simulcast on an audio section"}
		}
		sending = append(sending, sectionDecl{mid: mid, kind: kind, layers: layers, ssrcs: declaredSSRCs(m)})
	}
	for mid, src := range sources {
		if !src.Valid() {
			return nil, &SourcesError{Mid: mid, Reason: fmt.Sprintf("unknown source %q", src)}
		}
		if !mids[mid] {
			return nil, &SourcesError{Mid: mid, Reason: "no such section in the offer"}
		}
	}
	used := map[Source]string{}
	out := make(map[string]sectionDecl, len(sending))
	take := func(s sectionDecl, src Source) error {
		if src.Kind() != s.kind {
			return &SourcesError{Mid: s.mid, Reason: fmt.Sprintf("source %s on a %s section", src, s.kind)}
		}
		if other, dup := used[src]; dup {
			return &SourcesError{Mid: s.mid, Reason: fmt.Sprintf("source %s also on section %q", src, other)}
		}
		used[src] = s.mid
		s.source = src
		out[s.mid] = s

		return nil
	}
	for _, s := range sending { // named sections first: they win over the defaults
		if src, ok := sources[s.mid]; ok {
			if err := take(s, src); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range sending {
		if _, ok := sources[s.mid]; ok {
			continue
		}
		def := SourceMicrophone
		if s.kind == KindVideo {
			def = SourceCamera
		}
		if _, taken := used[def]; taken {
			return nil, &SourcesError{Mid: s.mid, Reason: "a further sending section without a source"}
		}
		if err := take(s, def); err != nil {
			return nil, err
		}
	}

	return out, nil
}

// rejected reports whether a section is turned off (port 0). A bundled section an offerer marks
// a=bundle-only has port 0 too and is not (RFC 8843, section 6: Firefox offers its sections
// after the first so).
func rejected(m *sdp.MediaDescription) bool {
	if m.MediaName.Port.Value != 0 {
		return false
	}
	_, bundleOnly := m.Attribute("bundle-only")

	return !bundleOnly
}

// sends reports whether a media section sends to us (sendrecv when no direction is given).
func sends(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendonly", "sendrecv":
			return true
		case "recvonly", "inactive":
			return false
		}
	}

	return true
}

// declaredSSRCs lists a section's a=ssrc values.
func declaredSSRCs(m *sdp.MediaDescription) []uint32 {
	var out []uint32
	for _, a := range m.Attributes {
		if a.Key != "ssrc" {
			continue
		}
		id, _, _ := strings.Cut(a.Value, " ")
		if v, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(out, uint32(v)) {
			out = append(out, uint32(v))
		}
	}

	return out
}

// sendLayers returns the simulcast layers a section sends (a=rid ... send, and the RIDs of
// a=simulcast:send), or 0 when it sends one encoding.
func sendLayers(m *sdp.MediaDescription) (uint8, error) {
	var layers uint8
	add := func(rid string) error {
		rid = strings.TrimPrefix(strings.TrimSpace(rid), "~")
		if rid == "" {
			return nil
		}
		i := layerOfRID(rid)
		if i < 0 {
			return fmt.Errorf("simulcast RID %q (q, h or f)", rid)
		}
		layers |= 1 << i

		return nil
	}
	for _, a := range m.Attributes {
		switch a.Key {
		case "rid":
			f := strings.Fields(a.Value)
			if len(f) >= 2 && f[1] == "send" {
				if err := add(f[0]); err != nil {
					return 0, err
				}
			}
		case "simulcast":
			f := strings.Fields(a.Value)
			for i := 0; i+1 < len(f); i += 2 {
				if f[i] != "send" {
					continue
				}
				for _, alt := range strings.FieldsFunc(f[i+1], func(r rune) bool { return r == ';' || r == ',' }) {
					if err := add(alt); err != nil {
						return 0, err
					}
				}
			}
		}
	}

	return layers, nil
}

// OfferedSources lists the sources a publisher offer sends, as OfferSources would take them
// (sources names sections by mid, the rest take the defaults), in the order of allSources. An
// offer that does not fit is an error as OfferSources would return it. It lets the caller judge
// an offer (may this participant share a screen?) before it is applied.
func OfferedSources(offer string, sources map[string]Source) ([]Source, error) {
	secs, err := offerSections(offer, sources)
	if err != nil {
		return nil, fmt.Errorf("publisher offer: %w", err)
	}
	var out []Source
	for _, src := range allSources {
		for _, d := range secs {
			if d.source == src {
				out = append(out, src)
			}
		}
	}
	return out, nil
}
