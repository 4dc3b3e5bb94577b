package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Decoder decodes frames of one link type into Packets. It reuses its layers
// between calls and is not safe for concurrent use.
type Decoder struct {
	link   layers.LinkType
	n      int
	eth    layers.Ethernet
	sll    layers.LinuxSLL
	lo     layers.Loopback
	ip4    layers.IPv4
	ip6    layers.IPv6
	tcp    layers.TCP
	udp    layers.UDP
	icmp4  layers.ICMPv4
	icmp6  layers.ICMPv6
	arp    layers.ARP
	pay    gopacket.Payload
	parser *gopacket.DecodingLayerParser
	// raw link type: no link header, the IP version decides the first layer.
	parser6 *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

// ErrLinkType is returned for link types the decoder cannot start from.
var ErrLinkType = errors.New("unsupported link type")

// NewDecoder returns a decoder for frames of the given link type.
func NewDecoder(link layers.LinkType) (*Decoder, error) {
	d := &Decoder{link: link, decoded: make([]gopacket.LayerType, 0, 8)}
	var first gopacket.LayerType
	switch link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		first = layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12 /* DLT_RAW on some systems */ :
		first = layers.LayerTypeIPv4
	default:
		return nil, fmt.Errorf("%w %d (%s)", ErrLinkType, link, link)
	}
	d.parser = d.newParser(first)
	d.parser6 = d.newParser(layers.LayerTypeIPv6)
	return d, nil
}

// newParser builds a parser over the decoder's layers. The layers sit in a
// slice indexed by layer type (DecodingLayerSparse) rather than gopacket's
// default map: a map lookup per layer was a tenth of the per-packet cost.
func (d *Decoder) newParser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	var dlc gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.sll, &d.lo, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6, &d.arp, &d.pay} {
		dlc = dlc.Put(l)
	}
	p := gopacket.NewDecodingLayerParser(first)
	p.SetDecodingLayerContainer(dlc)
	p.IgnoreUnsupported = true
	return p
}

// LinkType is the link type the decoder starts from.
func (d *Decoder) LinkType() layers.LinkType { return d.link }

// Decode fills p from frame data. data is retained in p.Data, so it must not be
// modified afterwards. Packets are numbered in the order they are decoded.
// Frames that are not IP, or truncated ones, still give a record (Proto
// ProtoOther) and an error saying what was wrong; they are never dropped.
func (d *Decoder) Decode(data []byte, length int, p *Packet) error {
	d.n++
	*p = Packet{N: d.n, Data: data, Length: length, Link: d.link}
	p.Opts.WScale = -1
	parser := d.parser
	if d.isRaw() && len(data) > 0 && data[0]>>4 == 6 {
		parser = d.parser6
	}
	err := parser.DecodeLayers(data, &d.decoded)
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			p.IPVersion = 4
			p.NetworkOffset = offsetOf(data, d.ip4.Contents)
			p.TTL = d.ip4.TTL
			p.IPID = d.ip4.Id
			p.Src = netip.AddrPortFrom(addr4(d.ip4.SrcIP), 0)
			p.Dst = netip.AddrPortFrom(addr4(d.ip4.DstIP), 0)
		case layers.LayerTypeIPv6:
			p.IPVersion = 6
			p.NetworkOffset = offsetOf(data, d.ip6.Contents)
			p.TTL = d.ip6.HopLimit
			p.Src = netip.AddrPortFrom(addr6(d.ip6.SrcIP), 0)
			p.Dst = netip.AddrPortFrom(addr6(d.ip6.DstIP), 0)
		case layers.LayerTypeTCP:
			d.fillTCP(data, p)
		case layers.LayerTypeUDP:
			p.Proto = ProtoUDP
			p.Src = netip.AddrPortFrom(p.Src.Addr(), uint16(d.udp.SrcPort))
			p.Dst = netip.AddrPortFrom(p.Dst.Addr(), uint16(d.udp.DstPort))
			p.TransportOffset = offsetOf(data, d.udp.Contents)
			p.PayloadOffset = p.TransportOffset + 8
			p.PayloadLen = len(d.udp.Payload)
		case layers.LayerTypeICMPv4:
			p.Proto = ProtoICMP
			p.ICMP = ICMPInfo{Type: d.icmp4.TypeCode.Type(), Code: d.icmp4.TypeCode.Code()}
			p.TransportOffset = offsetOf(data, d.icmp4.Contents)
			p.PayloadOffset = p.TransportOffset + len(d.icmp4.Contents)
			p.PayloadLen = len(d.icmp4.Payload)
			if t := p.ICMP.Type; t == layers.ICMPv4TypeDestinationUnreachable || t == layers.ICMPv4TypeTimeExceeded {
				quote(d.icmp4.Payload, &p.ICMP)
			}
		case layers.LayerTypeARP:
			d.fillARP(data, p)
		case layers.LayerTypeICMPv6:
			p.Proto = ProtoICMP
			p.ICMP = ICMPInfo{Type: d.icmp6.TypeCode.Type(), Code: d.icmp6.TypeCode.Code(), V6: true}
			p.TransportOffset = offsetOf(data, d.icmp6.Contents)
			// ICMPv6 keeps the 4 bytes after the checksum in its payload.
			p.PayloadOffset = p.TransportOffset + len(d.icmp6.Contents)
			p.PayloadLen = len(d.icmp6.Payload)
			if t := p.ICMP.Type; (t == layers.ICMPv6TypeDestinationUnreachable || t == layers.ICMPv6TypeTimeExceeded) && len(d.icmp6.Payload) > 4 {
				quote(d.icmp6.Payload[4:], &p.ICMP)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("packet %d: %w", p.N, err)
	}
	if p.IPVersion == 0 {
		return nil // not IP (ARP, ...): a record without addresses
	}
	return nil
}

