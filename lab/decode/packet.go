// Package decode turns captured frames into compact packet records.
//
// The hot path uses gopacket's DecodingLayerParser with preallocated layers
// (about a tenth of the cost of gopacket.NewPacket and no allocation per
// packet); the full gopacket.Packet with every layer is built only on demand,
// for a details view (see Full). The first layer is taken from the source's
// link type, never assumed.
//
// A Packet holds the header fields netlab shows and, each in its own
// sub-struct so that who writes what shows in the type, the annotations
// of the other writers: Flow (lab/flow: relative sequence numbers,
// inferred TCP states, expert marks), Lab (the engine: the lanes of the
// scenario's sockets, lab drops, the wire's verdict) and App (lab/appdecode).
package decode

import (
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/tcpstate"
)

// Proto is the transport protocol of a packet.
type Proto uint8

// Transport protocols netlab summarises.
const (
	ProtoOther Proto = iota
	ProtoTCP
	ProtoUDP
	ProtoICMP // ICMPv4 or ICMPv6
	ProtoARP  // ARP over Ethernet, for IPv4 (Src and Dst: the sender's and target's IP, port 0)
)

func (p Proto) String() string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoARP:
		return "arp"
	}
	return "other"
}

// Flags is the set of TCP flags of a segment.
type Flags uint16

// TCP flags, in the bit order of the TCP header.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
	NS
)

// flagOrder is the order flags are named in: SYN first, as people say "SYN,ACK".
var flagOrder = [...]struct {
	f    Flags
	name string
}{{SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}, {ECE, "ECE"}, {CWR, "CWR"}}

// Has reports whether every flag in f2 is set.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// Names lists the flags that are set, e.g. ["SYN","ACK"].
func (f Flags) Names() []string {
	out := make([]string, 0, 3)
	for _, o := range flagOrder {
		if f&o.f != 0 {
			out = append(out, o.name)
		}
	}
	return out
}

// String joins the flag names with commas ("SYN,ACK"); "none" for no flags.
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	return strings.Join(f.Names(), ",")
}

