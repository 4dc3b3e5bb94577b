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
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Ladder draws events as rows of a ladder diagram. Every row belongs to
// one lane, or to the two lanes of an arrow: a label beside a lane is
// joined to it (├ on its right, ┤ on its left) and never reaches the next
// lane; what does not fit wraps onto rows of its own below, never cut.
type Ladder struct {
	Width int // columns (default 80)
	Lang  i18n.Lang
	// Conns, when set, counts the connected TCP sockets with kernel
	// states a lane has had up to the event being laid out (a view that
	// draws from the middle of a run knows them from elsewhere); unset,
	// the ladder counts those it has drawn.
	Conns func(lane string) int

	meta  timeline.Meta
	lanes []string
	xs    []int
	socks map[string]map[timeline.Socket]bool // each lane's connected TCP sockets so far

	// Drawing as the run goes (Event): the packets in flight, the events
	// drawn, the time of the last.
	air  Air
	n    int
	last time.Time
}

const timeCol = 9 // "  123.456 "

// MaxWidth bounds a ladder's width: wider asks are drawn this wide.
const MaxWidth = 1000

// NewLadder prepares a ladder for a run.
func NewLadder(meta timeline.Meta, width int, lang i18n.Lang) *Ladder {
	if width <= 0 {
		width = 80
	}
	width = min(max(width, 40), MaxWidth)
	l := &Ladder{Width: width, Lang: lang, meta: meta, lanes: meta.Lanes, socks: map[string]map[timeline.Socket]bool{}}
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
	title := tr(l.Lang,
		fmt.Sprintf("netlab %s · %s · sandbox %s · capture on %s", m.Scenario, m.Title.In(l.Lang), m.Sandbox, m.Iface),
		fmt.Sprintf("netlab %s · %s · 沙箱 %s · 在 %s 上抓包", m.Scenario, m.Title.In(l.Lang), m.Sandbox, m.Iface))
	if len(m.Points) > 0 {
		pts := strings.Join(m.Points, ", ")
		title = tr(l.Lang,
			fmt.Sprintf("netlab %s · %s · sandbox %s · lab network, capture on %s · wire: %s · seed %d", m.Scenario, m.Title.In(l.Lang), m.Sandbox, pts, m.Wire, m.Seed),
			fmt.Sprintf("netlab %s · %s · 沙箱 %s · 实验网络,在 %s 上抓包 · 线路:%s · 种子 %d", m.Scenario, m.Title.In(l.Lang), m.Sandbox, pts, m.Wire, m.Seed))
	}
	for _, line := range append(wrapCells(title, l.Width), l.Legend()...) {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, l.LaneNames())
}

// Legend says how to read the states and the time column, wrapped.
func (l *Ladder) Legend() []string {
	return wrapCells(tr(l.Lang, "[STATE] read from the kernel (sock_diag) · (STATE) inferred from packets, too brief for the poller · times in ms",
		"[状态] 内核 sock_diag 读出的状态 · (状态) 由报文推断(存在时间太短,轮询未看到) · 时间单位 ms"), l.Width)
}

// LaneNames is the row naming the lanes, each joined to its lane as its
// labels are.
func (l *Ladder) LaneNames() string {
	row := l.blank()
	for i, name := range l.lanes {
		x, room, left := l.room(i)
		name = truncate(name, room)
		if left {
			l.put(row, x-1-Width(name), name)
			row[x] = '┤'
		} else {
			l.put(row, x+2, name)
			row[x] = '├'
		}
	}
	return strings.TrimRight("       ms"+string(l.cells(row[9:])), " ")
}

// blank returns a row with every lane's vertical line.
func (l *Ladder) blank() []rune {
	row := []rune(strings.Repeat(" ", l.Width))
	for _, x := range l.xs {
		row[x] = '│'
	}
	return row
}

