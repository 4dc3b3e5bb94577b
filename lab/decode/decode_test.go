package decode_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
)

// frames reads a fixture recorded by `netlab run echo --pcap`.
func frames(t testing.TB, path string) ([]capture.Frame, layers.LinkType) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []capture.Frame
	for {
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out, src.LinkType()
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
}

func TestEchoFixture(t *testing.T) {
	fs, link := frames(t, "testdata/echo.pcapng")
	dec, err := decode.NewDecoder(link)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flags   decode.Flags
		payload string
		mss     uint16
	}{
		{decode.SYN, "", 65495},
		{decode.SYN | decode.ACK, "", 65495},
		{decode.ACK, "", 0},
		{decode.PSH | decode.ACK, "hello world", 0},
		{decode.ACK, "", 0},
		{decode.PSH | decode.ACK, "hello world", 0},
		{decode.ACK, "", 0},
	}
	for i, tc := range tests {
		var p decode.Packet
		if err := dec.Decode(fs[i].Data, fs[i].Length, &p); err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if p.N != i+1 || p.Proto != decode.ProtoTCP || p.IPVersion != 4 {
			t.Errorf("packet %d: N=%d proto=%s ip=%d", i+1, p.N, p.Proto, p.IPVersion)
		}
		if p.Flags != tc.flags || string(p.Payload()) != tc.payload || p.Opts.MSS != tc.mss {
			t.Errorf("packet %d: %s payload %q mss %d; want %s %q %d", i+1, p.Flags, p.Payload(), p.Opts.MSS, tc.flags, tc.payload, tc.mss)
		}
		if p.Src.Addr() != netip.MustParseAddr("127.0.0.1") || (p.Src.Port() != 8888 && p.Dst.Port() != 8888) {
			t.Errorf("packet %d: %s > %s", i+1, p.Src, p.Dst)
		}
		if p.HeaderLen < 20 || p.TransportOffset != 14+20 || p.PayloadOffset != p.TransportOffset+int(p.HeaderLen) {
			t.Errorf("packet %d: offsets transport %d payload %d header %d", i+1, p.TransportOffset, p.PayloadOffset, p.HeaderLen)
		}
	}
}

