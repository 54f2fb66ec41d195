package sfu

import (
	"bytes"
	"testing"
)

// The VP8 descriptor's picture id (7 or 15 bits) and TL0PICIDX are found and rewritten in place,
// the rest of the payload untouched; a descriptor cut short rewrites nothing.
func TestVP8Descriptor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		pic     uint16
		tl0     uint8
		picAt   uint8
		tl0At   uint8
		pic15   bool
	}{
		{"15-bit id, TL0PICIDX, TID", []byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x20, 0x00, 0x9d}, 0x123, 7, 2, 4, true},
		{"7-bit id", []byte{0x90, 0x80, 0x45, 0x01, 0x02}, 0x45, 0, 2, 0, false},
		{"TL0PICIDX only", []byte{0x80, 0x40, 0x09, 0x01}, 0, 9, 0, 2, false},
		{"no extension", []byte{0x10, 0x00, 0x9d}, 0, 0, 0, 0, false},
		{"cut short", []byte{0x90, 0x80, 0x81}, 0, 0, 0, 0, false},
	} {
		d := parseVP8(tc.payload)
		if d.pic != tc.pic || d.tl0 != tc.tl0 || d.picAt != tc.picAt || d.tl0At != tc.tl0At || d.pic15 != tc.pic15 {
			t.Errorf("%s: parsed %+v", tc.name, d)

			continue
		}
		b := append([]byte(nil), tc.payload...)
		d.rewrite(b, 0x7abc&d.picMask(), 200)
		again := parseVP8(b)
		if (d.picAt != 0 && again.pic != 0x7abc&d.picMask()) || (d.tl0At != 0 && again.tl0 != 200) {
			t.Errorf("%s: rewritten to %+v", tc.name, again)
		}
		for i := range b {
			if uint8(i) != d.picAt && (!d.pic15 || uint8(i) != d.picAt+1) && uint8(i) != d.tl0At && b[i] != tc.payload[i] {
				t.Errorf("%s: byte %d changed", tc.name, i)
			}
		}
		if d.picAt == 0 && d.tl0At == 0 && !bytes.Equal(b, tc.payload) {
			t.Errorf("%s: rewritten without fields", tc.name)
		}
	}
}

// FuzzVP8Descriptor: any payload parses without a panic, and rewriting writes only inside it.
func FuzzVP8Descriptor(f *testing.F) {
	for _, seed := range [][]byte{
		{0x90, 0xe0, 0x81, 0x23, 0x07, 0x20, 0x00}, {0x90, 0x80, 0x45}, {0x80, 0x40, 0x09}, {0x80, 0xc0, 0xff}, {},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		d := parseVP8(p)
		if int(d.picAt) >= len(p) && d.picAt != 0 || int(d.tl0At) >= len(p) && d.tl0At != 0 || d.pic15 && int(d.picAt)+1 >= len(p) {
			t.Fatalf("fields outside a %d-byte payload: %+v", len(p), d)
		}
		d.rewrite(p, 1234&d.picMask(), 5)
		_ = isVP8Keyframe(p)
	})
}

// FuzzOfferSections: any text and sources give sections or an error, never a panic, and every
// section has a source of its kind.
func FuzzOfferSections(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n"+
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=rid:q send\r\na=rid:f send\r\na=simulcast:send q;f\r\na=ssrc:5 cname:x\r\n", "1", "screen")
	f.Add("v=0\r\nm=video 0 RTP 96\r\na=mid:x\r\n", "x", "camera")
	f.Fuzz(func(t *testing.T, offer, mid, src string) {
		secs, err := offerSections(offer, map[string]Source{mid: Source(src)})
		if err != nil {
			return
		}
		for m, s := range secs {
			if !s.source.Valid() || s.source.Kind() != s.kind || s.mid != m {
				t.Fatalf("section %q: %+v", m, s)
			}
		}
	})
}
