// Package rtcpscan decodes the RTCP feedback the sfu acts on from its subscribers - picture loss
// indications (PLI), full intra requests (FIR), generic NACKs and transport-wide congestion
// control feedback (TWCC) - in place in the datagram it was read into, without allocating: with
// pion/rtcp's Unmarshal every TWCC feedback was a few hundred small allocations, the largest
// steady source of garbage in the server (issue 17).
//
// It owns the wire format of those four messages and nothing else: what the sfu does with them
// (keyframe requests, resends, the bandwidth estimate) stays in sfu. It never writes to the
// datagram, keeps no reference to it beyond the views it hands out (valid until the buffer is
// reused), and does not decode the packets it skips (SR, RR, SDES, BYE, APP, REMB, XR, ...):
// they are stepped over by their length field.
//
// A compound packet is walked one packet at a time (Scanner). A malformed header, a length that
// runs past the datagram, or a decoded message whose content does not fit the layout its RFC
// gives ends the walk with an error; the packets yielded before it stand. Whatever the datagram
// holds, nothing here panics or reads out of bounds: every length is checked before the bytes are
// read (FuzzScan checks it, and the decoding, against pion/rtcp).
package rtcpscan

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind is what a packet of a compound packet is, to the sfu.
type Kind uint8

// The kinds of packet a Scanner yields.
const (
	Other Kind = iota // a packet the scanner steps over undecoded
	PLI               // picture loss indication, RFC 4585 6.3.1: PT 206, FMT 1
	FIR               // full intra request, RFC 5104 4.3.1: PT 206, FMT 4
	NACK              // generic NACK, RFC 4585 6.2.1: PT 205, FMT 1
	TWCC              // transport-wide CC feedback, draft-holmer-rmcat-transport-wide-cc-extensions-01: PT 205, FMT 15
)

// RTCP packet types and feedback formats decoded here.
const (
	TypeTransportFeedback = 205 // RTPFB, RFC 4585
	TypePayloadFeedback   = 206 // PSFB, RFC 4585
	FormatNACK            = 1
	FormatTWCC            = 15
	FormatPLI             = 1
	FormatFIR             = 4
)

// Errors that end a walk. They are made once: a hostile subscriber's garbage makes none here.
var (
	ErrEmpty   = errors.New("empty RTCP datagram")
	ErrHeader  = errors.New("RTCP header: version is not 2, or the packet is shorter than its header")
	ErrLength  = errors.New("RTCP length field runs past the datagram")
	ErrPadding = errors.New("RTCP padding count is zero or larger than the packet")
	ErrLayout  = errors.New("RTCP feedback does not fit its layout")

	errFeedbackShort = fmt.Errorf("%w: feedback shorter than its two SSRCs", ErrLayout)
	errNACKLayout    = fmt.Errorf("%w: NACK FCI is not one or more 4-octet pairs", ErrLayout)
	errFIRLayout     = fmt.Errorf("%w: FIR FCI is not one or more 8-octet entries", ErrLayout)
	errTWCCShort     = fmt.Errorf("%w: TWCC shorter than its fixed fields", ErrLayout)
	errTWCCChunks    = fmt.Errorf("%w: TWCC chunks end before the packet status count", ErrLayout)
	errTWCCDeltas    = fmt.Errorf("%w: TWCC receive deltas run past the packet", ErrLayout)
)

const (
	headerLen   = 4
	fbHeaderLen = 8 // SSRC of packet sender, SSRC of media source (RFC 4585 6.1)
)

// Scanner walks the packets of one compound RTCP packet. The zero value is empty; Reset starts a
// walk. It is meant to live on the stack or in the reader's state, reused for every datagram.
type Scanner struct {
	data []byte
	off  int
	cur  Packet
	err  error
}

// Reset starts a walk over b. The scanner keeps b until the next Reset.
func (s *Scanner) Reset(b []byte) {
	*s = Scanner{data: b}
	if len(b) == 0 {
		s.err = ErrEmpty
	}
}

// Next moves to the next packet; false at the end of the datagram or on a malformed packet
// (then Err says why).
func (s *Scanner) Next() bool {
	if s.err != nil || s.off >= len(s.data) {
		return false
	}
	p, n, err := parse(s.data[s.off:])
	if err != nil {
		s.err = err
		s.cur = Packet{}

		return false
	}
	s.off += n
	s.cur = p

	return true
}

// Packet is the packet Next moved to.
func (s *Scanner) Packet() Packet { return s.cur }

// Err is why the walk ended early: nil when it reached the end of the datagram.
func (s *Scanner) Err() error { return s.err }

// Offset is where in the datagram the next packet starts: after an error, the malformed one.
func (s *Scanner) Offset() int { return s.off }

// Packet is one packet of a compound packet: a view into the datagram.
type Packet struct {
	raw  []byte // the whole packet, padding included
	body []byte // after the common header, without padding
	kind Kind
	twcc Feedback // a TWCC's fields and chunks, found once while checking it
}

// Kind is what the packet is.
func (p Packet) Kind() Kind { return p.kind }

// Type is the packet type (PT).
func (p Packet) Type() uint8 {
	if len(p.raw) < headerLen {
		return 0
	}

	return p.raw[1]
}