// build serializes layers into a frame.
func build(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSynthetic(t *testing.T) {
	lo := []byte{127, 0, 0, 1}
	cliMAC, srvMAC := net.HardwareAddr{2, 0, 0, 0, 0, 0x0a}, net.HardwareAddr{2, 0, 0, 0, 0, 0x14}
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	ip4 := func(proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: lo, DstIP: lo}
	}
	eth := &layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9999}
	quotedIP := ip4(layers.IPProtocolUDP)
	inner := build(t, quotedIP, udp, gopacket.Payload("ping"))
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: netip.IPv6Loopback().AsSlice(), DstIP: netip.IPv6Loopback().AsSlice()}
	tcp6 := &layers.TCP{SrcPort: 5000, DstPort: 80, SYN: true, Seq: 7, Window: 100}

	tests := []struct {
		name  string
		link  layers.LinkType
		data  []byte
		check func(*testing.T, *decode.Packet)
	}{
		{"udp datagram", layers.LinkTypeEthernet, build(t, eth, ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 40000, DstPort: 53}, gopacket.Payload("query")), func(t *testing.T, p *decode.Packet) {
			if p.Proto != decode.ProtoUDP || p.PayloadLen != 5 || p.Dst.Port() != 53 || string(p.Payload()) != "query" {
				t.Errorf("got %s %s payload %q", p.Proto, p.Dst, p.Payload())
			}
		}},
		{"icmp port unreachable quotes the datagram", layers.LinkTypeEthernet, build(t, eth, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(inner)), func(t *testing.T, p *decode.Packet) {
			if p.Proto != decode.ProtoICMP || !p.ICMP.Quoted || p.ICMP.QuotedProto != decode.ProtoUDP || p.ICMP.QuotedDst.Port() != 9999 || p.ICMP.QuotedSrc.Port() != 40000 {
				t.Errorf("got %+v", p.ICMP)
			}
			if p.ICMPName() != "ICMP port unreachable" {
				t.Errorf("name %q", p.ICMPName())
			}
		}},
		{"raw link type, IPv6 TCP", layers.LinkTypeRaw, build(t, ip6, tcp6), func(t *testing.T, p *decode.Packet) {
			if p.IPVersion != 6 || p.Proto != decode.ProtoTCP || p.Flags != decode.SYN || p.Dst.Port() != 80 || p.Seq != 7 {
				t.Errorf("got v%d %s %s %s seq %d", p.IPVersion, p.Proto, p.Flags, p.Dst, p.Seq)
			}
		}},
		{"arp request: who has, broadcast", layers.LinkTypeEthernet, build(t, &layers.Ethernet{EthernetType: layers.EthernetTypeARP, SrcMAC: cliMAC, DstMAC: bcast},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
				SourceHwAddress: cliMAC, SourceProtAddress: []byte{192, 0, 2, 10}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{192, 0, 2, 20}}), func(t *testing.T, p *decode.Packet) {
			if p.Proto != decode.ProtoARP || p.IPVersion != 0 || p.ARP.Op != decode.ARPRequest || !p.ARP.Broadcast() {
				t.Errorf("got %s v%d op %d", p.Proto, p.IPVersion, p.ARP.Op)
			}
			if got, want := p.Label(), "ARP who has 192.0.2.20? tell 192.0.2.10 (broadcast)"; got != want {
				t.Errorf("label %q, want %q", got, want)
			}
		}},
		{"arp reply: is at, unicast", layers.LinkTypeEthernet, build(t, &layers.Ethernet{EthernetType: layers.EthernetTypeARP, SrcMAC: srvMAC, DstMAC: cliMAC},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply,
				SourceHwAddress: srvMAC, SourceProtAddress: []byte{192, 0, 2, 20}, DstHwAddress: cliMAC, DstProtAddress: []byte{192, 0, 2, 10}}), func(t *testing.T, p *decode.Packet) {
			if p.Proto != decode.ProtoARP || p.ARP.Op != decode.ARPReply || p.ARP.Broadcast() || p.ARP.TargetMAC != [6]byte(cliMAC) {
				t.Errorf("got %s op %d target %x", p.Proto, p.ARP.Op, p.ARP.TargetMAC)
			}
			if got, want := p.Label(), "ARP 192.0.2.20 is at 02:00:00:00:00:14"; got != want {
				t.Errorf("label %q, want %q", got, want)
			}
		}},
		{"arp for another protocol stays a record without addresses", layers.LinkTypeEthernet, build(t, &layers.Ethernet{EthernetType: layers.EthernetTypeARP, SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6)},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv6, HwAddressSize: 6, ProtAddressSize: 4, SourceHwAddress: make([]byte, 6), SourceProtAddress: lo, DstHwAddress: make([]byte, 6), DstProtAddress: lo}), func(t *testing.T, p *decode.Packet) {
			if p.Proto != decode.ProtoOther || p.IPVersion != 0 || p.Src.IsValid() {
				t.Errorf("got %s v%d %s", p.Proto, p.IPVersion, p.Src)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := decode.NewDecoder(tc.link)
			if err != nil {
				t.Fatal(err)
			}
			var p decode.Packet
			if err := dec.Decode(tc.data, len(tc.data), &p); err != nil {
				t.Fatal(err)
			}
			tc.check(t, &p)
		})
	}
}

// TestTruncated: a cut frame still gives a record and an error, never a panic.
func TestTruncated(t *testing.T) {
	fs, link := frames(t, "testdata/echo.pcapng")
	dec, _ := decode.NewDecoder(link)
	data := fs[3].Data
	for n := 0; n < len(data); n++ {
		var p decode.Packet
		dec.Decode(data[:n], len(data), &p)
		if p.Length != len(data) {
			t.Fatalf("cut at %d: length %d", n, p.Length)
		}
	}
}

func TestUnsupportedLink(t *testing.T) {
	if _, err := decode.NewDecoder(layers.LinkTypeIEEE802_11); !errors.Is(err, decode.ErrLinkType) {
		t.Fatalf("got %v, want ErrLinkType", err)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		f    decode.Flags
		want string
	}{
		{decode.SYN, "SYN"}, {decode.SYN | decode.ACK, "SYN,ACK"}, {decode.FIN | decode.ACK, "FIN,ACK"},
		{decode.RST | decode.ACK, "RST,ACK"}, {decode.PSH | decode.ACK, "PSH,ACK"}, {0, "none"},
	}
	for _, tc := range tests {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.f, got, tc.want)
		}
		if tc.f != 0 {
			if back, ok := decode.ParseFlags(tc.want); !ok || back != tc.f {
				t.Errorf("ParseFlags(%q) = %v %v", tc.want, back, ok)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	fs, _ := frames(f, "testdata/echo.pcapng")
	for _, fr := range fs {
		f.Add(fr.Data)
	}
	eth, _ := decode.NewDecoder(layers.LinkTypeEthernet)
	raw, _ := decode.NewDecoder(layers.LinkTypeRaw)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range []*decode.Decoder{eth, raw} {
			var p decode.Packet
			dec.Decode(data, len(data), &p)
			_ = p.Summary()
		}
	})
}
