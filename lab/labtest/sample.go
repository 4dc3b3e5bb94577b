package labtest

import (
	"testing"
	"time"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/engine"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Sample builds a closed timeline from a capture file recorded by a
// scenario, plus one event of every other kind (a narration step and a
// connect call before the first packet; a kernel TIME-WAIT state and a
// passed check after the last), for tests of views and writers that must
// not depend on a live run.
func Sample(t testing.TB, pcapPath string) *timeline.Timeline {
	t.Helper()
	src, err := capture.OpenFile(pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	replay, err := engine.Replay(src, timeline.Meta{Scenario: "handshake", Title: i18n.T("TCP three-way handshake", "TCP 三次握手"), Iface: "lo"})
	if err != nil {
		t.Fatal(err)
	}
	if replay.Len() == 0 {
		t.Fatalf("%s holds no packets", pcapPath)
	}
	meta := replay.Meta()
	meta.Start = meta.Start.Add(-2 * time.Millisecond)
	tl := timeline.New(meta)
	first := replay.At(0)
	sock := timeline.Socket{Local: first.Packet.Src, Remote: first.Packet.Dst}
	tl.Append(
		timeline.Event{Time: first.Time.Add(-time.Millisecond), Kind: timeline.KindNote, Note: &timeline.Note{Text: i18n.T("The client connects.", "客户端发起连接。"), Step: true}},
		timeline.Event{Time: first.Time.Add(-time.Microsecond), Kind: timeline.KindApp, App: &timeline.App{Lane: "client", Call: timeline.CallConnect, Proto: decode.ProtoTCP, Socket: sock, Detail: "to " + sock.Remote.String()}},
	)
	replay.All(func(e *timeline.Event) bool { tl.Append(*e); return true })
	last := replay.At(replay.Len() - 1).Time
	tl.Append(
		timeline.Event{Time: last, Kind: timeline.KindState, State: &timeline.State{Lane: "client", Socket: sock, From: tcpstate.FinWait2, To: tcpstate.TimeWait, Source: timeline.Kernel, Timer: tcpstate.TimerTimeWait, Expires: 59900 * time.Millisecond}},
		timeline.Event{Time: last, Kind: timeline.KindCheck, Check: &timeline.Check{Name: i18n.T("first is SYN", "第一个是 SYN"), OK: true, Detail: i18n.T("SYN", "")}},
	)
	tl.Close(timeline.Summary{Packets: replay.Len(), ChecksPassed: 1})
	return tl
}
