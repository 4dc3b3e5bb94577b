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
// one says how long it was in flight, measured at both capture points.
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
		{"delivered after 12.5 ms", pkt("client", "server", 0, sent.Add(12500*time.Microsecond)), i18n.En, []string{"12.5 ms in flight", "─▶│"}, []string{"✗"}},
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
