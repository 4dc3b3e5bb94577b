package engine

import (
	"time"

	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// kread is one kernel reading of a socket.
type kread struct {
	state  tcpstate.State // canonical; CLOSED when gone
	gone   bool           // the kernel had listed the socket, then did not
	readAt time.Time      // end of the dump that read it
}

// kernelReads remembers the kernel's last two readings of each socket and
// when a new connection last opened on its addresses: what an inference
// must agree with (see merger.contradicted).
type kernelReads struct {
	last, prev map[timeline.Socket]kread
	opened     map[timeline.Socket]time.Time
}

func newKernelReads() kernelReads {
	return kernelReads{last: map[timeline.Socket]kread{}, prev: map[timeline.Socket]kread{}, opened: map[timeline.Socket]time.Time{}}
}

func (k kernelReads) add(sock timeline.Socket, r kread) {
	if l, ok := k.last[sock]; ok {
		k.prev[sock] = l
	}
	k.last[sock] = r
}

// before is the last reading of sock by a dump that ended before t.
func (k kernelReads) before(sock timeline.Socket, t time.Time) (kread, bool) {
	for _, m := range []map[timeline.Socket]kread{k.last, k.prev} {
		if r, ok := m[sock]; ok && r.readAt.Before(t) {
			return r, true
		}
	}
	return kread{}, false
}

// contradicted reports whether the kernel's readings of sock deny that the
// packet at t put it in state x: an inference is a claim about the socket
// only if the kernel, read before the packet, was in a state x can follow
// (a socket gone from its table only in one a new connection starts in),
// and, read by the first dump that began after the packet, in a state that
// can follow x (RFC 9293's diagram). The merger holds every packet until
// the poller's watermark has passed it, so that first dump's changes are
// still held (next) or there were none (the last reading still holds). A
// socket the kernel has not listed yet is judged by its first listing, one
// it never listed is not contradicted. check.Contradictions
// applies the same rule to a finished timeline.
func (m *merger) contradicted(sock timeline.Socket, x tcpstate.State, t time.Time) bool {
	last, seen := m.reads.last[sock]
	next := m.nextKernel(sock)
	if !seen && next == nil {
		return false
	}
	if r, ok := m.reads.before(sock, t); ok {
		if r.gone {
			if x != tcpstate.Closed && !tcpstate.Opens(x) && !m.reads.opened[sock].After(r.readAt) {
				return true
			}
		} else if !tcpstate.Reachable(r.state, x) {
			return true
		}
	}
	after := last.state
	if c := next; c != nil {
		after = c.To.Canonical()
		if !c.PrevStart.IsZero() && c.PrevStart.After(t) {
			after = c.From.Canonical()
		}
	}
	return !tcpstate.Reachable(x, after)
}
