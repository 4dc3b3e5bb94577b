package ui

import (
	"fmt"
	"unicode"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// stateMachine draws the TCP state diagram of RFC 9293 (figure 5) with each
// endpoint of the focused connection marked beside its current state (C
// client, S server, L the listener), the state just left underlined and the
// transition just taken highlighted, all as of the scrub cursor. Edge
// labels read "received / sent".
type stateMachine struct {
	*tview.Box
	d *Dashboard
}

func newStateMachine(d *Dashboard) *stateMachine { return &stateMachine{Box: tview.NewBox(), d: d} }

// diagramState is where a state's name is drawn.
type diagramState struct {
	st       tcpstate.State
	row, col int
}

var diagramStates = []diagramState{
	{tcpstate.Closed, 0, 16},
	{tcpstate.Listen, 2, 2}, {tcpstate.SynSent, 2, 30},
	{tcpstate.SynReceived, 4, 2}, {tcpstate.Established, 4, 30},
	{tcpstate.FinWait1, 6, 2}, {tcpstate.CloseWait, 6, 30},
	{tcpstate.FinWait2, 8, 2}, {tcpstate.Closing, 8, 16}, {tcpstate.LastAck, 8, 30},
	{tcpstate.TimeWait, 10, 2}, {tcpstate.Closed, 10, 30}, // the CLOSED a connection ends in
}

type diagramSeg struct {
	row, col int
	text     string
}

// diagramEdge is a transition; edges without segments are not drawn as
// arrows (the footer still names them).
type diagramEdge struct {
	from, to tcpstate.State
	segs     []diagramSeg
	label    i18n.Text
}

var diagramEdges = []diagramEdge{
	{tcpstate.Closed, tcpstate.Listen, []diagramSeg{{1, 5, "passive ↙"}}, i18n.T("passive open: listen()", "被动打开:listen()")},
	{tcpstate.Closed, tcpstate.SynSent, []diagramSeg{{1, 24, "↘ active / SYN"}}, i18n.T("active open: connect() sends SYN", "主动打开:connect() 发出 SYN")},
	{tcpstate.Listen, tcpstate.SynReceived, []diagramSeg{{3, 2, "↓ SYN / SYN,ACK"}}, i18n.T("received SYN, sent SYN,ACK", "收到 SYN,发出 SYN,ACK")},
	{tcpstate.SynSent, tcpstate.Established, []diagramSeg{{3, 30, "↓ SYN,ACK / ACK"}}, i18n.T("received SYN,ACK, sent ACK", "收到 SYN,ACK,发出 ACK")},
	{tcpstate.SynReceived, tcpstate.Established, []diagramSeg{{4, 17, "─ ACK ─────▶"}}, i18n.T("received the ACK of its SYN", "收到对自己 SYN 的确认")},
	{tcpstate.Established, tcpstate.FinWait1, []diagramSeg{{5, 14, "close / FIN ↙"}}, i18n.T("the program closed: sent FIN", "程序关闭:发出 FIN")},
	{tcpstate.Established, tcpstate.CloseWait, []diagramSeg{{5, 30, "↓ FIN / ACK"}}, i18n.T("received FIN, sent ACK: the peer is done sending", "收到 FIN,发出 ACK:对方不再发送")},
	{tcpstate.FinWait1, tcpstate.FinWait2, []diagramSeg{{7, 2, "↓ ACK"}}, i18n.T("received the ACK of its FIN", "收到对自己 FIN 的确认")},
	{tcpstate.FinWait1, tcpstate.Closing, []diagramSeg{{7, 11, "↘ FIN / ACK"}}, i18n.T("received FIN before the ACK of its own (simultaneous close)", "在自己的 FIN 被确认前收到 FIN(同时关闭)")},
	{tcpstate.CloseWait, tcpstate.LastAck, []diagramSeg{{7, 30, "↓ close / FIN"}}, i18n.T("the program closed: sent FIN", "程序关闭:发出 FIN")},
	{tcpstate.FinWait2, tcpstate.TimeWait, []diagramSeg{{9, 2, "↓ FIN / ACK"}}, i18n.T("received FIN, sent ACK", "收到 FIN,发出 ACK")},
	{tcpstate.Closing, tcpstate.TimeWait, []diagramSeg{{9, 15, "↙ ACK"}}, i18n.T("received the ACK of its FIN", "收到对自己 FIN 的确认")},
	{tcpstate.LastAck, tcpstate.Closed, []diagramSeg{{9, 30, "↓ ACK"}}, i18n.T("received the ACK of its FIN: gone, no waiting", "收到对自己 FIN 的确认:直接消失,无需等待")},
	{tcpstate.TimeWait, tcpstate.Closed, []diagramSeg{{10, 14, "─ 2MSL ──────▶"}}, i18n.T("the TIME-WAIT timer ran out (60 s on Linux)", "TIME-WAIT 定时器到期(Linux 上为 60 秒)")},
	{tcpstate.FinWait1, tcpstate.TimeWait, []diagramSeg{{7, 11, "↘ FIN / ACK"}, {9, 15, "↙ ACK"}}, i18n.T("received FIN and the ACK of its FIN in one segment", "在一个报文段里收到 FIN 和对自己 FIN 的确认")},
	{tcpstate.SynSent, tcpstate.SynReceived, nil, i18n.T("received SYN while sending one (simultaneous open)", "发送 SYN 的同时收到 SYN(同时打开)")},
	{tcpstate.SynReceived, tcpstate.FinWait1, nil, i18n.T("the program closed during the handshake: sent FIN", "握手期间程序关闭:发出 FIN")},
	{tcpstate.Listen, tcpstate.Closed, nil, i18n.T("the listener was closed", "监听套接字被关闭")},
	{tcpstate.SynSent, tcpstate.Closed, nil, i18n.T("connect() gave up or was refused (RST)", "connect() 放弃或被拒绝(RST)")},
}

const diagramRows = 11

func findEdge(from, to tcpstate.State) *diagramEdge {
	for i := range diagramEdges {
		if e := &diagramEdges[i]; e.from == from.Canonical() && e.to == to.Canonical() {
			return e
		}
	}
	return nil
}

// marker is an endpoint drawn beside a state.
type marker struct {
	letter rune
	lane   string
	sock   string
	state  *timeline.State
	ended  bool // in the CLOSED a connection ends in (not the initial one)
}

// snapshot is what the diagram shows as of the cursor.
type snapshot struct {
	marks []marker
	last  *timeline.State // the transition just taken
}

func (v *stateMachine) snapshot() snapshot {
	m := v.d.model
	var s snapshot
	c := m.focusConn()
	lastID := -1
	lanes := map[string]bool{}
	for _, si := range m.socks {
		if si.listener || c == nil || flow.ConnKey(decode.ProtoTCP, si.sock.Local, si.sock.Remote) != c.key {
			continue
		}
		e := m.stateAt(si)
		if e == nil {
			continue
		}
		lanes[si.lane] = true
		// A CLOSED after other states is the end of the connection.
		ended := upTo(si.states, m.cursor) > 1
		s.marks = append(s.marks, marker{letter: laneLetter(si.lane), lane: si.lane, sock: si.sock.Local.String(), state: e.State, ended: ended})
		// The latest real change (not a re-reading of the same state).
		for j := upTo(si.states, m.cursor) - 1; j >= 0; j-- {
			st := m.at(int(si.states[j]))
			if st.State.From != st.State.To || st.State.Gone {
				if st.ID > lastID {
					lastID, s.last = st.ID, st.State
				}
				break
			}
		}
	}
	for _, si := range m.socks {
		if !si.listener || (len(lanes) > 0 && !lanes[si.lane]) {
			continue
		}
		if e := m.stateAt(si); e != nil && e.State.To == tcpstate.Listen && !e.State.Gone {
			s.marks = append(s.marks, marker{letter: 'L', lane: si.lane, sock: si.sock.Local.String(), state: e.State})
		}
	}
	return s
}

func laneLetter(lane string) rune {
	for _, r := range lane {
		return unicode.ToUpper(r)
	}
	return '?'
}

func (v *stateMachine) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	if w <= 0 || h <= 0 {
		return
	}
	snap := v.snapshot()
	edge := snap.edge()
	v.drawEdges(screen, x, y, w, h, edge)
	v.drawStates(screen, x, y, w, h, snap)
	v.drawFooter(screen, x, y, w, h, snap, edge)
}

