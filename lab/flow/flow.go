// Package flow follows conversations across packets: which endpoint started
// a TCP connection, sequence and acknowledgement numbers relative to each
// side's initial sequence number, the advertised window after scaling, the TCP
// state each side must be in given what it sent and received (RFC 9293), and
// expert marks like Wireshark's (retransmission, dup ack, zero window, window
// update, keep-alive, RST).
//
// Inferred states are what the packets imply; the kernel's own view comes from
// lab/sockstate. On loopback a segment is seen by the capture a few
// microseconds before the receiver processes it, so "inferred" means "must
// be, once this segment is processed" — if it is: a packet the lab's own
// firewall dropped (decode.Packet.Lab.Drop, set by the engine) changes only its
// sender, and the engine shows no inference that the kernel's reading of
// the socket contradicts.
package flow

import (
	"net/netip"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/tcpstate"
)

// Key identifies a conversation independent of direction.
type Key struct {
	Proto  decode.Proto
	Lo, Hi netip.AddrPort
}

// ConnKey returns the key of the conversation between a and b, whichever
// sent: the one place netlab decides what "the same connection" is (the
// flow tracker, the engine's merger and the dashboard use it).
func ConnKey(proto decode.Proto, a, b netip.AddrPort) Key {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return Key{Proto: proto, Lo: a, Hi: b}
}

// KeyOf returns the direction-free key of a packet's conversation.
func KeyOf(p *decode.Packet) Key { return ConnKey(p.Proto, p.Src, p.Dst) }

// Conv is one conversation: a TCP connection or a UDP socket pair.
type Conv struct {
	ID    int
	Proto decode.Proto
	// A is the endpoint that sent the first packet seen (the client when the
	// handshake was captured), B the other.
	A, B        netip.AddrPort
	Packets     int
	FirstPacket int // packet number
	LastPacket  int
	// State is the inferred TCP state of A ([0]) and B ([1]).
	State [2]tcpstate.State
	// Bytes of payload sent by A ([0]) and B ([1]).
	Bytes [2]uint64
	dir   [2]dirState
}

// Endpoint returns side 0 (A) or 1 (B).
func (c *Conv) Endpoint(side uint8) netip.AddrPort {
	if side == 0 {
		return c.A
	}
	return c.B
}

// dirState is what one direction (the packets one side sends) has shown so far.
type dirState struct {
	seen      bool
	isn       uint32 // base of relative sequence numbers
	nextSeq   uint32 // highest seq+seglen sent
	lastAck   uint32
	ackSeen   bool
	ackGot    uint32 // lastAck as far as the peer received it (not dropped on the way)
	ackGotSet bool
	win       uint32 // last advertised window (bytes)
	winSeen   bool
	wscale    int8 // from the SYN; -1 absent
	synSeen   bool
	finSeen   bool
	finSeq    uint32 // sequence number of the FIN
	wscaleOK  bool   // both SYNs carried window scale: windows after SYN are scaled
	keepAlive bool   // the last segment sent was a keep-alive
	zwp       bool   // the last segment sent was a zero-window probe
}

// Tracker assigns packets to conversations. Not safe for concurrent use.
type Tracker struct {
	convs map[Key]*Conv
	list  []*Conv
	last  *Conv // packets come in runs of one conversation: skip the map
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{convs: make(map[Key]*Conv)} }

// Convs returns the conversations in the order they were first seen.
func (t *Tracker) Convs() []*Conv { return t.list }

// Conv returns conversation id (from 1), or nil.
func (t *Tracker) Conv(id int) *Conv {
	if id < 1 || id > len(t.list) {
		return nil
	}
	return t.list[id-1]
}

