package rtcpscan

import "encoding/binary"

// The TWCC layout (draft-holmer-rmcat-transport-wide-cc-extensions-01, section 3.1) after the
// two SSRCs of the feedback header: base sequence number (16 bits), packet status count (16),
// reference time (24, signed multiples of 64 ms), feedback packet count (8); then as many
// 16-bit packet status chunks as it takes to cover the status count, then one receive delta per
// packet reported received (8 bits for a small delta, 16 for a large or negative one), then zero
// padding to the 32-bit boundary.
const (
	twccFixed = fbHeaderLen + 8 // the two SSRCs and the four fields above

	// DeltaUnit is the unit of a receive delta in microseconds.
	DeltaUnit = 250
)

// Packet status symbols (section 3.1.1). A 1-bit status vector carries only the first two.
const (
	SymbolNotReceived   = 0
	SymbolSmallDelta    = 1
	SymbolLargeDelta    = 2
	SymbolReserved      = 3 // no receive delta: reported as not received, as pion/rtcp's users read it
	chunkVector         = 0x8000
	chunkTwoBit         = 0x4000
	runLengthMask       = 0x1fff
	oneBitSymbols       = 14
	twoBitSymbols       = 7
	maxDeltaBytesSymbol = 2
)

// Feedback is a view of one TWCC feedback message: its fields, and its packet statuses walked in
// order with Statuses. It is only made of a packet the Scanner checked, so a walk never stops
// short of StatusCount.
type Feedback struct {
	BaseSeq     uint16 // transport-wide sequence number of the first packet reported
	StatusCount uint16 // number of packets reported
	RefTime     uint32 // reference time, 24 bits, in units of 64 ms
	FbCount     uint8  // feedback packet count
	chunks      []byte // exactly the chunks that cover StatusCount
	deltas      []byte // exactly the receive deltas they call for
}

// TWCC is the packet's transport-wide CC feedback, as the Scanner found it when checking the
// packet; the zero Feedback unless its Kind is TWCC.
func (p Packet) TWCC() Feedback { return p.twcc }

// parseTWCC reads the fields and finds the chunks and deltas in body (the packet after its
// common header, without padding), checking that they fit.
func parseTWCC(body []byte) (Feedback, error) {
	if len(body) < twccFixed {
		return Feedback{}, errTWCCShort
	}
	f := Feedback{
		BaseSeq:     binary.BigEndian.Uint16(body[8:]),
		StatusCount: binary.BigEndian.Uint16(body[10:]),
		RefTime:     uint32(body[12])<<16 | uint32(body[13])<<8 | uint32(body[14]),
		FbCount:     body[15],
	}
	rest := body[twccFixed:]
	left, at, deltaBytes := int(f.StatusCount), 0, 0
	for left > 0 {
		if at+2 > len(rest) {
			return Feedback{}, errTWCCChunks
		}
		c := binary.BigEndian.Uint16(rest[at:])
		at += 2
		switch {
		case c&chunkVector == 0: // run length: T=0, S (2 bits), length (13)
			k := min(int(c&runLengthMask), left)
			deltaBytes += k * deltaSize(uint8(c>>13&3))
			left -= k
		case c&chunkTwoBit == 0: // 1-bit vector: 14 symbols, 1 = received, small delta
			k := min(oneBitSymbols, left)
			for i := range k {
				deltaBytes += int(c >> (oneBitSymbols - 1 - i) & 1)
			}
			left -= k
		default: // 2-bit vector: 7 symbols
			k := min(twoBitSymbols, left)
			for i := range k {
				deltaBytes += deltaSize(uint8(c >> (2 * (twoBitSymbols - 1 - i)) & 3))
			}
			left -= k
		}
	}
	if at+deltaBytes > len(rest) {
		return Feedback{}, errTWCCDeltas
	}
	f.chunks, f.deltas = rest[:at:at], rest[at:at+deltaBytes:at+deltaBytes]

	return f, nil
}

// deltaSize is the size of the receive delta a symbol calls for.
func deltaSize(sym uint8) int {
	switch sym {
	case SymbolSmallDelta:
		return 1
	case SymbolLargeDelta:
		return maxDeltaBytesSymbol
	}

	return 0
}

// Status is what a feedback reports on one packet.
type Status struct {
	Seq      uint16 // its transport-wide sequence number
	Received bool
	Delta    int64 // µs since the previous packet received (the first: since the reference time); 0 when not received
}

// Statuses walks the packet statuses in order.
func (f *Feedback) Statuses() StatusWalk {
	return StatusWalk{chunks: f.chunks, deltas: f.deltas, seq: f.BaseSeq, left: int(f.StatusCount)}
}

// StatusWalk walks a feedback's packet statuses: for w := f.Statuses(); ; { s, ok := w.Next() ... }.
type StatusWalk struct {
	chunks []byte
	deltas []byte
	seq    uint16
	left   int    // statuses still to report
	chunk  uint16 // the current chunk
	n      int    // statuses the current chunk still holds
	width  uint8  // bits per symbol of a vector chunk; 0 for a run length
	shift  uint8  // where the next symbol of a vector chunk ends, counted from bit 0
}

// Next is the next packet's status; false once StatusCount packets were reported.
func (w *StatusWalk) Next() (Status, bool) {
	for w.n == 0 {
		if w.left <= 0 || len(w.chunks) < 2 {
			return Status{}, false
		}
		w.chunk = binary.BigEndian.Uint16(w.chunks)
		w.chunks = w.chunks[2:]
		switch {
		case w.chunk&chunkVector == 0:
			w.n, w.width = int(w.chunk&runLengthMask), 0
		case w.chunk&chunkTwoBit == 0:
			w.n, w.width = oneBitSymbols, 1
		default:
			w.n, w.width = twoBitSymbols, 2
		}
		w.shift = 14 // the symbols follow T and S
	}
	if w.left <= 0 {
		return Status{}, false
	}
	sym := uint8(w.chunk >> 13 & 3) // a run length's S
	if w.width != 0 {
		w.shift -= w.width
		sym = uint8(w.chunk>>w.shift) & (1<<w.width - 1)
	}
	w.n--
	s := Status{Seq: w.seq}
	switch sym {
	case SymbolSmallDelta:
		if len(w.deltas) < 1 {
			w.left = 0

			return Status{}, false
		}
		s.Received, s.Delta = true, int64(w.deltas[0])*DeltaUnit
		w.deltas = w.deltas[1:]
	case SymbolLargeDelta:
		if len(w.deltas) < 2 {
			w.left = 0

			return Status{}, false
		}
		s.Received, s.Delta = true, int64(int16(binary.BigEndian.Uint16(w.deltas)))*DeltaUnit
		w.deltas = w.deltas[2:]
	}
	w.seq++
	w.left--

	return s, true
}
