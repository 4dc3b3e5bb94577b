// Package render draws a run as text for terminals and logs: a ladder
// diagram (one vertical lane per endpoint, one arrow per packet, the
// program's calls and the kernel's states beside their lane, elapsed
// milliseconds on the left), the checks, and the sockets' final states.
// It reads only the timeline, so it can follow a live run or draw a
// finished one.
package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Ladder draws events as rows of a ladder diagram.
type Ladder struct {
	Width int // columns (default 80)
	Lang  i18n.Lang

	meta  timeline.Meta
	lanes []string
	xs    []int
	lastT time.Time
}

const timeCol = 9 // "  123.456 "

// NewLadder prepares a ladder for a run.
func NewLadder(meta timeline.Meta, width int, lang i18n.Lang) *Ladder {
	if width <= 0 {
		width = 80
	}
	if width < 40 {
		width = 40
	}
	l := &Ladder{Width: width, Lang: lang, meta: meta, lanes: meta.Lanes}
	if len(l.lanes) == 0 {
		l.lanes = []string{"client", "server"}
	}
	n := len(l.lanes)
	left, right := timeCol+1, width-2
	l.xs = make([]int, n)
	for i := range l.xs {
		if n == 1 {
			l.xs[i] = left
			continue
		}
		l.xs[i] = left + i*(right-left)/(n-1)
	}
	return l
}

// Header writes the title, the legend and the lane names.
func (l *Ladder) Header(w io.Writer) {
	m := l.meta
	fmt.Fprintf(w, "netlab %s · %s · sandbox %s · capture on %s\n", m.Scenario, m.Title.In(l.Lang), m.Sandbox, m.Iface)
	if l.Lang == i18n.Zh {
		fmt.Fprintln(w, "[状态] 内核 sock_diag 读出的状态 · (状态) 由报文推断(存在时间太短,轮询未看到) · 时间单位 ms")
	} else {
		fmt.Fprintln(w, "[STATE] read from the kernel (sock_diag) · (STATE) inferred from packets, too brief for the poller · times in ms")
	}
	row := l.blank()
	for i, name := range l.lanes {
		l.place(row, i, name)
	}
	fmt.Fprintln(w, strings.TrimRight("       ms"+string(row[9:]), " "))
}

// blank returns a row with every lane's vertical line.
func (l *Ladder) blank() []rune {
	row := []rune(strings.Repeat(" ", l.Width))
	for _, x := range l.xs {
		row[x] = '│'
	}
	return row
}

// place writes text beside lane i: to its right, or to its left for the
// last of several lanes.
func (l *Ladder) place(row []rune, i int, text string) {
	x := l.xs[i]
	last := i == len(l.xs)-1 && len(l.xs) > 1
	if last {
		room := x - 1 - (timeCol + 1)
		if i > 0 {
			room = x - l.xs[i-1] - 3
		}
		text = truncate(text, room)
		start := x - 1 - Width(text)
		l.put(row, start, text)
		return
	}
	room := l.Width - x - 3
	if i+1 < len(l.xs) {
		room = l.xs[i+1] - x - 3
	}
	l.put(row, x+2, truncate(text, room))
}

// put writes text at column start; a wide character takes two cells (the
// second is dropped from the rune row when printed).
func (l *Ladder) put(row []rune, start int, text string) {
	col := start
	for _, r := range text {
		if col < 0 || col >= len(row) {
			return
		}
		row[col] = r
		if RuneWidth(r) == 2 && col+1 < len(row) {
			row[col+1] = 0 // placeholder for the right half of a wide rune
			col++
		}
		col++
	}
}

func truncate(s string, width int) string {
	if width <= 1 {
		return ""
	}
	if Width(s) <= width {
		return s
	}
	return Truncate(s, width, "…")
}

func (l *Ladder) lane(name string) int {
	for i, n := range l.lanes {
		if n == name {
			return i
		}
	}
	return -1
}

func (l *Ladder) stamp(t time.Time) string {
	if l.meta.Start.IsZero() {
		return strings.Repeat(" ", timeCol)
	}
	return fmt.Sprintf("%8.3f ", float64(t.Sub(l.meta.Start).Microseconds())/1000)
}

func (l *Ladder) emit(w io.Writer, t time.Time, row []rune) {
	var b strings.Builder
	b.WriteString(l.stamp(t))
	for _, r := range row[timeCol:] {
		if r != 0 {
			b.WriteRune(r)
		}
	}
	fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
}

// Event writes the rows for one event (none for check events: see Checks).
func (l *Ladder) Event(w io.Writer, e *timeline.Event) {
	switch e.Kind {
	case timeline.KindPacket:
		l.packet(w, e)
	case timeline.KindState:
		l.annotate(w, e.Time, e.State.Lane, StateText(e.State))
	case timeline.KindApp:
		l.annotate(w, e.Time, e.App.Lane, AppText(e.App))
	case timeline.KindNote:
		text := e.Note.Text.In(l.Lang)
		prefix := "  · "
		if e.Note.ActStart {
			fmt.Fprintln(w)
			prefix = "  ■ "
		} else if e.Note.Step {
			prefix = "  ▸ "
		}
		for i, line := range wrap(text, l.Width-len(prefix)-timeCol) {
			if i > 0 {
				prefix = strings.Repeat(" ", Width(prefix))
			}
			fmt.Fprintf(w, "%s%s%s\n", l.stamp(e.Time), prefix, line)
		}
	}
}