// Add annotates p (conversation, direction, relative numbers, window, inferred
// state transitions, expert marks) and updates the conversation. It does not
// allocate once a conversation exists.
func (t *Tracker) Add(p *decode.Packet) *Conv {
	if p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP {
		return nil
	}
	c := t.last
	if c == nil || c.Proto != p.Proto || !(p.Src == c.A && p.Dst == c.B || p.Src == c.B && p.Dst == c.A) {
		c = t.lookup(p)
	}
	t.last = c
	c.Packets++

	c.LastPacket = p.N
	p.Flow.Conv = c.ID
	if p.Src != c.A {
		p.Flow.Dir = 1
	}
	c.Bytes[p.Flow.Dir] += uint64(p.PayloadLen)
	if p.Proto == decode.ProtoTCP {
		c.tcp(p)
	}
	return c
}

// lookup finds or creates the conversation of p.
func (t *Tracker) lookup(p *decode.Packet) *Conv {
	k := KeyOf(p)
	if c := t.convs[k]; c != nil {
		return c
	}
	c := &Conv{ID: len(t.list) + 1, Proto: p.Proto, A: p.Src, B: p.Dst, FirstPacket: p.N}
	c.State = [2]tcpstate.State{tcpstate.Closed, tcpstate.Closed}
	c.dir[0].wscale, c.dir[1].wscale = -1, -1
	t.convs[k] = c
	t.list = append(t.list, c)
	return c
}

func (c *Conv) tcp(p *decode.Packet) {
	s := p.Flow.Dir
	r := 1 - s
	snd, rcv := &c.dir[s], &c.dir[r]
	f := p.Flags

	first := !snd.seen
	if first {
		snd.seen = true
		snd.isn = p.Seq
		if f&decode.SYN == 0 {
			// Capture began mid-stream: make the first byte seen relative 1.
			snd.isn = p.Seq - 1
			p.Flow.StreamStart = true
		}
		snd.nextSeq = p.Seq
	}
	if f&decode.SYN != 0 {
		if !snd.synSeen {
			snd.isn = p.Seq
			snd.nextSeq = p.Seq
		}
		snd.synSeen = true
		snd.wscale = p.Opts.WScale
		if snd.wscale >= 0 && rcv.wscale >= 0 {
			snd.wscaleOK, rcv.wscaleOK = true, true
		}
	}
	p.Flow.RelSeq = p.Seq - snd.isn
	if f&decode.ACK != 0 {
		if rcv.seen {
			p.Flow.RelAck = p.Ack - rcv.isn
		} else {
			p.Flow.RelAck = p.Ack
		}
	}
	win := uint32(p.Window)
	if f&decode.SYN == 0 && snd.wscaleOK && snd.wscale > 0 {
		win <<= uint(snd.wscale)
	}
	p.Flow.WinBytes = win

	c.expert(p, snd, rcv, first)
	c.infer(p, s, r)

	// Advance what this direction has shown.
	if end := p.Seq + p.SegLen(); seqGT(end, snd.nextSeq) {
		snd.nextSeq = end
	}
	if f&decode.FIN != 0 && !snd.finSeen {
		snd.finSeen = true
		snd.finSeq = p.Seq + uint32(p.PayloadLen)
	}
	if f&decode.ACK != 0 {
		snd.lastAck = p.Ack
		snd.ackSeen = true
		if p.Lab.Drop == decode.Delivered {
			snd.ackGot, snd.ackGotSet = p.Ack, true
		}
	}
	if f&decode.RST == 0 {
		snd.win = win
		snd.winSeen = true
	}
	// In flight: what the sender has not seen acknowledged, so an ACK
	// dropped on its way does not count.
	if d := snd.nextSeq - rcv.ackGot; rcv.ackGotSet && int32(d) > 0 {
		p.Flow.InFlight = d
	}
}

