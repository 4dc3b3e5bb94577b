package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// socketsView lists every socket of the run as of the cursor: its lane and
// addresses, its current state ([KERNEL] or (inferred)), the states it went
// through, and a live countdown of the kernel's timer (TIME-WAIT's 60 s):
// the last kernel reading minus the time since it was read.
type socketsView struct {
	*tview.Box
	d      *Dashboard
	offset int
	pinned bool
	now    func() time.Time
}

func newSocketsView(d *Dashboard) *socketsView {
	return &socketsView{Box: tview.NewBox(), d: d, now: time.Now}
}

// sockLine is one line of the panel, in styled pieces.
type piece struct {
	text string
	st   tcell.Style
}

func (v *socketsView) lines(width int) [][]piece {
	d, m, th := v.d, v.d.model, v.d.theme
	var out [][]piece
	now := v.now()
	for _, si := range m.socks {
		cur := m.stateAt(si)
		if cur == nil {
			continue
		}
		st := cur.State
		addr := si.sock.Local.String() + " → " + si.sock.Remote.String()
		if si.listener {
			addr = si.sock.Local.String()
		}
		head := []piece{{fmt.Sprintf("%-7s ", si.lane), th.bold}, {bracket(st), stateStyle(th, st)}}
		if si.listener {
			head = append(head, piece{d.tr(" listener", " 监听"), th.normal})
		}
		if st.Gone {
			head = append(head, piece{d.tr(" gone from the kernel's table", " 已从内核套接字表中消失"), th.dim})
		}
		if si.listener && st.To == tcpstate.Listen && st.SendQ > 0 {
			head = append(head, piece{fmt.Sprintf(d.tr(" accept queue %d/%d", " 接受队列 %d/%d"), st.RecvQ, st.SendQ), th.dim})
		}
		if cd := v.countdown(si, cur, now); cd != nil {
			head = append(head, cd...)
		}
		head = append(head, piece{"  " + addr, th.dim})
		out = append(out, head)
		if si.listener {
			continue
		}
		// The states it went through, as of the cursor.
		path := []piece{{"        ", th.normal}}
		var prev string
		k := upTo(si.states, m.cursor)
		first := 0
		if k > maxPath {
			// A long history (a socket re-read every second for minutes):
			// its latest part.
			first = k - maxPath
			path = append(path, piece{"… ", th.dim})
		}
		for j := first; j < k; j++ {
			s := m.at(int(si.states[j])).State
			b := bracket(s)
			if strings.Trim(b, "[]()") == strings.Trim(prev, "[]()") {
				if s.Source == timeline.Kernel {
					// The kernel confirmed what the packets implied.
					path[len(path)-1] = piece{b, stateStyle(th, s)}
				}
				continue
			}
			if prev != "" {
				path = append(path, piece{" → ", th.dim})
			}
			path = append(path, piece{b, stateStyle(th, s)})
			prev = b
		}
		out = append(out, path)
	}
	if len(out) == 0 {
		out = append(out, []piece{{d.tr("No sockets yet.", "还没有套接字。"), th.dim}})
	}
	return out
}

// maxPath bounds the state events a socket's history line reads.
const maxPath = 64

// countdown renders the kernel timer of a socket in TIME-WAIT (or an
// orphaned FIN-WAIT-2) as of the cursor.
func (v *socketsView) countdown(si *sockInfo, cur *timeline.Event, now time.Time) []piece {
	d, m, th := v.d, v.d.model, v.d.theme
	st := cur.State
	if st.Gone || (st.To != tcpstate.TimeWait && st.To != tcpstate.FinWait2) {
		return nil
	}
	// The last kernel reading of the timer.
	var read *timeline.Event
	for j := upTo(si.states, m.cursor) - 1; j >= 0; j-- {
		e := m.at(int(si.states[j]))
		if e.State.Source == timeline.Kernel && e.State.Timer.Countdown() {
			read = e
			break
		}
		if e.State.To != st.To {
			break
		}
	}
	if read == nil {
		return nil
	}
	asOf := m.asOf(now)
	left := read.State.Expires - asOf.Sub(read.Time)
	if left < 0 {
		left = 0
	}
	if m.follow && m.live() {
		d.animate.Store(true)
	}
	name := ""
	if st.To == tcpstate.FinWait2 {
		name = "fin_timeout "
	}
	const full = 60 * time.Second
	bar := 10
	on := int(float64(bar)*left.Seconds()/full.Seconds() + 0.5)
	on = min(max(on, 0), bar)
	out := []piece{
		{"  ⏱ " + name, th.normal},
		{fmt.Sprintf(d.tr("%.1f s left", "剩余 %.1f 秒"), left.Seconds()), th.warn},
		{" " + strings.Repeat("█", on) + strings.Repeat("░", bar-on), th.normal},
		{fmt.Sprintf(d.tr(" kernel read %.1f s ago", " 内核 %.1f 秒前读出"), asOf.Sub(read.Time).Seconds()), th.dim},
	}
	if !m.live() {
		// The countdown stops with the run: the namespace, and the socket in
		// it, went away when the run ended.
		out = append(out, piece{d.tr(" · frozen: run over", " · 已停止:运行结束"), th.dim})
	}
	return out
}

// bracket names a state: [STATE] from the kernel, (STATE) inferred.
func bracket(s *timeline.State) string {
	name := s.To.String()
	if s.Gone {
		name = "CLOSED"
	}
	if s.Source == timeline.Inferred {
		return "(" + name + ")"
	}
	return "[" + name + "]"
}

func stateStyle(th *theme, s *timeline.State) tcell.Style {
	if s.Source == timeline.Inferred {
		return th.inferred
	}
	return th.kernel
}

func (v *socketsView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	if w <= 0 || h <= 0 {
		return
	}
	lines := v.lines(w)
	if !v.pinned {
		v.offset = max(len(lines)-h, 0)
	}
	v.offset = min(max(v.offset, 0), max(len(lines)-h, 0))
	for row := 0; row < h && v.offset+row < len(lines); row++ {
		drawPieces(screen, x, y+row, w, lines[v.offset+row])
	}
}

func drawPieces(screen tcell.Screen, x, y, w int, ps []piece) {
	col := 0
	for _, p := range ps {
		if col >= w {
			return
		}
		col += put(screen, x+col, y, w-col, p.text, p.st)
	}
}

func (v *socketsView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(p tview.Primitive)) {
		switch {
		case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
			v.offset++
			v.pinned = true
		case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
			v.offset--
			v.pinned = true
		}
	})
}

func (v *socketsView) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	h := scrollMouse(v.Box, &v.offset)
	return func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
		ok, p := h(action, event, setFocus)
		if ok && action != tview.MouseLeftClick {
			v.pinned = true
		}
		return ok, p
	}
}

func (v *socketsView) titleExtra() string {
	n := 0
	for _, si := range v.d.model.socks {
		if v.d.model.stateAt(si) != nil {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}
