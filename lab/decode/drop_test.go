package decode

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/i18n"
)

func TestDropSaid(t *testing.T) {
	p := &Packet{Proto: ProtoTCP, Flags: RST | ACK, Flow: FlowNotes{RelSeq: 1, RelAck: 1}}
	if s := p.Summary(); strings.Contains(s, "dropped") {
		t.Errorf("a delivered packet: %q", s)
	}
	p.Lab.Drop = DropFirewall
	if s := p.Summary(); !strings.HasPrefix(s, "dropped by the firewall · RST,ACK seq=1 ack=1") {
		t.Errorf("a dropped packet's summary %q does not start by saying so", s)
	}
	if p.Lab.Drop.String() != "firewall" || Delivered.String() != "" {
		t.Errorf("JSON values %q, %q", p.Lab.Drop.String(), Delivered.String())
	}
	if p.Lab.Drop.Text().In(i18n.Zh) == p.Lab.Drop.Text().In(i18n.En) {
		t.Error("no Chinese for a dropped packet")
	}
}
