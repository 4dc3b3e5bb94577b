package wire

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Match is what a targeted Rule looks for.
type Match uint8

// Targeted matches: the frames a lesson wants the wire to lose.
const (
	// MatchData: the Nth TCP segment carrying data (counted by distinct
	// sequence number, from 1) in the rule's direction, and its
	// retransmissions.
	MatchData Match = iota + 1
	// MatchSYNACK: a SYN,ACK.
	MatchSYNACK
	// MatchLastACK: the last ACK of a close: a bare ACK of the other side's
	// FIN, sent by a side that has sent its own FIN already.
	MatchLastACK
	// MatchWindow: every frame between From and From+For after the wire
	// started.
	MatchWindow
	// MatchSYN: a SYN opening a connection (no ACK), first or resent.
	MatchSYN
	// MatchHandshakeACK: the ACK completing a three-way handshake: a bare
	// ACK of the peer's SYN,ACK, sent before any data.
	MatchHandshakeACK
)

func (m Match) String() string {
	switch m {
	case MatchData:
		return "data"
	case MatchSYNACK:
		return "syn-ack"
	case MatchLastACK:
		return "last-ack"
	case MatchWindow:
		return "window"
	case MatchSYN:
		return "syn"
	case MatchHandshakeACK:
		return "handshake-ack"
	}
	return fmt.Sprintf("match(%d)", uint8(m))
}

// RuleAction is what a targeted rule does to the frames it matches.
type RuleAction uint8

// Rule actions.
const (
	Drop    RuleAction = iota // the frame is lost
	Corrupt                   // one bit after the IP header is flipped
)

// Rule is a targeted impairment: it acts on the frames in one direction that
// match, before any random impairment, and its Name is the verdict's Rule.
type Rule struct {
	Name   string
	Dir    Direction
	Match  Match
	Action RuleAction
	// N is the data segment MatchData looks for (1 = the first).
	N int
	// Times is how many matching frames the rule acts on (0 = 1; for
	// MatchData retransmissions of the segment count too). Ignored by
	// MatchWindow, which acts on every frame in its window.
	Times int
	// From and For are MatchWindow's window, relative to the wire's start.
	From, For time.Duration
	// Conn, if set, limits the rule to the Conn-th TCP connection the wire
	// carries (1 = the first): a lesson in acts loses a packet of one act's
	// connection only, and MatchData's N counts that connection's data
	// segments. Ignored by MatchWindow.
	Conn int
}

func (r Rule) validate() error {
	switch {
	case r.Name == "":
		return fmt.Errorf("wire rule %s: no name", r.Match)
	case r.Match < MatchData || r.Match > MatchHandshakeACK:
		return fmt.Errorf("wire rule %q: unknown match %d", r.Name, r.Match)
	case r.Match == MatchData && r.N < 1:
		return fmt.Errorf("wire rule %q: data segment %d (the first is 1)", r.Name, r.N)
	case r.Match == MatchWindow && r.For <= 0:
		return fmt.Errorf("wire rule %q: empty window", r.Name)
	case r.Times < 0 || r.Conn < 0 || r.Dir > BtoA || r.Action > Corrupt:
		return fmt.Errorf("wire rule %q: bad times, direction or action", r.Name)
	}
	return nil
}

type ruleState struct {
	Rule
	used   int
	target uint32 // MatchData: sequence number of the Nth data segment
	found  bool
	flow   flowKey
}

func (r *ruleState) matches(dir Direction, since time.Duration, s segment, isTCP bool, t *tcpTracker) bool {
	if dir != r.Dir {
		return false
	}
	if r.Match == MatchWindow {
		return since >= r.From && since < r.From+r.For
	}
	times := max(r.Times, 1)
	if r.used >= times || !isTCP || (r.Conn > 0 && s.conn != r.Conn) {
		return false
	}
	hit := false
	switch r.Match {
	case MatchSYNACK:
		hit = s.syn && s.ackf
	case MatchLastACK:
		hit = s.bareACK() && t.isLastACK(dir, s)
	case MatchSYN:
		hit = s.syn && !s.ackf
	case MatchHandshakeACK:
		hit = s.bareACK() && t.isHandshakeACK(dir, s)
	case MatchData:
		if s.payload == 0 {
			return false
		}
		if !r.found {
			n := t.dataCount[dir]
			if r.Conn > 0 {
				n = t.flows[s.key][dir].data // the Nth of that connection
			}
			if s.newData && n == r.N {
				r.found, r.target, r.flow = true, s.seq, s.key
				hit = true
			}
		} else {
			hit = s.key == r.flow && s.seq == r.target
		}
	}
	if hit {
		r.used++
	}
	return hit
}