// fillARP reads an Ethernet/IPv4 ARP message (the only kind a Linux lab
// host sends); any other stays ProtoOther.
func (d *Decoder) fillARP(data []byte, p *Packet) {
	a := &d.arp
	if a.AddrType != layers.LinkTypeEthernet || a.Protocol != layers.EthernetTypeIPv4 ||
		len(a.SourceHwAddress) != 6 || len(a.DstHwAddress) != 6 || len(a.SourceProtAddress) != 4 || len(a.DstProtAddress) != 4 {
		return
	}
	p.Proto = ProtoARP
	p.NetworkOffset = offsetOf(data, a.Contents)
	p.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a.SourceProtAddress)), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a.DstProtAddress)), 0)
	p.ARP = ARPInfo{Op: a.Operation, SenderMAC: [6]byte(a.SourceHwAddress), TargetMAC: [6]byte(a.DstHwAddress)}
	if len(d.eth.DstMAC) == 6 && d.link == layers.LinkTypeEthernet {
		p.ARP.EthDst = [6]byte(d.eth.DstMAC)
	}
}

func (d *Decoder) isRaw() bool {
	switch d.link {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12:
		return true
	}
	return false
}

func (d *Decoder) fillTCP(data []byte, p *Packet) {
	t := &d.tcp
	p.Proto = ProtoTCP
	p.Src = netip.AddrPortFrom(p.Src.Addr(), uint16(t.SrcPort))
	p.Dst = netip.AddrPortFrom(p.Dst.Addr(), uint16(t.DstPort))
	p.Seq, p.Ack, p.Window = t.Seq, t.Ack, t.Window
	p.HeaderLen = t.DataOffset * 4
	p.TransportOffset = offsetOf(data, t.Contents)
	p.PayloadOffset = p.TransportOffset + len(t.Contents)
	p.PayloadLen = len(t.Payload)
	// The Flags bits are the header's flag byte (CWR ... FIN), plus NS
	// from the byte before it.
	if len(t.Contents) >= 14 {
		p.Flags = Flags(t.Contents[13]) | Flags(t.Contents[12]&1)<<8
	}
	for _, o := range t.Options {
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(o.OptionData) == 2 {
				p.Opts.MSS = binary.BigEndian.Uint16(o.OptionData)
			}
		case layers.TCPOptionKindWindowScale:
			if len(o.OptionData) == 1 {
				p.Opts.WScale = int8(o.OptionData[0])
			}
		case layers.TCPOptionKindSACKPermitted:
			p.Opts.SACKPerm = true
		case layers.TCPOptionKindTimestamps:
			if len(o.OptionData) == 8 {
				p.Opts.TS = true
				p.Opts.TSVal = binary.BigEndian.Uint32(o.OptionData)
				p.Opts.TSEcr = binary.BigEndian.Uint32(o.OptionData[4:])
			}
		case layers.TCPOptionKindSACK:
			for i := 0; i+8 <= len(o.OptionData) && p.Opts.NSACK < 4; i += 8 {
				p.Opts.SACK[p.Opts.NSACK] = [2]uint32{binary.BigEndian.Uint32(o.OptionData[i:]), binary.BigEndian.Uint32(o.OptionData[i+4:])}
				p.Opts.NSACK++
			}
		}
	}
}

// quote reads the IP header and first transport bytes an ICMP error carries.
func quote(b []byte, info *ICMPInfo) {
	if len(b) < 1 {
		return
	}
	var src, dst netip.Addr
	var proto uint8
	var hl int
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return
		}
		hl = int(b[0]&0x0f) * 4
		proto = b[9]
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
	case 6:
		if len(b) < 40 {
			return
		}
		hl = 40
		proto = b[6]
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
	default:
		return
	}
	info.Quoted = true
	var sp, dp uint16
	if len(b) >= hl+4 {
		sp = binary.BigEndian.Uint16(b[hl:])
		dp = binary.BigEndian.Uint16(b[hl+2:])
	}
	switch proto {
	case 6:
		info.QuotedProto = ProtoTCP
	case 17:
		info.QuotedProto = ProtoUDP
	case 1, 58:
		info.QuotedProto = ProtoICMP
		sp, dp = 0, 0
	}
	info.QuotedSrc = netip.AddrPortFrom(src, sp)
	info.QuotedDst = netip.AddrPortFrom(dst, dp)
}

func addr4(ip []byte) netip.Addr {
	if len(ip) != 4 {
		a, _ := netip.AddrFromSlice(ip)
		return a.Unmap()
	}
	return netip.AddrFrom4([4]byte(ip))
}

func addr6(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

// offsetOf is the position of sub within data (sub is a sub-slice of data).
func offsetOf(data, sub []byte) int {
	if len(sub) == 0 || len(data) == 0 {
		return 0
	}
	return cap(data) - cap(sub)
}

// Full decodes every layer of a packet with gopacket, for a details view.
// It allocates; use it for the one packet a user is looking at.
func Full(p *Packet) gopacket.Packet {
	var first gopacket.Decoder = p.Link
	if p.Link == layers.LinkTypeRaw || p.Link == layers.LinkTypeIPv4 || p.Link == layers.LinkTypeIPv6 || p.Link == 12 {
		first = layers.LayerTypeIPv4
		if len(p.Data) > 0 && p.Data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	}
	return gopacket.NewPacket(p.Data, first, gopacket.DecodeOptions{NoCopy: true})
}
