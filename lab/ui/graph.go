package ui

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
)

// graphView draws the focused connection as two small plots in braille
// dots (2×4 per cell), as of the cursor: the time–sequence graph of the
// direction that carried the most data (each segment's end at the time it
// left, the peer's ACK as it arrived, retransmissions marked), and below
// it the data sender kernel's cwnd and segments in flight from its
// tcp_info readings. The time axis runs from the connection's first point
// to the cursor, so stepping back through the run redraws the past.
// d (with the panel focused) turns to the other direction: the
// request's sender of a download, say. --svg draws the same series at
// full size.
type graphView struct {
	*tview.Box
	d *Dashboard
	// other: show the direction that carried less data.
	other bool
}

func (v *graphView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(p tview.Primitive)) {
		if ev.Key() == tcell.KeyRune && ev.Rune() == 'd' {
			v.other = !v.other
		}
	})
}

func newGraphView(d *Dashboard) *graphView { return &graphView{Box: tview.NewBox(), d: d} }

// graphWindow bounds the events a draw reads: the latest packets and
// readings before the cursor (older ones would share a dot column anyway).
const graphWindow = 4096

// plotPoint is one dot: a time and a value, and the style of its series.
type plotPoint struct {
	t  time.Duration
	y  float64
	st tcell.Style
	// line: a step line joins this point to the previous one of the
	// same line (cwnd holds its value between readings); 0: a lone dot.
	line int
}

func (v *graphView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	d, th := v.d, v.d.theme
	if w <= 0 || h <= 0 {
		return
	}
	m := d.model
	c := m.focusConn()
	var seq, cwnd []plotPoint
	var from, to string
	if c != nil {
		seq, cwnd, from, to = v.points(c)
	}
	if len(seq) == 0 {
		drawParagraphs(screen, x, y, w, h, d.tr(
			"No data yet on this connection. Here its time–sequence graph appears (each segment at its sequence number when it left, the ACKs as they arrived), and below it the sender's congestion window as its kernel reported it.",
			"这个连接上还没有数据。这里会显示它的时间–序号图(每个报文段在发出时的序号,ACK 在到达时的位置),下面是发送方内核报告的拥塞窗口。"), th.dim)
		return
	}
	// The time axis spans the data: from the first segment to the last
	// point up to the cursor (readings after it, at the close, would only
	// squeeze the transfer into a corner).
	start, end := seq[0].t, seq[0].t
	for _, p := range seq {
		end = max(end, p.t)
	}
	end = max(end, start+time.Millisecond)
	top := h
	if len(cwnd) > 0 && h >= 8 {
		top = h / 2
	}
	put(screen, x, y, w, fmt.Sprintf(d.tr("%s → %s: sequence number over time · data ·ACK · resent", "%s → %s:序号随时间 · 数据 ·ACK · 重传"), from, to), th.bold)
	var during []plotPoint        // the readings while the data flowed
	before := map[int]plotPoint{} // each line's last reading before
	for _, p := range cwnd {
		switch {
		case p.t < start:
			p.t = start // in force when the data began
			before[p.line] = p
		case p.t <= end:
			if b, ok := before[p.line]; ok {
				during = append(during, b)
				delete(before, p.line)
			}
			during = append(during, p)
		}
	}
	for _, b := range before { // no reading during the data: the last one holds
		during = append(during, b)
	}
	cwnd = during
	if len(cwnd) == 0 {
		top = h
	}
	plot(screen, x, y+1, w, top-1, start, end, seq, th)
	if top < h {
		put(screen, x, y+top, w, d.tr("the sender's kernel: cwnd · in flight (segments)", "发送方内核:cwnd · 在途(报文段)"), th.bold)
		plot(screen, x, y+top+1, w, h-top-1, start, end, cwnd, th)
	}
}

