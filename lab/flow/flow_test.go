package flow_test

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/tcpstate"
)

// track decodes and tracks every packet of a capture file.
func track(t testing.TB, path string) ([]*decode.Packet, *flow.Tracker) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	tr := flow.NewTracker()
	var out []*decode.Packet
	for {
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out, tr
		}
		if err != nil {
			t.Fatal(err)
		}
		p := new(decode.Packet)
		if err := dec.Decode(f.Data, f.Length, p); err != nil {
			t.Fatal(err)
		}
		tr.Add(p)
		out = append(out, p)
	}
}

// dump renders what the tracker made of each packet, one line each.
func dump(ps []*decode.Packet) string {
	var b strings.Builder
	for _, p := range ps {
		side := "A→B"
		if p.Flow.Dir == 1 {
			side = "B→A"
		}
		fmt.Fprintf(&b, "%d flow=%d %s %s", p.N, p.Flow.Conv, side, p.Label())
		if n := p.Flow.Expert.Names(); len(n) > 0 {
			fmt.Fprintf(&b, " expert=%s", strings.Join(n, ","))
		}
		for _, tr := range p.Transitions() {
			fmt.Fprintf(&b, " %c:%s→%s", "AB"[tr.Side], tr.From, tr.To)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestGolden compares the tracker's view of each recorded scenario with a
// reviewed golden file (go test -update rewrites them).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pcapng")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ps, _ := track(t, f)
			got := dump(ps)
			golden.CheckFile(t, strings.TrimSuffix(f, ".pcapng")+".golden", []byte(got))
		})
	}
}

// TestHandshakeFacts checks, on a real capture, what the handshake lesson
// relies on.
func TestHandshakeFacts(t *testing.T) {
	ps, tr := track(t, "testdata/handshake.pcapng")
	tests := []struct {
		n              int
		flags          decode.Flags
		relSeq, relAck uint32
		dir            uint8
	}{
		{1, decode.SYN, 0, 0, 0},
		{2, decode.SYN | decode.ACK, 0, 1, 1},
		{3, decode.ACK, 1, 1, 0},
		{4, decode.FIN | decode.ACK, 1, 1, 0},
		{5, decode.FIN | decode.ACK, 1, 2, 1},
		{6, decode.ACK, 2, 2, 0},
	}
	if len(ps) != len(tests) {
		t.Fatalf("%d packets, want %d", len(ps), len(tests))
	}
	for _, tc := range tests {
		p := ps[tc.n-1]
		if p.Flags != tc.flags || p.Flow.RelSeq != tc.relSeq || p.Flow.RelAck != tc.relAck || p.Flow.Dir != tc.dir {
			t.Errorf("packet %d: %s dir %d, want %s seq=%d ack=%d dir %d", tc.n, p.Label(), p.Flow.Dir, tc.flags, tc.relSeq, tc.relAck, tc.dir)
		}
	}
	if ps[1].Ack != ps[0].Seq+1 {
		t.Errorf("SYN,ACK ack %d, want client ISN+1 = %d", ps[1].Ack, ps[0].Seq+1)
	}
	c := tr.Conv(1)
	if c == nil || len(tr.Convs()) != 1 {
		t.Fatalf("want exactly one conversation, got %d", len(tr.Convs()))
	}
	if c.State != [2]tcpstate.State{tcpstate.TimeWait, tcpstate.Closed} {
		t.Errorf("final inferred states %v, want [TIME-WAIT CLOSED]", c.State)
	}
}

// TestWindowScale: after the handshake the window field is scaled.
func TestWindowScale(t *testing.T) {
	ps, _ := track(t, "testdata/handshake.pcapng")
	syn := ps[0]
	if syn.Opts.WScale < 0 {
		t.Fatal("SYN has no window scale option")
	}
	ack := ps[2]
	if want := uint32(ack.Window) << uint(ps[1].Opts.WScale); ack.Flow.WinBytes != want {
		t.Errorf("ACK window %d bytes, want %d << %d = %d", ack.Flow.WinBytes, ack.Window, ps[1].Opts.WScale, want)
	}
	if syn.Flow.WinBytes != uint32(syn.Window) {
		t.Errorf("SYN window must not be scaled: %d vs %d", syn.Flow.WinBytes, syn.Window)
	}
}

// TestMidStream: a capture that begins after the handshake still gets
// relative numbers from 1 and is marked.
func TestMidStream(t *testing.T) {
	ps, _ := track(t, "testdata/echo.pcapng")
	tr := flow.NewTracker()
	var got []*decode.Packet
	for _, p := range ps[3:] { // skip the handshake
		q := *p
		tr.Add(&q)
		got = append(got, &q)
	}
	if !got[0].Flow.StreamStart {
		t.Error("first packet of a mid-stream capture not marked StreamStart")
	}
	if got[0].PayloadLen > 0 && got[0].Flow.RelSeq != 1 {
		t.Errorf("first data segment relative seq %d, want 1", got[0].Flow.RelSeq)
	}
}

