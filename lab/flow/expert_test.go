package flow

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/decode"
)

// seg builds a TCP segment from a (client) or b (server).
func seg(fromA bool, seq, ack uint32, flags decode.Flags, win uint16, n int) *decode.Packet {
	a, b := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	p := &decode.Packet{Proto: decode.ProtoTCP, Src: a, Dst: b, Seq: seq, Ack: ack, Flags: flags, Window: win, PayloadLen: n}
	if !fromA {
		p.Src, p.Dst = b, a
	}
	p.Opts.WScale = -1
	return p
}

// TestExpertLoss covers the marks a loss produces, which loopback captures
// never show: a segment lost before the capture point, the receiver's
// duplicate ACKs, the sender's retransmission; and a window update versus a
// repeated zero window, which is not a duplicate ACK.
func TestExpertLoss(t *testing.T) {
	const A, S = 1000, 5000 // ISNs
	ack, psh := decode.ACK, decode.PSH|decode.ACK
	steps := []struct {
		p    *decode.Packet
		want string
	}{
		{seg(true, A, 0, decode.SYN, 64000, 0), ""},
		{seg(false, S, A+1, decode.SYN|decode.ACK, 64000, 0), ""},
		{seg(true, A+1, S+1, ack, 64000, 0), ""},
		{seg(true, A+1, S+1, psh, 64000, 100), ""},
		// A+101..A+200 is lost before the capture sees it.
		{seg(true, A+201, S+1, psh, 64000, 100), "previous-segment-not-captured"},
		{seg(false, S+1, A+101, ack, 64000, 0), ""},
		{seg(false, S+1, A+101, ack, 64000, 0), "dup-ack"},
		{seg(true, A+101, S+1, psh, 64000, 100), "retransmission"},
		{seg(false, S+1, A+301, ack, 64000, 0), ""},
		{seg(false, S+1, A+301, ack, 0, 0), "zero-window window-update"},
		{seg(false, S+1, A+301, ack, 0, 0), "zero-window"}, // repeated zero window: not a dup ack
		{seg(true, A+300, S+1, ack, 64000, 0), "zero-window-probe"},
		{seg(false, S+1, A+301, ack, 0, 0), "zero-window zero-window-probe-ack"},
		{seg(false, S+1, A+301, ack, 64000, 0), "window-update"},
		{seg(true, A+300, S+1, ack, 64000, 0), "keep-alive"}, // the same segment with an open window
		{seg(false, S+1, A+301, ack, 64000, 0), "keep-alive-ack"},
		{seg(true, A+301, S+1, decode.RST, 0, 0), "rst"},
	}
	tr := NewTracker()
	for i, s := range steps {
		s.p.N = i + 1
		tr.Add(s.p)
		if got := strings.Join(s.p.Flow.Expert.Names(), " "); got != s.want {
			t.Errorf("packet %d %s: marks %q, want %q", s.p.N, s.p.Label(), got, s.want)
		}
	}
}
