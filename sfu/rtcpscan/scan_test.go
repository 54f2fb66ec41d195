package rtcpscan

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/pion/rtcp"
)

// marshal is pkts on the wire; a TWCC feedback's header (which pion leaves to its user) is
// filled in first.
func marshal(t testing.TB, pkts ...rtcp.Packet) []byte {
	t.Helper()
	for _, p := range pkts {
		if fb, ok := p.(*rtcp.TransportLayerCC); ok {
			fb.Header.Type, fb.Header.Count = rtcp.TypeTransportSpecificFeedback, rtcp.FormatTCC
			fb.Header.Length = uint16(fb.MarshalSize()/4 - 1)
		}
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}

	return b
}

func rr() *rtcp.ReceiverReport {
	return &rtcp.ReceiverReport{SSRC: 7, Reports: []rtcp.ReceptionReport{{SSRC: 9, FractionLost: 3, LastSequenceNumber: 1000}}}
}

// twccRun is a feedback on 300 packets from 65500 (the sequence numbers wrap): 200 received in
// one run-length chunk with small deltas, then 100 lost.
func twccRun() *rtcp.TransportLayerCC {
	fb := &rtcp.TransportLayerCC{SenderSSRC: 1, MediaSSRC: 2, BaseSequenceNumber: 65500, PacketStatusCount: 300,
		ReferenceTime: 0xabcdef, FbPktCount: 9, PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 200},
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 100},
		}}
	for i := range 200 {
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: int64(i%256) * 250})
	}

	return fb
}

// twccVectors reports 14 packets in a 1-bit vector and 7 in a 2-bit one, the last of which holds
// large and negative deltas; its status count ends inside the second vector.
func twccVectors() *rtcp.TransportLayerCC {
	one := []uint16{1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0}
	two := []uint16{2, 0, 1, 2, 2, 0, 0}
	fb := &rtcp.TransportLayerCC{SenderSSRC: 3, MediaSSRC: 4, BaseSequenceNumber: 10, PacketStatusCount: 19,
		ReferenceTime: 5, FbPktCount: 255, PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeOneBit, SymbolList: one},
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: two},
		}}
	for _, s := range one {
		if s == 1 {
			fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 63750})
		}
	}
	for i, d := range []int64{-8192000, 250, 8191750, -250} {
		typ := rtcp.TypeTCCPacketReceivedLargeDelta
		if i == 1 {
			typ = rtcp.TypeTCCPacketReceivedSmallDelta
		}
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: typ, Delta: d})
	}

	return fb
}

func TestScanPackets(t *testing.T) {
	pli := &rtcp.PictureLossIndication{SenderSSRC: 11, MediaSSRC: 12}
	fir := &rtcp.FullIntraRequest{SenderSSRC: 13, MediaSSRC: 0, FIR: []rtcp.FIREntry{{SSRC: 14, SequenceNumber: 2}, {SSRC: 15, SequenceNumber: 3}}}
	nack := &rtcp.TransportLayerNack{SenderSSRC: 16, MediaSSRC: 17, Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 0x8001}, {PacketID: 65535}}}
	remb := &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 1, Bitrate: 1e6, SSRCs: []uint32{2}}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 7, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "x"}}}}}
	for _, tc := range []struct {
		name  string
		data  []byte
		kinds []Kind
	}{
		{"pli", marshal(t, pli), []Kind{PLI}},
		{"fir", marshal(t, fir), []Kind{FIR}},
		{"nack", marshal(t, nack), []Kind{NACK}},
		{"twcc run length", marshal(t, twccRun()), []Kind{TWCC}},
		{"twcc vectors", marshal(t, twccVectors()), []Kind{TWCC}},
		{"rr", marshal(t, rr()), []Kind{Other}},
		{"compound", marshal(t, rr(), sdes, twccRun(), pli, remb, nack, &rtcp.Goodbye{Sources: []uint32{7}}, fir),
			[]Kind{Other, Other, TWCC, PLI, Other, NACK, Other, FIR}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Scanner
			s.Reset(tc.data)
			var kinds []Kind
			for s.Next() {
				kinds = append(kinds, s.Packet().Kind())
			}
			if s.Err() != nil || !slices.Equal(kinds, tc.kinds) {
				t.Fatalf("kinds %v (%v), want %v", kinds, s.Err(), tc.kinds)
			}
			check(t, tc.data) // the fields are pion's
		})
	}
}

