package engine

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/sockstate"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

var (
	cli = netip.MustParseAddrPort("127.0.0.1:40000")
	srv = netip.MustParseAddrPort("127.0.0.1:8888")
)

func newTestMerger() (*merger, *[]timeline.Event) {
	var out []timeline.Event
	lanes := sessionrun.NewLanes()
	lanes.Set(srv, "server")
	lanes.Set(cli, "client")
	m := newMerger(lanes, sessionrun.NewClock(50*time.Millisecond), func(e timeline.Event) { out = append(out, e) }, false)
	return m, &out
}

func note(ms float64, text string) item {
	return item{ev: timeline.Event{Time: at(ms), Kind: timeline.KindNote, Note: &timeline.Note{Text: i18n.T(text, "")}}}
}

func TestMergeOrdersByTime(t *testing.T) {
	m, out := newTestMerger()
	for _, it := range []item{note(3, "c"), note(1, "a"), note(2, "b"), note(2, "b2")} {
		m.add(it)
	}
	m.release(time.Time{}, true)
	var got string
	for _, e := range *out {
		got += e.Note.Text.En + " "
	}
	if got != "a b b2 c " {
		t.Fatalf("order %q, want \"a b b2 c \" (ties keep arrival order)", got)
	}
}

func TestMergeHoldsUntilEveryWatermark(t *testing.T) {
	m, out := newTestMerger()
	m.add(item{isWM: true, src: srcPoller, wm: at(5)})
	m.add(item{isWM: true, src: srcCapture, wm: at(20)})
	m.add(note(4, "early"))
	m.add(note(6, "late"))
	m.release(at(100), false)
	if len(*out) != 1 || (*out)[0].Note.Text.En != "early" {
		t.Fatalf("released %d events; want only the one before the poller's watermark", len(*out))
	}
	m.add(item{isWM: true, src: srcPoller, wm: at(30)})
	m.release(at(100), false)
	if len(*out) != 2 {
		t.Fatalf("released %d after the watermark moved, want 2", len(*out))
	}
}

func packet(ms float64, n int, src, dst netip.AddrPort, flags decode.Flags, dir uint8, trans ...decode.Transition) item {
	p := &decode.Packet{N: n, Proto: decode.ProtoTCP, Src: src, Dst: dst, Flags: flags, Flow: decode.FlowNotes{Conv: 1, Dir: dir}}
	p.Flow.NTrans = uint8(copy(p.Flow.Trans[:], trans))
	return item{ev: timeline.Event{Time: at(ms), Kind: timeline.KindPacket, Packet: p}}
}

func kernel(ms float64, local, remote netip.AddrPort, from, to tcpstate.State) item {
	return item{change: &sockstate.Change{Time: at(ms), From: from, To: to, Socket: sockstate.Socket{Local: local, Remote: remote, State: to}}}
}

// TestMergeInferredOnlyWhereKernelMissed: the SYN's SYN-SENT lasted too short
// for the poller (inferred), ESTABLISHED was seen by the kernel (not inferred).
func TestMergeInferredOnlyWhereKernelMissed(t *testing.T) {
	m, out := newTestMerger()
	m.add(packet(1, 1, cli, srv, decode.SYN, 0, decode.Transition{Side: 0, From: tcpstate.Closed, To: tcpstate.SynSent}))
	m.add(packet(1.1, 2, srv, cli, decode.SYN|decode.ACK, 1,
		decode.Transition{Side: 1, From: tcpstate.Listen, To: tcpstate.SynReceived},
		decode.Transition{Side: 0, From: tcpstate.SynSent, To: tcpstate.Established}))
	m.add(kernel(3, cli, srv, tcpstate.Closed, tcpstate.Established))
	m.release(time.Time{}, true)

	var got []string
	for _, e := range *out {
		switch e.Kind {
		case timeline.KindPacket:
			got = append(got, "pkt "+e.Packet.Flags.String())
		case timeline.KindState:
			got = append(got, e.State.Source.String()+" "+e.State.Lane+" "+e.State.From.String()+"→"+e.State.To.String())
		}
	}
	want := []string{
		"inferred client CLOSED→SYN-SENT",
		"pkt SYN",
		"inferred server LISTEN→SYN-RECEIVED",
		"pkt SYN,ACK",
		"kernel client SYN-SENT→ESTABLISHED",
	}
	if len(got) != len(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: got %q, want %q (all: %q)", i, got[i], want[i], got)
		}
	}
	if p := (*out)[1].Packet; p.Lab.From != "client" || p.Lab.To != "server" {
		t.Errorf("lanes %q→%q", p.Lab.From, p.Lab.To)
	}
}

