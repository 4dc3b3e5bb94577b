package appdecode

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
)

// pipeline runs frames through decode, flow and the app decoder, as the
// engine's capture goroutine does.
type pipeline struct {
	dec  *decode.Decoder
	tr   *flow.Tracker
	app  *Decoder
	pkts []*decode.Packet
	t    time.Time
}

func newPipeline(tb testing.TB, link layers.LinkType, keys *KeyLog) *pipeline {
	tb.Helper()
	dec, err := decode.NewDecoder(link)
	if err != nil {
		tb.Fatal(err)
	}
	return &pipeline{dec: dec, tr: flow.NewTracker(), app: New(keys), t: time.Unix(1700000000, 0)}
}

func (pl *pipeline) add(frame []byte, t time.Time) *decode.Packet {
	p := new(decode.Packet)
	pl.dec.Decode(frame, len(frame), p)
	pl.tr.Add(p)
	pl.app.Add(p, t)
	pl.pkts = append(pl.pkts, p)
	return p
}

// feedFile runs a capture file through the pipeline.
func feedFile(tb testing.TB, path string, keys *KeyLog) *pipeline {
	tb.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	pl := newPipeline(tb, src.LinkType(), keys)
	for {
		f, err := src.ReadFrame()
		if err != nil {
			break
		}
		pl.add(f.Data, f.Time)
	}
	return pl
}

// summaries lists "N summary" for packets with an AppInfo ("~" marks partial).
func (pl *pipeline) summaries() []string {
	var out []string
	for _, p := range pl.pkts {
		if p.App == nil {
			continue
		}
		mark := ""
		if p.App.Partial() {
			mark = "~"
		}
		out = append(out, fmt.Sprintf("%d%s %s", p.N, mark, p.App.Summary()))
	}
	return out
}

// conn builds the frames of one TCP connection (side 0: client, 1: server).
type conn struct {
	tb    testing.TB
	pl    *pipeline
	addr  [2]netip.AddrPort
	seq   [2]uint32
	iseq  [2]uint32
	frame int
}

func newConn(tb testing.TB, pl *pipeline, client, server string) *conn {
	return &conn{tb: tb, pl: pl, addr: [2]netip.AddrPort{netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)},
		iseq: [2]uint32{1000, 5000}, seq: [2]uint32{1000, 5000}}
}

// build makes one Ethernet/IPv4/TCP frame from side.
func (c *conn) build(side int, syn, fin, rst, ack bool, seq uint32, payload []byte) []byte {
	src, dst := c.addr[side], c.addr[1-side]
	eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq,
		SYN: syn, FIN: fin, RST: rst, ACK: ack, PSH: len(payload) > 0, Window: 65535}
	if ack {
		tcp.Ack = c.seq[1-side]
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		c.tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func (c *conn) push(frame []byte) *decode.Packet {
	c.frame++
	return c.pl.add(frame, c.pl.t.Add(time.Duration(c.frame)*time.Millisecond))
}

// handshake sends SYN, SYN,ACK, ACK.
func (c *conn) handshake() {
	c.push(c.build(0, true, false, false, false, c.seq[0], nil))
	c.seq[0]++
	c.push(c.build(1, true, false, false, true, c.seq[1], nil))
	c.seq[1]++
	c.push(c.build(0, false, false, false, true, c.seq[0], nil))
}

// data makes the next segment of side carrying payload, without sending it.
func (c *conn) data(side int, payload string) []byte {
	f := c.build(side, false, false, false, true, c.seq[side], []byte(payload))
	c.seq[side] += uint32(len(payload))
	return f
}

// send sends payload from side in segments of at most mss bytes.
func (c *conn) send(side int, payload string, mss int) {
	for len(payload) > 0 {
		n := min(mss, len(payload))
		c.push(c.data(side, payload[:n]))
		payload = payload[n:]
	}
}

// ack sends a pure ACK from side.
func (c *conn) ack(side int) { c.push(c.build(side, false, false, false, true, c.seq[side], nil)) }

// fin sends FIN from side.
func (c *conn) fin(side int) {
	c.push(c.build(side, false, true, false, true, c.seq[side], nil))
	c.seq[side]++
}

// rst sends RST from side.
func (c *conn) rst(side int) { c.push(c.build(side, false, false, true, true, c.seq[side], nil)) }

func join(lines []string) string { return strings.Join(lines, "\n") }
