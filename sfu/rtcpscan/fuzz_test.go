package rtcpscan

import (
	"testing"

	"github.com/pion/rtcp"
)

// FuzzScan checks the scanner against pion/rtcp on any datagram (check says how they may
// differ); it must never panic.
func FuzzScan(f *testing.F) {
	pli := &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}
	fir := &rtcp.FullIntraRequest{SenderSSRC: 3, FIR: []rtcp.FIREntry{{SSRC: 4, SequenceNumber: 5}}}
	nack := &rtcp.TransportLayerNack{SenderSSRC: 6, MediaSSRC: 7, Nacks: []rtcp.NackPair{{PacketID: 8, LostPackets: 0xf00f}, {PacketID: 9}}}
	padded := twccVectors()
	padded.Header.Padding = true
	lost := &rtcp.TransportLayerCC{MediaSSRC: 2, BaseSequenceNumber: 1, PacketStatusCount: 20, PacketChunks: []rtcp.PacketStatusChunk{
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 20},
	}}
	for _, pkts := range [][]rtcp.Packet{
		{pli}, {fir}, {nack}, {rr()}, {twccRun()}, {twccVectors()}, {padded}, {lost},
		{rr(), twccRun(), pli, nack}, {rr(), &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 5e5, SSRCs: []uint32{2}}, fir},
	} {
		f.Add(marshal(f, pkts...))
	}
	f.Add(compoundRRTWCC(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
	})
}