// The walk of a TWCC feedback, spelled out: sequence numbers wrap, deltas are in µs, a status
// count ending inside a chunk ends the walk there.
func TestScanTWCCStatuses(t *testing.T) {
	var s Scanner
	s.Reset(marshal(t, twccVectors()))
	if !s.Next() {
		t.Fatal(s.Err())
	}
	f := s.Packet().TWCC()
	got := walk(&f)
	if len(got) != 19 {
		t.Fatalf("%d statuses, want 19", len(got))
	}
	wantTail := []Status{{Seq: 20, Received: true, Delta: 63750}, {Seq: 21, Received: true, Delta: 63750},
		{Seq: 22, Received: true, Delta: 63750}, {Seq: 23}, {Seq: 24, Received: true, Delta: -8192000}, {Seq: 25},
		{Seq: 26, Received: true, Delta: 250}, {Seq: 27, Received: true, Delta: 8191750}, {Seq: 28, Received: true, Delta: -250}}
	if !slices.Equal(got[10:], wantTail) {
		t.Fatalf("statuses %v, want ... %v", got, wantTail)
	}
	s.Reset(marshal(t, twccRun()))
	s.Next()
	f = s.Packet().TWCC()
	got = walk(&f)
	if len(got) != 300 || got[35] != (Status{Seq: 65535, Received: true, Delta: 35 * 250}) || got[36].Seq != 0 || got[299].Received {
		t.Fatalf("run-length walk: %d statuses, [35] %v, [36] %v, [299] %v", len(got), got[35], got[36], got[299])
	}
}

// Malformed datagrams end the walk with an error, after the packets before them.
func TestScanMalformed(t *testing.T) {
	pli := marshal(t, &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2})
	nack := marshal(t, &rtcp.TransportLayerNack{MediaSSRC: 2, Nacks: []rtcp.NackPair{{PacketID: 1}}})
	twcc := marshal(t, twccVectors())
	edit := func(b []byte, f func(b []byte) []byte) []byte { return f(slices.Clone(b)) }
	for _, tc := range []struct {
		name   string
		data   []byte
		before int // packets yielded first
		err    error
	}{
		{"empty", nil, 0, ErrEmpty},
		{"short header", pli[:3], 0, ErrHeader},
		{"version 1", edit(pli, func(b []byte) []byte { b[0] = 0x41; return b }), 0, ErrHeader},
		{"length past the end", append(slices.Clone(pli), pli[:8]...), 1, ErrLength},
		{"padding count zero", edit(nack, func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 0; return b }), 0, ErrPadding},
		{"padding past the header", edit(nack, func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 13; return b }), 0, ErrPadding},
		{"padding eats the NACK pair", edit(nack, func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 4; return b }), 0, ErrLayout},
		{"PLI without media SSRC", edit(pli, func(b []byte) []byte { b[3] = 1; return b[:8] }), 0, ErrLayout},
		{"NACK without a pair", edit(nack, func(b []byte) []byte { b[3] = 2; return b[:12] }), 0, ErrLayout},
		{"TWCC cut in its fixed fields", edit(twcc, func(b []byte) []byte { b[3] = 3; return b[:16] }), 0, ErrLayout},
		{"TWCC chunks short of the count", edit(twcc, func(b []byte) []byte { b[3] = 5; binary.BigEndian.PutUint16(b[14:], 30); return b[:24] }), 0, ErrLayout},
		{"TWCC deltas cut", edit(twcc, func(b []byte) []byte { b[3] = 7; return b[:32] }), 0, ErrLayout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Scanner
			s.Reset(tc.data)
			n := 0
			for s.Next() {
				n++
			}
			if n != tc.before || !errors.Is(s.Err(), tc.err) {
				t.Fatalf("%d packets then %v, want %d then %v", n, s.Err(), tc.before, tc.err)
			}
			check(t, tc.data)
		})
	}
}

// Padding, as RFC 3550 has it and browsers send it on TWCC feedback: taken off before the content
// is read. pion reads the same content from the packet without its padding.
func TestScanPadding(t *testing.T) {
	fb := twccVectors() // 20 + 4 + 9 deltas = 33 octets: 3 of padding
	fb.Header.Padding = true
	data := marshal(t, fb)
	if data[0]&0x20 == 0 || data[len(data)-1] != 3 {
		t.Fatalf("pion did not pad: %x", data)
	}
	var s Scanner
	s.Reset(data)
	if !s.Next() || s.Packet().TWCC().StatusCount != 19 {
		t.Fatal(s.Err())
	}
	check(t, data)
	// A NACK with a word of padding: one pair, not two.
	nack := marshal(t, &rtcp.TransportLayerNack{MediaSSRC: 2, Nacks: []rtcp.NackPair{{PacketID: 1}}})
	nack = append(nack, 0, 0, 0, 4)
	nack[0] |= 0x20
	nack[3]++
	s.Reset(nack)
	if !s.Next() || s.Packet().NACK().Len() != 1 {
		t.Fatalf("padded NACK: %v", s.Err())
	}
	check(t, nack)
}

