package sockstate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/tcpstate"
)

// Change is one event seen by a [Poller].
type Change struct {
	// The dump that saw the change ran from Start to Time: the kernel's
	// table was in this state at some moment in between.
	Start  time.Time
	Time   time.Time      // when the dump that saw the change ended
	From   tcpstate.State // tcpstate.Closed when the socket is new
	To     tcpstate.State // tcpstate.Closed when the socket has disappeared
	Socket Socket         // the row as last seen (for a disappearance: the last row seen)
	Gone   bool           // the socket vanished from the table
	// PrevStart is when the dump before this one started: the last dump
	// that read From (or did not list a new socket). Zero on the first dump.
	PrevStart time.Time
	// InfoOnly: nothing above changed, but tcp_info values the Poller
	// watches did (Socket.Info holds the new reading).
	InfoOnly bool
}

// String formats c for logs: "ESTABLISHED -> TIME-WAIT 127.0.0.1:40000 127.0.0.1:80".
func (c Change) String() string {
	s := fmt.Sprintf("%s -> %s %s %s", c.From, c.To, c.Socket.Local, c.Socket.Remote)
	if c.Gone {
		s += " gone"
	}
	return s
}

// DefaultInterval is the polling interval of a Poller whose Interval is zero.
const DefaultInterval = 2 * time.Millisecond

// Poller turns repeated sock_diag dumps into [Change] events.
//
// Sockets are identified by their local and remote address and whether they
// listen (several SO_REUSEPORT listeners on one address are told apart by
// their cookie). The first dump reports every socket as new (From ==
// tcpstate.Closed). After that a Change is emitted when:
//
//   - a socket appears (From == Closed) or disappears (To == Closed, Gone);
//   - a socket changes state (From != To). States are compared with
//     [tcpstate.State.Canonical], but From and To carry the kernel's values,
//     so From may be tcpstate.NewSynRecv;
//   - a LISTEN socket's accept queue length (RecvQ) changes (From == To ==
//     Listen);
//   - a socket's timer kind changes between none, keepalive, timewait and
//     probe (From == To). The retransmission timer ("on") comes and goes with
//     every unacknowledged segment and counts as none; changes of Expires
//     alone are never reported.
//
// At most one Change is emitted per socket per dump, and the Changes of one
// dump are emitted in order of local, then remote address.
//
// The kernel's socket cookie tells a new connection on a reused address pair
// from the old one: if the cookie of a tuple changes, the old socket is
// reported gone and the new one new. The kernel replaces the socket object
// twice in a connection's life without it being a new connection, and both
// are reported as a plain state change of one socket:
//
//   - a request socket (SYN-RECEIVED) is replaced by the child socket the
//     handshake created, reported as SYN-RECEIVED -> ESTABLISHED (or
//     whatever state the child is in; nothing if it is still SYN-RECEIVED);
//   - a full socket becoming TIME-WAIT (or orphaned FIN-WAIT-2) is replaced
//     by a timewait socket.
//
// Linux copies the cookie in both cases (inet_csk_clone_lock,
// inet_twsk_alloc), so these need no special handling. Should a kernel
// give the child of a request socket a new cookie, a request socket (state
// SYN-RECEIVED without tcp_info) replaced by a socket in another state is
// still taken for the same connection.
//
// A socket that stops matching Filter is reported gone, one that starts
// matching it is reported new.
type Poller struct {
	// Interval is the time between dumps; zero means DefaultInterval.
	Interval time.Duration
	// Filter selects the sockets to watch; nil watches all. It must not
	// retain the pointer.
	Filter func(*Socket) bool
	// Tick, if set, is called after every dump with the time the dump
	// started, once its changes have been emitted: a watermark for consumers
	// that merge changes with other event sources (every change from then on
	// will be stamped later).
	Tick func(time.Time)
	// Refresh, if positive, re-reports every socket in TIME-WAIT (From ==
	// To) with its current Expires this often, so a view can show the
	// kernel's own countdown.
	Refresh time.Duration
	// Watch, if set, also reports a socket whose state did not change when
	// one of these tcp_info values did (Change.InfoOnly).
	Watch Watched
}

// Run polls the TCP socket table of the calling thread's network namespace:
// once immediately, then every Interval until ctx is done, and once more
// when ctx is done so that the last state is reported. emit is called
// synchronously from Run's goroutine; a slow emit delays the next dump. Run
// returns nil when ctx is done and the dump error otherwise.
func (p *Poller) Run(ctx context.Context, emit func(Change)) error {
	c, err := Open()
	if err != nil {
		return fmt.Errorf("sock_diag dump: %w", err)
	}
	defer c.Close()
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := tracker{watch: p.Watch}
	var refreshed, prevStart time.Time
	poll := func() error {
		// Wall clock only: compared with capture timestamps. A dump walks the
		// table while connections change, so what it shows is stamped with
		// its end (it happened before), and Tick reports its start (nothing
		// that changes from then on can be missing from the next dump).
		start := time.Now().Round(0)
		buf, err := c.DumpTCP(t.next[:0])
		now := time.Now().Round(0)
		t.next = buf
		if err != nil {
			return fmt.Errorf("sock_diag dump: %w", err)
		}
		if p.Filter != nil {
			n := 0
			for i := range t.next {
				if p.Filter(&t.next[i]) {
					t.next[n] = t.next[i]
					n++
				}
			}
			clear(t.next[n:]) // drop Info pointers
			t.next = t.next[:n]
		}
		t.update(now, func(c Change) { c.Start, c.PrevStart = start, prevStart; emit(c) })
		if p.Refresh > 0 && now.Sub(refreshed) >= p.Refresh {
			if !refreshed.IsZero() {
				for i := range t.prev {
					if s := &t.prev[i]; s.Timer == tcpstate.TimerTimeWait {
						emit(Change{Start: start, Time: now, From: s.State, To: s.State, Socket: *s, PrevStart: prevStart})
					}
				}
			}
			refreshed = now
		}
		prevStart = start
		if p.Tick != nil {
			p.Tick(start)
		}
		return nil
	}
	if err := poll(); err != nil {
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return poll()
		case <-tick.C:
			if err := poll(); err != nil {
				return err
			}
		}
	}
}

