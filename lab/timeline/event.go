// Package timeline is the single source of truth of a run: one ordered,
// append-only stream of events (captured packets, kernel socket states, the
// program's own calls, narration, check results) that every view reads — the
// text ladder, JSON lines, pcapng, the dashboard and the checks.
//
// Events are ordered by when they happened (capture timestamp for packets,
// the moment of the call for app events, the dump time for kernel states) and
// then by arrival, never by goroutine timing: the engine holds events in a
// short reorder window before appending them.
package timeline

import (
	"net/netip"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
)

// Kind says which of an Event's parts is set.
type Kind uint8

// Event kinds.
const (
	KindPacket Kind = iota + 1
	KindState
	KindApp
	KindNote
	KindCheck
	KindTCPInfo
	KindNeigh
)

func (k Kind) String() string {
	switch k {
	case KindPacket:
		return "packet"
	case KindState:
		return "state"
	case KindApp:
		return "app"
	case KindNote:
		return "note"
	case KindCheck:
		return "check"
	case KindTCPInfo:
		return "tcpinfo"
	case KindNeigh:
		return "neigh"
	}
	return "unknown"
}

// Event is one thing that happened during a run. Exactly one of Packet,
// State, App, Note, Check, TCPInfo and Neigh is set, as Kind says. Events
// are immutable once appended.
type Event struct {
	ID   int       // position in the timeline, from 1 (set by Append)
	Time time.Time // when it happened
	Kind Kind
	Act  int // the scenario act it belongs to (0: before the first act)

	Packet  *decode.Packet
	State   *State
	App     *App
	Note    *Note
	Check   *Check
	TCPInfo *TCPInfo
	Neigh   *Neigh
}

// Socket is a connection endpoint seen from one side: local and remote address.
type Socket struct {
	Local  netip.AddrPort
	Remote netip.AddrPort
}

// String renders "local->remote" (remote "*" for a listener).
func (s Socket) String() string {
	r := "*"
	if !s.Listener() {
		r = s.Remote.String()
	}
	return s.Local.String() + "->" + r
}

// Listener reports whether the socket has no peer: a listening socket (an
// unconnected UDP socket, for an App event).
func (s Socket) Listener() bool { return !s.Remote.IsValid() || s.Remote.Port() == 0 }

// Unmap returns ap with an IPv4-mapped IPv6 address (::ffff:127.0.0.1, as a
// dual-stack socket reports its peer) as plain IPv4: the form every address
// in the timeline has, so that the addresses the program's calls, the
// kernel and the capture report compare equal.
func Unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Reverse returns the same connection seen from the other side.
func (s Socket) Reverse() Socket { return Socket{Local: s.Remote, Remote: s.Local} }

// Source says where a state came from.
type Source uint8

// State sources.
const (
	// Kernel: read from the kernel's socket table (sock_diag).
	Kernel Source = iota + 1
	// Inferred: implied by the captured packets; the kernel poller did not see
	// it (it lasted less than the poll interval). The engine never shows one
	// that the kernel's readings of the socket contradict (see
	// check.Contradictions).
	Inferred
)

func (s Source) String() string {
	if s == Inferred {
		return "inferred"
	}
	return "kernel"
}

// State is a TCP state change of one socket.
type State struct {
	Lane   string
	Socket Socket
	From   tcpstate.State // the state shown before (kernel or inferred)
	To     tcpstate.State
	Source Source
	// Timer is the kernel's timer on the socket (TIME-WAIT, keepalive,
	// retransmission, zero-window probe, or none).
	Timer   tcpstate.Timer
	Expires time.Duration // time left on Timer
	// Gone: the socket is no longer in the kernel's table (To is CLOSED).
	Gone bool
	// RecvQ and SendQ: for LISTEN, the accept queue length and the backlog.
	RecvQ, SendQ uint32
	// Packet is the number of the packet that implied an inferred state.
	Packet int
	// Kernel states only: KernelFrom is the kernel's own previous reading
	// of the socket (From is what the timeline showed, which may have been
	// inferred; CLOSED: the socket was not in the kernel's table), and
	// KernelFromAt the start of the last dump that read it (zero: this is
	// the first dump). ReadAt is the end of the dump that read To: the
	// kernel's table was in this state at some moment before ReadAt.
	KernelFrom   tcpstate.State
	KernelFromAt time.Time
	ReadAt       time.Time
}