// ParseFlags reads "SYN,ACK" (any order, any case, "+" or "," separated).
func ParseFlags(s string) (Flags, bool) {
	var f Flags
	for _, part := range strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return r == ',' || r == '+' || r == ' ' }) {
		found := false
		for _, o := range flagOrder {
			if o.name == part {
				f |= o.f
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, true
}

// TCPOptions are the TCP options netlab explains.
type TCPOptions struct {
	MSS      uint16 // 0: absent
	WScale   int8   // -1: absent
	SACKPerm bool
	TS       bool // timestamps present
	TSVal    uint32
	TSEcr    uint32
	NSACK    uint8 // number of SACK blocks
	SACK     [4][2]uint32
}

// ICMPInfo summarises an ICMP message and, for errors, the datagram it quotes.
type ICMPInfo struct {
	Type, Code uint8
	V6         bool
	// Quoted is set for error messages (destination unreachable, time exceeded)
	// that carry the start of the offending datagram.
	Quoted      bool
	QuotedProto Proto
	QuotedSrc   netip.AddrPort
	QuotedDst   netip.AddrPort
}

// Expert marks what a packet means for its conversation, like Wireshark's
// expert info.
type Expert uint16

// Expert marks set by the flow tracker.
const (
	Retransmission Expert = 1 << iota
	DupAck
	ZeroWindow
	ZeroWindowProbe
	WindowUpdate
	KeepAlive
	KeepAliveAck
	Reset
	PrevNotCaptured
	WindowFull
	ZeroWindowProbeAck
)

var expertNames = [...]struct {
	e    Expert
	name string
}{
	{Retransmission, "retransmission"}, {DupAck, "dup-ack"}, {ZeroWindow, "zero-window"},
	{ZeroWindowProbe, "zero-window-probe"}, {WindowUpdate, "window-update"}, {KeepAlive, "keep-alive"},
	{KeepAliveAck, "keep-alive-ack"}, {Reset, "rst"}, {PrevNotCaptured, "previous-segment-not-captured"},
	{WindowFull, "window-full"}, {ZeroWindowProbeAck, "zero-window-probe-ack"},
}

// Names lists the marks that are set.
func (e Expert) Names() []string {
	if e == 0 {
		return nil
	}
	var out []string
	for _, n := range expertNames {
		if e&n.e != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Transition is a TCP state change of one side of a conversation, inferred
// from a packet.
type Transition struct {
	Side     uint8 // 0: the conversation's first endpoint (A), 1: B
	From, To tcpstate.State
}

// Packet is the compact record of one captured frame.
type Packet struct {
	N      int    // packet number in capture order, from 1
	Data   []byte // the frame as captured; owned, never modified
	Length int    // length on the wire (>= len(Data))
	Link   layers.LinkType

	Proto     Proto
	IPVersion uint8
	Src, Dst  netip.AddrPort // port 0 for ICMP
	TTL       uint8
	IPID      uint16

	// Network (IP) header, transport header and payload positions within Data.
	NetworkOffset   int
	TransportOffset int
	PayloadOffset   int
	PayloadLen      int

	// TCP header fields (Proto == ProtoTCP).
	Seq, Ack  uint32
	Flags     Flags
	Window    uint16 // as on the wire, unscaled
	Opts      TCPOptions
	HeaderLen uint8 // TCP header length in bytes

	ICMP ICMPInfo // Proto == ProtoICMP
	ARP  ARPInfo  // Proto == ProtoARP

	// Flow: the flow tracker's annotations (lab/flow).
	Flow FlowNotes
	// Lab: what the engine knows from the lab's own sockets and wire.
	Lab LabNotes

	// App is what the packet carries at the application layer, if decoded.
	App *AppInfo
}

// ARPInfo is what an ARP message says besides the two IP addresses (Src
// and Dst of its Packet): a request asks who has Dst and tells Src's MAC;
// a reply says Src is at SenderMAC.
type ARPInfo struct {
	Op        uint16 // 1 request, 2 reply
	SenderMAC [6]byte
	TargetMAC [6]byte // zero in a request: what it asks for
	EthDst    [6]byte // the frame's destination: ff:ff:ff:ff:ff:ff for a broadcast
}

// ARP operations.
const (
	ARPRequest = 1
	ARPReply   = 2
)

// Broadcast reports whether the frame went to every host on the link.
func (a *ARPInfo) Broadcast() bool { return a.EthDst == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// MACString writes a MAC as ip and tshark do: "02:00:00:00:00:0a".
func MACString(m [6]byte) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[x>>4], hex[x&15])
	}
	return string(b)
}

// FlowNotes are what the flow tracker (lab/flow) learns of a packet from
// the conversation it belongs to. Only the flow tracker writes them.
type FlowNotes struct {
	Conv        int    // conversation number, from 1; 0 if none
	Dir         uint8  // 0: sent by the conversation's first endpoint (A), 1: by B
	RelSeq      uint32 // sequence number relative to the sender's ISN
	RelAck      uint32 // acknowledgement number relative to the receiver's ISN
	WinBytes    uint32 // advertised window in bytes, after window scaling
	Expert      Expert
	NTrans      uint8
	Trans       [3]Transition // inferred state changes this packet caused
	InFlight    uint32        // bytes sent by this packet's sender not yet acknowledged, after it
	StreamStart bool          // the conversation's first packet is not a SYN (capture began mid-stream)
}

// LabNotes are what the engine knows of a packet from the lab itself: the
// lanes of the scenario's sockets, drops the lab caused, and the wire's
// verdict. Only the engine writes them, before the flow tracker sees the
// packet.
type LabNotes struct {
	// From, To: the lanes (client, server, ...) of the sockets at either end.
	From, To string
	// Drop: the lab dropped the packet before its receiver got it.
	Drop Drop
	// Wire: how the packet crossed a lab network's wire (zero on loopback).
	Wire WireNotes
}

// Payload returns the transport payload bytes (nil for none).
func (p *Packet) Payload() []byte {
	if p.PayloadLen == 0 || p.PayloadOffset+p.PayloadLen > len(p.Data) {
		return nil
	}
	return p.Data[p.PayloadOffset : p.PayloadOffset+p.PayloadLen]
}

// SegLen is the TCP sequence space the segment consumes: payload plus SYN and FIN.
func (p *Packet) SegLen() uint32 {
	n := uint32(p.PayloadLen)
	if p.Flags&SYN != 0 {
		n++
	}
	if p.Flags&FIN != 0 {
		n++
	}
	return n
}

// Transitions returns the inferred state changes this packet caused.
func (p *Packet) Transitions() []Transition { return p.Flow.Trans[:p.Flow.NTrans] }

// Network returns the packet from its IP header on (nil for a frame that
// is not IP).
func (p *Packet) Network() []byte {
	if p.IPVersion == 0 || p.NetworkOffset > len(p.Data) {
		return nil
	}
	return p.Data[p.NetworkOffset:]
}
