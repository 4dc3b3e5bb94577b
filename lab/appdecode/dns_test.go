package appdecode

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"
)

// udpFrame builds an Ethernet/IPv4/UDP frame.
func udpFrame(t testing.TB, src, dst string, payload []byte) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: s.Addr().AsSlice(), DstIP: d.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func pack(t testing.TB, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rr(t testing.TB, s string) dns.RR {
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dnsExchange is a query and the answers a zone gives, as messages.
func dnsExchange(t testing.TB) [][]byte {
	q := new(dns.Msg)
	q.SetQuestion("shop.lab.", dns.TypeA)
	q.Id = 0x1a2b
	q.SetEdns0(1232, false)
	a := new(dns.Msg)
	a.SetReply(q)
	a.Authoritative = true
	a.Answer = []dns.RR{rr(t, "shop.lab. 300 IN A 127.0.0.80")}
	q6 := new(dns.Msg)
	q6.SetQuestion("shop.lab.", dns.TypeAAAA)
	q6.Id = 7
	nodata := new(dns.Msg)
	nodata.SetReply(q6)
	soa := rr(t, "lab. 300 IN SOA ns.lab. admin.lab. 1 3600 600 86400 60")
	nodata.Ns = []dns.RR{soa}
	qx := new(dns.Msg)
	qx.SetQuestion("nope.lab.", dns.TypeA)
	qx.Id = 8
	nx := new(dns.Msg)
	nx.SetRcode(qx, dns.RcodeNameError)
	nx.Ns = []dns.RR{soa}
	qc := new(dns.Msg)
	qc.SetQuestion("www.shop.lab.", dns.TypeA)
	qc.Id = 9
	cn := new(dns.Msg)
	cn.SetReply(qc)
	cn.Answer = []dns.RR{rr(t, "www.shop.lab. 300 IN CNAME shop.lab."), rr(t, "shop.lab. 300 IN A 127.0.0.80")}
	return [][]byte{pack(t, q), pack(t, a), pack(t, q6), pack(t, nodata), pack(t, qx), pack(t, nx), pack(t, qc), pack(t, cn)}
}

var dnsWant = []string{
	"A? shop.lab id=0x1a2b",
	"A shop.lab = 127.0.0.80 ttl=300 id=0x1a2b",
	"AAAA? shop.lab id=0x0007",
	"AAAA shop.lab: no records id=0x0007",
	"A? nope.lab id=0x0008",
	"NXDOMAIN nope.lab id=0x0008",
	"A? www.shop.lab id=0x0009",
	"CNAME www.shop.lab = shop.lab ttl=300, A shop.lab = 127.0.0.80 ttl=300 id=0x0009",
}

// addDNSExchange sends dnsExchange's messages as datagrams, queries from
// a client, answers from 127.0.0.53:53.
func addDNSExchange(tb testing.TB, pl *pipeline) {
	for i, m := range dnsExchange(tb) {
		src, dst := "127.0.0.1:40000", "127.0.0.53:53"
		if i%2 == 1 {
			src, dst = dst, src
		}
		pl.add(udpFrame(tb, src, dst, m), pl.t)
	}
}

func TestDNSOverUDP(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	addDNSExchange(t, pl)
	var got []string
	for _, p := range pl.pkts {
		if p.App == nil {
			t.Fatalf("packet %d not named", p.N)
		}
		got = append(got, p.App.Summary())
	}
	if join(got) != join(dnsWant) {
		t.Errorf("got\n%s\nwant\n%s", join(got), join(dnsWant))
	}
	f := pl.pkts[5].App.First().Fields
	if f.Get("rcode") != "NXDOMAIN" || f.Get("negative_ttl") != "60" || !strings.HasPrefix(f.Get("authority"), "lab. 300 IN SOA") {
		t.Errorf("NXDOMAIN fields %v", f)
	}
	f = pl.pkts[0].App.First().Fields
	if f.Get("question") != "shop.lab IN A" || f.Get("flags") != "rd" || f.Get("edns") != "version 0, UDP payload 1232 B" {
		t.Errorf("query fields %v", f)
	}
	if f := pl.pkts[1].App.First().Fields; f.Get("ttl") != "300" || f.Get("flags") != "qr aa rd" {
		t.Errorf("answer fields %v", f)
	}
	// Garbage on port 53 is named as such, not guessed.
	p := pl.add(udpFrame(t, "127.0.0.1:40000", "127.0.0.53:53", []byte{1, 2, 3}), pl.t)
	if p.App == nil || !strings.HasPrefix(p.App.Summary(), "malformed DNS message") {
		t.Errorf("garbage: %+v", p.App)
	}
	// Other ports are not DNS.
	if p := pl.add(udpFrame(t, "127.0.0.1:40000", "127.0.0.1:9999", dnsExchange(t)[0]), pl.t); p.App != nil {
		t.Errorf("port 9999 decoded as %q", p.App.Summary())
	}
}

func TestDNSOverTCP(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	c := newConn(t, pl, "127.0.0.1:40000", "127.0.0.53:53")
	c.handshake()
	var wire [2]string
	for i, m := range dnsExchange(t) {
		wire[i%2] += string([]byte{byte(len(m) >> 8), byte(len(m))}) + string(m)
	}
	c.send(0, wire[0], 30) // messages cut across segments
	c.send(1, wire[1], 1460)
	var got []string
	for _, p := range pl.pkts {
		if p.App != nil {
			got = append(got, strings.Split(p.App.Summary(), ", ")...)
		}
	}
	want := []string{dnsWant[0], dnsWant[2], dnsWant[4], dnsWant[6], dnsWant[1], dnsWant[3], dnsWant[5], "CNAME www.shop.lab = shop.lab ttl=300", "A shop.lab = 127.0.0.80 ttl=300 id=0x0009"}
	if join(got) != join(want) {
		t.Errorf("got\n%s\nwant\n%s", join(got), join(want))
	}
}
