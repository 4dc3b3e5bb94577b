package ui

import (
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// ladderView is the ladder diagram: one vertical lane per endpoint, one
// arrow per packet, the program's calls and the kernel's states beside their
// lane, the time in ms on the left — one row per event, laid out by
// render.Ladder exactly as `netlab run` prints it. Only the visible rows are
// rendered, so a million events draw as fast as ten. The cursor row is
// reversed and marked ▶; the selected packet's arrow is underlined; events
// after the cursor are dim.
type ladderView struct {
	*tview.Box
	d          *Dashboard
	offset     int  // first event shown
	pinned     bool // scrolled with the wheel: do not chase the cursor
	lastCursor int
	bodyY      int // screen row of the first event, for clicks
	bodyH      int
	rowEvent   []int // the event drawn on each body row
}

func newLadderView(d *Dashboard) *ladderView {
	return &ladderView{Box: tview.NewBox(), d: d}
}

func (v *ladderView) reset() { v.offset, v.pinned, v.lastCursor = 0, false, -1 }

func (v *ladderView) titleExtra() string {
	m := v.d.model
	if m.tl == nil {
		return ""
	}
	return fmt.Sprintf(v.d.tr("%s · %d events", "%s · %d 个事件"), m.sc.Name, m.n)
}

func (v *ladderView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	d, m, th := v.d, v.d.model, v.d.theme
	if w <= 0 || h <= 0 {
		return
	}
	switch {
	case m.err != "":
		drawParagraphs(screen, x, y, w, h, m.err, th.bold)
		return
	case m.tl == nil:
		drawParagraphs(screen, x, y, w, h, d.tr(
			"No run yet.\n\nPick a scenario in the Scenarios panel (Tab moves between panels, j/k or the arrows move in a list) and press Enter. The scenario runs on real sockets in a private network namespace: its packets, the kernel's socket states and the program's calls appear here as they happen.\n\nThe run pauses at each narration step: press space to go on. ←/→ (h/l) scrub through what happened; every panel follows the cursor. ? lists every key.",
			"还没有运行。\n\n在“场景”面板中选择一个场景(Tab 在面板间切换,j/k 或方向键在列表中移动),按 Enter 运行。场景在私有网络命名空间中使用真实套接字运行:报文、内核套接字状态和程序调用会实时出现在这里。\n\n运行会在每个讲解步骤暂停:按空格继续。←/→(h/l)回看发生过的事件,所有面板都跟随光标。按 ? 查看全部按键。"), th.normal)
		return
	}
	lad := render.NewLadder(m.meta, w, d.lang)
	names := lad.LaneNames()
	hdr := 0
	// The legend where it costs little: one line, or a tall panel (the
	// help screen says it too).
	if legend := lad.Legend(); (h >= 14 && len(legend) == 1) || h >= 30 {
		for _, l := range legend {
			put(screen, x, y+hdr, w, l, th.dim)
			hdr++
		}
	}
	put(screen, x, y+hdr, w, names, th.bold)
	hdr++
	bh := h - hdr
	v.bodyY, v.bodyH = y+hdr, bh
	if bh <= 0 {
		return
	}
	if m.cursor != v.lastCursor {
		v.pinned = false
		v.lastCursor = m.cursor
	}
	// Each event takes as many rows as its labels wrap to, after the
	// rows of the packets that reached their receivers since the event
	// before it; only the events from offset on are laid out, at most a
	// screenful.
	cache := map[int]eventRows{}
	rowsOf := func(i int) eventRows {
		if r, ok := cache[i]; ok {
			return r
		}
		r := v.rows(lad, i)
		cache[i] = r
		return r
	}
	lines := func(i int) []string { return rowsOf(i).lines }
	if !v.pinned && m.cursor >= 0 {
		if m.cursor < v.offset {
			v.offset = m.cursor
		}
		// The first event from which the cursor's rows still fit, found
		// walking back from the cursor: a screenful of work at most.
		first, rows := m.cursor, len(lines(m.cursor))
		for first > v.offset && rows+len(lines(first-1)) <= bh {
			first--
			rows += len(lines(first))
		}
		v.offset = max(v.offset, first)
	}
	v.offset = min(max(v.offset, 0), max(m.n-1, 0))
	sel := -1
	if k := m.selectedPacket(); k >= 0 {
		sel = int(m.packets[k])
	}
	v.rowEvent = v.rowEvent[:0]
	row := 0
	for i := v.offset; row < bh && i < m.n; i++ {
		e := m.at(i)
		st := v.style(e)
		if i > m.cursor {
			st = st.Dim(true)
		}
		if i == sel {
			st = st.Bold(true).Underline(true)
		}
		er := rowsOf(i)
		for k, line := range er.lines {
			if row >= bh {
				break
			}
			yy := y + hdr + row
			owner := i
			switch {
			case k < len(er.arrived):
				// A packet arriving: drawn as its own arrow is, dim once
				// the cursor is before the arrival.
				owner = er.arrived[k]
				ast := v.style(m.at(owner))
				if i > m.cursor {
					ast = ast.Dim(true)
				}
				if owner == sel {
					ast = ast.Bold(true).Underline(true)
				}
				put(screen, x, yy, w, line, ast)
			case i == m.cursor:
				fill(screen, x, yy, w, ' ', th.cursor)
				if k == len(er.arrived) {
					line = markCursor(line)
				}
				put(screen, x, yy, w, line, th.cursor)
			default:
				put(screen, x, yy, w, line, st)
			}
			v.rowEvent = append(v.rowEvent, owner)
			row++
		}
	}
	for ; row < bh; row++ {
		// Empty rows keep the lanes going.
		put(screen, x, y+hdr+row, w, laneLine(names), th.dim)
	}
}

// eventRows are the rows drawn for one event: first those of the packets
// that arrived since the event before it (arrived: each one's event), then
// the event's own.
type eventRows struct {
	lines   []string
	arrived []int
}

// rows lays out event i with the arrivals before it.
func (v *ladderView) rows(lad *render.Ladder, i int) eventRows {
	m := v.d.model
	e := m.at(i)
	var r eventRows
	if i > 0 && m.air.Len() > 0 {
		r.lines, r.arrived = lad.Arrivals(m.at(i-1).Time, e.Time, &m.air)
	}
	lad.Conns = func(lane string) int { return m.connsBy(lane, i) }
	r.lines = append(r.lines, v.lines(lad, e)...)
	return r
}

// lines renders one event as its ladder rows (at least one), crossed by
// the slopes of the packets in flight.
func (v *ladderView) lines(lad *render.Ladder, e *timeline.Event) []string {
	d, m := v.d, v.d.model
	var out []string
	if e.Kind == timeline.KindCheck {
		mark := e.Check.Mark()
		for k, l := range wrapText(e.Check.Name.In(d.lang), lad.Width-render.Width(render.Stamp(0))-3) {
			stamp := render.Stamp(m.rel(e.Time))
			if k > 0 {
				stamp, mark = strings.Repeat(" ", len(stamp)), " "
			}
			out = append(out, stamp+" "+mark+" "+l)
		}
	} else {
		out = lad.LinesIn(e, &m.air)
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

// style is how an event's rows are drawn.
func (v *ladderView) style(e *timeline.Event) tcell.Style {
	th := v.d.theme
	lanes := v.d.model.meta.Lanes
	switch e.Kind {
	case timeline.KindNote:
		return th.note
	case timeline.KindCheck:
		switch {
		case e.Check.OK:
			return th.ok
		case e.Check.NA:
			return th.dim
		}
		return th.bad
	case timeline.KindPacket:
		if len(lanes) > 0 && e.Packet.Lab.From == lanes[0] {
			return th.arrowAB
		}
		return th.arrowBA
	case timeline.KindTCPInfo:
		return th.dim
	case timeline.KindNeigh:
		return th.kernel
	case timeline.KindState:
		if e.State.Source == timeline.Inferred {
			return th.inferred
		}
		return th.kernel
	}
	return th.normal
}

// markCursor puts ▶ in the gap after the time column.
func markCursor(line string) string {
	r := []rune(line)
	if len(r) > 8 {
		r[8] = '▶'
	}
	return string(r)
}

// laneLine is the header's lane line with the names blanked: just the lanes.
func laneLine(names string) string {
	r := []rune(names)
	for i, c := range r {
		switch c {
		case '│', '├', '┤':
			r[i] = '│'
		default:
			r[i] = ' '
		}
	}
	return string(r)
}

func (v *ladderView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(p tview.Primitive)) {
		d, m := v.d, v.d.model
		switch {
		case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
			d.scrub(+1)
		case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
			d.scrub(-1)
		case ev.Key() == tcell.KeyPgDn:
			d.setCursor(m.cursor + max(v.bodyH-1, 1))
		case ev.Key() == tcell.KeyPgUp:
			d.setCursor(m.cursor - max(v.bodyH-1, 1))
		}
	})
}

func (v *ladderView) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
		if !v.InRect(event.Position()) {
			return false, nil
		}
		_, my := event.Position()
		switch action {
		case tview.MouseLeftClick:
			if r := my - v.bodyY; r >= 0 && r < len(v.rowEvent) {
				v.d.setCursor(v.rowEvent[r])
			}
			return true, nil
		case tview.MouseScrollUp:
			v.offset = max(v.offset-3, 0)
			v.pinned = true
			return true, nil
		case tview.MouseScrollDown:
			v.offset += 3
			v.pinned = true
			return true, nil
		}
		return false, nil
	})
}

// drawParagraphs draws text wrapped to width, paragraphs split at newlines.
func drawParagraphs(screen tcell.Screen, x, y, w, h int, text string, st tcell.Style) int {
	row := 0
	for _, l := range wrapText(text, w) {
		if row >= h {
			break
		}
		put(screen, x, y+row, w, l, st)
		row++
	}
	return row
}

// wrapText wraps at spaces (or between wide characters), keeping blank lines.
func wrapText(text string, w int) []string {
	if w < 10 {
		w = 10
	}
	return render.Wrap(text, w)
}