// TestMergePlacesSlowDumps: a dump that ran across the handshake saw the
// client in SYN-SENT; it is placed right after the SYN, not at the dump's end
// (after the SYN,ACK that ended SYN-SENT) nor at its start (before the SYN).
// The next dump sees ESTABLISHED, which is then the kernel's to show.
func TestMergePlacesSlowDumps(t *testing.T) {
	m, out := newTestMerger()
	m.add(item{isWM: true, src: srcCapture, wm: at(10)})
	m.add(item{isWM: true, src: srcPoller, wm: at(10)})
	m.add(packet(0.73, 1, cli, srv, decode.SYN, 0, decode.Transition{Side: 0, From: tcpstate.Closed, To: tcpstate.SynSent}))
	m.add(packet(0.75, 2, srv, cli, decode.SYN|decode.ACK, 1,
		decode.Transition{Side: 1, From: tcpstate.Listen, To: tcpstate.SynReceived},
		decode.Transition{Side: 0, From: tcpstate.SynSent, To: tcpstate.Established}))
	ch := kernel(0.886, cli, srv, tcpstate.Closed, tcpstate.SynSent)
	ch.change.Start = at(0.70)
	m.add(ch)
	ch = kernel(2.9, cli, srv, tcpstate.SynSent, tcpstate.Established)
	ch.change.Start, ch.change.PrevStart = at(2.7), at(0.70)
	m.add(ch)
	m.release(at(100), false)

	want := "pkt SYN|kernel client SYN-SENT|inferred server SYN-RECEIVED|pkt SYN,ACK|kernel client ESTABLISHED"
	if g := trace(*out); g != want {
		t.Fatalf("got  %s\nwant %s", g, want)
	}
}

