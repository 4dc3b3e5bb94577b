package engine

import (
	"container/heap"
	"net/netip"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/sockstate"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// source names the producers whose watermarks hold back the merge.
type source uint8

const (
	srcCapture source = iota
	srcPoller
	nSources
)

// item is what producers send to the merger: an event, a kernel socket
// change, or a watermark ("I have sent everything before this time").
type item struct {
	ev     timeline.Event
	change *sockstate.Change
	seq    uint64
	wm     time.Time
	src    source
	isWM   bool
	// t orders the item: the event's time, or for a kernel change first the
	// start of the dump that saw it, then (placed) the moment the packets
	// say the socket entered the state the dump saw.
	t      time.Time
	placed bool
}

func (it *item) time() time.Time { return it.t }

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	ti, tj := h[i].time(), h[j].time()
	if !ti.Equal(tj) {
		return ti.Before(tj)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return it
}

// merger puts events from the capture, the kernel poller and the session into
// one time order. It holds each event until every producer has moved past its
// time (watermarks: the capture's, the poller's, the session clock's), then
// labels it (lanes, act), turns kernel changes into state events, adds the
// states the packets imply but the poller did not see, and emits it.
type merger struct {
	in    chan item
	clock *sessionrun.Clock
	lanes *sessionrun.Lanes
	emit  func(timeline.Event)
	host  bool // host mode: drop what does not belong to the scenario

	h   itemHeap
	seq uint64
	wm  [nSources]time.Time

	curAct  int
	flowAct map[flow.Key]int
	reads   kernelReads
	shown   map[timeline.Socket]tcpstate.State
	info    map[timeline.Socket]infoShown
}

// infoShown is the last tcp_info reading of a socket put on the timeline.
type infoShown struct {
	at   time.Time
	info sockstate.TCPInfo
}

// infoWatch are the tcp_info values whose change makes a reading worth an
// event; infoEvery bounds the readings per socket (a bulk transfer changes
// cwnd and RTT on every ACK), except that a change of the congestion state
// or a retransmission is always shown.
const (
	infoWatch = sockstate.WatchAll
	infoEvery = 10 * time.Millisecond
)

func newMerger(lanes *sessionrun.Lanes, clock *sessionrun.Clock, emit func(timeline.Event), host bool) *merger {
	return &merger{
		in:      make(chan item, 1<<14),
		clock:   clock,
		lanes:   lanes,
		emit:    emit,
		host:    host,
		flowAct: make(map[flow.Key]int),
		reads:   newKernelReads(),
		shown:   make(map[timeline.Socket]tcpstate.State),
		info:    make(map[timeline.Socket]infoShown),
	}
}

// Record implements sessionrun.EventSink.
func (m *merger) Record(ev timeline.Event) { m.in <- item{ev: ev} }

func (m *merger) change(c sockstate.Change) { m.in <- item{change: &c} }

func (m *merger) watermark(src source, t time.Time) {
	m.in <- item{isWM: true, src: src, wm: t}
}

// run merges until in is closed, then releases everything left.
func (m *merger) run() {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		// Read the session's watermark first, then everything already sent:
		// an event handed over before the watermark was read is in the
		// channel by now.
		swm, early := m.clock.Watermark(time.Now().Round(0))
		for i := range early {
			m.add(item{ev: early[i]})
		}
		for n := len(m.in); n > 0; n-- {
			it, ok := <-m.in
			if !ok {
				m.release(time.Time{}, true)
				return
			}
			m.add(it)
		}
		m.release(swm, false)
		select {
		case it, ok := <-m.in:
			if !ok {
				m.release(time.Time{}, true)
				return
			}
			m.add(it)
		case <-tick.C:
		}
	}
}

func (m *merger) add(it item) {
	if it.isWM {
		if it.wm.After(m.wm[it.src]) {
			m.wm[it.src] = it.wm
		}
		return
	}
	if it.ev.Kind == timeline.KindPacket {
		// The ring hands packets over in time order: one packet means the
		// capture is complete up to shortly before it.
		if t := it.ev.Time.Add(-time.Millisecond); t.After(m.wm[srcCapture]) {
			m.wm[srcCapture] = t
		}
	}
	m.seq++
	it.seq = m.seq
	it.t = it.ev.Time
	if it.change != nil {
		it.t = it.change.Start
		if it.t.IsZero() {
			it.t, it.placed = it.change.Time, true
		}
	}
	heap.Push(&m.h, &it)
}

// release emits every held item older than limit and the producers'
// watermarks (everything when flush).
func (m *merger) release(limit time.Time, flush bool) {
	for _, wm := range m.wm {
		if wm.Before(limit) {
			limit = wm
		}
	}
	for m.h.Len() > 0 {
		it := m.h[0]
		if !flush && !it.time().Before(limit) {
			return
		}
		if it.change != nil && !it.placed {
			// Every packet up to the dump's end must be here to place it.
			if !flush && !it.change.Time.Before(m.wm[srcCapture]) {
				return
			}
			m.place(it)
			heap.Fix(&m.h, 0)
			continue
		}
		heap.Pop(&m.h)
		m.emitItem(it)
	}
}