// room is where text beside lane i goes: the lane's column, the cells it
// may take, and whether it sits on the lane's left (the last of several
// lanes) rather than its right. A label keeps one blank cell from its lane
// and two from the next, so that it cannot be read as the next lane's.
func (l *Ladder) room(i int) (x, room int, left bool) {
	x = l.xs[i]
	n := len(l.xs)
	switch {
	case i == n-1 && n > 1:
		return x, x - l.xs[i-1] - 4, true
	case i+1 < n:
		return x, l.xs[i+1] - x - 4, false
	}
	return x, l.Width - x - 2, false
}

// beside lays text out beside lane i: the first row joined to the lane,
// the rest wrapped below it at the same place.
func (l *Ladder) beside(i int, text string) [][]rune {
	x, room, left := l.room(i)
	var rows [][]rune
	for k, line := range wrapCells(text, room) {
		row := l.blank()
		if left {
			l.put(row, x-1-Width(line), line)
			if k == 0 {
				row[x] = '┤'
			}
		} else {
			l.put(row, x+2, line)
			if k == 0 {
				row[x] = '├'
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// across lays out a row that belongs to no one lane (an endpoint the
// ladder has no lane for): it starts with the name of whom it is about.
func (l *Ladder) across(text string) [][]rune {
	var rows [][]rune
	for k, line := range wrapCells(text, l.Width-timeCol-2) {
		row := l.blank()
		if k > 0 {
			line = "  " + line
		}
		l.put(row, timeCol+1, line)
		rows = append(rows, row)
	}
	return rows
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

// cells drops the placeholders of wide runes.
func (l *Ladder) cells(row []rune) []rune {
	out := row[:0:0]
	for _, r := range row {
		if r != 0 {
			out = append(out, r)
		}
	}
	return out
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

// Stamp is the time column for an event d after the run's start: always
// eight cells and a space, in ms (to the µs under 10 s, then coarser).
func Stamp(d time.Duration) string {
	ms := float64(d.Microseconds()) / 1000
	switch {
	case ms < 10_000:
		return fmt.Sprintf("%8.3f ", ms)
	case ms < 1_000_000:
		return fmt.Sprintf("%8.1f ", ms)
	case ms < 100_000_000:
		return fmt.Sprintf("%8.0f ", ms)
	}
	return fmt.Sprintf("%7.0fs ", ms/1000)
}

func (l *Ladder) stamp(t time.Time) string {
	if l.meta.Start.IsZero() {
		return strings.Repeat(" ", timeCol)
	}
	return Stamp(t.Sub(l.meta.Start))
}

// line is one row as printed: the time column (blank after an event's
// first row) and the lanes.
func (l *Ladder) line(stamp string, row []rune) string {
	return strings.TrimRight(stamp+string(l.cells(row[timeCol:])), " ")
}

// Event writes the rows for one event (none for check events: see
// Checks), after the rows of the packets that arrived since the event
// before it. Events come in timeline order.
func (l *Ladder) Event(w io.Writer, e *timeline.Event) {
	l.arrivals(w, e.Time)
	if e.Kind == timeline.KindNote && e.Note.ActStart {
		fmt.Fprintln(w)
	}
	for _, line := range l.LinesIn(e, &l.air) {
		fmt.Fprintln(w, line)
	}
	l.air.Add(l.n, e)
	l.n++
	l.last = e.Time
}

// Flush writes the rows of the packets still in flight after the last
// event: the ladder ends when the last of them has arrived.
func (l *Ladder) Flush(w io.Writer) {
	if l.air.Len() > 0 {
		l.arrivals(w, l.last.Add(l.air.longest))
	}
}

func (l *Ladder) arrivals(w io.Writer, upTo time.Time) {
	if l.air.Len() == 0 {
		return
	}
	lines, _ := l.Arrivals(l.last, upTo, &l.air)
	for _, line := range lines {
		fmt.Fprintln(w, line)
	}
	l.air.Forget(upTo)
}

// Lines are the rows of one event (none for check events), without the
// blank line before an act; the first carries the time.
func (l *Ladder) Lines(e *timeline.Event) []string { return l.LinesIn(e, nil) }

// LinesIn are Lines with the slopes of the packets air holds in flight at
// the event's time crossing its first row.
func (l *Ladder) LinesIn(e *timeline.Event, air *Air) []string {
	stamp := l.stamp(e.Time)
	var rows [][]rune
	switch e.Kind {
	case timeline.KindPacket:
		rows = l.packet(e.Packet, e.Time)
	case timeline.KindState:
		rows = l.annotate(e.State.Lane, e.State.Socket, l.stateText(e.State))
	case timeline.KindApp:
		rows = l.annotate(e.App.Lane, e.App.Socket, AppTextIn(e.App, l.Lang))
	case timeline.KindTCPInfo:
		rows = l.annotate(e.TCPInfo.Lane, e.TCPInfo.Socket, TCPInfoText(e.TCPInfo))
	case timeline.KindNeigh:
		rows = l.annotate(e.Neigh.Lane, timeline.Socket{}, NeighTextIn(e.Neigh, l.Lang))
	case timeline.KindNote:
		prefix := "  · "
		if e.Note.ActStart {
			prefix = "  ■ "
		} else if e.Note.Step {
			prefix = "  ▸ "
		}
		return l.prose(stamp, prefix, e.Note.Text.In(l.Lang))
	default:
		return nil
	}
	if len(rows) > 0 && air.Len() > 0 {
		l.slopes(rows[0], e.Time, air)
	}
	lines := make([]string, len(rows))
	for k, row := range rows {
		if k > 0 {
			stamp = strings.Repeat(" ", timeCol)
		}
		lines[k] = l.line(stamp, row)
	}
	return lines
}

// prose is narration: wrapped at the width, indented under its prefix.
func (l *Ladder) prose(stamp, prefix, text string) []string {
	var lines []string
	for i, line := range wrapCells(text, l.Width-Width(prefix)-timeCol) {
		if i > 0 {
			stamp, prefix = strings.Repeat(" ", timeCol), strings.Repeat(" ", Width(prefix))
		}
		lines = append(lines, strings.TrimRight(stamp+prefix+line, " "))
	}
	return lines
}

// seen notes a connected TCP socket of a lane (the kernel reports states
// for TCP sockets only).
func (l *Ladder) seen(lane string, s timeline.Socket) {
	if s.Listener() || !s.Local.IsValid() {
		return
	}
	if l.socks[lane] == nil {
		l.socks[lane] = map[timeline.Socket]bool{}
	}
	l.socks[lane][s] = true
}

// stateText is StateText, naming the socket when its lane has had more
// than one connection: the TIME-WAIT of an act that is over must not read
// as the state of the next act's connection.
func (l *Ladder) stateText(s *timeline.State) string {
	l.seen(s.Lane, s.Socket)
	t := StateTextIn(s, l.Lang)
	n := len(l.socks[s.Lane])
	if l.Conns != nil {
		n = l.Conns(s.Lane)
	}
	if n > 1 && !s.Socket.Listener() && s.Socket.Local.IsValid() {
		t += fmt.Sprintf(" · :%d→:%d", s.Socket.Local.Port(), s.Socket.Remote.Port())
	}
	return t
}

func (l *Ladder) annotate(lane string, sock timeline.Socket, text string) [][]rune {
	if i := l.lane(lane); i >= 0 {
		return l.beside(i, text)
	}
	who := lane
	if who == "" {
		who = sock.Local.String()
	}
	return l.across(who + ": " + text)
}

// arrow is where a packet's arrow goes: between lanes' columns a < b,
// rightwards or not, its label's lines, and, for a packet in flight long
// enough to cross rows, the column where it bends down towards its
// receiver (-1: it goes straight across).
type arrow struct {
	a, b  int
	right bool
	lines []string
	start int // first column of the first line of the label
	bend  int
}

// arrowOf lays out a packet's arrow; false for a packet the ladder has no
// two lanes for.
func (l *Ladder) arrowOf(p *decode.Packet, sent time.Time) (arrow, bool) {
	from, to := l.lane(p.Lab.From), l.lane(p.Lab.To)
	if from < 0 || to < 0 || from == to {
		return arrow{}, false
	}
	ar := arrow{a: l.xs[from], b: l.xs[to], right: l.xs[from] < l.xs[to], bend: -1}
	if !ar.right {
		ar.a, ar.b = ar.b, ar.a
	}
	ar.lines = wrapCells(l.packetLabel(p, sent), ar.b-ar.a-5)
	lw := Width(ar.lines[0])
	ar.start = ar.a + 1 + (ar.b-ar.a-1-lw)/2
	if p.Lab.Wire.Crossed() && p.Lab.Wire.InFlight(sent) >= MinFlight && p.Lab.Drop != decode.DropWire {
		if ar.right {
			ar.bend = min(ar.start+lw+2, ar.b-1)
		} else {
			ar.bend = max(ar.start-3, ar.a+1)
		}
	}
	return ar, true
}

// packetLabel is the text on a packet's arrow: what it is, what happened
// to it, how long it was in flight.
func (l *Ladder) packetLabel(p *decode.Packet, sent time.Time) string {
	label := PacketLabel(p)
	if p.Lab.Drop != decode.Delivered {
		label = p.Lab.Drop.Text().In(l.Lang) + " · " + label // first: it survives truncation
	}
	if w := &p.Lab.Wire; w.Crossed() {
		if d := w.InFlight(sent); d >= MinFlight {
			ms := strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
			label += i18n.T(" · "+ms+" ms in flight", " · 在途 "+ms+" ms").In(l.Lang)
		}
	}
	return label
}

// packet is an arrow from lane to lane with its label on it; a label too
// long for the arrow goes on on rows below, between the same two lanes. A
// packet the wire lost stops mid-wire at ✗. One that spent a millisecond
// or more on a lab wire says how long (sent is when it left its sender)
// and bends down past its label (╮ or ╭): it reaches its receiver on a
// row of its own, at the time it arrived (see Arrivals).
func (l *Ladder) packet(p *decode.Packet, sent time.Time) [][]rune {
	ar, ok := l.arrowOf(p, sent)
	if !ok {
		name := func(lane string, ap netip.AddrPort) string {
			if lane != "" {
				return lane
			}
			return ap.String()
		}
		return l.across(fmt.Sprintf("%s → %s %s", name(p.Lab.From, p.Src), name(p.Lab.To, p.Dst), l.packetLabel(p, sent)))
	}
	a, b := ar.a, ar.b
	row := l.blank()
	for x := a + 1; x < b; x++ {
		row[x] = '─'
	}
	if ar.right {
		row[b-1] = '▶'
	} else {
		row[a+1] = '◀'
	}
	center := func(row []rune, text string) {
		lw := Width(text)
		start := a + 1 + (b-a-1-lw)/2
		row[start-1] = ' '
		l.put(row, start, text)
		if start+lw < b {
			row[start+lw] = ' '
		}
	}
	center(row, ar.lines[0])
	switch {
	case p.Lab.Drop == decode.DropWire:
		cutArrow(row, a, b, ar.right)
	case ar.bend >= 0 && ar.right:
		row[ar.bend] = '╮'
		for x := ar.bend + 1; x < b; x++ {
			row[x] = ' '
		}
	case ar.bend >= 0:
		row[ar.bend] = '╭'
		for x := a + 1; x < ar.bend; x++ {
			row[x] = ' '
		}
	}
	rows := [][]rune{row}
	for _, line := range ar.lines[1:] {
		r := l.blank()
		center(r, line)
		rows = append(rows, r)
	}
	return rows
}

// at is the column a flight's slope has reached at time t: from its bend
// at the time it left to its receiver's lane at the time it arrived.
func (l *Ladder) at(f flight, ar arrow, t time.Time) int {
	span := f.arrived.Sub(f.e.Time)
	frac := 0.0
	if span > 0 {
		frac = min(max(float64(t.Sub(f.e.Time))/float64(span), 0), 1)
	}
	if ar.right {
		return ar.bend + int(frac*float64(ar.b-1-ar.bend)+0.5)
	}
	return ar.bend - int(frac*float64(ar.bend-ar.a-1)+0.5)
}

// maxSlopes is how many packets in flight a row shows crossing it: more
// would hide the row's own text in marks (a bulk transfer's window).
const maxSlopes = 4

// slopes marks, on a row drawn at time t, where each packet in the air
// has got to: ╲ for one going right, ╱ for one going left, on blank cells
// only, one blank cell from anything else.
func (l *Ladder) slopes(row []rune, t time.Time, air *Air) {
	fl := air.flying(t)
	if len(fl) > maxSlopes {
		return
	}
	for _, f := range fl {
		ar, ok := l.arrowOf(f.e.Packet, f.e.Time)
		if !ok || ar.bend < 0 {
			continue
		}
		x := l.at(f, ar, t)
		if x <= 0 || x+1 >= len(row) || row[x-1] != ' ' || row[x] != ' ' || row[x+1] != ' ' {
			continue
		}
		row[x] = '╲'
		if !ar.right {
			row[x] = '╱'
		}
	}
}

// Arrivals are the rows of the packets that reached their receivers after
// the row drawn at after and by upTo, in the order they arrived, each with
// the index of its packet's event: the arrow comes down from where its
// slope was at after (╰ or ╯) into the receiver's lane, labelled with the
// packet's name.
func (l *Ladder) Arrivals(after, upTo time.Time, air *Air) (lines []string, events []int) {
	for _, f := range air.arriving(after, upTo) {
		ar, ok := l.arrowOf(f.e.Packet, f.e.Time)
		if !ok || ar.bend < 0 {
			continue
		}
		a, b := ar.a, ar.b
		row := l.blank()
		name := arrivalLabel(f.e.Packet)
		if f.copy > 0 {
			name += fmt.Sprintf(tr(l.Lang, " (copy %d)", "(第 %d 份)"), f.copy+1)
		}
		s := l.at(f, ar, after)
		nw := Width(name)
		if ar.right {
			s = min(max(s, ar.bend), b-2)
			row[s] = '╰'
			for x := s + 1; x < b-1; x++ {
				row[x] = '─'
			}
			row[b-1] = '▶'
			switch {
			case b-3-(s+2) >= nw: // on the arrow: "╰─ SYN seq=0 ─▶"
				l.put(row, b-3-nw, " "+name+" ")
			case s-2-(a+2) >= nw: // before it: "SYN seq=0 ╰──▶"
				l.put(row, s-1-nw, name)
			}
		} else {
			s = max(min(s, ar.bend), a+2)
			row[s] = '╯'
			for x := a + 2; x < s; x++ {
				row[x] = '─'
			}
			row[a+1] = '◀'
			switch {
			case s-2-(a+3) >= nw:
				l.put(row, a+3, " "+name+" ")
			case b-2-(s+2) >= nw:
				l.put(row, s+2, name)
			}
		}
		l.slopes(row, f.arrived, air)
		lines = append(lines, l.line(l.stamp(f.arrived), row))
		events = append(events, f.event)
	}
	return lines, events
}

// cutArrow ends the arrow between a and b mid-wire, at ✗ past its label:
// the packet never reached the lane it was sent to.
func cutArrow(row []rune, a, b int, right bool) {
	if right {
		c := (a + b) / 2
		for c < b-2 && row[c] != '─' {
			c++ // past the label
		}
		for x := c + 1; x < b; x++ {
			row[x] = ' '
		}
		row[c] = '✗'
		return
	}
	c := (a + b) / 2
	for c > a+2 && row[c] != '─' {
		c--
	}
	for x := a + 1; x < c; x++ {
		row[x] = ' '
	}
	row[c] = '✗'
}

// NeighText renders a neighbour table change in English: "neigh
// 192.0.2.20 → 02:00:00:00:00:14 [REACHABLE]", "neigh 192.0.2.99
// [INCOMPLETE]", "neigh 192.0.2.99 deleted". The state is the kernel's
// (as ip neigh prints it), in brackets like a socket state it read.
func NeighText(n *timeline.Neigh) string { return NeighTextIn(n, i18n.En) }

// NeighTextIn is NeighText in lang.
func NeighTextIn(n *timeline.Neigh, lang i18n.Lang) string {
	s := tr(lang, "neigh ", "邻居表 ") + n.Addr.String()
	if n.Gone {
		return s + tr(lang, " deleted", " 已删除")
	}
	if n.MAC != nil {
		s += " → " + n.MAC.String()
	}
	return s + " [" + n.State.String() + "]"
}

// TCPInfoText renders a tcp_info reading on one line, with the kernel's
// names: "tcp_info bbr Open cwnd 10 ssthresh – rtt 10.3 ms rto 210 ms
// unacked 2 retrans 0/1".
func TCPInfoText(t *timeline.TCPInfo) string {
	ss := "–"
	if t.Ssthresh != 0 {
		ss = strconv.FormatUint(uint64(t.Ssthresh), 10)
	}
	ms := func(d time.Duration) string {
		prec := 1
		if d < time.Millisecond {
			prec = 3 // loopback's round trips are tens of microseconds
		}
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', prec, 64) + " ms"
	}
	cong := ""
	if t.Congestion != "" {
		cong = t.Congestion + " "
	}
	s := fmt.Sprintf("tcp_info %s%s cwnd %d ssthresh %s rtt %s rto %s unacked %d retrans %d/%d",
		cong, t.CAState, t.Cwnd, ss, ms(t.RTT), ms(t.RTO), t.Unacked, t.Retrans, t.TotalRetrans)
	if b := t.BBR; b != nil && b.Bandwidth > 0 {
		s += fmt.Sprintf(" · bbr bw %s min_rtt %s", Mbits(b.Bandwidth), ms(b.MinRTT))
	}
	return s
}

// Mbits says a rate of bytes per second in Mbit/s: "9.57 Mbit/s".
func Mbits(bytesPerSec uint64) string {
	return strconv.FormatFloat(float64(bytesPerSec)*8/1e6, 'f', 2, 64) + " Mbit/s"
}

// StateText renders a state change in English: "[ESTABLISHED]" from the
// kernel, "(SYN-SENT)" inferred from packets, with the kernel's timer.
func StateText(s *timeline.State) string { return StateTextIn(s, i18n.En) }

// StateTextIn renders a state change in lang. State and timer names are
// the kernel's (as ss prints them) and stay as they are.
func StateTextIn(s *timeline.State, lang i18n.Lang) string {
	name := s.To.String()
	if s.Gone {
		name = "CLOSED"
	}
	if s.Socket.Listener() {
		name = tr(lang, "listener ", "监听 ") + name
	}
	var t string
	if s.Source == timeline.Inferred {
		t = "(" + name + ")"
	} else {
		t = "[" + name + "]"
	}
	if s.Timer.Countdown() && !s.Gone {
		timer := s.Timer.String()
		if s.Timer == tcpstate.TimerTimeWait && s.To == tcpstate.FinWait2 {
			timer = "fin_timeout" // an orphaned FIN-WAIT-2 lives on a timewait socket
		}
		t += fmt.Sprintf(" %s %.1fs", timer, s.Expires.Seconds())
	}
	if s.From == s.To && s.To == tcpstate.Listen {
		t += fmt.Sprintf(tr(lang, " accept queue %d/%d", " 全连接队列 %d/%d"), s.RecvQ, s.SendQ)
	}
	return t
}

// AppText renders a program call in English: "write 5 bytes \"hello\"",
// "connect to 127.0.0.1:8888".
func AppText(a *timeline.App) string { return AppTextIn(a, i18n.En) }

// AppTextIn renders a program call in lang. The call names are the socket
// API's own and stay as they are; the words around them are translated.
func AppTextIn(a *timeline.App, lang i18n.Lang) string {
	var b strings.Builder
	b.WriteString(a.Call.String())
	detail := detailIn(a.Detail, lang)
	if a.Blocking {
		b.WriteString(" ")
		b.WriteString(detail)
		b.WriteString(tr(lang, " … blocks", " …… 阻塞中"))
		return b.String()
	}
	if a.Call.CarriesData() {
		switch {
		case lang == i18n.Zh:
			fmt.Fprintf(&b, " %d 字节", a.Bytes)
		case a.Bytes == 1:
			b.WriteString(" 1 byte")
		default:
			fmt.Fprintf(&b, " %d bytes", a.Bytes)
		}
	}
	if detail != "" {
		b.WriteString(" ")
		b.WriteString(detail)
	}
	if a.Err != "" {
		b.WriteString(" → ")
		b.WriteString(a.Err)
	}
	return b.String()
}

// detailsZh are the words the session writes in a call's detail, in
// Chinese. Addresses, socket options and quoted bytes need none.
var detailsZh = []struct{ en, zh string }{
	{"no packet: UDP has no handshake", "无报文:UDP 没有握手"},
	{"no packet", "无报文"},
	{"listener", "监听套接字"},
	{"to ", "到 "},
	{"from ", "来自 "},
}

// detailIn translates the prose of a call's detail: a whole known text, or
// a known leading word ("to 127.0.0.1:8888").
func detailIn(d string, lang i18n.Lang) string {
	if lang != i18n.Zh {
		return d
	}
	if n, ok := strings.CutSuffix(d, " bytes"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return n + " 字节" // a blocking write's size
	}
	for _, t := range detailsZh {
		if d == t.en {
			return t.zh
		}
		if strings.HasSuffix(t.en, " ") && strings.HasPrefix(d, t.en) {
			return t.zh + d[len(t.en):]
		}
	}
	return d
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

// noLineStart is the punctuation a Chinese line may not begin with.
const noLineStart = "。，、；：！？）」』】》"

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
		case RuneWidth(r) == 2 && strings.ContainsRune(noLineStart, r) && cur != "":
			// Chinese closing punctuation never starts a line: it stays
			// with the word before it ("TIME-WAIT。").
			out = append(out, cur+string(r))
			cur = ""
		case RuneWidth(r) == 2 && strings.ContainsRune(noLineStart, r) && len(out) > 0:
			// ... or with the character before it.
			out[len(out)-1] += string(r)
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

// wrapCells is wrap that never lets a line exceed width: a word longer
// than the line (an address, quoted bytes) is broken between characters.
func wrapCells(text string, width int) []string {
	width = max(width, 1)
	var out []string
	for _, line := range wrap(text, width) {
		for Width(line) > width {
			head := Truncate(line, width, "")
			if head == "" {
				break
			}
			out = append(out, head)
			line = line[len(head):]
		}
		out = append(out, line)
	}
	return out
}

// Wrap is wrap for other views (the dashboard's lesson panel).
func Wrap(text string, width int) []string { return wrap(text, width) }

// PacketLabel is the arrow label with expert marks.
func PacketLabel(p *decode.Packet) string {
	label := p.Label()
	for _, x := range p.Flow.Expert.Names() {
		label += " [" + x + "]"
	}
	return label
}
