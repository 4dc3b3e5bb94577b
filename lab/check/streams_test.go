package check

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

func TestStreams(t *testing.T) {
	cli := netip.MustParseAddrPort("127.0.0.1:40000")
	srv := netip.MustParseAddrPort("127.0.0.1:8888")
	udpA := netip.MustParseAddrPort("127.0.0.1:5000")
	udpB := netip.MustParseAddrPort("127.0.0.1:5001")
	cs := timeline.Socket{Local: cli, Remote: srv}
	app := func(act int, lane string, call timeline.Call, proto decode.Proto, n int, s timeline.Socket) timeline.Event {
		return timeline.Event{Kind: timeline.KindApp, Act: act, App: &timeline.App{Lane: lane, Call: call, Proto: proto, Bytes: n, Socket: s}}
	}
	pkt := func(act int, proto decode.Proto, src, dst netip.AddrPort, from, to string, n int) timeline.Event {
		return timeline.Event{Kind: timeline.KindPacket, Act: act, Packet: &decode.Packet{Proto: proto, Src: src, Dst: dst, Lab: decode.LabNotes{From: from, To: to}, PayloadLen: n}}
	}
	tl := timeline.New(timeline.Meta{})
	tl.Append(
		pkt(1, decode.ProtoTCP, cli, srv, "client", "server", 0), // SYN: no data, no stream yet
		app(1, "client", timeline.CallWrite, decode.ProtoTCP, 3, cs),
		pkt(1, decode.ProtoTCP, cli, srv, "client", "server", 3),
		app(1, "server", timeline.CallWrite, decode.ProtoTCP, 2, cs.Reverse()),
		app(1, "client", timeline.CallWrite, decode.ProtoTCP, 4, cs),
		pkt(1, decode.ProtoTCP, srv, cli, "server", "client", 2),
		pkt(1, decode.ProtoTCP, cli, srv, "client", "server", 4),
		app(1, "server", timeline.CallRead, decode.ProtoTCP, 7, cs.Reverse()),
		app(1, "client", timeline.CallRead, decode.ProtoTCP, 2, cs),
		app(2, "a", timeline.CallSendto, decode.ProtoUDP, 9, timeline.Socket{Local: udpA, Remote: udpB}),
		pkt(2, decode.ProtoUDP, udpA, udpB, "a", "b", 9),
		app(2, "b", timeline.CallRecvfrom, decode.ProtoUDP, 9, timeline.Socket{Local: udpB, Remote: udpA}),
	)
	v := NewView(tl)
	got := v.Streams()
	if len(got) != 3 {
		t.Fatalf("%d streams, want 3: %+v", len(got), got)
	}
	want := []Stream{
		{Act: 1, Proto: decode.ProtoTCP, From: "client", To: "server", Src: cli, Dst: srv, Writes: []int{3, 4}, Segments: []int{3, 4}, Reads: []int{7}},
		{Act: 1, Proto: decode.ProtoTCP, From: "server", To: "client", Src: srv, Dst: cli, Writes: []int{2}, Segments: []int{2}, Reads: []int{2}},
		{Act: 2, Proto: decode.ProtoUDP, From: "a", To: "b", Src: udpA, Dst: udpB, Writes: []int{9}, Segments: []int{9}, Reads: []int{9}},
	}
	for i, w := range want {
		g := got[i]
		if g.Act != w.Act || g.Proto != w.Proto || g.From != w.From || g.To != w.To || g.Src != w.Src || g.Dst != w.Dst ||
			!slices.Equal(g.Writes, w.Writes) || !slices.Equal(g.Segments, w.Segments) || !slices.Equal(g.Reads, w.Reads) {
			t.Errorf("stream %d = %+v, want %+v", i, *g, w)
		}
	}
	if st := v.Act(2).StreamFrom("a"); st == nil || st.Proto != decode.ProtoUDP {
		t.Errorf("StreamFrom(a) in act 2 = %+v", st)
	}
	if st := v.StreamFrom("nobody"); st != nil {
		t.Errorf("StreamFrom(nobody) = %+v, want nil", st)
	}
}

func TestSince(t *testing.T) {
	tl := timeline.New(timeline.Meta{})
	pkt := func(act int) timeline.Event {
		return timeline.Event{Kind: timeline.KindPacket, Act: act, Packet: &decode.Packet{Proto: decode.ProtoTCP}}
	}
	tl.Append(
		timeline.Event{Kind: timeline.KindNote, Act: 1, Note: &timeline.Note{ActStart: true}},
		pkt(1),
		timeline.Event{Kind: timeline.KindNote, Act: 2, Note: &timeline.Note{ActStart: true}},
		pkt(1), // the act-1 connection goes on in act 2
		pkt(2),
	)
	v := NewView(tl)
	if got := len(v.Act(2).Packets()); got != 1 {
		t.Errorf("Act(2) has %d packets, want 1", got)
	}
	if got := len(v.Since(2).Packets()); got != 2 {
		t.Errorf("Since(2) has %d packets, want 2", got)
	}
	if got := len(v.Since(3).Events()); got != 0 {
		t.Errorf("Since(3) has %d events, want 0", got)
	}
}