// edge is the diagram's edge for the transition just taken, or nil.
func (s snapshot) edge() *diagramEdge {
	switch {
	case s.last == nil:
		return nil
	case s.last.Gone:
		return findEdge(s.last.From, tcpstate.Closed)
	}
	return findEdge(s.last.From, s.last.To)
}

// drawEdges draws every transition's arrow dim, the one just taken
// highlighted.
func (v *stateMachine) drawEdges(screen tcell.Screen, x, y, w, h int, taken *diagramEdge) {
	th := v.d.theme
	draw := func(e *diagramEdge, st tcell.Style) {
		for _, sg := range e.segs {
			if sg.row < h {
				put(screen, x+sg.col, y+sg.row, w-sg.col, sg.text, st)
			}
		}
	}
	for i := range diagramEdges {
		draw(&diagramEdges[i], th.dim)
	}
	if taken != nil {
		draw(taken, th.selected)
	}
}

// drawStates draws the state names, each endpoint's letter beside the
// state it is in, the state just left underlined.
func (v *stateMachine) drawStates(screen tcell.Screen, x, y, w, h int, snap snapshot) {
	th := v.d.theme
	for i, ds := range diagramStates {
		if ds.row >= h || ds.col >= w {
			continue
		}
		endRow := i == len(diagramStates)-1 // the CLOSED a connection ends in
		letters := snap.lettersAt(ds.st, endRow)
		st := th.normal
		if snap.last != nil && snap.last.From.Canonical() == ds.st && ds.st != tcpstate.Closed {
			st = th.previous
		}
		if len(letters) > 0 {
			st = th.current
		}
		n := put(screen, x+ds.col, y+ds.row, w-ds.col, ds.st.String(), st)
		if len(letters) > 0 {
			put(screen, x+ds.col+n, y+ds.row, w-ds.col-n, "◂"+string(letters), th.bold)
		}
	}
}