// TestExpertSynthetic builds segments by hand for marks the scenarios here do
// not produce: retransmission, keep-alive, zero window, window update.
func TestExpertSynthetic(t *testing.T) {
	a := mustAP("127.0.0.1:40000")
	b := mustAP("127.0.0.1:8888")
	seg := func(src, dst string, flags decode.Flags, seq, ack uint32, n int, win uint16) *decode.Packet {
		return &decode.Packet{Proto: decode.ProtoTCP, Src: mustAP(src), Dst: mustAP(dst), Flags: flags, Seq: seq, Ack: ack, PayloadLen: n, Window: win, Opts: decode.TCPOptions{WScale: -1}}
	}
	_, _ = a, b
	c, s := "127.0.0.1:40000", "127.0.0.1:8888"
	steps := []struct {
		p    *decode.Packet
		want decode.Expert
	}{
		{seg(c, s, decode.SYN, 100, 0, 0, 1000), 0},
		{seg(s, c, decode.SYN|decode.ACK, 500, 101, 0, 1000), 0},
		{seg(c, s, decode.ACK, 101, 501, 0, 1000), 0},
		{seg(c, s, decode.ACK|decode.PSH, 101, 501, 10, 1000), 0},
		{seg(c, s, decode.ACK|decode.PSH, 101, 501, 10, 1000), decode.Retransmission},
		{seg(s, c, decode.ACK, 501, 111, 0, 1000), 0},
		{seg(s, c, decode.ACK, 501, 111, 0, 1000), decode.DupAck},
		{seg(s, c, decode.ACK, 501, 111, 0, 2000), decode.WindowUpdate},
		{seg(c, s, decode.ACK, 110, 501, 0, 1000), decode.KeepAlive},
		{seg(s, c, decode.ACK, 501, 111, 0, 2000), decode.KeepAliveAck},
		{seg(s, c, decode.ACK, 501, 111, 0, 0), decode.ZeroWindow | decode.WindowUpdate},
		{seg(c, s, decode.ACK, 111, 501, 1, 1000), decode.ZeroWindowProbe},
		{seg(c, s, decode.RST, 112, 0, 0, 0), decode.Reset},
	}
	tr := flow.NewTracker()
	for i, st := range steps {
		st.p.N = i + 1
		tr.Add(st.p)
		if st.p.Flow.Expert != st.want {
			t.Errorf("segment %d %s: expert %v, want %v", i+1, st.p.Label(), st.p.Flow.Expert.Names(), st.want.Names())
		}
	}
}

// BenchmarkDecodeFlow measures decode + flow tracking per packet on a real
// capture, in steady state (conversations exist, records reused).
func BenchmarkDecodeFlow(b *testing.B) {
	src, err := capture.OpenFile("testdata/close.pcapng")
	if err != nil {
		b.Fatal(err)
	}
	var frames []capture.Frame
	for {
		f, err := src.ReadFrame()
		if err != nil {
			break
		}
		frames = append(frames, f)
	}
	src.Close()
	dec, _ := decode.NewDecoder(src.LinkType())
	tr := flow.NewTracker()
	var p decode.Packet
	for _, f := range frames { // warm up: conversations exist
		dec.Decode(f.Data, f.Length, &p)
		tr.Add(&p)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := frames[i%len(frames)]
		dec.Decode(f.Data, f.Length, &p)
		tr.Add(&p)
	}
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestPureAckAfterLostData: a pure ACK whose sequence number is past what
// the capture saw its sender send means segments were not captured.
func TestPureAckAfterLostData(t *testing.T) {
	c, s := "127.0.0.1:40000", "127.0.0.1:8888"
	seg := func(src, dst string, flags decode.Flags, seq, ack uint32, n int) *decode.Packet {
		return &decode.Packet{Proto: decode.ProtoTCP, Src: mustAP(src), Dst: mustAP(dst), Flags: flags, Seq: seq, Ack: ack, PayloadLen: n, Window: 1000, Opts: decode.TCPOptions{WScale: -1}}
	}
	tr := flow.NewTracker()
	for _, p := range []*decode.Packet{
		seg(c, s, decode.SYN, 100, 0, 0),
		seg(s, c, decode.SYN|decode.ACK, 500, 101, 0),
		seg(c, s, decode.ACK, 101, 501, 0),
	} {
		tr.Add(p)
	}
	lost := seg(c, s, decode.ACK, 151, 501, 0) // 50 bytes from the client were never seen
	tr.Add(lost)
	if lost.Flow.Expert != decode.PrevNotCaptured {
		t.Fatalf("expert %v, want previous-segment-not-captured", lost.Flow.Expert.Names())
	}
}
