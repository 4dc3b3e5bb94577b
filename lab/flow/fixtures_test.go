package flow_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/tcpstate"
)

// TestFixtures follows captures recorded from the scenarios (netlab run NAME
// --pcap) and checks the expert marks of every packet (a packet not listed
// has none), some relative numbers, and the states inferred at the end.
func TestFixtures(t *testing.T) {
	type rel struct{ n, seq, ack, win, inFlight int } // -1: not checked
	for _, c := range []struct {
		file   string
		marks  map[int]string
		rels   []rel
		states [][2]tcpstate.State // per conversation, sides A and B
	}{
		{
			file: "flow-control.pcapng",
			marks: map[int]string{
				6: "window-full", 7: "zero-window",
				8: "zero-window-probe", 9: "zero-window zero-window-probe-ack",
				10: "zero-window-probe", // answered by no one: Linux rate-limits out-of-window answers
				11: "zero-window-probe", 12: "zero-window zero-window-probe-ack",
				13: "window-update",
				14: "window-full", 16: "window-full", 18: "window-full", 20: "window-full", 22: "window-full",
				24: "window-full", 26: "window-full", 28: "window-full", 30: "window-full", 32: "window-full",
				34: "window-full", 36: "window-full", 38: "window-full", 40: "window-full", 42: "window-full",
			},
			rels: []rel{
				{2, 0, 1, 4096, -1},      // SYN,ACK: window unscaled
				{6, 2049, 1, -1, 2048},   // 2048 in flight = the 2048-byte window packet 5 left: window-full
				{7, 1, 4097, 0, -1},      // zero window
				{8, 4096, 1, -1, -1},     // the probe: one below the acknowledged edge
				{13, 1, 4097, 4096, -1},  // the window update
				{43, 1, 65537, 4096, -1}, // all 64 KB acknowledged
			},
			states: [][2]tcpstate.State{{tcpstate.TimeWait, tcpstate.Closed}},
		},
		{
			file:   "keepalive.pcapng",
			marks:  map[int]string{4: "keep-alive", 5: "keep-alive-ack", 6: "keep-alive", 7: "keep-alive", 8: "rst", 10: "rst"},
			rels:   []rel{{4, 0, 1, -1, -1}, {5, 1, 1, -1, -1}},
			states: [][2]tcpstate.State{{tcpstate.Closed, tcpstate.Closed}},
		},
		{
			file:  "backlog.pcapng",
			marks: map[int]string{8: "retransmission", 9: "rst", 10: "rst"},
			rels:  []rel{{8, 0, -1, -1, -1}},
			states: [][2]tcpstate.State{
				{tcpstate.Closed, tcpstate.Closed}, {tcpstate.Closed, tcpstate.Closed},
				{tcpstate.SynSent, tcpstate.Listen}, // the dropped SYN: never answered
			},
		},
		{
			file:  "reset.pcapng",
			marks: map[int]string{6: "rst", 12: "rst", 14: "rst", 21: "rst"},
			rels:  []rel{{12, 1, 21, -1, -1}, {14, 1, 1, 0, -1}, {21, 2, -1, 0, -1}},
			states: [][2]tcpstate.State{
				{tcpstate.Closed, tcpstate.Closed}, {tcpstate.Closed, tcpstate.Closed},
				{tcpstate.Closed, tcpstate.Closed}, {tcpstate.Closed, tcpstate.Closed},
			},
		},
	} {
		t.Run(c.file, func(t *testing.T) {
			ps, tr := track(t, filepath.Join("testdata", c.file))
			for i, p := range ps {
				got := strings.Join(p.Flow.Expert.Names(), " ")
				if want := c.marks[i+1]; got != want {
					t.Errorf("packet %d %s: marks %q, want %q", i+1, p.Label(), got, want)
				}
			}
			for _, r := range c.rels {
				p := ps[r.n-1]
				for _, f := range []struct {
					name      string
					got, want int
				}{{"seq", int(p.Flow.RelSeq), r.seq}, {"ack", int(p.Flow.RelAck), r.ack}, {"win", int(p.Flow.WinBytes), r.win}, {"in flight", int(p.Flow.InFlight), r.inFlight}} {
					if f.want >= 0 && f.got != f.want {
						t.Errorf("packet %d %s: %s %d, want %d", r.n, p.Label(), f.name, f.got, f.want)
					}
				}
			}
			convs := tr.Convs()
			if len(convs) != len(c.states) {
				t.Fatalf("%d conversations, want %d", len(convs), len(c.states))
			}
			for i, cv := range convs {
				if cv.State != c.states[i] {
					t.Errorf("conversation %d (%s → %s): states %v, want %v", cv.ID, cv.A, cv.B, cv.State, c.states[i])
				}
			}
		})
	}
}
