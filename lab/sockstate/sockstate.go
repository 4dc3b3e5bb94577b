// Package sockstate reads the TCP socket table of the current network
// namespace from the kernel and turns repeated reads into state-change events.
//
// # sock_diag
//
// Linux exposes its socket tables through the sock_diag netlink family
// (NETLINK_SOCK_DIAG). A SOCK_DIAG_BY_FAMILY dump request carrying a
// struct inet_diag_req_v2 makes the kernel walk its TCP hash tables and answer
// with one struct inet_diag_msg per socket (linux/inet_diag.h), optionally
// followed by netlink attributes such as INET_DIAG_INFO (a struct tcp_info).
// This is what ss(8) uses; [Conn.DumpTCP] asks for the same data, for IPv4
// and IPv6, and for every state including TCP_NEW_SYN_RECV, so that
// connections still in SYN-RECEIVED (which Linux keeps as lightweight
// "request sockets", not full sockets) are listed too. The kernel reports
// request sockets with state TCP_SYN_RECV, and without tcp_info.
//
// # Why polling, and what "observed" means
//
// The kernel offers no event stream of TCP state changes short of tracing
// (the sock:inet_sock_set_state tracepoint, eBPF); sock_diag's multicast
// groups only announce destroyed sockets, and only to privileged listeners.
// So [Poller] simply dumps the table every Interval and compares consecutive
// dumps. A state is therefore only "observed" if it is still in place when a
// dump walks past the socket: a state that lasts less than the polling
// interval (on loopback FIN-WAIT-1 and LAST-ACK usually last far less than a
// millisecond) may never be seen, and a socket that is created and destroyed
// between two dumps is not reported at all. The times in [Change] are the
// times of the dumps, not of the transitions; the transition happened at some
// point since the previous dump.
//
// The kernel's view is the ground truth the packet-level view of netlab is
// compared with: the two agree on the states, but not necessarily on the
// instant a state began.
//
// # Cost
//
// For each address family the kernel walks the namespace's whole TCP hash
// tables, however few sockets there are. A new network namespace shares the
// host's established-socket table (often 2^18 buckets or more) unless
// net.ipv4.tcp_child_ehash_entries was set in the parent namespace before
// the namespace was created (Linux 6.1+); with a shared table a dump of a
// dozen sockets can take about a millisecond of kernel time, with a small
// private table a fraction of that.
//
// # TCP info
//
// Each dump also asks for INET_DIAG_INFO (struct tcp_info), INET_DIAG_CONG
// (the congestion-control algorithm's name) and the algorithm's own
// attribute (INET_DIAG_BBRINFO from bbr, INET_DIAG_VEGASINFO from vegas and
// its relatives; cubic and reno have none), as ss -i does; [TCPInfo] holds
// them. The algorithm's name is what the kernel says the socket uses,
// never a default netlab assumes: Linux defaults to
// net.ipv4.tcp_congestion_control (bbr on the machine netlab was built on, cubic on
// most distributions) and TCP_CONGESTION changes it per socket.
//
// struct tcp_info has grown at its end from Linux 2.6 (104 bytes: states,
// windows, RTT, cwnd, ssthresh, retransmissions) through 3.15 (pacing
// rate), 4.1 (bytes acked/received), 4.2 (segments in/out), 4.6 (min RTT,
// data segments), 4.9 (delivery rate), 4.10 (busy and limited times), 4.18
// (delivered), 4.19 (bytes sent/retransmitted, DSACKs), 5.4 (snd_wnd), 6.2
// (rcv_wnd) and 6.7 (RTO totals); the kernel sends its own length and
// TCPInfo.Size records it. A field beyond that length is absent: it reads
// zero, and the TCPInfoSize constants and [TCPInfo.Has] say whether a zero
// is the kernel's. TIME-WAIT and orphaned FIN-WAIT-2 rows (timewait
// sockets) and SYN-RECEIVED request sockets carry no tcp_info at all:
// their Socket.Info is nil, a reading that is absent, never one of zeros.
//
// Asking for the algorithm's attributes costs nothing measurable in kernel
// time; the attributes are read in place, without allocation.
package sockstate

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netlab/netlab/lab/tcpstate"
)

// Socket is one row of the kernel's TCP socket table.
type Socket struct {
	// Local and Remote are the socket's addresses. IPv4 and IPv4-mapped IPv6
	// addresses are plain IPv4. Remote is the unspecified address with port 0
	// for listeners.
	Local, Remote netip.AddrPort
	// State is the state as the kernel reports it. The kernel reports
	// request sockets (connections in SYN-RECEIVED that are not full
	// sockets yet; Inode 0, no Info) as SynReceived, not NewSynRecv; compare
	// states with Canonical to be safe.
	State   tcpstate.State
	Timer   tcpstate.Timer
	Expires time.Duration // time left on Timer, as the kernel reports it (ms resolution)
	Retrans uint8         // idiag_retrans: retransmissions (or probes) of the pending timer
	// RecvQ and SendQ are the bytes in the receive and send queues; for a
	// LISTEN socket RecvQ is the current accept-queue length and SendQ the
	// backlog limit.
	RecvQ, SendQ uint32
	UID, Inode   uint32
	Cookie       uint64 // the kernel's socket cookie
	// Info is the socket's tcp_info, nil where the kernel sends none
	// (TIME-WAIT and orphaned FIN-WAIT-2 sockets, SYN-RECEIVED request
	// sockets): absent, never zeros.
	Info *TCPInfo
}

// Listening reports whether s is a listening socket.
func (s Socket) Listening() bool { return s.State == tcpstate.Listen }

// String formats s in the spirit of one ss line.
func (s Socket) String() string {
	str := fmt.Sprintf("%s %d %d %s %s", s.State, s.RecvQ, s.SendQ, s.Local, s.Remote)
	if s.Timer != tcpstate.TimerNone {
		str += fmt.Sprintf(" timer:(%s,%s,%d)", s.Timer, s.Expires, s.Retrans)
	}
	return str
}
