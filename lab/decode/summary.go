package decode

import (
	"fmt"
	"strconv"
	"strings"
)

// Label is the short text drawn on a ladder arrow: flags and the numbers a
// learner reads first ("SYN seq=0 win=65495 mss=65495", "PSH,ACK seq=1 ack=1 len=5").
// Sequence numbers are relative (see lab/flow). A packet that carries an
// application message is labelled with it first ("GET /index.html · PSH,ACK
// seq=1 ..."): on a narrow arrow the message survives truncation.
func (p *Packet) Label() string {
	var b strings.Builder
	if s := p.App.Summary(); s != "" {
		b.WriteString(s)
		b.WriteString(" · ")
	}
	switch p.Proto {
	case ProtoTCP:
		b.WriteString(p.Flags.String())
		b.WriteString(" seq=")
		b.WriteString(strconv.FormatUint(uint64(p.Flow.RelSeq), 10))
		if p.Flags&ACK != 0 {
			b.WriteString(" ack=")
			b.WriteString(strconv.FormatUint(uint64(p.Flow.RelAck), 10))
		}
		if p.PayloadLen > 0 {
			b.WriteString(" len=")
			b.WriteString(strconv.Itoa(p.PayloadLen))
		}
		b.WriteString(" win=")
		b.WriteString(strconv.FormatUint(uint64(p.Flow.WinBytes), 10))
		if p.Opts.MSS != 0 {
			b.WriteString(" mss=")
			b.WriteString(strconv.Itoa(int(p.Opts.MSS)))
		}
	case ProtoUDP:
		b.WriteString("UDP len=")
		b.WriteString(strconv.Itoa(p.PayloadLen))
	case ProtoICMP:
		b.WriteString(p.ICMPName())
	case ProtoARP:
		b.WriteString(p.ARPText())
	default:
		fmt.Fprintf(&b, "frame len=%d", p.Length)
	}
	return b.String()
}

// Summary is a one-line description: the label plus options and marks,
// after what became of a packet that never reached its receiver
// ("dropped by the firewall · RST,ACK seq=1 ...": first, so that a cut
// summary keeps it).
func (p *Packet) Summary() string {
	var b strings.Builder
	if p.Lab.Drop != Delivered {
		b.WriteString(p.Lab.Drop.Text().En)
		b.WriteString(" · ")
	}
	b.WriteString(p.Label())
	if p.Proto == ProtoTCP {
		if p.Opts.WScale >= 0 {
			fmt.Fprintf(&b, " wscale=%d", p.Opts.WScale)
		}
		if p.Opts.SACKPerm {
			b.WriteString(" sack_perm")
		}
		if p.Opts.NSACK > 0 {
			fmt.Fprintf(&b, " sack=%d", p.Opts.NSACK)
		}
		if p.Opts.TS {
			fmt.Fprintf(&b, " tsval=%d tsecr=%d", p.Opts.TSVal, p.Opts.TSEcr)
		}
	}
	if p.Proto == ProtoICMP && p.ICMP.Quoted {
		fmt.Fprintf(&b, " (%s %s > %s)", p.ICMP.QuotedProto, p.ICMP.QuotedSrc, p.ICMP.QuotedDst)
	}
	for _, n := range p.Flow.Expert.Names() {
		b.WriteString(" [")
		b.WriteString(n)
		b.WriteString("]")
	}
	return b.String()
}

// ICMPName names an ICMP message ("echo request", "port unreachable", ...).
func (p *Packet) ICMPName() string {
	t, c := p.ICMP.Type, p.ICMP.Code
	if p.ICMP.V6 {
		switch t {
		case 1:
			if c == 4 {
				return "ICMPv6 port unreachable"
			}
			return fmt.Sprintf("ICMPv6 destination unreachable code=%d", c)
		case 3:
			return "ICMPv6 time exceeded"
		case 128:
			return "ICMPv6 echo request"
		case 129:
			return "ICMPv6 echo reply"
		}
		return fmt.Sprintf("ICMPv6 type=%d code=%d", t, c)
	}
	switch t {
	case 0:
		return "ICMP echo reply"
	case 8:
		return "ICMP echo request"
	case 3:
		switch c {
		case 0:
			return "ICMP network unreachable"
		case 1:
			return "ICMP host unreachable"
		case 3:
			return "ICMP port unreachable"
		case 4:
			return "ICMP fragmentation needed"
		}
		return fmt.Sprintf("ICMP destination unreachable code=%d", c)
	case 11:
		return "ICMP time exceeded"
	}
	return fmt.Sprintf("ICMP type=%d code=%d", t, c)
}

// ARPText says what an ARP message says, as tshark's Info column does:
// "ARP who has 192.0.2.20? tell 192.0.2.10", "ARP 192.0.2.20 is at
// 02:00:00:00:00:14", with "(broadcast)" when the frame went to every
// host on the link.
func (p *Packet) ARPText() string {
	var s string
	switch p.ARP.Op {
	case ARPRequest:
		s = "ARP who has " + p.Dst.Addr().String() + "? tell " + p.Src.Addr().String()
	case ARPReply:
		s = "ARP " + p.Src.Addr().String() + " is at " + MACString(p.ARP.SenderMAC)
	default:
		s = "ARP op " + strconv.Itoa(int(p.ARP.Op))
	}
	if p.ARP.Broadcast() {
		s += " (broadcast)"
	}
	return s
}
