package ui

import (
	"net/netip"
	"testing"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// TestConnsByProtocol: the dashboard's connections are flow's conversations
// (flow.ConnKey): a TCP connection and a UDP exchange between the same two
// addresses are two, in either direction.
func TestConnsByProtocol(t *testing.T) {
	a, b := netip.MustParseAddrPort("127.0.0.1:5353"), netip.MustParseAddrPort("127.0.0.1:8888")
	pkt := func(proto decode.Proto, src, dst netip.AddrPort) timeline.Event {
		return timeline.Event{Kind: timeline.KindPacket, Packet: &decode.Packet{Proto: proto, Src: src, Dst: dst, PayloadLen: 5}}
	}
	tl := timeline.New(timeline.Meta{})
	tl.Append(pkt(decode.ProtoTCP, a, b), pkt(decode.ProtoTCP, b, a), pkt(decode.ProtoUDP, a, b), pkt(decode.ProtoUDP, b, a),
		timeline.Event{Kind: timeline.KindApp, App: &timeline.App{Lane: "client", Call: timeline.CallSendto, Proto: decode.ProtoUDP, Bytes: 5, Socket: timeline.Socket{Local: a, Remote: b}}})
	m := newRunModel(nil, tl, 1)
	if !m.apply(classify(tl, 1, 0, tl.Len())) {
		t.Fatal("delta not applied")
	}
	if len(m.conns) != 2 {
		t.Fatalf("%d connections, want 2 (tcp, udp)", len(m.conns))
	}
	for i, want := range []int{2, 3} {
		if got := len(m.conns[i].data); got != want {
			t.Errorf("connection %d has %d data events, want %d", i, got, want)
		}
	}
}
