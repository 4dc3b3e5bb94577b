package scenarios

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// TestLeftStateAt: the listener on the server's lane reports its accept
// queue while the accepted socket sits in CLOSE-WAIT; that report is not the
// connection leaving CLOSE-WAIT (CI saw "CLOSE-WAIT for 3 ms" from it).
func TestLeftStateAt(t *testing.T) {
	ap := netip.MustParseAddrPort
	conn := timeline.Socket{Local: ap("127.0.0.1:8888"), Remote: ap("127.0.0.1:60860")}
	listener := timeline.Socket{Local: ap("127.0.0.1:8888")}
	t0 := time.Unix(0, 0)
	state := func(ms int, s timeline.Socket, to tcpstate.State) timeline.Event {
		return timeline.Event{Time: t0.Add(time.Duration(ms) * time.Millisecond), Kind: timeline.KindState,
			State: &timeline.State{Lane: "server", Socket: s, To: to, Source: timeline.Kernel}}
	}
	tests := []struct {
		name string
		evs  []timeline.Event
		want int // ms; -1 for never
	}{
		{"listener report in between", []timeline.Event{
			state(1, conn, tcpstate.CloseWait), state(4, listener, tcpstate.Listen), state(1059, conn, tcpstate.LastAck)}, 1059},
		{"never left", []timeline.Event{state(1, conn, tcpstate.CloseWait), state(4, listener, tcpstate.Listen)}, -1},
		{"never entered", []timeline.Event{state(4, listener, tcpstate.Listen), state(9, conn, tcpstate.Closed)}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := timeline.New(timeline.Meta{})
			tl.Append(tt.evs...)
			got := leftStateAt(check.NewView(tl), "server", tcpstate.CloseWait)
			want := time.Time{}
			if tt.want >= 0 {
				want = t0.Add(time.Duration(tt.want) * time.Millisecond)
			}
			if !got.Equal(want) {
				t.Errorf("left at %v, want %v", got, want)
			}
		})
	}
}