// place orders a kernel observation among the packets. A dump walks the
// socket table while connections change, so the state it saw held at some
// moment between its start and end. If a packet held in that window moved
// the socket into that state, the observation goes right after that packet;
// otherwise the state already held when the dump began.
func (m *merger) place(it *item) {
	c := it.change
	it.placed = true
	if c.InfoOnly {
		return // no state to find a packet for: read when the dump began
	}
	want := c.To.Canonical()
	var best *item
	for _, o := range m.h {
		p := o.ev.Packet
		if p == nil || o.t.Before(c.Start) || o.t.After(c.Time) {
			continue
		}
		for _, tr := range p.Transitions() {
			local, remote := p.Src, p.Dst
			if tr.Side != p.Flow.Dir {
				local, remote = p.Dst, p.Src
			}
			if local == c.Socket.Local && remote == c.Socket.Remote && tr.To == want && (best == nil || m.h.less(o, best)) {
				best = o
			}
		}
	}
	if best != nil {
		it.t = best.t
		m.seq++
		it.seq = m.seq // after that packet
	}
}

func (m *merger) emitItem(it *item) {
	if it.change != nil {
		m.kernelState(it.change, it.t)
		return
	}
	ev := it.ev
	switch ev.Kind {
	case timeline.KindNote:
		if ev.Note.ActStart {
			m.curAct = ev.Act
		}
	case timeline.KindPacket:
		if m.packet(&ev) {
			m.emitPacket(ev)
		}
		return
	case timeline.KindNeigh:
		ev.Act = m.curAct
	}
	m.emit(ev)
}

// packet labels a packet with its lanes and act and emits the inferred
// states the kernel poller missed. It reports false for a packet to drop
// (host mode: not the scenario's).
func (m *merger) packet(ev *timeline.Event) bool {
	p := ev.Packet
	switch p.Proto {
	case decode.ProtoICMP:
		if p.ICMP.Quoted {
			// The error travels back to the sender of the datagram it quotes.
			p.Lab.From, p.Lab.To = m.lanes.Lookup(p.ICMP.QuotedDst), m.lanes.Lookup(p.ICMP.QuotedSrc)
		}
		ev.Act = m.curAct
	case decode.ProtoARP:
		ev.Act = m.curAct // its lanes are its hosts' (set with the wire's notes)
	default:
		p.Lab.From, p.Lab.To = m.lanes.Resolve(p.Src, p.Dst)
		if p.Flow.Conv != 0 {
			k := flow.KeyOf(p)
			act, ok := m.flowAct[k]
			if !ok {
				act = m.curAct
				m.flowAct[k] = act
			}
			ev.Act = act
		} else {
			ev.Act = m.curAct
		}
	}
	if m.host && p.Lab.From == "" && p.Lab.To == "" {
		return false
	}
	if p.Lab.From == "" {
		p.Lab.From = addrLane(p.Src)
	}
	if p.Lab.To == "" {
		p.Lab.To = addrLane(p.Dst)
	}
	return true
}

// emitPacket emits a packet between the states it implies: the sender's
// new state before the arrow, the receiver's after it.
func (m *merger) emitPacket(ev timeline.Event) {
	p := ev.Packet
	for _, tr := range p.Transitions() {
		if tr.Side == p.Flow.Dir {
			m.inferred(&ev, p, tr)
		}
	}
	m.emit(ev)
	for _, tr := range p.Transitions() {
		if tr.Side != p.Flow.Dir {
			m.inferred(&ev, p, tr)
		}
	}
}

// addrLane names an address nobody registered.
func addrLane(ap netip.AddrPort) string {
	if ap.Port() == 0 {
		return ap.Addr().String()
	}
	return ap.String()
}

// inferred emits a state the packets imply, unless the kernel poller shows
// the same state for that socket (already, or in its first look after the
// packet, which is still held in the merge window).
func (m *merger) inferred(ev *timeline.Event, p *decode.Packet, tr decode.Transition) {
	if tr.To == tcpstate.Listen {
		return
	}
	local, remote := p.Src, p.Dst
	if tr.Side != p.Flow.Dir {
		local, remote = p.Dst, p.Src
	}
	sock := timeline.Socket{Local: local, Remote: remote}
	if tcpstate.Opens(tr.To) {
		m.reads.opened[sock] = ev.Time
	}
	if r, ok := m.reads.last[sock]; ok && r.state == tr.To {
		return
	}
	if next := m.nextKernel(sock); next != nil && next.To == tr.To {
		return
	}
	if m.contradicted(sock, tr.To, ev.Time) {
		return // the kernel is the truth: the packet never did this
	}
	from, ok := m.shown[sock]
	if !ok {
		from = tr.From
	}
	if from == tr.To {
		return
	}
	m.shown[sock] = tr.To
	lane := p.Lab.From
	if local != p.Src {
		lane = p.Lab.To
	}
	m.emit(timeline.Event{Time: ev.Time, Kind: timeline.KindState, Act: ev.Act, State: &timeline.State{
		Lane: lane, Socket: sock, From: from, To: tr.To, Source: timeline.Inferred, Packet: p.N,
	}})
}