// points reads connection c's latest packets and readings up to the
// cursor: the time–sequence points of its busier direction and the
// cwnd/in-flight points of that direction's sender.
func (v *graphView) points(c *connInfo) (seq, cwnd []plotPoint, from, to string) {
	m, th := v.d.model, v.d.theme
	var sender netip.AddrPort
	for src, n := range c.carried {
		if !sender.IsValid() || n > c.carried[sender] || n == c.carried[sender] && src.String() < sender.String() {
			sender = src
		}
	}
	if v.other { // the peer: the connection's other end
		if sender == c.key.Lo {
			sender = c.key.Hi
		} else {
			sender = c.key.Lo
		}
	}
	top := 0.0 // the highest sequence number sent so far
	k := upTo(m.packets, m.cursor)
	for j := max(k-graphWindow, 0); j < k; j++ {
		e := m.at(int(m.packets[j]))
		p := e.Packet
		if p.Proto != decode.ProtoTCP || flow.KeyOf(p) != c.key {
			continue
		}
		at := m.rel(e.Time)
		switch {
		case p.Src == sender && p.PayloadLen > 0:
			st := th.arrowAB
			if p.Flow.Expert&decode.Retransmission != 0 || p.Lab.Drop == decode.DropWire {
				st = th.bad
			}
			seq = append(seq, plotPoint{at, float64(p.Flow.RelSeq) + float64(p.PayloadLen), st, 0})
			top = max(top, float64(p.Flow.RelSeq)+float64(p.PayloadLen))
			from, to = orStr(p.Lab.From, p.Src.String()), orStr(p.Lab.To, p.Dst.String())
		case p.Dst == sender && p.Flags.Has(decode.ACK) && len(seq) > 0 && p.Lab.Drop != decode.DropWire && float64(p.Flow.RelAck) <= top:
			// ACKs of the data only: the ACK of the FIN comes at the close.
			if !p.Lab.Wire.Arrived.IsZero() {
				at = m.rel(p.Lab.Wire.Arrived)
			}
			seq = append(seq, plotPoint{at, float64(p.Flow.RelAck), th.ok, 3})
		}
	}
	k = upTo(m.infos, m.cursor)
	for j := max(k-graphWindow, 0); j < k; j++ {
		e := m.at(int(m.infos[j]))
		t := e.TCPInfo
		if t.Socket.Local != sender || flow.ConnKey(decode.ProtoTCP, t.Socket.Local, t.Socket.Remote) != c.key {
			continue
		}
		at := m.rel(e.Time)
		cwnd = append(cwnd, plotPoint{at, float64(t.Unacked), th.dim, 1}, plotPoint{at, float64(t.Cwnd), th.kernel, 2})
	}
	return seq, cwnd, from, to
}

// brailleBits are the dot bits of a braille cell, by column and row.
var brailleBits = [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// plot draws points as braille dots in the w×h cells at x, y, with the
// value axis labelled at its top and bottom (a label column of 6) and the
// time axis from start to end; a cell takes the style of its last dot.
func plot(screen tcell.Screen, x, y, w, h int, start, end time.Duration, pts []plotPoint, th *theme) {
	const lw = 6
	if w <= lw+2 || h <= 1 {
		return
	}
	maxY := 1.0
	for _, p := range pts {
		maxY = max(maxY, p.y)
	}
	pw, ph := w-lw, h-1 // the last row is the time axis
	dots := make([]rune, pw*ph)
	styles := make([]tcell.Style, pw*ph)
	dot := func(dx, dy int, st tcell.Style) {
		if dx < 0 || dx >= 2*pw || dy < 0 || dy >= 4*ph {
			return
		}
		cell := dy/4*pw + dx/2
		dots[cell] |= brailleBits[dx%2][dy%4]
		styles[cell] = st
	}
	type at struct{ dx, dy int }
	last := map[int]at{} // each line's previous point
	for _, p := range pts {
		dx := int(float64(p.t-start) / float64(end-start) * float64(2*pw-1))
		dy := int((1 - p.y/maxY) * float64(4*ph-1))
		if prev, ok := last[p.line]; ok && p.line != 0 {
			for x := prev.dx; x < dx; x++ { // hold the value until now
				dot(x, prev.dy, p.st)
			}
			for y := min(prev.dy, dy); y <= max(prev.dy, dy); y++ { // then step
				dot(dx, y, p.st)
			}
		}
		dot(dx, dy, p.st)
		last[p.line] = at{dx, dy}
	}
	for r := range ph {
		for col := range pw {
			if b := dots[r*pw+col]; b != 0 {
				screen.SetContent(x+lw+col, y+r, 0x2800+b, nil, styles[r*pw+col])
			}
		}
		screen.SetContent(x+lw-1, y+r, '│', nil, th.dim)
	}
	put(screen, x, y, lw-1, shortNum(maxY), th.dim)
	put(screen, x, y+ph-1, lw-1, "0", th.dim)
	axis := fmt.Sprintf("%s ms", shortNum(float64(start)/float64(time.Millisecond)))
	put(screen, x+lw, y+ph, pw, axis, th.dim)
	right := fmt.Sprintf("%s ms", shortNum(float64(end)/float64(time.Millisecond)))
	put(screen, x+w-len(right), y+ph, len(right), right, th.dim)
}

// shortNum fits a value in 5 cells: 217k, 1.2M, 80, 0.5.
func shortNum(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
