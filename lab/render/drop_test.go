package render_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// TestLadderSaysDropped: a packet the lab's firewall dropped says so on
// its row, in the reader's language, even on a narrow ladder.
func TestLadderSaysDropped(t *testing.T) {
	meta := timeline.Meta{Scenario: "keepalive", Lanes: []string{"client", "server"}, Start: time.Unix(0, 0)}
	p := &decode.Packet{N: 8, Proto: decode.ProtoTCP, Src: netip.MustParseAddrPort("127.0.0.1:40000"),
		Dst: netip.MustParseAddrPort("127.0.0.1:8888"), Flags: decode.RST | decode.ACK, Flow: decode.FlowNotes{RelSeq: 1, RelAck: 1, WinBytes: 65536, Expert: decode.Reset},
		Lab: decode.LabNotes{From: "client", To: "server", Drop: decode.DropFirewall}}
	for lang, want := range map[i18n.Lang]string{i18n.En: "dropped by the firewall", i18n.Zh: "被防火墙丢弃"} {
		var b bytes.Buffer
		render.NewLadder(meta, 80, lang).Event(&b, &timeline.Event{Time: time.Unix(4, 0), Kind: timeline.KindPacket, Packet: p})
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: the row does not say %q:\n%s", lang, want, b.String())
		}
	}
}

// TestLadderWire: on a lab wire a lost packet's arrow stops mid-wire at ✗
// (it never reached the other lane), in either direction, and a delivered
// one says how long it was in flight, measured at both capture points,
// and bends down towards its receiver.
func TestLadderWire(t *testing.T) {
	meta := timeline.Meta{Scenario: "echo", Lanes: []string{"client", "server"}, Start: time.Unix(0, 0), Points: []string{"client:eth0", "server:eth0"}}
	sent := time.Unix(1, 0)
	pkt := func(from, to string, drop decode.Drop, arrived time.Time) *decode.Packet {
		w := decode.WireNotes{From: from + ":eth0", To: to + ":eth0", Known: true, Arrived: arrived, Bit: -1}
		if drop == decode.DropWire {
			w.Action, w.Rule = decode.WireDropped, "loss"
		}
		return &decode.Packet{N: 4, Proto: decode.ProtoTCP, Src: netip.MustParseAddrPort("192.0.2.10:40000"),
			Dst: netip.MustParseAddrPort("192.0.2.20:8888"), Flags: decode.ACK, Flow: decode.FlowNotes{RelSeq: 1, RelAck: 1, WinBytes: 64512},
			Lab: decode.LabNotes{From: from, To: to, Drop: drop, Wire: w}}
	}
	row := func(p *decode.Packet, lang i18n.Lang) string {
		var b bytes.Buffer
		render.NewLadder(meta, 100, lang).Event(&b, &timeline.Event{Time: sent, Kind: timeline.KindPacket, Packet: p})
		return b.String()
	}
	tests := []struct {
		name       string
		p          *decode.Packet
		lang       i18n.Lang
		has, lacks []string
	}{
		{"lost client→server", pkt("client", "server", decode.DropWire, time.Time{}), i18n.En, []string{"│─", "lost on the wire", "✗ "}, []string{"▶", "in flight"}},
		{"lost server→client", pkt("server", "client", decode.DropWire, time.Time{}), i18n.En, []string{" ✗", "─│"}, []string{"◀", "│─"}},
		{"delivered after 12.5 ms", pkt("client", "server", 0, sent.Add(12500*time.Microsecond)), i18n.En, []string{"12.5 ms in flight ─╮", "│────"}, []string{"✗", "▶"}},
		{"delivered leftwards", pkt("server", "client", 0, sent.Add(12500*time.Microsecond)), i18n.En, []string{"╭─ ACK", "────│"}, []string{"◀"}},
		{"delivered, in Chinese", pkt("client", "server", 0, sent.Add(12500*time.Microsecond)), i18n.Zh, []string{"在途 12.5 ms"}, nil},
		{"under a millisecond says nothing", pkt("client", "server", 0, sent.Add(300*time.Microsecond)), i18n.En, []string{"─▶│"}, []string{"in flight"}},
	}
	for _, tc := range tests {
		got := row(tc.p, tc.lang)
		for _, h := range tc.has {
			if !strings.Contains(got, h) {
				t.Errorf("%s: row lacks %q:\n%s", tc.name, h, got)
			}
		}
		for _, l := range tc.lacks {
			if strings.Contains(got, l) {
				t.Errorf("%s: row has %q:\n%s", tc.name, l, got)
			}
		}
	}
}

// TestLadderSlopes: a packet in flight for milliseconds leaves its sender
// on its own row, crosses the rows of what happened meanwhile as a slope
// that moves towards its receiver, and arrives on a row at its arrival
// time — after the events before it, before the events after it, also
// when nothing follows (Flush). A copy the wire duplicated arrives twice.
func TestLadderSlopes(t *testing.T) {
	start := time.Unix(0, 0)
	meta := timeline.Meta{Scenario: "echo", Lanes: []string{"client", "server"}, Start: start, Points: []string{"client:eth0", "server:eth0"}}
	ms := func(n int) time.Time { return start.Add(time.Duration(n) * time.Millisecond) }
	syn := &decode.Packet{N: 1, Proto: decode.ProtoTCP, Src: netip.MustParseAddrPort("192.0.2.10:40000"),
		Dst: netip.MustParseAddrPort("192.0.2.20:8888"), Flags: decode.SYN, Flow: decode.FlowNotes{WinBytes: 64240},
		Lab: decode.LabNotes{From: "client", To: "server", Wire: decode.WireNotes{From: "client:eth0", To: "server:eth0", Known: true, Arrived: ms(40), Bit: -1,
			Arrivals: []decode.Arrival{{At: ms(40)}, {At: ms(50)}}}}}
	state := func(at int, lane string) timeline.Event {
		return timeline.Event{Time: ms(at), Kind: timeline.KindApp, App: &timeline.App{Lane: lane, Call: timeline.CallConnect, Detail: "to 192.0.2.20:8888"}}
	}
	evs := []timeline.Event{
		{Time: ms(0), Kind: timeline.KindPacket, Packet: syn},
		state(10, "client"),
		state(30, "client"),
		state(45, "server"),
	}
	var b bytes.Buffer
	l := render.NewLadder(meta, 80, i18n.En)
	for i := range evs {
		l.Event(&b, &evs[i])
	}
	l.Flush(&b)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 6 rows (sent, 2 crossed, arrived, event, copy 2), got %d:\n%s", len(lines), b.String())
	}
	col := func(line string, r rune) int {
		for i, c := range []rune(line) {
			if c == r {
				return i
			}
		}
		return -1
	}
	bend, at10, at30 := col(lines[0], '╮'), col(lines[1], '╲'), col(lines[2], '╲')
	if bend < 0 || at10 <= bend || at30 <= at10 {
		t.Errorf("the slope does not move towards the receiver (bend %d, 10 ms %d, 30 ms %d):\n%s", bend, at10, at30, b.String())
	}
	if !strings.HasPrefix(lines[3], "  40.000") || !strings.Contains(lines[3], "SYN seq=0") || !strings.HasSuffix(lines[3], "─▶│") || col(lines[3], '╰') < at30 {
		t.Errorf("row 4 is not the SYN arriving at 40 ms from where its slope was:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[4], "  45.000") {
		t.Errorf("the event at 45 ms is not after the arrival:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[5], "  50.000") || !strings.Contains(lines[5], "(copy 2)") {
		t.Errorf("the duplicate's arrival is missing at the end:\n%s", b.String())
	}
}
