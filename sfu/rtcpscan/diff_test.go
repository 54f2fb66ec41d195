package rtcpscan

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/pion/rtcp"
)

// The scanner is checked against pion/rtcp, which the sfu used before: for any datagram pion's
// Unmarshal accepts, the scanner yields the same packets with the same fields, and every packet
// the scanner yields is what pion makes of that packet alone. Where the two disagree, the RFCs
// decide, and check allows exactly these differences:
//
//   - Packets the scanner does not decode (SR, RR, SDES, BYE, APP, REMB, XR, ...) are stepped
//     over by their length. pion parses them, and one it finds malformed makes it reject the
//     whole datagram, PLIs, NACKs and feedback included; the scanner still yields those.
//   - Padding (RFC 3550 6.4.1: with the P bit set, the last octet counts the padding octets,
//     itself included, and they are not part of the content). pion ignores the P bit of
//     feedback: it reads padding octets as NACK pairs or FIR entries, accepts a count of zero or
//     one larger than the packet, and lets TWCC chunks and receive deltas run into the padding.
//     The scanner takes the padding off first: such a packet is rejected (ErrPadding, or
//     ErrLayout when what is left does not fit), and a padded one is compared with pion's
//     reading of the same packet with its padding turned into nothing (a multiple of four
//     octets: cut off, the length field lowered) or into TWCC's zero padding (otherwise).
//     Browsers pad TWCC feedback this way (libwebrtc sets P and 1-3 octets of padding).
//   - A TWCC feedback whose last chunk ends exactly at the end of the packet, with no receive
//     deltas (every packet reported lost, an even number of chunks): pion wants at least one
//     more octet after the last chunk (it tests pos+2 >= length) and rejects it; the draft puts
//     no such octet there, so the scanner accepts it. check proves it is only that by giving
//     pion the same packet with four more zero octets.
//   - A PLI with an FCI (RFC 4585 6.3.1 says it has none): both accept and ignore it.
//   - An empty datagram: both reject it.
func check(t testing.TB, data []byte) {
	t.Helper()
	pkts, perr := rtcp.Unmarshal(data)
	var s Scanner
	s.Reset(data)
	var got []Packet
	for s.Next() {
		got = append(got, s.Packet())
	}
	for i, p := range got {
		checkPacket(t, i, p)
	}
	if perr != nil {
		return // what the scanner yielded was each checked alone
	}
	if err := s.Err(); err != nil {
		raw := packetAt(data, len(got))
		if len(raw) < headerLen || kindOf(raw[1], raw[0]&0x1f) == Other || raw[0]&0x20 == 0 {
			t.Fatalf("scanner rejects packet %d (%x) that pion accepts, not for its padding: %v", len(got), raw, err)
		}

		return
	}
	if len(got) != len(pkts) {
		t.Fatalf("scanner yields %d packets, pion %d", len(got), len(pkts))
	}
}

// packetAt is the i-th packet of data by the length fields (what remains of data if it is cut).
func packetAt(data []byte, i int) []byte {
	for ; len(data) >= headerLen; i-- {
		n := min((int(binary.BigEndian.Uint16(data[2:]))+1)*4, len(data))
		if i == 0 {
			return data[:n]
		}
		data = data[n:]
	}

	return data
}

