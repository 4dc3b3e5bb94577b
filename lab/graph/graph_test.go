package graph

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

const mss = 1000

// slowStart is a made-up run: a client sends flights of 2, 4 and 8
// segments 20 ms apart, the server acknowledges each flight 10 ms after it,
// one segment of the last flight is lost on the wire and sent again, and
// the client's kernel reports cwnd 2, 4, 8, then 4 in Recovery.
func slowStart() *timeline.Timeline {
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tl := timeline.New(timeline.Meta{Scenario: "made-up", Start: start})
	at := func(ms float64) time.Time { return start.Add(time.Duration(ms * float64(time.Millisecond))) }
	var evs []timeline.Event
	seq := uint32(1)
	sock := timeline.Socket{Local: netip.MustParseAddrPort("192.0.2.10:40000"), Remote: netip.MustParseAddrPort("192.0.2.20:8888")}
	data := func(ms float64, lost, resent bool) {
		p := &decode.Packet{Proto: decode.ProtoTCP, Flags: decode.ACK, PayloadLen: mss}
		p.Flow.Conv, p.Flow.Dir, p.Flow.RelSeq = 1, 0, seq
		p.Lab.From, p.Lab.To = "client", "server"
		if lost {
			p.Lab.Drop = decode.DropWire
		}
		if resent {
			p.Flow.Expert = decode.Retransmission
			p.Flow.RelSeq = seq - 4*mss
		} else {
			seq += mss
		}
		evs = append(evs, timeline.Event{Time: at(ms), Kind: timeline.KindPacket, Packet: p})
	}
	ack := func(ms float64, upTo uint32) {
		p := &decode.Packet{Proto: decode.ProtoTCP, Flags: decode.ACK}
		p.Flow.Conv, p.Flow.Dir, p.Flow.RelAck, p.Flow.WinBytes = 1, 1, upTo, 64000
		p.Lab.From, p.Lab.To = "server", "client"
		p.Lab.Wire.Arrived = at(ms + 5)
		evs = append(evs, timeline.Event{Time: at(ms), Kind: timeline.KindPacket, Packet: p})
	}
	info := func(ms float64, cwnd uint32, st tcpstate.CAState) {
		evs = append(evs, timeline.Event{Time: at(ms), Kind: timeline.KindTCPInfo, TCPInfo: &timeline.TCPInfo{
			Lane: "client", Socket: sock, Congestion: "reno", CAState: st, Cwnd: cwnd, Unacked: cwnd / 2,
			RTT: time.Duration(10+ms/10) * time.Millisecond, MinRTT: 10 * time.Millisecond}})
	}
	info(1, 2, tcpstate.CAOpen)
	for f, n := range []int{2, 4, 8} {
		base := float64(20 * f)
		for i := range n {
			data(base+float64(i)*0.1, f == 2 && i == 3, false)
		}
		ack(base+10, seq)
		info(base+16, uint32(2*n), tcpstate.CAOpen)
	}
	data(75, false, true)
	info(76, 4, tcpstate.CARecovery)
	tl.Append(evs...)
	return tl
}

func TestFromTimeline(t *testing.T) {
	gs := FromTimeline(slowStart())
	want := map[string]map[string]int{ // graph name → series (English) → points
		"seq-1-client":        {"data segment": 14, "retransmission": 1, "lost on the wire": 1, "ACK (as it arrived)": 3, "ACK + receive window (mostly above the top)": 3},
		"cwnd-client-1":       {"cwnd": 5, "in flight (unacked)": 5, "congestion state change": 1},
		"throughput-1-client": {"acknowledged (capture)": 2},
		"rtt-client-1":        {"smoothed RTT (srtt)": 5, "least RTT seen (min_rtt)": 5},
	}
	if len(gs) != len(want) {
		t.Fatalf("%d graphs, want %d", len(gs), len(want))
	}
	for _, g := range gs {
		ws, ok := want[g.Name]
		if !ok {
			t.Errorf("unexpected graph %q", g.Name)
			continue
		}
		got := map[string]int{}
		for _, s := range g.Series {
			got[s.Name.En] = len(s.Points)
		}
		for name, n := range ws {
			if got[name] != n {
				t.Errorf("%s: series %q has %d points, want %d (all: %v)", g.Name, name, got[name], n, got)
			}
		}
	}
}