// expert sets Wireshark-like marks, following the rules of Wireshark's
// tcp_analyze_sequence_number in a simplified form, with one difference
// checked on Linux captures: Linux probes a zero window with the same segment
// it uses for keep-alive (no data, sequence number one below the
// acknowledged edge), which Wireshark calls a keep-alive; here it is a
// zero-window probe when the peer's last advertised window is 0. first is set
// for the first packet seen in this direction.
func (c *Conv) expert(p *decode.Packet, snd, rcv *dirState, first bool) {
	var e decode.Expert
	if p.Flags&decode.RST != 0 {
		e |= decode.Reset
	}
	if !first {
		e |= sequenceMark(p, snd, rcv)
	}
	if p.Window == 0 && p.Flags&decode.ACK != 0 && !control(p) {
		e |= decode.ZeroWindow
	}
	e |= ackMark(p, snd, rcv, e)
	if fillsWindow(p, rcv) {
		e |= decode.WindowFull
	}
	snd.keepAlive = e&decode.KeepAlive != 0
	snd.zwp = e&decode.ZeroWindowProbe != 0
	p.Flow.Expert = e
}

// control reports whether p carries SYN, FIN or RST.
func control(p *decode.Packet) bool { return p.Flags&(decode.SYN|decode.FIN|decode.RST) != 0 }

// sequenceMark says what p's sequence number means against what its sender
// sent before: a probe (keep-alive or zero-window), a retransmission, or a
// jump over bytes the capture missed.
func sequenceMark(p *decode.Packet, snd, rcv *dirState) decode.Expert {
	ctl := control(p)
	// A probe: no new data at one below the acknowledged edge (Linux),
	// or one byte at the next sequence number (RFC 9293, Wireshark).
	behind := !ctl && p.PayloadLen <= 1 && (p.Seq == snd.nextSeq-1 || (rcv.ackSeen && p.Seq == rcv.lastAck-1 && p.PayloadLen == 0))
	zeroWin := rcv.winSeen && rcv.win == 0
	switch {
	case zeroWin && (behind || (!ctl && p.PayloadLen == 1 && p.Seq == snd.nextSeq)):
		return decode.ZeroWindowProbe
	case behind:
		return decode.KeepAlive
	case p.SegLen() > 0 && seqLT(p.Seq, snd.nextSeq):
		return decode.Retransmission
	case seqGT(p.Seq, snd.nextSeq) && p.Flags&decode.SYN == 0:
		// Also a pure ACK: its sequence number still says what the
		// sender sent before it.
		return decode.PrevNotCaptured
	}
	return 0
}

// ackMark says what a pure ACK answers: a zero-window probe, a keep-alive
// (once per probe), or nothing new (a window update, else a duplicate
// ACK). e is what p was marked with so far.
func ackMark(p *decode.Packet, snd, rcv *dirState, e decode.Expert) decode.Expert {
	pureAck := p.Flags&decode.ACK != 0 && !control(p) && p.PayloadLen == 0 && e&(decode.KeepAlive|decode.ZeroWindowProbe) == 0
	switch {
	case !pureAck:
	case rcv.zwp && p.Window == 0:
		return decode.ZeroWindowProbeAck
	case rcv.keepAlive && p.Ack == rcv.nextSeq:
		rcv.keepAlive = false // one answer per probe
		return decode.KeepAliveAck
	case snd.ackSeen && p.Ack == snd.lastAck && p.Seq == snd.nextSeq:
		if p.Flow.WinBytes != snd.win {
			return decode.WindowUpdate
		}
		if p.Window != 0 {
			// Wireshark's rule: a repeated zero window is not a duplicate ACK.
			return decode.DupAck
		}
	}
	return 0
}

// fillsWindow reports whether p's data fills the receiver's advertised
// window to the last byte.
func fillsWindow(p *decode.Packet, rcv *dirState) bool {
	return p.PayloadLen > 0 && !control(p) && rcv.winSeen && rcv.ackSeen && rcv.win > 0 &&
		p.Seq+uint32(p.PayloadLen) == rcv.lastAck+rcv.win
}