// flowKey identifies a TCP connection regardless of direction.
type flowKey struct{ lo, hi [18]byte }

type segment struct {
	key                 flowKey
	seq, ack            uint32
	payload             int
	syn, ackf, fin, rst bool
	newData             bool // payload beyond anything sent before in this flow
	conn                int  // the flow's number, from 1, in the order the wire first saw each
}

func (s segment) bareACK() bool { return s.ackf && !s.syn && !s.fin && !s.rst && s.payload == 0 }

// tcpTracker follows what each side of each flow has sent: the end of its
// data (to tell new data from retransmissions) and its FIN.
type tcpTracker struct {
	flows     map[flowKey]*[2]sideState // indexed by Direction
	conns     map[flowKey]int           // each flow's number, from 1
	dataCount [2]int                    // new data segments seen per direction
}

type sideState struct {
	started bool
	end     uint32 // highest sequence number sent + 1
	synSent bool
	synEnd  uint32 // sequence number after the SYN (its ISN + 1)
	data    int    // new data segments this side has sent
	finSent bool
	finEnd  uint32 // sequence number after the FIN
}

func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

func (t *tcpTracker) observe(dir Direction, s *segment) {
	if t.flows == nil {
		t.flows, t.conns = map[flowKey]*[2]sideState{}, map[flowKey]int{}
	}
	f := t.flows[s.key]
	if f == nil {
		f = new([2]sideState)
		t.flows[s.key] = f
		t.conns[s.key] = len(t.conns) + 1
	}
	s.conn = t.conns[s.key]
	side := &f[dir]
	end := s.seq + uint32(s.payload)
	if s.syn {
		end++
		side.synSent, side.synEnd = true, end
	}
	if s.fin {
		end++
		side.finSent, side.finEnd = true, end
	}
	if s.payload > 0 && (!side.started || seqAfter(end, side.end)) {
		s.newData = true
		t.dataCount[dir]++
		side.data++
	}
	if !side.started || seqAfter(end, side.end) {
		side.end, side.started = end, true
	}
}

// isHandshakeACK: s acknowledges the peer's SYN and its sender has sent
// its own SYN and no data since.
func (t *tcpTracker) isHandshakeACK(dir Direction, s segment) bool {
	f := t.flows[s.key]
	if f == nil {
		return false
	}
	me, peer := f[dir], f[dir.Reverse()]
	return me.synSent && peer.synSent && s.ack == peer.synEnd && me.end == me.synEnd
}

func (t *tcpTracker) isLastACK(dir Direction, s segment) bool {
	f := t.flows[s.key]
	if f == nil {
		return false
	}
	me, peer := f[dir], f[dir.Reverse()]
	return me.finSent && peer.finSent && s.ack == peer.finEnd
}

// decoder decodes just enough of a frame for the targeted rules.
type decoder struct {
	parser  *gopacket.DecodingLayerParser
	eth     layers.Ethernet
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcpL    layers.TCP
	payload gopacket.Payload
	decoded []gopacket.LayerType
}

// tcp decodes frame's TCP header; ok is false for anything else.
func (d *decoder) tcp(frame []byte) (s segment, ok bool) {
	if d.parser == nil {
		d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.ip4, &d.ip6, &d.tcpL, &d.payload)
		d.parser.IgnoreUnsupported = true
	}
	d.decoded = d.decoded[:0]
	_ = d.parser.DecodeLayers(frame, &d.decoded) // errors leave what was decoded
	var src, dst []byte
	var l3 bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			src, dst, l3 = d.ip4.SrcIP, d.ip4.DstIP, true
		case layers.LayerTypeIPv6:
			src, dst, l3 = d.ip6.SrcIP, d.ip6.DstIP, true
		case layers.LayerTypeTCP:
			ok = l3
		}
	}
	if !ok {
		return segment{}, false
	}
	c := &d.tcpL
	var a, b [18]byte
	copy(a[:16], src)
	a[16], a[17] = byte(c.SrcPort>>8), byte(c.SrcPort)
	copy(b[:16], dst)
	b[16], b[17] = byte(c.DstPort>>8), byte(c.DstPort)
	if string(a[:]) > string(b[:]) {
		a, b = b, a
	}
	return segment{
		key: flowKey{a, b}, seq: c.Seq, ack: c.Ack, payload: len(c.Payload),
		syn: c.SYN, ackf: c.ACK, fin: c.FIN, rst: c.RST,
	}, true
}