// tracker diffs consecutive dumps. next is filled by the caller; update
// compares it with prev and swaps the two, so the buffers are reused.
type tracker struct {
	prev, next []Socket
	watch      Watched
}

// compareKey orders sockets by local address, remote address and listening.
func compareKey(a, b *Socket) int {
	if c := a.Local.Compare(b.Local); c != 0 {
		return c
	}
	if c := a.Remote.Compare(b.Remote); c != 0 {
		return c
	}
	la, lb := a.Listening(), b.Listening()
	switch {
	case la == lb:
		return 0
	case la:
		return -1
	default:
		return 1
	}
}

func compareSocket(a, b Socket) int {
	if c := compareKey(&a, &b); c != 0 {
		return c
	}
	return cmp.Compare(a.Cookie, b.Cookie)
}

// update sorts t.next, emits the changes from t.prev to t.next stamped with
// now, and makes t.next the new t.prev.
func (t *tracker) update(now time.Time, emit func(Change)) {
	slices.SortFunc(t.next, compareSocket)
	// A dump is not atomic: drop exact duplicates the kernel may list twice.
	t.next = slices.CompactFunc(t.next, func(a, b Socket) bool { return compareSocket(a, b) == 0 })
	prev, next := t.prev, t.next
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		var c int
		switch {
		case i == len(prev):
			c = 1
		case j == len(next):
			c = -1
		default:
			c = compareKey(&prev[i], &next[j])
		}
		switch {
		case c < 0:
			emitGone(now, &prev[i], emit)
			i++
		case c > 0:
			emitNew(now, &next[j], emit)
			j++
		default:
			ie, je := i+1, j+1
			for ie < len(prev) && compareKey(&prev[i], &prev[ie]) == 0 {
				ie++
			}
			for je < len(next) && compareKey(&next[j], &next[je]) == 0 {
				je++
			}
			if ie-i == 1 && je-j == 1 {
				t.diffTuple(now, &prev[i], &next[j], emit)
			} else {
				t.diffGroup(now, prev[i:ie], next[j:je], emit)
			}
			i, j = ie, je
		}
	}
	t.prev, t.next = next, prev
}

func emitNew(now time.Time, s *Socket, emit func(Change)) {
	emit(Change{Time: now, From: tcpstate.Closed, To: s.State, Socket: *s})
}

func emitGone(now time.Time, s *Socket, emit func(Change)) {
	emit(Change{Time: now, From: s.State, To: tcpstate.Closed, Socket: *s, Gone: true})
}

// diffTuple compares the only socket of a tuple in two dumps.
func (t *tracker) diffTuple(now time.Time, old, cur *Socket, emit func(Change)) {
	if old.Cookie != cur.Cookie && !(isRequest(old) && !isRequest(cur)) {
		emitGone(now, old, emit)
		emitNew(now, cur, emit)
		return
	}
	t.diffSame(now, old, cur, emit)
}

// isRequest reports whether s is a request socket: the kernel reports those
// as SYN_RECV (or NEW_SYN_RECV) without tcp_info, while a full socket in
// SYN_RECV (TCP Fast Open) has tcp_info.
func isRequest(s *Socket) bool {
	return s.State.Canonical() == tcpstate.SynReceived && s.Info == nil
}

// diffGroup compares the sockets sharing one tuple (SO_REUSEPORT listeners)
// by cookie; both slices are sorted by cookie.
func (t *tracker) diffGroup(now time.Time, prev, next []Socket, emit func(Change)) {
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		switch {
		case j == len(next) || i < len(prev) && prev[i].Cookie < next[j].Cookie:
			emitGone(now, &prev[i], emit)
			i++
		case i == len(prev) || next[j].Cookie < prev[i].Cookie:
			emitNew(now, &next[j], emit)
			j++
		default:
			t.diffSame(now, &prev[i], &next[j], emit)
			i++
			j++
		}
	}
}

// diffSame compares two rows of the same socket.
func (t *tracker) diffSame(now time.Time, old, cur *Socket, emit func(Change)) {
	switch {
	case old.State.Canonical() != cur.State.Canonical(),
		cur.State == tcpstate.Listen && old.RecvQ != cur.RecvQ,
		timerKind(old.Timer, old.State) != timerKind(cur.Timer, cur.State):
		emit(Change{Time: now, From: old.State, To: cur.State, Socket: *cur})
	case t.watch != 0 && cur.Info != nil && cur.Info.Changed(old.Info, t.watch) != 0:
		emit(Change{Time: now, From: old.State, To: cur.State, Socket: *cur, InfoOnly: true})
	}
}

// timerKind folds the retransmission timer into "none" on a connection that
// carries data, where it comes and goes with every unacknowledged segment.
// During the handshake it is the SYN (or SYN,ACK) retransmission timer, armed
// once and telling: it counts there.
func timerKind(t tcpstate.Timer, st tcpstate.State) tcpstate.Timer {
	if t == tcpstate.TimerRetrans {
		if s := st.Canonical(); s == tcpstate.SynSent || s == tcpstate.SynReceived {
			return t
		}
		return tcpstate.TimerNone
	}
	return t
}
