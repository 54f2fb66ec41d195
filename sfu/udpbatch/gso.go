package udpbatch

import (
	"net/netip"

	"golang.org/x/net/ipv4"
)

// UDP segmentation offload (GSO). A media server's fan-out writes one packet to many receivers,
// so adjacent datagrams go to different addresses, and sendmmsg alone saves only the syscall entry: on this
// VM's loopback the kernel's work per datagram (IP output, the loopback device, the receiver's
// socket) is most of a sendto, and stays. With UDP_SEGMENT the kernel takes several datagrams to
// one address as one buffer and runs its path once for all of them. So the sender regroups each
// batch by destination (keeping the order per destination, which is all UDP callers can expect)
// and sends every run of equal-sized datagrams to one destination (a video frame's packets: all of
// them full size but the last) as one GSO message.
const (
	// maxGSOSegments and maxGSOBytes keep a GSO message within the kernel's limits (64 segments,
	// one IP datagram's worth of payload).
	maxGSOSegments = 32
	maxGSOBytes    = 60000
)

// gsoPlan is the sender's scratch space for sending one batch grouped by destination. Sized for a
// full queue once, so planning allocates nothing (the map keeps its buckets across clear).
type gsoPlan struct {
	group      map[netip.AddrPort]int32 // destination -> group
	head, tail []int32                  // per group: its first and last datagram
	next       []int32                  // per datagram: the next one to the same destination, or -1
	msgs       []ipv4.Message           // what to send, grouped
	segs       []int32                  // per message: its datagrams
	first      []int32                  // per message: its first entry in bufs/slot
	bufs       [][]byte                 // the messages' buffers, one per datagram, in send order
	slot       []int32                  // per bufs entry: the queue slot it came from
	oob        []byte                   // one UDP_SEGMENT control message per message
}

func newGSOPlan(queueLen int) *gsoPlan {
	p := &gsoPlan{
		group: make(map[netip.AddrPort]int32, queueLen),
		head:  make([]int32, queueLen),
		tail:  make([]int32, queueLen),
		next:  make([]int32, queueLen),
		msgs:  make([]ipv4.Message, 0, queueLen),
		segs:  make([]int32, 0, queueLen),
		first: make([]int32, 0, queueLen),
		bufs:  make([][]byte, 0, queueLen),
		slot:  make([]int32, 0, queueLen),
		oob:   make([]byte, queueLen*gsoCmsgLen),
	}
	for i := range queueLen {
		if gsoCmsgLen > 0 {
			putGSOHeader(p.oob[i*gsoCmsgLen:])
		}
	}

	return p
}

// plan groups the datagrams of q by destination and cuts each group into GSO runs.
func (p *gsoPlan) plan(q *writeQueue) {
	clear(p.group)
	groups := int32(0)
	for i := range int32(q.n) {
		ap := q.slots[i].ap
		g, ok := p.group[ap]
		if !ok {
			g = groups
			groups++
			p.group[ap] = g
			p.head[g] = i
		} else {
			p.next[p.tail[g]] = i
		}
		p.tail[g] = i
		p.next[i] = -1
	}
	p.msgs, p.segs, p.first, p.bufs, p.slot = p.msgs[:0], p.segs[:0], p.first[:0], p.bufs[:0], p.slot[:0]
	for g := range groups {
		for i := p.head[g]; i >= 0; {
			s := &q.slots[i]
			size := len(s.buf)
			start := len(p.bufs)
			p.bufs = append(p.bufs, s.buf)
			p.slot = append(p.slot, i)
			total, n := size, int32(1)
			j := p.next[i]
			// Every segment but the last must be exactly size long.
			for j >= 0 && n < maxGSOSegments {
				l := len(q.slots[j].buf)
				if l > size || total+l > maxGSOBytes {
					break
				}
				p.bufs = append(p.bufs, q.slots[j].buf)
				p.slot = append(p.slot, j)
				total += l
				n++
				j = p.next[j]
				if l < size {
					break
				}
			}
			m := ipv4.Message{Buffers: p.bufs[start:len(p.bufs):len(p.bufs)], Addr: &s.addr}
			if n > 1 {
				k := len(p.msgs)
				m.OOB = p.oob[k*gsoCmsgLen : (k+1)*gsoCmsgLen]
				putGSOSize(m.OOB, size)
			}
			p.msgs = append(p.msgs, m)
			p.segs = append(p.segs, n)
			p.first = append(p.first, int32(start))
			i = j
		}
	}
}
