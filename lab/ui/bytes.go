package ui

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/timeline"
)

// bytesView shows, for each direction of the focused connection, three
// aligned rows of boxes — the program's writes, the TCP segments that
// carried the bytes, the peer program's reads — each box as wide as its
// byte count, so message boundaries can be seen moving: five writes in one
// segment, one segment read in two reads ("sticky packets" / 粘包). As of
// the cursor, like every panel.
type bytesView struct {
	*tview.Box
	d *Dashboard
}

func newBytesView(d *Dashboard) *bytesView { return &bytesView{Box: tview.NewBox(), d: d} }

// span is one box: bytes [start, end) of a direction's stream.
type span struct {
	start, end int64
	label      string
}

// direction is one way of a connection and its three rows.
type direction struct {
	from, to            netip.AddrPort
	fromLane, toLane    string
	writes, segs, reads []span
	lo, hi              int64 // the stretch of the stream the rows show
}

// bytesWindow bounds the data items the panel reads: the latest ones before
// the cursor (older boxes would be narrower than a cell anyway).
const bytesWindow = 256

// directions collects the latest data of connection c up to the cursor.
func (v *bytesView) directions(c *connInfo) []*direction {
	m := v.d.model
	dirs := map[netip.AddrPort]*direction{}
	var order []*direction
	get := func(from, to netip.AddrPort) *direction {
		dd := dirs[from]
		if dd == nil {
			dd = &direction{from: from, to: to, lo: -1}
			dirs[from] = dd
			order = append(order, dd)
		}
		return dd
	}
	k := upTo(c.data, m.cursor)
	for j := max(k-bytesWindow, 0); j < k; j++ {
		e := m.at(int(c.data[j]))
		pos := c.pos[j]
		var dd *direction
		var sp span
		switch e.Kind {
		case timeline.KindPacket:
			p := e.Packet
			dd = get(p.Src, p.Dst)
			dd.fromLane, dd.toLane = orStr(dd.fromLane, p.Lab.From), orStr(dd.toLane, p.Lab.To)
			sp = span{pos, pos + int64(p.PayloadLen), "#" + strconv.Itoa(p.N)}
			dd.segs = append(dd.segs, sp)
		default:
			a := e.App
			sp = span{pos, pos + int64(a.Bytes), strconv.Itoa(a.Bytes)}
			if a.Call.Writes() {
				dd = get(a.Socket.Local, a.Socket.Remote)
				dd.fromLane = orStr(dd.fromLane, a.Lane)
				dd.writes = append(dd.writes, sp)
			} else {
				dd = get(a.Socket.Remote, a.Socket.Local)
				dd.toLane = orStr(dd.toLane, a.Lane)
				dd.reads = append(dd.reads, sp)
			}
		}
		if dd.lo < 0 || sp.start < dd.lo {
			dd.lo = sp.start
		}
		dd.hi = max(dd.hi, sp.end)
	}
	return order
}

// ends is the end of the last span: the stream's bytes so far (of the window).
func ends(spans []span) int64 {
	var n int64
	for _, s := range spans {
		n = max(n, s.end)
	}
	return n
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (v *bytesView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	d, th := v.d, v.d.theme
	if w <= 0 || h <= 0 {
		return
	}
	c := d.model.focusConn()
	var dirs []*direction
	if c != nil {
		dirs = v.directions(c)
	}
	if len(dirs) == 0 {
		drawParagraphs(screen, x, y, w, h, d.tr(
			"No data yet on this connection. Here each write(), each TCP segment with payload and each read() becomes a box as wide as its bytes, so you see where message boundaries go.",
			"这个连接上还没有数据。每次 write()、每个带载荷的 TCP 报文段和每次 read() 都会画成一个与字节数等宽的方框,可以看到消息边界如何变化。"), th.dim)
		return
	}
	const lw = 7 // row label width
	row := 0
	for _, dd := range dirs {
		if row >= h {
			break
		}
		title := fmt.Sprintf(d.tr("%s → %s: wrote %d, carried %d, read %d bytes", "%s → %s:写入 %d,传输 %d,读取 %d 字节"),
			orStr(dd.fromLane, dd.from.String()), orStr(dd.toLane, dd.to.String()), ends(dd.writes), ends(dd.segs), ends(dd.reads))
		if dd.lo > 0 {
			title += fmt.Sprintf(d.tr(" (from byte %d)", "(从第 %d 字节起)"), dd.lo)
		}
		put(screen, x, y+row, w, title, th.bold)
		row++
		for _, r := range []struct {
			name  string
			spans []span
		}{{d.tr("write", "写"), dd.writes}, {"TCP", dd.segs}, {d.tr("read", "读"), dd.reads}} {
			if row >= h {
				break
			}
			put(screen, x, y+row, lw, r.name, th.dim)
			drawSpans(screen, x+lw, y+row, w-lw, dd.lo, dd.hi, r.spans, th)
			row++
		}
	}
}

// drawSpans draws boxes scaled so total bytes fill width; neighbours
// alternate between reversed and plain, with │ at each boundary, so even
// a one-cell box stands out without colour.
func drawSpans(screen tcell.Screen, x, y, width int, lo, hi int64, spans []span, th *theme) {
	if hi <= lo || width <= 0 {
		return
	}
	col := func(b int64) int { return int((b - lo) * int64(width) / (hi - lo)) }
	for i, s := range spans {
		a, b := col(s.start), col(s.end)
		if b <= a {
			b = a + 1
		}
		if a >= width {
			continue
		}
		b = min(b, width)
		st := th.cursor
		if i%2 == 1 {
			st = th.normal.Underline(true)
		}
		fill(screen, x+a, y, b-a, ' ', st)
		screen.SetContent(x+a, y, '│', nil, st)
		if lbl := s.label; len(lbl)+1 < b-a {
			put(screen, x+a+1, y, b-a-1, lbl, st)
		}
	}
}

func (v *bytesView) titleExtra() string {
	if c := v.d.model.focusConn(); c != nil {
		return c.key.Lo.String() + " ⇄ " + c.key.Hi.String()
	}
	return ""
}
