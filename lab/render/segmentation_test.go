package render

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

var (
	cliAddr = netip.MustParseAddrPort("127.0.0.1:40000")
	srvAddr = netip.MustParseAddrPort("127.0.0.1:8888")
)

// coalescedRun is a timeline where three 5-byte writes leave as a 5-byte
// and a 10-byte segment and are read in one 15-byte read.
func coalescedRun() *timeline.Timeline {
	tl := timeline.New(timeline.Meta{Scenario: "t", Lanes: []string{"client", "server"}})
	cs := timeline.Socket{Local: cliAddr, Remote: srvAddr}
	write := func(n int) timeline.Event {
		return timeline.Event{Kind: timeline.KindApp, Act: 1, App: &timeline.App{Lane: "client", Call: timeline.CallWrite, Proto: decode.ProtoTCP, Bytes: n, Socket: cs}}
	}
	seg := func(n int, x decode.Expert) timeline.Event {
		return timeline.Event{Kind: timeline.KindPacket, Act: 1, Packet: &decode.Packet{Proto: decode.ProtoTCP, Src: cliAddr, Dst: srvAddr, PayloadLen: n, Lab: decode.LabNotes{From: "client", To: "server"}, Flow: decode.FlowNotes{Expert: x}}}
	}
	tl.Append(
		write(5), seg(5, 0), write(5),
		// a blocking write is shown twice: only the finished call counts
		timeline.Event{Kind: timeline.KindApp, Act: 1, App: &timeline.App{Lane: "client", Call: timeline.CallWrite, Proto: decode.ProtoTCP, Socket: cs, Blocking: true}},
		write(5), seg(10, 0),
		seg(10, decode.Retransmission), // carries bytes already counted
		timeline.Event{Kind: timeline.KindApp, Act: 1, App: &timeline.App{Lane: "server", Call: timeline.CallRead, Proto: decode.ProtoTCP, Bytes: 15, Socket: cs.Reverse()}},
		timeline.Event{Kind: timeline.KindApp, Act: 1, App: &timeline.App{Lane: "server", Call: timeline.CallRead, Proto: decode.ProtoTCP, Socket: cs.Reverse(), Err: "EOF"}},
	)
	return tl
}

func TestSegmentation(t *testing.T) {
	var b bytes.Buffer
	Segmentation(&b, coalescedRun(), i18n.En, 60)
	got := b.String()
	for _, want := range []string{
		"act 1 · client → server · tcp 127.0.0.1:40000 → 127.0.0.1:8888 · 15 bytes",
		"    writes      3 │     5      │      5      │      5      │",
		"    segments    2 │     5      │            10             │",
		"    reads       1 │                   15                   │",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	b.Reset()
	Segmentation(&b, coalescedRun(), i18n.Zh, 60)
	if !strings.Contains(b.String(), "    写入        3 │") {
		t.Errorf("Chinese labels not aligned:\n%s", b.String())
	}
}

func TestBoxes(t *testing.T) {
	for _, c := range []struct {
		sizes        []int
		total, width int
		want         string
	}{
		{[]int{5, 95}, 100, 20, "││        95        │"}, // too narrow for "5": bare edges
		{[]int{50, 50}, 100, 10, "│ 50 │ 50 │"},
		{[]int{12, 88}, 100, 20, "│·│       88        │"}, // room for a dot, not for "12"
		{[]int{3}, 10, 10, "│3 │       "},                 // a row that carried less than the others ends early
		{nil, 10, 10, ""},
	} {
		if got := Boxes(c.sizes, c.total, c.width); got != c.want {
			t.Errorf("Boxes(%v, %d, %d) = %q, want %q", c.sizes, c.total, c.width, got, c.want)
		}
	}
}

func TestSizeList(t *testing.T) {
	if got, want := sizeList([]int{5, 5, 5, 5, 95, 1, 1}, 80), "5×4 95 1 1"; got != want {
		t.Errorf("sizeList = %q, want %q", got, want)
	}
}