// TCPInfo is a reading of the kernel's own view of a connection's sender
// (struct tcp_info over sock_diag): what no packet header carries. The
// engine adds one when a value lessons follow has changed, at most every
// 10 ms per socket.
type TCPInfo struct {
	Lane   string
	Socket Socket
	// Congestion is the algorithm's name as the kernel sends it ("bbr",
	// "cubic"); empty if the kernel did not say.
	Congestion string
	CAState    tcpstate.CAState
	// Cwnd and Ssthresh are in segments; Ssthresh 0: not set yet (the
	// kernel's "infinite" before the first loss).
	Cwnd, Ssthresh uint32
	// RTT is the smoothed round-trip time, RTTVar its variation, MinRTT
	// the least seen, RTO the retransmission timeout.
	RTT, RTTVar, MinRTT, RTO time.Duration
	// Unacked, Lost and Retrans are segments now: sent and not
	// acknowledged, presumed lost, retransmitted and not acknowledged.
	Unacked, Lost, Retrans uint32
	// Retransmits counts the timeouts of the current segment; TotalRetrans
	// the connection's retransmitted segments.
	Retransmits  uint8
	TotalRetrans uint32
	Reordering   uint32 // the reordering the sender tolerates, segments
	ReordSeen    uint32 // times the sender detected reordering (Linux 4.19+)
	DSACKDups    uint32 // segments the peer reported receiving twice (D-SACK, Linux 4.19+)
	SndWnd       uint32 // the peer's window, bytes (0: the kernel does not report it)
	DeliveryRate uint64 // bytes per second
	PacingRate   uint64 // bytes per second the kernel paces the socket at (0: not reported)
	// BBR is bbr's own model of the path (INET_DIAG_BBRINFO), nil for
	// algorithms that report none.
	BBR *BBRModel
}

// BBRModel is what bbr believes of the path: the bottleneck bandwidth it
// estimates, the least round trip it has seen, and the gains it applies
// now to pacing and to cwnd (1.0: none).
type BBRModel struct {
	Bandwidth            uint64 // bytes per second
	MinRTT               time.Duration
	PacingGain, CwndGain float64
}

// App is a call the scenario's program made on a socket.
type App struct {
	Lane   string
	Call   Call
	Proto  decode.Proto // ProtoTCP or ProtoUDP
	Bytes  int          // bytes written or read
	Socket Socket
	Detail string // e.g. `"hello world"`, "TCP_NODELAY=1", "SO_LINGER=0"
	Err    string // the error the program saw, if any
	Dur    time.Duration
	// Blocking: the call had not returned when this was recorded; a later
	// event of the same call (stamped when it returned) records the result.
	Blocking bool
}

// Note is narration: a step of the scenario or an explanation.
type Note struct {
	Text i18n.Text
	// Step marks a narration point where an interactive run pauses.
	Step bool
	// ActStart marks the start of a new act (Event.Act is its number).
	ActStart bool
}

// Check is the result of one of the scenario's expectations.
type Check struct {
	Name   i18n.Text
	OK     bool
	Detail i18n.Text // the evidence, in the languages Name is in
	// NA: the check describes another kind of run (a clean or a loopback
	// path) and was not judged on this one; Detail says why. OK is false.
	NA bool
}

// Mark is the check's result as one character: ✓ held, ✗ failed, –
// not applicable.
func (c Check) Mark() string {
	switch {
	case c.NA:
		return "–"
	case c.OK:
		return "✓"
	}
	return "✗"
}

// Failed reports whether the check was judged and did not hold.
func (c Check) Failed() bool { return !c.OK && !c.NA }

// Meta describes a run.
type Meta struct {
	Scenario string
	Title    i18n.Text
	Lanes    []string // lane order for ladders (client, server, ...)
	Sandbox  Sandbox
	Iface    string
	Start    time.Time
	Link     int // link type of the packets (layers.LinkType)
	// Points are the capture points of a lab network run ("client:eth0",
	// "server:eth0"), empty on loopback (one point: Iface).
	Points []string
	// Wire describes a lab network's wire ("clean", "a>b: loss 10%"); Seed
	// is the seed of its random decisions (the same seed repeats them).
	Wire string
	Seed uint64
	// Impaired: the user impaired the wire beyond what the lesson
	// declares (--loss, --delay, ...), so checks that describe a clean
	// path are not applicable.
	Impaired bool
}

// Summary is what a finished run adds up to.
type Summary struct {
	Packets      int
	Drops        uint64
	ChecksPassed int
	ChecksFailed int
	ChecksNA     int    // checks not applicable to this run (not counted as failed)
	Err          string // the scenario's error, if it failed to run
	Interrupted  bool
	// TLSKeyLog: the TLS secrets of the run's own TLS connections (NSS key
	// log format), written into pcapng so Wireshark can decrypt them.
	TLSKeyLog []byte
}