// checkPacket compares one packet the scanner yielded with pion's reading of it alone.
func checkPacket(t testing.TB, i int, p Packet) {
	t.Helper()
	raw := unpadded(p)
	ps, err := rtcp.Unmarshal(raw)
	if p.Kind() == Other {
		if err == nil {
			switch ps[0].(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest, *rtcp.TransportLayerNack, *rtcp.TransportLayerCC:
				t.Fatalf("packet %d: scanner skips a %T", i, ps[0])
			}
		}
		if p.Type() != raw[1] || p.Format() != raw[0]&0x1f {
			t.Fatalf("packet %d: type %d/%d, header says %d/%d", i, p.Type(), p.Format(), raw[1], raw[0]&0x1f)
		}

		return
	}
	if err != nil && p.Kind() == TWCC {
		f := p.TWCC()
		if len(f.deltas) != 0 || twccFixed+len(f.chunks) != len(p.body) {
			t.Fatalf("packet %d: pion rejects TWCC %x: %v", i, raw, err)
		}
		// pion's off-by-one at the last chunk: the same packet with a word more it accepts.
		longer := append(slices.Clone(raw), 0, 0, 0, 0)
		binary.BigEndian.PutUint16(longer[2:], binary.BigEndian.Uint16(raw[2:])+1)
		ps, err = rtcp.Unmarshal(longer)
	}
	if err != nil || len(ps) != 1 {
		t.Fatalf("packet %d: scanner yields %v, pion rejects %x: %v", i, p.Kind(), raw, err)
	}
	switch q := ps[0].(type) {
	case *rtcp.PictureLossIndication:
		want(t, i, p.Kind() == PLI && p.SenderSSRC() == q.SenderSSRC && p.MediaSSRC() == q.MediaSSRC, p, q)
	case *rtcp.FullIntraRequest:
		ok := p.Kind() == FIR && p.SenderSSRC() == q.SenderSSRC && p.MediaSSRC() == q.MediaSSRC && p.FIRCount() == len(q.FIR)
		for j := 0; ok && j < p.FIRCount(); j++ {
			ssrc, seq := p.FIREntry(j)
			ok = ssrc == q.FIR[j].SSRC && seq == q.FIR[j].SequenceNumber
		}
		want(t, i, ok, p, q)
	case *rtcp.TransportLayerNack:
		n := p.NACK()
		ok := p.Kind() == NACK && p.SenderSSRC() == q.SenderSSRC && p.MediaSSRC() == q.MediaSSRC && n.Len() == len(q.Nacks)
		for j := 0; ok && j < n.Len(); j++ {
			pid, blp := n.Pair(j)
			ok = pid == q.Nacks[j].PacketID && blp == uint16(q.Nacks[j].LostPackets)
		}
		want(t, i, ok, p, q)
	case *rtcp.TransportLayerCC:
		f := p.TWCC()
		ok := p.Kind() == TWCC && p.SenderSSRC() == q.SenderSSRC && p.MediaSSRC() == q.MediaSSRC &&
			f.BaseSeq == q.BaseSequenceNumber && f.StatusCount == q.PacketStatusCount &&
			f.RefTime == q.ReferenceTime && f.FbCount == q.FbPktCount
		want(t, i, ok, p, q)
		if got, exp := walk(&f), pionWalk(q); !slices.Equal(got, exp) {
			t.Fatalf("packet %d: statuses\n%v\npion's\n%v", i, got, exp)
		}
	default:
		t.Fatalf("packet %d: scanner yields %v, pion a %T", i, p.Kind(), q)
	}
}

func want(t testing.TB, i int, ok bool, p Packet, q rtcp.Packet) {
	t.Helper()
	if !ok {
		t.Fatalf("packet %d: scanner's %v %x differs from pion's %+v", i, p.Kind(), p.Raw(), q)
	}
}

// unpadded is the packet with its padding turned into nothing, or into zeros where it is not a
// whole number of words (TWCC's own zero padding), and the P bit cleared: what pion reads as
// the scanner reads the padded packet.
func unpadded(p Packet) []byte {
	raw := p.Raw()
	if p.Kind() == Other || raw[0]&0x20 == 0 {
		return raw
	}
	out := slices.Clone(raw)
	out[0] &^= 0x20
	pad := int(raw[len(raw)-1])
	if pad%4 == 0 {
		out = out[:len(out)-pad]
		binary.BigEndian.PutUint16(out[2:], uint16(len(out)/4-1))

		return out
	}
	clear(out[len(out)-pad:])

	return out
}

// walk is every status the scanner reports.
func walk(f *Feedback) []Status {
	var out []Status
	for w := f.Statuses(); ; {
		s, ok := w.Next()
		if !ok {
			return out
		}
		out = append(out, s)
	}
}

// pionWalk is every status in pion's reading, walked the way the sfu's estimator walked it
// before the scanner: chunk by chunk, a receive delta per received symbol, up to the status
// count; the reserved symbol (3) is a packet without a delta, not received.
func pionWalk(fb *rtcp.TransportLayerCC) []Status {
	var out []Status
	pionEach(fb, func(s Status) { out = append(out, s) })

	return out
}

// pionEach calls f with every status of pionWalk.
func pionEach(fb *rtcp.TransportLayerCC, f func(Status)) {
	seq, remaining, di := fb.BaseSequenceNumber, int(fb.PacketStatusCount), 0
	status := func(sym uint16) bool {
		s := Status{Seq: seq}
		if sym == rtcp.TypeTCCPacketReceivedSmallDelta || sym == rtcp.TypeTCCPacketReceivedLargeDelta {
			if di >= len(fb.RecvDeltas) {
				return false
			}
			s.Received, s.Delta = true, fb.RecvDeltas[di].Delta
			di++
		}
		f(s)
		seq++
		remaining--

		return remaining > 0
	}
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				if !status(c.PacketStatusSymbol) {
					return
				}
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if !status(sym) {
					return
				}
			}
		}
	}
}
