package appdecode

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/decode"
)

// decoded returns the packets of a run of c, decoded and followed (decode,
// flow) but not yet given to an app decoder.
func decoded(b *testing.B, run func(c *conn)) []*decode.Packet {
	pl := newPipeline(b, layers.LinkTypeEthernet, nil)
	run(newConn(b, pl, "127.0.0.1:40000", "127.0.0.80:80"))
	for _, p := range pl.pkts {
		p.App = nil
	}
	return pl.pkts
}

// BenchmarkAddNonApp is the cost for a TCP packet of a connection that is
// not HTTP, TLS or DNS (classified on its first payload, then skipped).
func BenchmarkAddNonApp(b *testing.B) {
	pkts := decoded(b, func(c *conn) {
		c.handshake()
		c.send(0, "hello world", 1460)
		c.send(1, "hello world", 1460)
	})
	d := New(nil)
	for _, p := range pkts {
		d.Add(p, zeroTime)
	}
	p := pkts[len(pkts)-1]
	b.ReportAllocs()
	for b.Loop() {
		d.Add(p, zeroTime)
	}
}

// BenchmarkAddHTTP is the cost per packet of HTTP traffic: a kept-alive
// connection with 500 requests and responses (with their ACKs),
// reassembled and decoded.
func BenchmarkAddHTTP(b *testing.B) {
	pkts := decoded(b, func(c *conn) {
		c.handshake()
		for i := 0; i < 500; i++ {
			c.send(0, getIndex, 1460)
			c.ack(1)
			c.send(1, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3000\r\n\r\n"+string(make([]byte, 3000)), 1460)
			c.ack(0)
		}
		c.fin(0)
		c.fin(1)
	})
	benchPackets(b, pkts)
}

// BenchmarkAddDNS is the cost per DNS datagram (miekg/dns unpacks it).
func BenchmarkAddDNS(b *testing.B) {
	pl := newPipeline(b, layers.LinkTypeEthernet, nil)
	addDNSExchange(b, pl)
	// DNS over UDP keeps no state: one decoder takes them all.
	d := New(nil)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, p := range pl.pkts {
			p.App = nil
			d.Add(p, zeroTime)
		}
		n += len(pl.pkts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

// benchPackets runs pkts through a fresh decoder per pass and reports the
// time per packet.
func benchPackets(b *testing.B, pkts []*decode.Packet) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		d := New(nil)
		for _, p := range pkts {
			p.App = nil
			d.Add(p, zeroTime)
		}
		n += len(pkts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

var zeroTime time.Time