// Format is the five bits after the padding bit: FMT in feedback, the report or source count
// in others.
func (p Packet) Format() uint8 {
	if len(p.raw) < headerLen {
		return 0
	}

	return p.raw[0] & 0x1f
}

// Raw is the whole packet, padding included.
func (p Packet) Raw() []byte { return p.raw }

// SenderSSRC is the SSRC of the packet sender of a feedback message (PLI, FIR, NACK, TWCC).
func (p Packet) SenderSSRC() uint32 { return p.word(0) }

// MediaSSRC is the SSRC of the media source of a feedback message (PLI, FIR, NACK, TWCC). FIR
// names its targets in its entries instead (RFC 5104 4.3.1.2); see FIREntry.
func (p Packet) MediaSSRC() uint32 { return p.word(4) }

func (p Packet) word(at int) uint32 {
	if p.kind == Other || len(p.body) < at+4 {
		return 0
	}

	return binary.BigEndian.Uint32(p.body[at:])
}

// fci is the feedback control information of a feedback message.
func (p Packet) fci() []byte {
	if p.kind == Other || len(p.body) < fbHeaderLen {
		return nil
	}

	return p.body[fbHeaderLen:]
}

// NACK is the packet's generic NACKs; empty unless its Kind is NACK.
func (p Packet) NACK() Nacks {
	if p.kind != NACK {
		return Nacks{}
	}

	return Nacks{fci: p.fci()}
}

// FIRCount is the number of FIR entries; 0 unless the Kind is FIR.
func (p Packet) FIRCount() int {
	if p.kind != FIR {
		return 0
	}

	return len(p.fci()) / 8
}

// FIREntry is the i-th FIR entry (0 <= i < FIRCount): the SSRC asked for a keyframe and the
// command sequence number.
func (p Packet) FIREntry(i int) (ssrc uint32, seq uint8) {
	e := p.fci()[i*8 : i*8+8]

	return binary.BigEndian.Uint32(e), e[4]
}

// Nacks is a view of the FCI of a generic NACK: (PID, BLP) pairs, RFC 4585 6.2.1.
type Nacks struct{ fci []byte }

// Len is the number of pairs.
func (n Nacks) Len() int { return len(n.fci) / 4 }

// Pair is the i-th pair (0 <= i < Len): the lost packet's sequence number and the bitmask of
// the 16 following ones also lost.
func (n Nacks) Pair(i int) (pid, blp uint16) {
	e := n.fci[i*4 : i*4+4]

	return binary.BigEndian.Uint16(e), binary.BigEndian.Uint16(e[2:])
}

// parse reads the packet at the start of b (RFC 3550 6.4.1 common header: V=2, P, count/FMT,
// PT, length in 32-bit words minus one) and returns it with its size.
func parse(b []byte) (Packet, int, error) {
	if len(b) < headerLen || b[0]>>6 != 2 {
		return Packet{}, 0, ErrHeader
	}
	n := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
	if n > len(b) {
		return Packet{}, 0, ErrLength
	}
	p := Packet{raw: b[:n:n], kind: kindOf(b[1], b[0]&0x1f)}
	if p.kind == Other {
		return p, n, nil // not decoded: neither its padding nor its content is looked at
	}
	end := n
	if b[0]&0x20 != 0 {
		// The last octet counts the padding octets, itself included (RFC 3550 6.4.1); padding
		// follows the content, never the header.
		pad := int(b[n-1])
		if pad == 0 || pad > n-headerLen {
			return Packet{}, 0, ErrPadding
		}
		end -= pad
	}
	p.body = b[headerLen:end:end]
	if err := p.validate(); err != nil {
		return Packet{}, 0, err
	}

	return p, n, nil
}

func kindOf(pt, fmt uint8) Kind {
	switch {
	case pt == TypePayloadFeedback && fmt == FormatPLI:
		return PLI
	case pt == TypePayloadFeedback && fmt == FormatFIR:
		return FIR
	case pt == TypeTransportFeedback && fmt == FormatNACK:
		return NACK
	case pt == TypeTransportFeedback && fmt == FormatTWCC:
		return TWCC
	}

	return Other
}

// validate checks the content of a decoded packet against its layout; a TWCC's walk is kept.
func (p *Packet) validate() error {
	if len(p.body) < fbHeaderLen {
		return errFeedbackShort
	}
	fci := len(p.body) - fbHeaderLen
	switch p.kind {
	case PLI:
		// RFC 4585 6.3.1: no FCI. One a sender added anyway is ignored, as pion/rtcp does: a
		// keyframe request is not worth refusing over it.
	case NACK:
		if fci == 0 || fci%4 != 0 { // RFC 4585 6.2.1: at least one 4-octet PID/BLP pair
			return errNACKLayout
		}
	case FIR:
		if fci == 0 || fci%8 != 0 { // RFC 5104 4.3.1.2: at least one 8-octet entry
			return errFIRLayout
		}
	case TWCC:
		f, err := parseTWCC(p.body)
		if err != nil {
			return err
		}
		p.twcc = f
	}

	return nil
}
