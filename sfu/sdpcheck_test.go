package sfu

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// offerText is a publisher offer with n audio sections and the given ICE credentials.
func offerText(n int, ufrag, pwd string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd)
	b.WriteString("a=fingerprint:sha-256 " + strings.TrimSuffix(strings.Repeat("AB:", 32), ":") + "\r\n")
	for i := range n {
		fmt.Fprintf(&b, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:%d\r\na=setup:actpass\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n", i)
	}

	return b.String()
}

// Offers that the cheap check refuses (too many sections, ICE credentials of a wrong length,
// thousands of formats) never reach a scratch peer connection; a well-formed one does.
func TestOfferPrecheck(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	good := offerText(1, "abcd", strings.Repeat("p", 24))
	many := strings.Replace(offerText(1, "abcd", strings.Repeat("p", 24)), "SAVPF 111", "SAVPF "+strings.TrimSpace(strings.Repeat("111 ", 100)), 1)
	for name, offer := range map[string]string{
		"40 sections":      offerText(40, "abcd", strings.Repeat("p", 24)),
		"short ufrag":      offerText(1, "ab", strings.Repeat("p", 24)),
		"short password":   offerText(1, "abcd", "short"),
		"long ufrag":       offerText(1, strings.Repeat("u", 300), strings.Repeat("p", 24)),
		"100 formats":      many,
		"not SDP":          strings.Repeat("x", 60000),
		"no media section": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
	} {
		before := s.dryRuns.Load()
		_, err := a.peer.OfferSources(t.Context(), offer, nil)
		if !errors.Is(err, ErrBadSDP) {
			t.Errorf("%s: %v, want ErrBadSDP", name, err)
		}
		if s.dryRuns.Load() != before {
			t.Errorf("%s: tried on a scratch connection", name)
		}
	}
	before := s.dryRuns.Load()
	if _, err := a.peer.OfferSources(t.Context(), good, nil); err != nil {
		t.Logf("the well-formed offer: %v", err) // recvonly: nothing to publish; Pion may still answer
	}
	if s.dryRuns.Load() != before+1 {
		t.Error("a well-formed offer was not tried on a scratch connection")
	}
}

// FuzzParseSDP: any text is parsed and checked or refused with ErrBadSDP, never a panic.
func FuzzParseSDP(f *testing.F) {
	f.Add(offerText(1, "abcd", strings.Repeat("p", 24)))
	f.Add(offerText(2, "ab", "short"))
	f.Add("v=0\r\nm=video 0 RTP 96\r\na=mid:x\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := parseSDP(text)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("error %v is not ErrBadSDP", err)
			}

			return
		}
		if len(d.MediaDescriptions) == 0 || len(d.MediaDescriptions) > maxSDPSections {
			t.Fatalf("%d sections accepted", len(d.MediaDescriptions))
		}
	})
}
