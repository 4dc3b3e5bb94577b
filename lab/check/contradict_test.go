package check

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

func TestContradictions(t *testing.T) {
	const (
		est = tcpstate.Established
		cl  = tcpstate.Closed
		ss  = tcpstate.SynSent
		fw1 = tcpstate.FinWait1
		fw2 = tcpstate.FinWait2
		tw  = tcpstate.TimeWait
	)
	t0 := time.Unix(1000, 0)
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	srv := timeline.Socket{Local: netip.MustParseAddrPort("127.0.0.1:8888"), Remote: netip.MustParseAddrPort("127.0.0.1:40000")}
	cli := srv.Reverse()
	// kernel: a poller report at ms (the dump read to and ended 0.2 ms
	// later), after the dump starting at fromMS had read from (-1: first dump).
	kernel := func(s timeline.Socket, ms float64, from, to tcpstate.State, fromMS float64) *timeline.Event {
		st := &timeline.State{Lane: "server", Socket: s, From: from, To: to, Source: timeline.Kernel,
			KernelFrom: from, ReadAt: at(ms + 0.2), Gone: to == cl}
		if fromMS >= 0 {
			st.KernelFromAt = at(fromMS)
		}
		return &timeline.Event{Time: at(ms), Kind: timeline.KindState, State: st}
	}
	inferred := func(s timeline.Socket, ms float64, to tcpstate.State) *timeline.Event {
		return &timeline.Event{Time: at(ms), Kind: timeline.KindState, State: &timeline.State{
			Lane: "server", Socket: s, To: to, Source: timeline.Inferred, Packet: 8}}
	}
	// sent: a TCP packet the socket s sends at ms.
	sent := func(s timeline.Socket, ms float64, flags decode.Flags, payload int) *timeline.Event {
		return &timeline.Event{Time: at(ms), Kind: timeline.KindPacket, Packet: &decode.Packet{
			N: 9, Proto: decode.ProtoTCP, Src: s.Local, Dst: s.Remote, Flags: flags, PayloadLen: payload}}
	}
	tests := []struct {
		name   string
		events []*timeline.Event
		want   []string // the contradictions' readings, "before EST" / "after EST", or "sent"
	}{
		{"inferred CLOSED, then the socket sends data",
			[]*timeline.Event{inferred(srv, 1, cl), sent(srv, 2, decode.ACK|decode.PSH, 5)},
			[]string{"sent"}},
		{"inferred CLOSED, then the kernel answers with RST",
			[]*timeline.Event{inferred(srv, 1, cl), sent(srv, 2, decode.RST, 0)},
			nil},
		{"inferred TIME-WAIT, then the socket sends a FIN",
			[]*timeline.Event{inferred(cli, 1, tw), sent(cli, 2, decode.FIN|decode.ACK, 0)},
			[]string{"sent"}},
		{"inferred TIME-WAIT, then the socket acknowledges the peer's FIN",
			[]*timeline.Event{inferred(cli, 1, tw), sent(cli, 2, decode.ACK, 0)},
			nil},
		{"inferred FIN-WAIT-2; a later state of the socket speaks for its data",
			[]*timeline.Event{inferred(cli, 1, fw2), inferred(cli, 2, est), sent(cli, 3, decode.ACK|decode.PSH, 5)},
			nil},
		{"inferred CLOSED; the peer's packets say nothing about this socket",
			[]*timeline.Event{inferred(srv, 1, cl), sent(cli, 2, decode.ACK|decode.PSH, 5)},
			nil},
		{"keepalive: an RST the firewall dropped; the kernel still read ESTABLISHED 34 ms later",
			[]*timeline.Event{kernel(srv, 1, cl, est, -1), inferred(srv, 100, cl), kernel(srv, 136, est, cl, 134)},
			[]string{"after ESTABLISHED"}},
		{"the RST arrived: the next dump already missed the socket",
			[]*timeline.Event{kernel(srv, 1, cl, est, -1), inferred(srv, 100, cl), kernel(srv, 101, est, cl, 99)},
			nil},
		{"nothing changed until the run ended",
			[]*timeline.Event{kernel(srv, 1, cl, est, -1), inferred(srv, 100, cl)},
			[]string{"after ESTABLISHED"}},
		{"SYN-SENT too brief for the poller, first read ESTABLISHED",
			[]*timeline.Event{inferred(cli, 1, ss), kernel(cli, 2, cl, est, 0.5)},
			nil},
		{"a FIN to a socket that was gone",
			[]*timeline.Event{kernel(cli, 1, cl, est, -1), kernel(cli, 10, est, cl, 8), inferred(cli, 50, tw)},
			[]string{"before CLOSED"}},
		{"a new connection on the same addresses after the old socket was gone",
			[]*timeline.Event{kernel(cli, 1, cl, est, -1), kernel(cli, 10, est, cl, 8), inferred(cli, 50, ss), inferred(cli, 50.1, est)},
			nil},
		{"a reading of a dump still running at the packet is not a reading before it",
			[]*timeline.Event{kernel(cli, 1, cl, est, -1), kernel(cli, 9.9, est, fw2, 8), inferred(cli, 10, fw1)},
			nil},
		{"the kernel read ESTABLISHED before a SYN-SENT",
			[]*timeline.Event{kernel(cli, 1, cl, est, -1), inferred(cli, 50, ss), kernel(cli, 60, est, cl, 58)},
			[]string{"before ESTABLISHED"}},
		{"the other side's readings say nothing about this socket",
			[]*timeline.Event{kernel(cli, 1, cl, est, -1), inferred(srv, 100, cl), kernel(cli, 136, est, cl, 134)},
			nil},
		{"a state the kernel never read at all",
			[]*timeline.Event{inferred(srv, 1, tcpstate.SynReceived), inferred(srv, 2, est)},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, e := range tc.events {
				e.ID = i + 1
			}
			var got []string
			for _, c := range Contradictions(tc.events) {
				switch {
				case c.Sent != nil:
					got = append(got, "sent")
				case c.After:
					got = append(got, "after "+c.Reading.String())
				default:
					got = append(got, "before "+c.Reading.String())
				}
				if !strings.Contains(c.String(), "inferred") {
					t.Errorf("String() = %q", c)
				}
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
