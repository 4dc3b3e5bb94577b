package ui

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/decode"
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
	start, end int
	label      string
}

// direction is one way of a connection and its three rows.
type direction struct {
	from, to             netip.AddrPort
	fromLane, toLane     string
	writes, segs, reads  []span
	wrote, carried, read int
}

// directions collects the data of connection c up to the cursor.
func (v *bytesView) directions(c *connInfo) []*direction {
	m := v.d.model
	dirs := map[netip.AddrPort]*direction{}
	var order []*direction
	get := func(from, to netip.AddrPort) *direction {
		dd := dirs[from]
		if dd == nil {
			dd = &direction{from: from, to: to}
			dirs[from] = dd
			order = append(order, dd)
		}
		return dd
	}
	for _, i := range c.data[:upTo(c.data, m.cursor)] {
		e := m.at(int(i))
		switch e.Kind {
		case timeline.KindPacket:
			p := e.Packet
			dd := get(p.Src, p.Dst)
			dd.fromLane, dd.toLane = orStr(dd.fromLane, p.From), orStr(dd.toLane, p.To)
			start := dd.carried
			if p.Proto == decode.ProtoTCP && p.RelSeq > 0 {
				start = int(p.RelSeq) - 1
			}
			sp := span{start, start + p.PayloadLen, "#" + strconv.Itoa(p.N)}
			dd.segs = append(dd.segs, sp)
			dd.carried = max(dd.carried, sp.end)
		case timeline.KindApp:
			a := e.App
			if isWrite(a.Call) {
				dd := get(a.Socket.Local, a.Socket.Remote)
				dd.fromLane = orStr(dd.fromLane, a.Lane)
				dd.writes = append(dd.writes, span{dd.wrote, dd.wrote + a.Bytes, strconv.Itoa(a.Bytes)})
				dd.wrote += a.Bytes
			} else {
				dd := get(a.Socket.Remote, a.Socket.Local)
				dd.toLane = orStr(dd.toLane, a.Lane)
				dd.reads = append(dd.reads, span{dd.read, dd.read + a.Bytes, strconv.Itoa(a.Bytes)})
				dd.read += a.Bytes
			}
		}
	}
	return order
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
		total := max(dd.wrote, dd.carried, dd.read)
		title := fmt.Sprintf(d.tr("%s → %s: wrote %d, carried %d, read %d bytes", "%s → %s:写入 %d,传输 %d,读取 %d 字节"),
			orStr(dd.fromLane, dd.from.String()), orStr(dd.toLane, dd.to.String()), dd.wrote, dd.carried, dd.read)
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
			drawSpans(screen, x+lw, y+row, w-lw, total, r.spans, th)
			row++
		}
	}
}

// drawSpans draws boxes scaled so total bytes fill width; neighbours
// alternate between reversed and plain, with │ at each boundary, so even
// a one-cell box stands out without colour.
func drawSpans(screen tcell.Screen, x, y, width, total int, spans []span, th *theme) {
	if total <= 0 || width <= 0 {
		return
	}
	col := func(b int) int { return b * width / total }
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
		return c.key.a.String() + " ⇄ " + c.key.b.String()
	}
	return ""
}
