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
