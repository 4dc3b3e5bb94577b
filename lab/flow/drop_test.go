package flow

import (
	"testing"

	"github.com/netlab/netlab/lab/decode"
)

// TestDroppedChangesOnlyTheSender: a packet the lab dropped before its
// receiver (decode.DropFirewall) moves its sender's state, never its
// receiver's. keepalive's act 2: the client gives up and sends RST, which
// the server's firewall drops; the server, still ESTABLISHED, closes
// later and its FIN puts it in FIN-WAIT-1.
func TestDroppedChangesOnlyTheSender(t *testing.T) {
	const A, S = 1000, 5000
	ack := decode.ACK
	dropped := func(p *decode.Packet) *decode.Packet { p.Lab.Drop = decode.DropFirewall; return p }
	syn := func() []*decode.Packet {
		return []*decode.Packet{seg(true, A, 0, decode.SYN, 64000, 0), seg(false, S, A+1, decode.SYN|ack, 64000, 0)}
	}
	est := func(more ...*decode.Packet) []*decode.Packet {
		return append(append(syn(), seg(true, A+1, S+1, ack, 64000, 0)), more...)
	}
	for _, tc := range []struct {
		name    string
		packets []*decode.Packet
		want    string // client and server state after them
	}{
		{"RST delivered", est(seg(true, A+1, S+1, decode.RST|ack, 64000, 0)), "CLOSED CLOSED"},
		{"RST dropped", est(dropped(seg(true, A+1, S+1, decode.RST|ack, 64000, 0))), "CLOSED ESTABLISHED"},
		{"RST dropped, then the server closes", est(
			dropped(seg(true, A+1, S+1, decode.RST|ack, 64000, 0)),
			seg(false, S+1, A+1, decode.FIN|ack, 64000, 0)), "CLOSED FIN-WAIT-1"},
		{"FIN dropped", est(dropped(seg(true, A+1, S+1, decode.FIN|ack, 64000, 0))), "FIN-WAIT-1 ESTABLISHED"},
		{"FIN delivered", est(seg(true, A+1, S+1, decode.FIN|ack, 64000, 0)), "FIN-WAIT-1 CLOSE-WAIT"},
		{"the handshake's last ACK dropped", append(syn(), dropped(seg(true, A+1, S+1, ack, 64000, 0))), "ESTABLISHED SYN-RECEIVED"},
		{"SYN,ACK dropped", append(syn()[:1], dropped(seg(false, S, A+1, decode.SYN|ack, 64000, 0))), "SYN-SENT SYN-RECEIVED"},
	} {
		tr := NewTracker()
		for _, p := range tc.packets {
			tr.Add(p)
		}
		c := tr.Conv(1)
		if got := c.State[0].String() + " " + c.State[1].String(); got != tc.want {
			t.Errorf("%s: client and server %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestDroppedAckStaysInFlight: in_flight is what the sender has not seen
// acknowledged; an ACK the firewall dropped never reached it.
func TestDroppedAckStaysInFlight(t *testing.T) {
	const A, S = 1000, 5000
	ack, psh := decode.ACK, decode.PSH|decode.ACK
	for _, tc := range []struct {
		drop bool
		want uint32
	}{{false, 100}, {true, 200}} {
		tr := NewTracker()
		srvAck := seg(false, S+1, A+101, ack, 64000, 0)
		if tc.drop {
			srvAck.Lab.Drop = decode.DropFirewall
		}
		last := seg(true, A+101, S+1, psh, 64000, 100)
		for _, p := range []*decode.Packet{
			seg(true, A, 0, decode.SYN, 64000, 0), seg(false, S, A+1, decode.SYN|ack, 64000, 0), seg(true, A+1, S+1, ack, 64000, 0),
			seg(true, A+1, S+1, psh, 64000, 100), srvAck, last,
		} {
			tr.Add(p)
		}
		if last.Flow.InFlight != tc.want {
			t.Errorf("server's ACK dropped %v: in flight %d, want %d", tc.drop, last.Flow.InFlight, tc.want)
		}
	}
}
