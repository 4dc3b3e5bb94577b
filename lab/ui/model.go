package ui

import (
	"net/netip"
	"sort"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// runModel is what the dashboard knows about one run, derived from its
// timeline and nothing else. It lives on the UI goroutine; the pump feeds it
// deltas (apply). Every "current" value is computed as of the cursor, an
// event index: scrubbing back shows the run as it was then.
type runModel struct {
	sc  *lesson.Scenario
	tl  *timeline.Timeline // nil: no run yet
	gen int                // which run this is (deltas of older runs are dropped)
	err string             // the run could not start (no sandbox): the message

	meta    timeline.Meta
	n       int // events ingested
	closed  bool
	summary timeline.Summary

	packets []int32          // event index of every packet
	infos   []int32          // event index of every tcp_info reading
	steps   []int32          // event index of every narration step (the run pauses there)
	early   []*check.Decided // checks judged as soon as their act ended, by index
	checks  []int32
	socks   []*sockInfo // in order of first appearance
	sockIdx map[timeline.Socket]*sockInfo
	conns   []*connInfo
	connIdx map[flow.Key]*connInfo

	cursor   int  // event index; -1 when there are no events
	follow   bool // the cursor tracks the newest event
	released int  // steps the user let go on (space)

	filter *check.Filter // nil: every packet
	shown  []int32       // indexes into packets passing the filter (filter != nil)

	air render.Air // packets that spent milliseconds on a lab wire, for the ladder's slopes
}

// sockInfo is one socket of the run and its state events.
type sockInfo struct {
	sock     timeline.Socket
	lane     string
	listener bool
	states   []int32
}

// connInfo is one connection (either direction) and its data: app writes
// and reads, and packets that carry payload.
type connInfo struct {
	key   flow.Key
	first int32
	data  []int32
	pos   []int64 // where each data item starts in its direction's byte stream
	// Bytes so far per sending address: written, carried by segments, read.
	wrote, carried, read map[netip.AddrPort]int64
}

func newRunModel(sc *lesson.Scenario, tl *timeline.Timeline, gen int) *runModel {
	m := &runModel{sc: sc, tl: tl, gen: gen, cursor: -1, follow: true,
		sockIdx: map[timeline.Socket]*sockInfo{}, connIdx: map[flow.Key]*connInfo{}}
	if tl != nil {
		m.meta = tl.Meta()
	}
	return m
}

// delta is what the pump hands to the UI goroutine: the events [from, to)
// classified off the UI goroutine, so applying it is a few appends.
type delta struct {
	gen      int
	from, to int
	meta     timeline.Meta
	closed   bool
	summary  timeline.Summary
	packets  []int32
	infos    []int32
	steps    []int32
	checks   []int32
	actStart bool             // an act began in [from, to)
	early    []*check.Decided // checks judged when their act ended (nil: unchanged)
	states   []int32          // state events: the model files them by socket
	data     []int32          // app data calls and packets with payload
}

// classify reads the events [from, to) of tl.
func classify(tl *timeline.Timeline, gen, from, to int) *delta {
	d := &delta{gen: gen, from: from, to: to, meta: tl.Meta()}
	d.summary, d.closed = tl.Closed()
	i := int32(from)
	tl.Range(from, to, func(e *timeline.Event) bool {
		switch e.Kind {
		case timeline.KindPacket:
			d.packets = append(d.packets, i)
			if e.Packet.PayloadLen > 0 {
				d.data = append(d.data, i)
			}
		case timeline.KindNote:
			if e.Note.Step {
				d.steps = append(d.steps, i)
			}
			if e.Note.ActStart {
				d.actStart = true
			}
		case timeline.KindCheck:
			d.checks = append(d.checks, i)
		case timeline.KindTCPInfo:
			d.infos = append(d.infos, i)
		case timeline.KindState:
			d.states = append(d.states, i)
		case timeline.KindApp:
			if e.App.Call.CarriesData() && e.App.Bytes > 0 && !e.App.Blocking {
				d.data = append(d.data, i)
			}
		}
		i++
		return true
	})
	return d
}

// apply adds a delta; it reports false for a delta of another run.
func (m *runModel) apply(d *delta) bool {
	if m.tl == nil || d.gen != m.gen || d.from != m.n {
		return false
	}
	m.meta = d.meta
	m.closed, m.summary = d.closed, d.summary
	m.n = d.to
	base := len(m.packets)
	m.packets = append(m.packets, d.packets...)
	if m.filter != nil {
		for k := base; k < len(m.packets); k++ {
			if m.filter.Match(m.at(int(m.packets[k])).Packet) {
				m.shown = append(m.shown, int32(k))
			}
		}
	}
	for _, i := range d.packets {
		m.air.Add(int(i), m.at(int(i)))
	}
	m.infos = append(m.infos, d.infos...)
	m.steps = append(m.steps, d.steps...)
	m.checks = append(m.checks, d.checks...)
	if d.early != nil {
		m.early = d.early
	}
	for _, i := range d.states {
		st := m.at(int(i)).State
		si := m.sockIdx[st.Socket]
		if si == nil {
			si = &sockInfo{sock: st.Socket, lane: st.Lane, listener: st.Socket.Listener()}
			m.sockIdx[st.Socket] = si
			m.socks = append(m.socks, si)
		}
		si.states = append(si.states, i)
		if !si.listener {
			m.conn(decode.ProtoTCP, st.Socket.Local, st.Socket.Remote, i)
		}
	}
	for _, i := range d.data {
		e := m.at(int(i))
		var c *connInfo
		var pos int64
		switch {
		case e.Kind == timeline.KindPacket:
			p := e.Packet
			c = m.conn(p.Proto, p.Src, p.Dst, i)
			pos = c.carried[p.Src]
			if p.Proto == decode.ProtoTCP && p.Flow.RelSeq > 0 {
				pos = int64(p.Flow.RelSeq) - 1
			}
			c.carried[p.Src] = max(c.carried[p.Src], pos+int64(p.PayloadLen))
		case e.App.Call.Writes():
			c = m.conn(e.App.Proto, e.App.Socket.Local, e.App.Socket.Remote, i)
			pos = c.wrote[e.App.Socket.Local]
			c.wrote[e.App.Socket.Local] += int64(e.App.Bytes)
		default:
			c = m.conn(e.App.Proto, e.App.Socket.Local, e.App.Socket.Remote, i)
			pos = c.read[e.App.Socket.Remote]
			c.read[e.App.Socket.Remote] += int64(e.App.Bytes)
		}
		c.data = append(c.data, i)
		c.pos = append(c.pos, pos)
	}
	if m.follow && m.n > 0 {
		m.cursor = m.n - 1
	}
	return true
}

// conn is the connection between x and y, whichever sent (states are
// TCP's: the kernel reports TCP sockets only).
func (m *runModel) conn(proto decode.Proto, x, y netip.AddrPort, i int32) *connInfo {
	k := flow.ConnKey(proto, x, y)
	c := m.connIdx[k]
	if c == nil {
		c = &connInfo{key: k, first: i, wrote: map[netip.AddrPort]int64{},
			carried: map[netip.AddrPort]int64{}, read: map[netip.AddrPort]int64{}}
		m.connIdx[k] = c
		m.conns = append(m.conns, c)
	}
	return c
}

// at returns event i.
func (m *runModel) at(i int) *timeline.Event {
	if m.tl == nil || i < 0 || i >= m.n {
		return nil
	}
	return m.tl.At(i)
}

// setCursor moves the cursor (clamped); following stops unless it lands on
// the newest event of a live run.
func (m *runModel) setCursor(i int) {
	if m.n == 0 {
		m.cursor = -1
		return
	}
	m.cursor = min(max(i, 0), m.n-1)
	m.follow = m.cursor == m.n-1 && !m.closed
}

// upTo counts the indexes in idx that are <= the cursor (idx is sorted).
func upTo(idx []int32, cursor int) int {
	return sort.Search(len(idx), func(k int) bool { return int(idx[k]) > cursor })
}

// selectedPacket is the packet at or before the cursor: its number in
// m.packets, or -1.
func (m *runModel) selectedPacket() int { return upTo(m.packets, m.cursor) - 1 }

// selected is the selected packet's event, or nil.
func (m *runModel) selected() *timeline.Event {
	k := m.selectedPacket()
	if k < 0 {
		return nil
	}
	return m.at(int(m.packets[k]))
}

// stateAt is s's latest state event at or before the cursor, or nil.
func (m *runModel) stateAt(s *sockInfo) *timeline.Event {
	k := upTo(s.states, m.cursor)
	if k == 0 {
		return nil
	}
	return m.at(int(s.states[k-1]))
}

// step is the number (from 1) of the latest step at or before the cursor, 0
// for none.
func (m *runModel) step() int { return upTo(m.steps, m.cursor) }

// paused reports whether the run waits for the user at a step.
func (m *runModel) paused() bool {
	return m.tl != nil && !m.closed && len(m.steps) > m.released
}

// live reports whether the run is still going.
func (m *runModel) live() bool { return m.tl != nil && !m.closed }

// asOf is the moment the panels show: now while following a live run, else
// the cursor's event time.
func (m *runModel) asOf(now time.Time) time.Time {
	if m.follow && m.live() {
		return now
	}
	if e := m.at(m.cursor); e != nil {
		return e.Time
	}
	return now
}

// focusConn is the connection the per-connection panels show: the selected
// packet's, else the latest one with a state or data at or before the cursor.
func (m *runModel) focusConn() *connInfo {
	if e := m.selected(); e != nil {
		if c := m.connIdx[flow.KeyOf(e.Packet)]; c != nil {
			return c
		}
	}
	var best *connInfo
	for _, c := range m.conns {
		if int(c.first) <= m.cursor && (best == nil || c.first > best.first) {
			best = c
		}
	}
	return best
}

// rel is an event's time since the run's start.
func (m *runModel) rel(t time.Time) time.Duration {
	if m.meta.Start.IsZero() {
		return 0
	}
	return t.Sub(m.meta.Start)
}

// rowCount is the number of packets the table shows.
func (m *runModel) rowCount() int {
	if m.filter != nil {
		return len(m.shown)
	}
	return len(m.packets)
}

// rowPacket maps a table row (from 0) to a number in m.packets.
func (m *runModel) rowPacket(r int) int {
	if m.filter != nil {
		if r < 0 || r >= len(m.shown) {
			return -1
		}
		return int(m.shown[r])
	}
	if r < 0 || r >= len(m.packets) {
		return -1
	}
	return r
}

// packetRow maps a number in m.packets to the table row showing it, or to
// the row of the nearest earlier packet that passes the filter; -1 for none.
func (m *runModel) packetRow(k int) int {
	if k < 0 {
		return -1
	}
	if m.filter == nil {
		return k
	}
	return sort.Search(len(m.shown), func(j int) bool { return int(m.shown[j]) > k }) - 1
}

// setFilter filters the packet table (nil: none).
func (m *runModel) setFilter(f *check.Filter) {
	m.filter = f
	m.shown = nil
	if f == nil {
		return
	}
	m.shown = make([]int32, 0, 64)
	for k, i := range m.packets {
		if f.Match(m.at(int(i)).Packet) {
			m.shown = append(m.shown, int32(k))
		}
	}
}

// connsBy counts the connected TCP sockets of lane with a state event at
// or before event i, as the headless ladder counts them when it reaches i.
func (m *runModel) connsBy(lane string, i int) int {
	n := 0
	for _, si := range m.socks {
		if si.lane == lane && !si.listener && si.sock.Local.IsValid() && len(si.states) > 0 && int(si.states[0]) <= i {
			n++
		}
	}
	return n
}