// lettersAt are the endpoints in state st; CLOSED is drawn twice, and an
// endpoint whose connection has ended is at the bottom one (endRow).
func (s snapshot) lettersAt(st tcpstate.State, endRow bool) []rune {
	var letters []rune
	for _, mk := range s.marks {
		cur := mk.state.To.Canonical()
		if mk.state.Gone {
			cur = tcpstate.Closed
		}
		bottom := mk.ended || mk.state.Gone
		if cur == st && (st != tcpstate.Closed || endRow == bottom) {
			letters = append(letters, mk.letter)
		}
	}
	return letters
}

// drawFooter says who is where, the transition just taken and, if there
// is room, the legend.
func (v *stateMachine) drawFooter(screen tcell.Screen, x, y, w, h int, snap snapshot, edge *diagramEdge) {
	d, th := v.d, v.d.theme
	row := diagramRows
	if row < h && len(snap.marks) > 0 {
		var ps []piece
		for _, mk := range snap.marks {
			name := mk.lane
			if mk.letter == 'L' {
				name = d.tr("listener", "监听")
			}
			ps = append(ps, piece{string(mk.letter) + " ", th.bold}, piece{name + " " + bracket(mk.state) + "  ", stateStyle(th, mk.state)})
		}
		drawPieces(screen, x, y+row, w, ps)
		row++
	}
	if snap.last != nil {
		for _, line := range wrapText(v.lastText(snap.last, edge), w) {
			if row >= h {
				break
			}
			put(screen, x, y+row, w, line, th.bold)
			row++
		}
	}
	if row < h {
		put(screen, x, y+row, w, d.tr("arrows: received / sent · ◂ marks where each endpoint is", "箭头:收到 / 发出 · ◂ 标出各端点当前所在状态"), th.dim)
		row++
	}
	if len(snap.marks) == 0 && row < h {
		put(screen, x, y+row, w, d.tr("No connection at the cursor yet.", "光标处还没有连接。"), th.dim)
	}
}

// lastText names the transition just taken and where it was seen.
func (v *stateMachine) lastText(l *timeline.State, edge *diagramEdge) string {
	d := v.d
	to := l.To
	if l.Gone {
		to = tcpstate.Closed
	}
	text := fmt.Sprintf(d.tr("last: %s %s → %s", "刚才:%s %s → %s"), l.Lane, l.From, to)
	if edge != nil {
		text += ": " + edge.label.In(d.lang)
	} else {
		text += d.tr(": the kernel showed the result; the steps between were too brief for the poller",
			":内核显示的是结果;中间的状态太短,轮询没看到")
	}
	if l.Source == timeline.Inferred {
		return text + d.tr(" (inferred from packets)", " (由报文推断)")
	}
	return text + d.tr(" [kernel]", " [内核]")
}