// nextKernel finds the earliest held kernel change for sock.
func (m *merger) nextKernel(sock timeline.Socket) *sockstate.Change {
	var best *item
	for _, it := range m.h {
		if it.change == nil || it.change.Socket.Local != sock.Local || it.change.Socket.Remote != sock.Remote {
			continue
		}
		if best == nil || m.h.less(it, best) {
			best = it
		}
	}
	if best == nil {
		return nil
	}
	return best.change
}

func (h itemHeap) less(a, b *item) bool {
	ta, tb := a.time(), b.time()
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.seq < b.seq
}

// kernelState turns a poller change into a state event at the time the
// merger placed it.
func (m *merger) kernelState(c *sockstate.Change, at time.Time) {
	s := c.Socket
	sock := timeline.Socket{Local: s.Local, Remote: s.Remote}
	// Resolve, not Lookup: a socket whose connect() is still blocking (SYN
	// retransmissions) has a local port its dialer does not know yet.
	lane, _ := m.lanes.Resolve(s.Local, s.Remote)
	if lane == "" {
		if m.host {
			return
		}
		lane = addrLane(s.Local)
	}
	act := m.curAct
	if a, ok := m.flowAct[flow.ConnKey(decode.ProtoTCP, s.Local, s.Remote)]; ok {
		act = a
	}
	defer m.tcpInfo(lane, sock, act, s.Info, at)
	if c.InfoOnly {
		return
	}
	to := c.To.Canonical()
	from, ok := m.shown[sock]
	if !ok {
		from = c.From.Canonical()
	}
	m.reads.add(sock, kread{state: to, gone: c.Gone, readAt: c.Time})
	m.shown[sock] = to
	m.emit(timeline.Event{Time: at, Kind: timeline.KindState, Act: act, State: &timeline.State{
		Lane: lane, Socket: sock, From: from, To: to, Source: timeline.Kernel,
		Timer: s.Timer, Expires: s.Expires, Gone: c.Gone, RecvQ: s.RecvQ, SendQ: s.SendQ,
		KernelFrom: c.From.Canonical(), KernelFromAt: c.PrevStart, ReadAt: c.Time,
	}})
}

// tcpInfo puts a socket's tcp_info reading on the timeline if a value
// lessons follow changed since the last one shown (see infoEvery).
func (m *merger) tcpInfo(lane string, sock timeline.Socket, act int, ti *sockstate.TCPInfo, at time.Time) {
	if ti == nil || sock.Listener() {
		return // TIME-WAIT, request and orphaned sockets have none; a listener sends nothing
	}
	last, seen := m.info[sock]
	if seen {
		changed := ti.Changed(&last.info, infoWatch)
		urgent := changed&(sockstate.WatchCAState|sockstate.WatchTotalRetrans|sockstate.WatchRetransmits|sockstate.WatchCongestion|sockstate.WatchReordering) != 0
		if changed == 0 || (!urgent && at.Sub(last.at) < infoEvery) {
			return
		}
	}
	m.info[sock] = infoShown{at: at, info: *ti}
	ss := ti.SndSsthresh
	if !ti.SsthreshSet() {
		ss = 0
	}
	info := &timeline.TCPInfo{
		Lane: lane, Socket: sock, Congestion: ti.Congestion, CAState: ti.CAState,
		Cwnd: ti.SndCwnd, Ssthresh: ss, RTT: ti.RTT, RTTVar: ti.RTTVar, MinRTT: ti.MinRTT, RTO: ti.RTO,
		Unacked: ti.Unacked, Lost: ti.Lost, Retrans: ti.Retrans, Retransmits: ti.Retransmits,
		TotalRetrans: ti.TotalRetrans, Reordering: ti.Reordering, ReordSeen: ti.ReordSeen, DSACKDups: ti.DSACKDups, SndWnd: ti.SndWnd, DeliveryRate: ti.DeliveryRate,
	}
	if ti.PacingRate != ^uint64(0) { // ~0: no pacing rate set
		info.PacingRate = ti.PacingRate
	}
	if b := ti.BBR; b.Present {
		info.BBR = &timeline.BBRModel{Bandwidth: b.Bandwidth, MinRTT: b.MinRTT,
			PacingGain: float64(b.PacingGain) / 256, CwndGain: float64(b.CwndGain) / 256}
	}
	m.emit(timeline.Event{Time: at, Kind: timeline.KindTCPInfo, Act: act, TCPInfo: info})
}