func (l *Ladder) annotate(w io.Writer, t time.Time, lane, text string) {
	row := l.blank()
	i := l.lane(lane)
	if i < 0 {
		l.put(row, timeCol+1, truncate(lane+": "+text, l.Width-timeCol-2))
	} else {
		l.place(row, i, text)
	}
	l.emit(w, t, row)
}

func (l *Ladder) packet(w io.Writer, e *timeline.Event) {
	p := e.Packet
	label := PacketLabel(p)
	if p.Drop != decode.Delivered {
		label = p.Drop.Text().In(l.Lang) + " · " + label // first: it survives truncation
	}
	from, to := l.lane(p.From), l.lane(p.To)
	row := l.blank()
	if from < 0 || to < 0 || from == to {
		l.put(row, timeCol+1, truncate(fmt.Sprintf("%s → %s %s", p.From, p.To, label), l.Width-timeCol-2))
		l.emit(w, e.Time, row)
		return
	}
	a, b := l.xs[from], l.xs[to]
	right := a < b
	if !right {
		a, b = b, a
	}
	for x := a + 1; x < b; x++ {
		row[x] = '─'
	}
	if right {
		row[b-1] = '▶'
	} else {
		row[a+1] = '◀'
	}
	span := b - a - 5
	label = truncate(label, span)
	lw := Width(label)
	start := a + 1 + (b-a-1-lw)/2
	row[start-1] = ' '
	l.put(row, start, label)
	if start+lw < b {
		row[start+lw] = ' '
	}
	l.emit(w, e.Time, row)
}

// StateText renders a state change: "[ESTABLISHED]" from the kernel,
// "(SYN-SENT)" inferred from packets, with the kernel's timer.
func StateText(s *timeline.State) string {
	name := s.To.String()
	if s.Gone {
		name = "CLOSED"
	}
	if !s.Socket.Remote.IsValid() || s.Socket.Remote.Port() == 0 {
		name = "listener " + name
	}
	var t string
	if s.Source == timeline.Inferred {
		t = "(" + name + ")"
	} else {
		t = "[" + name + "]"
	}
	if timer := s.Timer; timer != "" && timer != "on" && !s.Gone {
		if timer == "timewait" && s.To == tcpstate.FinWait2 {
			timer = "fin_timeout" // an orphaned FIN-WAIT-2 lives on a timewait socket
		}
		t += fmt.Sprintf(" %s %.1fs", timer, s.Expires.Seconds())
	}
	if s.From == s.To && s.To == tcpstate.Listen {
		t += fmt.Sprintf(" accept queue %d/%d", s.RecvQ, s.SendQ)
	}
	return t
}

// AppText renders a program call: "write 5 bytes \"hello\"", "connect → 127.0.0.1:8888".
func AppText(a *timeline.App) string {
	var b strings.Builder
	b.WriteString(a.Call)
	if a.Blocking {
		b.WriteString(" ")
		b.WriteString(a.Detail)
		b.WriteString(" … blocks")
		return b.String()
	}
	switch a.Call {
	case "write", "read", "send", "recv", "sendto", "recvfrom":
		fmt.Fprintf(&b, " %d", a.Bytes)
		if a.Bytes == 1 {
			b.WriteString(" byte")
		} else {
			b.WriteString(" bytes")
		}
	}
	if a.Detail != "" {
		b.WriteString(" ")
		b.WriteString(a.Detail)
	}
	if a.Err != "" {
		b.WriteString(" → ")
		b.WriteString(a.Err)
	}
	return b.String()
}

// wrap breaks text into lines of at most width columns at spaces (or
// anywhere, for text without spaces such as Chinese).
func wrap(text string, width int) []string {
	if width < 10 {
		width = 10
	}
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		lw := 0
		for _, word := range splitWords(para) {
			ww := Width(word)
			if lw+ww > width && lw > 0 {
				lines = append(lines, strings.TrimRight(line, " "))
				line, lw = "", 0
				word = strings.TrimLeft(word, " ")
				ww = Width(word)
			}
			line += word
			lw += ww
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// splitWords splits at spaces (keeping them) and between wide characters.
func splitWords(s string) []string {
	var out []string
	cur := ""
	for _, r := range s {
		switch {
		case r == ' ':
			cur += " "
			out = append(out, cur)
			cur = ""
		case RuneWidth(r) == 2:
			if cur != "" {
				out = append(out, cur)
			}
			out = append(out, string(r))
			cur = ""
		default:
			cur += string(r)
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// Wrap is wrap for other views (the dashboard's lesson panel).
func Wrap(text string, width int) []string { return wrap(text, width) }

// PacketLabel is the arrow label with expert marks.
func PacketLabel(p *decode.Packet) string {
	label := p.Label()
	for _, x := range p.Expert.Names() {
		label += " [" + x + "]"
	}
	return label
}
