// Package graph draws a run's TCP conversations as pictures a learner
// would rather look at than read: the time–sequence graph of each
// direction that carried data (Stevens and tcptrace style: segments as
// ticks by sequence number over time, the peer's ACK and window as lines,
// retransmissions and wire losses marked), and the sender kernel's
// congestion window over time (cwnd, ssthresh and segments in flight
// from its tcp_info readings, congestion state changes marked).
//
// Every point comes from the run's own timeline: captured packets and
// kernel readings, nothing interpolated. FromTimeline builds the graphs;
// Graph.WriteSVG renders one.
package graph

import (
	"fmt"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

// Style is how a series is drawn.
type Style int

const (
	// Line joins the points; a step line holds each value until the
	// next (an ACK number or cwnd does not slide between readings).
	Line Style = iota
	Step
	// Ticks draws each point as a vertical bar from Y to Y2: a segment
	// covering its sequence numbers.
	Ticks
	// Marks draws each point as a cross: a loss, a state change.
	Marks
)

// Point is one value at a time since the run began; Y2 is a tick's top.
type Point struct {
	T     time.Duration
	Y, Y2 float64
	Label string // a mark's label ("Recovery")
}

// Series is one named set of points drawn one way.
type Series struct {
	Name   i18n.Text
	Style  Style
	Color  string // an SVG color
	Points []Point
	// Unscaled: the series does not stretch the value axis; what lies
	// above is cut off (a receive window of megabytes above a transfer
	// of kilobytes would flatten the picture).
	Unscaled bool
}

// Graph is one picture: a title, axes with units, and its series.
type Graph struct {
	// Name is the file name it is written under, without ".svg":
	// "seq-1-client" (conversation 1, the client's data), "cwnd-client-1".
	Name          string
	Title         i18n.Text
	XUnit, YLabel i18n.Text
	Series        []Series
}

// MinSegments is the data segments a direction needs to get a
// time–sequence graph, MinReadings the kernel readings a socket needs to
// get a cwnd graph: fewer make no picture worth drawing.
const (
	MinSegments = 8
	MinReadings = 3
)

// FromTimeline builds the run's graphs: a time–sequence graph and (with
// ACKs over enough time) a throughput graph per direction of a TCP
// conversation that carried MinSegments data segments; a congestion window
// graph and an RTT graph per socket with MinReadings tcp_info readings. The order is stable: by conversation, then by socket as first
// seen.
func FromTimeline(tl *timeline.Timeline) []Graph {
	start := tl.Meta().Start
	type dirKey struct {
		conv int
		dir  uint8
	}
	seq := map[dirKey]*seqBuilder{}
	var seqOrder []dirKey
	type sockKey struct {
		lane string
		sock timeline.Socket
	}
	cwnd := map[sockKey]*cwndBuilder{}
	var cwndOrder []sockKey
	tl.All(func(e *timeline.Event) bool {
		if start.IsZero() {
			start = e.Time
		}
		at := e.Time.Sub(start)
		switch {
		case e.Packet != nil && e.Packet.Proto == decode.ProtoTCP && e.Packet.Flow.Conv > 0:
			p := e.Packet
			for _, d := range []uint8{0, 1} {
				k := dirKey{p.Flow.Conv, d}
				b := seq[k]
				if b == nil {
					b = &seqBuilder{}
					seq[k] = b
					seqOrder = append(seqOrder, k)
				}
				arrived := at
				if !p.Lab.Wire.Arrived.IsZero() {
					arrived = p.Lab.Wire.Arrived.Sub(start)
				}
				if p.Flow.Dir == d {
					b.sent(at, p)
				} else {
					b.acked(arrived, p)
				}
			}
		case e.TCPInfo != nil:
			k := sockKey{e.TCPInfo.Lane, e.TCPInfo.Socket}
			b := cwnd[k]
			if b == nil {
				b = &cwndBuilder{}
				cwnd[k] = b
				cwndOrder = append(cwndOrder, k)
			}
			b.reading(at, e.TCPInfo)
		}
		return true
	})
	var out []Graph
	for _, k := range seqOrder {
		if b := seq[k]; b.segments >= MinSegments {
			out = append(out, b.graph(k.conv))
			if g, ok := b.throughput(k.conv); ok {
				out = append(out, g)
			}
		}
	}
	n := map[string]int{}
	for _, k := range cwndOrder {
		if b := cwnd[k]; len(b.cwnd.Points) >= MinReadings {
			n[k.lane]++
			out = append(out, b.graph(k.lane, n[k.lane], k.sock))
			if len(b.rtt.Points) >= MinReadings {
				out = append(out, b.rttGraph(k.lane, n[k.lane], k.sock))
			}
		}
	}
	return out
}

// seqBuilder collects one direction of a conversation.
type seqBuilder struct {
	from, to         string // the sender's lane and the receiver's
	segments         int
	data, resent     Series
	lost, ack, wnd   Series
	firstT, lastT    time.Duration
	haveData, gotAck bool
}

func (b *seqBuilder) sent(at time.Duration, p *decode.Packet) {
	if b.from == "" {
		b.from, b.to = p.Lab.From, p.Lab.To
	}
	if p.PayloadLen == 0 {
		return
	}
	b.segments++
	pt := Point{T: at, Y: float64(p.Flow.RelSeq), Y2: float64(p.Flow.RelSeq) + float64(p.PayloadLen)}
	switch {
	case p.Lab.Drop == decode.DropWire:
		b.lost.Points = append(b.lost.Points, Point{T: at, Y: pt.Y2})
	}
	if p.Flow.Expert&decode.Retransmission != 0 {
		b.resent.Points = append(b.resent.Points, pt)
	} else {
		b.data.Points = append(b.data.Points, pt)
	}
	b.haveData = true
}

func (b *seqBuilder) acked(at time.Duration, p *decode.Packet) {
	if !p.Flags.Has(decode.ACK) || !b.haveData || p.Lab.Drop == decode.DropWire {
		return // nothing of this direction to acknowledge yet, or the ACK never arrived
	}
	b.ack.Points = append(b.ack.Points, Point{T: at, Y: float64(p.Flow.RelAck)})
	b.wnd.Points = append(b.wnd.Points, Point{T: at, Y: float64(p.Flow.RelAck) + float64(p.Flow.WinBytes)})
}

func (b *seqBuilder) graph(conv int) Graph {
	sortByTime(b.ack.Points)
	sortByTime(b.wnd.Points)
	b.data.Name, b.data.Style, b.data.Color = i18n.T("data segment", "数据报文段"), Ticks, "#1f5fbf"
	b.resent.Name, b.resent.Style, b.resent.Color = i18n.T("retransmission", "重传"), Ticks, "#d62728"
	b.lost.Name, b.lost.Style, b.lost.Color = i18n.T("lost on the wire", "在线路上丢失"), Marks, "#d62728"
	b.ack.Name, b.ack.Style, b.ack.Color = i18n.T("ACK (as it arrived)", "ACK(到达时)"), Step, "#2ca02c"
	b.wnd.Name, b.wnd.Style, b.wnd.Color = i18n.T("ACK + receive window", "ACK + 接收窗口"), Step, "#9467bd"
	// The window line stretches the axis only where it is near the
	// data: a small or closing window is the story, a vast one is not.
	b.wnd.Unscaled = maxY(b.wnd.Points) > 2*max(maxY(b.data.Points), maxY(b.resent.Points))
	if b.wnd.Unscaled {
		b.wnd.Name = i18n.T("ACK + receive window (mostly above the top)", "ACK + 接收窗口(大多在图顶之上)")
	}
	g := Graph{
		Name:   fmt.Sprintf("seq-%d-%s", conv, fileSafe(b.from)),
		Title:  i18n.T(fmt.Sprintf("Time–sequence: conversation %d, %s → %s", conv, b.from, b.to), fmt.Sprintf("时间–序号图:会话 %d,%s → %s", conv, b.from, b.to)),
		XUnit:  i18n.T("time since the run began (ms)", "运行开始后的时间(ms)"),
		YLabel: i18n.T("relative sequence number (bytes)", "相对序号(字节)"),
	}
	for _, s := range []Series{b.wnd, b.ack, b.data, b.resent, b.lost} {
		if len(s.Points) > 0 {
			g.Series = append(g.Series, s)
		}
	}
	return g
}

// throughputBins is how many bins the throughput graph's time span is cut
// into (each at least minBin wide, so that a bin holds several ACKs).
const (
	throughputBins = 60
	minBin         = 20 * time.Millisecond
)

// throughput is the direction's goodput over time, from the capture: the
// bytes newly acknowledged by the ACKs arriving in each bin, divided by
// the bin's width, in MB/s. It needs two bins' worth of ACKs.
func (b *seqBuilder) throughput(conv int) (Graph, bool) {
	acks := b.ack.Points // sorted by graph()
	if len(acks) < 2 {
		return Graph{}, false
	}
	t0, t1 := acks[0].T, acks[len(acks)-1].T
	bin := max((t1-t0)/throughputBins, minBin)
	if t1-t0 < 2*bin {
		return Graph{}, false
	}
	var pts []Point
	high := acks[0].Y
	k := 0
	for start := t0; start < t1; start += bin {
		before := high
		for ; k < len(acks) && acks[k].T < start+bin; k++ {
			high = max(high, acks[k].Y)
		}
		mbps := (high - before) / bin.Seconds() / 1e6
		pts = append(pts, Point{T: start + bin/2, Y: mbps})
	}
	return Graph{
		Name:   fmt.Sprintf("throughput-%d-%s", conv, fileSafe(b.from)),
		Title:  i18n.T(fmt.Sprintf("Throughput: conversation %d, %s → %s, bytes acknowledged per %v", conv, b.from, b.to, bin.Round(time.Millisecond)), fmt.Sprintf("吞吐量:会话 %d,%s → %s,每 %v 确认的字节", conv, b.from, b.to, bin.Round(time.Millisecond))),
		XUnit:  i18n.T("time since the run began (ms)", "运行开始后的时间(ms)"),
		YLabel: i18n.T("throughput (MB/s)", "吞吐量(MB/s)"),
		Series: []Series{{Name: i18n.T("acknowledged (capture)", "已确认(抓包)"), Style: Line, Color: "#1f5fbf", Points: pts}},
	}, true
}

// cwndBuilder collects one socket's kernel readings.
type cwndBuilder struct {
	cwnd, ssthresh, unacked, states Series
	rtt, minRTT                     Series // ms
	alg                             string
	lastState                       string
}

func (b *cwndBuilder) reading(at time.Duration, t *timeline.TCPInfo) {
	b.cwnd.Points = append(b.cwnd.Points, Point{T: at, Y: float64(t.Cwnd)})
	if t.Ssthresh > 0 {
		b.ssthresh.Points = append(b.ssthresh.Points, Point{T: at, Y: float64(t.Ssthresh)})
	}
	b.unacked.Points = append(b.unacked.Points, Point{T: at, Y: float64(t.Unacked)})
	if t.RTT > 0 {
		b.rtt.Points = append(b.rtt.Points, Point{T: at, Y: ms(t.RTT)})
	}
	if t.MinRTT > 0 && t.MinRTT < time.Hour { // the kernel's "none yet" is ~71 min
		b.minRTT.Points = append(b.minRTT.Points, Point{T: at, Y: ms(t.MinRTT)})
	}
	if st := t.CAState.String(); st != b.lastState {
		if b.lastState != "" {
			b.states.Points = append(b.states.Points, Point{T: at, Y: float64(t.Cwnd), Label: st})
		}
		b.lastState = st
	}
	if t.Congestion != "" {
		b.alg = t.Congestion
	}
}

func (b *cwndBuilder) graph(lane string, n int, sock timeline.Socket) Graph {
	b.cwnd.Name, b.cwnd.Style, b.cwnd.Color = i18n.T("cwnd", "cwnd(拥塞窗口)"), Step, "#1f5fbf"
	b.ssthresh.Name, b.ssthresh.Style, b.ssthresh.Color = i18n.T("ssthresh", "ssthresh(慢启动阈值)"), Step, "#ff7f0e"
	b.unacked.Name, b.unacked.Style, b.unacked.Color = i18n.T("in flight (unacked)", "在途(未确认)"), Step, "#7f7f7f"
	b.states.Name, b.states.Style, b.states.Color = i18n.T("congestion state change", "拥塞状态变化"), Marks, "#d62728"
	g := Graph{
		Name:   fmt.Sprintf("cwnd-%s-%d", fileSafe(lane), n),
		Title:  i18n.T(fmt.Sprintf("Congestion window of %s %s (%s), from its kernel", lane, sock, b.alg), fmt.Sprintf("%s %s 的拥塞窗口(%s),读自其内核", lane, sock, b.alg)),
		XUnit:  i18n.T("time since the run began (ms)", "运行开始后的时间(ms)"),
		YLabel: i18n.T("segments", "报文段"),
	}
	for _, s := range []Series{b.unacked, b.ssthresh, b.cwnd, b.states} {
		if len(s.Points) > 0 {
			g.Series = append(g.Series, s)
		}
	}
	return g
}

// maxY is the largest value (or tick top) among ps.
func maxY(ps []Point) float64 {
	m := 0.0
	for _, p := range ps {
		m = max(m, p.Y, p.Y2)
	}
	return m
}

// rttGraph is the socket's round-trip time as its kernel measured it: the
// smoothed RTT (RFC 6298, the basis of its RTO) and the least it has seen.
func (b *cwndBuilder) rttGraph(lane string, n int, sock timeline.Socket) Graph {
	b.rtt.Name, b.rtt.Style, b.rtt.Color = i18n.T("smoothed RTT (srtt)", "平滑 RTT(srtt)"), Step, "#1f5fbf"
	b.minRTT.Name, b.minRTT.Style, b.minRTT.Color = i18n.T("least RTT seen (min_rtt)", "最小 RTT(min_rtt)"), Step, "#2ca02c"
	g := Graph{
		Name:   fmt.Sprintf("rtt-%s-%d", fileSafe(lane), n),
		Title:  i18n.T(fmt.Sprintf("Round-trip time of %s %s, from its kernel", lane, sock), fmt.Sprintf("%s %s 的往返时间,读自其内核", lane, sock)),
		XUnit:  i18n.T("time since the run began (ms)", "运行开始后的时间(ms)"),
		YLabel: i18n.T("round-trip time (ms)", "往返时间(ms)"),
	}
	for _, s := range []Series{b.minRTT, b.rtt} {
		if len(s.Points) > 0 {
			g.Series = append(g.Series, s)
		}
	}
	return g
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sortByTime(ps []Point) {
	slices.SortStableFunc(ps, func(a, b Point) int { return int(a.T - b.T) })
}

// fileSafe keeps a lane name usable in a file name: "client 1" → "client-1".
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}