// TestMergeKernelDeniesInference: the firewall dropped the client's RST at
// the server's input hook. The packets imply both sides CLOSED; the kernel
// saw the client's socket go, and kept reading the server's as ESTABLISHED
// in the dumps after the RST. The server's CLOSED is not shown.
func TestMergeKernelDeniesInference(t *testing.T) {
	for _, tc := range []struct {
		name string
		// the first dump after the RST: whether it still listed the server
		serverKept bool
		want       string
	}{
		{"dropped", true, "kernel client ESTABLISHED|kernel server ESTABLISHED|pkt RST|kernel client CLOSED"},
		{"delivered", false, "kernel client ESTABLISHED|kernel server ESTABLISHED|pkt RST|kernel client CLOSED|kernel server CLOSED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, out := newTestMerger()
			first := func(ms float64, local, remote netip.AddrPort) item {
				ch := kernel(ms, local, remote, tcpstate.Closed, tcpstate.Established)
				ch.change.Start = at(ms - 0.2)
				return ch
			}
			m.add(first(1, cli, srv))
			m.add(first(1, srv, cli))
			m.add(packet(100, 9, cli, srv, decode.RST, 0,
				decode.Transition{Side: 0, From: tcpstate.Established, To: tcpstate.Closed},
				decode.Transition{Side: 1, From: tcpstate.Established, To: tcpstate.Closed}))
			gone := func(local, remote netip.AddrPort) item {
				ch := kernel(100.6, local, remote, tcpstate.Established, tcpstate.Closed)
				ch.change.Start, ch.change.PrevStart, ch.change.Gone = at(100.4), at(98.4), true
				return ch
			}
			m.add(gone(cli, srv))
			if !tc.serverKept {
				m.add(gone(srv, cli))
			}
			m.add(item{isWM: true, src: srcCapture, wm: at(110)})
			m.add(item{isWM: true, src: srcPoller, wm: at(110)})
			m.release(at(200), false)
			if g := trace(*out); g != tc.want {
				t.Fatalf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
}

// trace renders packets and states: "pkt SYN|kernel client SYN-SENT|...".
func trace(out []timeline.Event) string {
	var got []string
	for _, e := range out {
		switch e.Kind {
		case timeline.KindPacket:
			got = append(got, "pkt "+e.Packet.Flags.String())
		case timeline.KindState:
			got = append(got, e.State.Source.String()+" "+e.State.Lane+" "+e.State.To.String())
		}
	}
	return strings.Join(got, "|")
}

// TestMergeFirstListingJudges: a busy poller first lists the server's
// socket after the connection has closed, in TIME-WAIT (the FINs crossed:
// a simultaneous close, though the capture saw the client's FIN first).
// The packets imply CLOSE-WAIT and LAST-ACK, from which TIME-WAIT cannot
// follow: they are not shown; the client's CLOSING can lead there and is.
func TestMergeFirstListingJudges(t *testing.T) {
	m, out := newTestMerger()
	m.add(packet(100, 7, cli, srv, decode.FIN|decode.ACK, 0,
		decode.Transition{Side: 0, From: tcpstate.Established, To: tcpstate.FinWait1},
		decode.Transition{Side: 1, From: tcpstate.Established, To: tcpstate.CloseWait}))
	m.add(packet(100.013, 8, srv, cli, decode.FIN|decode.ACK, 1,
		decode.Transition{Side: 1, From: tcpstate.CloseWait, To: tcpstate.LastAck},
		decode.Transition{Side: 0, From: tcpstate.FinWait1, To: tcpstate.Closing}))
	for _, s := range [][2]netip.AddrPort{{cli, srv}, {srv, cli}} {
		ch := kernel(300.2, s[0], s[1], tcpstate.Closed, tcpstate.TimeWait)
		ch.change.Start, ch.change.PrevStart = at(300), at(50)
		m.add(ch)
	}
	m.add(item{isWM: true, src: srcCapture, wm: at(400)})
	m.add(item{isWM: true, src: srcPoller, wm: at(400)})
	m.release(at(500), false)
	want := "inferred client FIN-WAIT-1|pkt FIN,ACK|pkt FIN,ACK|inferred client CLOSING|kernel client TIME-WAIT|kernel server TIME-WAIT"
	if g := trace(*out); g != want {
		t.Fatalf("got  %s\nwant %s", g, want)
	}
}

// TestMergeTCPInfo: a tcp_info reading becomes an event when a followed
// value changed, at most every infoEvery per socket unless the congestion
// state changed; listeners and sockets without tcp_info give none.
func TestMergeTCPInfo(t *testing.T) {
	m, out := newTestMerger()
	sock := timeline.Socket{Local: cli, Remote: srv}
	reading := func(cwnd uint32, ca sockstate.CAState) *sockstate.TCPInfo {
		return &sockstate.TCPInfo{Size: sockstate.TCPInfoSize5_4, SndCwnd: cwnd, CAState: ca, SndSsthresh: sockstate.InfiniteSsthresh}
	}
	steps := []struct {
		ms   float64
		info *sockstate.TCPInfo
		sock timeline.Socket
		want bool
	}{
		{0, reading(10, sockstate.CAOpen), sock, true},                          // first reading
		{1, reading(10, sockstate.CAOpen), sock, false},                         // nothing changed
		{2, reading(12, sockstate.CAOpen), sock, false},                         // changed, but within infoEvery
		{3, reading(12, sockstate.CARecovery), sock, true},                      // the congestion state: at once
		{20, reading(14, sockstate.CARecovery), sock, true},                     // changed, infoEvery later
		{40, nil, sock, false},                                                  // TIME-WAIT: no tcp_info
		{50, reading(10, sockstate.CAOpen), timeline.Socket{Local: srv}, false}, // a listener
	}
	for i, s := range steps {
		before := len(*out)
		m.tcpInfo("client", s.sock, 1, s.info, at(s.ms))
		if got := len(*out) > before; got != s.want {
			t.Fatalf("step %d (%.0f ms): event %v, want %v", i, s.ms, got, s.want)
		}
	}
	last := (*out)[len(*out)-1].TCPInfo
	if last.Cwnd != 14 || last.CAState != sockstate.CARecovery || last.Ssthresh != 0 || last.Lane != "client" {
		t.Errorf("last reading %+v: want cwnd 14, Recovery, ssthresh unset (0), lane client", last)
	}
}