// TestSVG renders each made-up graph in both languages: well-formed XML
// with a title, both axis labels and one legend entry per series, equal to
// the reviewed golden file.
func TestSVG(t *testing.T) {
	for _, g := range FromTimeline(slowStart()) {
		for _, lang := range []i18n.Lang{i18n.En, i18n.Zh} {
			t.Run(g.Name+"-"+string(lang), func(t *testing.T) {
				var b bytes.Buffer
				if err := g.WriteSVG(&b, lang); err != nil {
					t.Fatal(err)
				}
				texts := svgTexts(t, b.Bytes())
				for _, want := range []string{g.Title.In(lang), g.XUnit.In(lang), g.YLabel.In(lang)} {
					if !texts[want] {
						t.Errorf("no text %q", want)
					}
				}
				legends := 0
				for txt := range texts {
					for _, s := range g.Series {
						if strings.HasPrefix(txt, s.Name.In(lang)+" (") {
							legends++
						}
					}
				}
				if legends != len(g.Series) {
					t.Errorf("%d legend entries for %d series", legends, len(g.Series))
				}
				golden.CheckFile(t, "testdata/"+g.Name+"-"+string(lang)+".svg", b.Bytes())
			})
		}
	}
}

// svgTexts parses an SVG document and returns the set of its <text> and
// <title> contents; a document that is not well-formed XML fails.
func svgTexts(t *testing.T, doc []byte) map[string]bool {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	texts := map[string]bool{}
	var in string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return texts
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local
		case xml.CharData:
			if in == "text" || in == "title" {
				texts[string(tok)] = true
			}
		case xml.EndElement:
			in = ""
		}
	}
}

func TestAxisTicks(t *testing.T) {
	tests := []struct {
		lo, hi     float64
		span       [2]float64
		ticks, gap int
	}{
		{0, 160, [2]float64{0, 160}, 9, 20},
		{39.1, 178.6, [2]float64{20, 180}, 9, 20},
		{0, 217200, [2]float64{0, 250000}, 6, 50000},
		{0, 1, [2]float64{0, 1}, 6, 0},
	}
	for _, tc := range tests {
		span, ticks := axisTicks(tc.lo, tc.hi)
		if span != tc.span || len(ticks) != tc.ticks {
			t.Errorf("axisTicks(%v, %v) = %v with %d ticks %v, want %v with %d", tc.lo, tc.hi, span, len(ticks), ticks, tc.span, tc.ticks)
		}
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 40: "40", 2.5: "2.5", 50000: "50k", 2500000: "2.5M", 0.30000000000000004: "0.3"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestSVGLabelsStack: marks a few milliseconds apart (a state left and
// entered again) get their labels on separate lines, not over each other.
func TestSVGLabelsStack(t *testing.T) {
	g := Graph{Name: "marks", Title: i18n.T("t", "t"), XUnit: i18n.T("ms", "毫秒"), YLabel: i18n.T("y", "y"),
		Series: []Series{
			{Name: i18n.T("line", "线"), Style: Step, Color: "#000", Points: []Point{{T: 0, Y: 10}, {T: time.Second, Y: 10}}},
			{Name: i18n.T("marks", "标记"), Style: Marks, Color: "#d62728", Points: []Point{
				{T: 500 * time.Millisecond, Y: 5, Label: "Disorder"},
				{T: 501 * time.Millisecond, Y: 5, Label: "Recovery"},
				{T: 502 * time.Millisecond, Y: 5, Label: "Open"},
				{T: 900 * time.Millisecond, Y: 5, Label: "Loss"},
			}},
		}}
	var b strings.Builder
	if err := g.WriteSVG(&b, i18n.En); err != nil {
		t.Fatal(err)
	}
	ys := map[string]string{}
	for _, label := range []string{"Disorder", "Recovery", "Open", "Loss"} {
		i := strings.Index(b.String(), ">"+label+"</text>")
		if i < 0 {
			t.Fatalf("no label %s", label)
		}
		tag := b.String()[strings.LastIndex(b.String()[:i], "<text"):i]
		y := tag[strings.Index(tag, ` y="`)+4:]
		ys[label] = y[:strings.Index(y, `"`)]
	}
	if ys["Disorder"] == ys["Recovery"] || ys["Recovery"] == ys["Open"] || ys["Disorder"] == ys["Open"] {
		t.Errorf("labels of close marks share a line: %v", ys)
	}
	if ys["Loss"] != ys["Disorder"] {
		t.Errorf("a lone mark's label moved: Loss at y=%s, Disorder at %s", ys["Loss"], ys["Disorder"])
	}
}