// infer applies RFC 9293's state diagram to the sender of p and, if p
// reached it, to its receiver: a packet the lab dropped on the way
// (p.Drop) changed nothing there.
func (c *Conv) infer(p *decode.Packet, s, r uint8) {
	delivered := p.Lab.Drop == decode.Delivered
	if p.Flags&decode.RST != 0 {
		c.set(p, s, tcpstate.Closed)
		if delivered {
			c.set(p, r, tcpstate.Closed)
		}
		return
	}
	c.sent(p, s, r)
	if delivered {
		c.received(p, r)
	}
	// A segment whose ACK completes the handshake makes its sender's peer
	// ESTABLISHED (see received); the sender of that ACK already was.
	if c.State[s] == tcpstate.SynSent && p.Flags&decode.ACK != 0 && p.Flags&decode.SYN == 0 {
		c.set(p, s, tcpstate.Established) // capture missed the SYN,ACK
	}
}

// set moves side to state to, recording the transition on p.
func (c *Conv) set(p *decode.Packet, side uint8, to tcpstate.State) {
	from := c.State[side]
	if from == to {
		return
	}
	c.State[side] = to
	if p.Flow.NTrans < uint8(len(p.Flow.Trans)) {
		p.Flow.Trans[p.Flow.NTrans] = decode.Transition{Side: side, From: from, To: to}
		p.Flow.NTrans++
	}
}

// sent moves the sender s of p for what it sends.
func (c *Conv) sent(p *decode.Packet, s, r uint8) {
	f := p.Flags
	ss := c.State[s]
	switch {
	case f&decode.SYN != 0 && f&decode.ACK == 0:
		if ss == tcpstate.Closed {
			c.set(p, s, tcpstate.SynSent)
		}
		if c.State[r] == tcpstate.Closed {
			c.State[r] = tcpstate.Listen // the peer must be listening to answer
		}
	case f&decode.SYN != 0 && f&decode.ACK != 0:
		if ss == tcpstate.Closed || ss == tcpstate.Listen {
			c.set(p, s, tcpstate.SynReceived)
		}
	case f&decode.FIN != 0:
		switch ss {
		case tcpstate.Established, tcpstate.SynReceived:
			c.set(p, s, tcpstate.FinWait1)
		case tcpstate.CloseWait:
			if peer := &c.dir[r]; peer.finSeen && f&decode.ACK != 0 && seqLT(p.Ack, peer.finSeq+1) {
				// The FINs crossed (a simultaneous close): this one left
				// before the peer's arrived, as its ACK shows, so its
				// sender was in FIN-WAIT-1 and, with the peer's FIN,
				// is now CLOSING.
				c.set(p, s, tcpstate.Closing)
			} else {
				c.set(p, s, tcpstate.LastAck)
			}
		}
	}
}

// received moves the receiver r of p for what it receives: first the
// ACK, then SYN or FIN.
func (c *Conv) received(p *decode.Packet, r uint8) {
	f := p.Flags
	rcvDir := &c.dir[r]
	rs := c.State[r]
	if f&decode.ACK != 0 {
		switch {
		case rs == tcpstate.SynSent && f&decode.SYN != 0:
			c.set(p, r, tcpstate.Established)
			// The sender of SYN,ACK becomes ESTABLISHED on the ACK that follows.
		case rs == tcpstate.SynReceived:
			c.set(p, r, tcpstate.Established)
		case rcvDir.finSeen && p.Ack == rcvDir.finSeq+1:
			switch rs {
			case tcpstate.FinWait1:
				c.set(p, r, tcpstate.FinWait2)
			case tcpstate.Closing:
				c.set(p, r, tcpstate.TimeWait)
			case tcpstate.LastAck:
				c.set(p, r, tcpstate.Closed)
			}
		}
	}
	if f&decode.FIN != 0 {
		switch c.State[r] {
		case tcpstate.Established, tcpstate.SynReceived:
			c.set(p, r, tcpstate.CloseWait)
		case tcpstate.FinWait1:
			c.set(p, r, tcpstate.Closing)
		case tcpstate.FinWait2:
			c.set(p, r, tcpstate.TimeWait)
		}
	}
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
