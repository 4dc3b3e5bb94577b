package flow

import (
	"testing"

	"github.com/netlab/netlab/lab/decode"
)

// TestCrossedFINs: the capture saw the client's FIN first, but the
// server's FIN does not acknowledge it: the server sent it before the
// client's FIN arrived (a simultaneous close), so both end in TIME-WAIT,
// as the kernel shows, not the server in LAST-ACK and CLOSED.
func TestCrossedFINs(t *testing.T) {
	const A, S = 1000, 5000
	ack, fin := decode.ACK, decode.FIN|decode.ACK
	tr := NewTracker()
	for _, p := range []*decode.Packet{
		seg(true, A, 0, decode.SYN, 64000, 0), seg(false, S, A+1, decode.SYN|ack, 64000, 0), seg(true, A+1, S+1, ack, 64000, 0),
		seg(true, A+1, S+1, fin, 64000, 0),  // client FIN
		seg(false, S+1, A+1, fin, 64000, 0), // server FIN, ack does not cover the client's FIN
		seg(true, A+2, S+2, ack, 64000, 0),
		seg(false, S+2, A+2, ack, 64000, 0),
	} {
		tr.Add(p)
	}
	c := tr.Conv(1)
	if got := c.State[0].String() + " " + c.State[1].String(); got != "TIME-WAIT TIME-WAIT" {
		t.Errorf("client and server %s, want TIME-WAIT TIME-WAIT", got)
	}
}