// pion rejects a TWCC feedback whose chunks end exactly at the end of the packet; the draft does
// not, nor does the scanner.
func TestScanTWCCChunksToTheEnd(t *testing.T) {
	fb := &rtcp.TransportLayerCC{MediaSSRC: 2, BaseSequenceNumber: 1, PacketStatusCount: 20, PacketChunks: []rtcp.PacketStatusChunk{
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 10},
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 10},
	}}
	data := marshal(t, fb)
	if _, err := rtcp.Unmarshal(data); err == nil {
		t.Fatal("pion accepts it now: drop the exception in check")
	}
	var s Scanner
	s.Reset(data)
	if !s.Next() {
		t.Fatal(s.Err())
	}
	f := s.Packet().TWCC()
	if got := walk(&f); len(got) != 20 || got[19] != (Status{Seq: 20}) {
		t.Fatalf("statuses %v", got)
	}
	check(t, data)
}

// compoundRRTWCC is what a browser sends every 50-100 ms: a receiver report and a TWCC feedback
// on ~100 packets.
func compoundRRTWCC(t testing.TB) []byte {
	fb := &rtcp.TransportLayerCC{SenderSSRC: 1, MediaSSRC: 2, BaseSequenceNumber: 100, PacketStatusCount: 100,
		ReferenceTime: 77, FbPktCount: 3}
	for i := range 100 / 7 {
		syms := []uint16{1, 1, 1, 2, 1, 0, 1}
		fb.PacketChunks = append(fb.PacketChunks, &rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: syms})
		for _, s := range syms {
			if s != 0 {
				fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: s, Delta: int64(i+1) * 250})
			}
		}
	}
	fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: 1, RunLength: 2})
	fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: 1, Delta: 250}, &rtcp.RecvDelta{Type: 1, Delta: 500})

	return marshal(t, rr(), fb)
}

// BenchmarkScan walks an RR+TWCC compound packet and every status of its feedback.
func BenchmarkScan(b *testing.B) {
	data := compoundRRTWCC(b)
	var s Scanner
	b.ReportAllocs()
	sum := int64(0)
	for b.Loop() {
		s.Reset(data)
		for s.Next() {
			if p := s.Packet(); p.Kind() == TWCC {
				f := p.TWCC()
				for w := f.Statuses(); ; {
					st, ok := w.Next()
					if !ok {
						break
					}
					sum += st.Delta
				}
			}
		}
	}
	if sum == 0 {
		b.Fatal("no deltas")
	}
}

// BenchmarkPionUnmarshal is the same datagram through rtcp.Unmarshal and the walk the estimator
// made of it, for comparison.
func BenchmarkPionUnmarshal(b *testing.B) {
	data := compoundRRTWCC(b)
	b.ReportAllocs()
	sum := int64(0)
	for b.Loop() {
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				pionEach(fb, func(s Status) { sum += s.Delta })
			}
		}
	}
	if sum == 0 {
		b.Fatal("no deltas")
	}
}

// The scanner allocates nothing, whatever the datagram.
func TestScanAllocs(t *testing.T) {
	data := append(compoundRRTWCC(t), marshal(t, &rtcp.PictureLossIndication{MediaSSRC: 1},
		&rtcp.TransportLayerNack{MediaSSRC: 2, Nacks: []rtcp.NackPair{{PacketID: 1}}})...)
	var s Scanner
	statuses := 0
	allocs := testing.AllocsPerRun(100, func() {
		statuses = 0
		s.Reset(data)
		for s.Next() {
			p := s.Packet()
			switch p.Kind() {
			case TWCC:
				f := p.TWCC()
				for w := f.Statuses(); ; statuses++ {
					if _, ok := w.Next(); !ok {
						break
					}
				}
			case NACK:
				n := p.NACK()
				for i := range n.Len() {
					n.Pair(i)
				}
			}
		}
	})
	if allocs != 0 || statuses != 100 || s.Err() != nil {
		t.Fatalf("%v allocs, %d statuses, %v", allocs, statuses, s.Err())
	}
}
