package check

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Contradiction is a state inferred from a packet that a kernel reading of
// the same socket in the same run does not allow: the kernel read the
// socket before the packet in a state from which the inferred one cannot be
// reached, or after it in a state that cannot be reached from it (RFC 9293's
// diagram, tcpstate.Reachable). The kernel is the truth; such an inference
// should never have been shown.
type Contradiction struct {
	Inferred *timeline.Event
	Kernel   *timeline.Event // the kernel state event carrying the reading
	// Reading is what the kernel read (CLOSED: not in its table), and After
	// whether it read it after the packet (else before).
	Reading tcpstate.State
	After   bool
	// Sent, when set instead of Kernel, is the packet the same socket sent
	// next, which the inferred state does not allow (data from a socket
	// said to be in TIME-WAIT, anything but RST from one said CLOSED).
	Sent *timeline.Event
}

func (c Contradiction) String() string {
	s := c.Inferred.State
	if c.Sent != nil {
		return fmt.Sprintf("%s %s inferred %s from packet %d at event %d, but the socket then sent packet %d (%s)",
			s.Lane, s.Socket, s.To, s.Packet, c.Inferred.ID, c.Sent.Packet.N, c.Sent.Packet.Label())
	}
	when := "before"
	if c.After {
		when = "after"
	}
	return fmt.Sprintf("%s %s inferred %s from packet %d at event %d, but the kernel read %s %s it (event %d)",
		s.Lane, s.Socket, s.To, s.Packet, c.Inferred.ID, c.Reading, when, c.Kernel.ID)
}

// Contradictions returns every inferred state event of a run (events in
// timeline order) that a kernel reading of the same socket contradicts.
//
// The poller reports changes only, so a kernel state event also says what
// the kernel kept reading until then: the reading after an inference at
// time t is the first later event's KernelFrom when the dump that read it
// began after t, else that event's state; with no later event, the last
// state the kernel reported (it read it until the run ended). The reading
// before is the last one whose dump ended before t. A socket the kernel
// had seen and then no longer listed can only be in a state a new socket
// starts in (tcpstate.Opens), or in whatever follows one.
func Contradictions(events []*timeline.Event) []Contradiction {
	kernel := map[timeline.Socket][]int{} // indexes of kernel state events
	for i, e := range events {
		if st := e.State; st != nil && st.Source == timeline.Kernel {
			kernel[st.Socket] = append(kernel[st.Socket], i)
		}
	}
	var out []Contradiction
	opened := map[timeline.Socket]time.Time{} // last inferred opening state
	for i, e := range events {
		st := e.State
		if st == nil || st.Source != timeline.Inferred {
			continue
		}
		if tcpstate.Opens(st.To) {
			opened[st.Socket] = e.Time
		}
		ks := kernel[st.Socket]
		if len(ks) == 0 {
			continue
		}
		if c, ok := readBefore(events, ks, i, opened[st.Socket]); ok && !c.allows(st.To) {
			out = append(out, Contradiction{Inferred: e, Kernel: events[c.at], Reading: c.state})
		}
		if c := readAfter(events, ks, i); !tcpstate.Reachable(st.To, c.state) {
			out = append(out, Contradiction{Inferred: e, Kernel: events[c.at], Reading: c.state, After: true})
		}
	}
	for i, e := range events {
		if st := e.State; st != nil && st.Source == timeline.Inferred {
			if sent := sentAgainst(events, i); sent != nil {
				out = append(out, Contradiction{Inferred: e, Sent: sent})
			}
		}
	}
	return out
}

// sentAgainst returns the packet the socket of the inferred state
// events[i] sent next, before any later state of that socket, if the
// inferred state forbids it: a socket in CLOSED sends nothing but RST (or a
// SYN that opens a new connection on the same addresses); one in
// FIN-WAIT-2 or TIME-WAIT has had its FIN acknowledged and sends no data,
// no SYN and no FIN.
func sentAgainst(events []*timeline.Event, i int) *timeline.Event {
	st := events[i].State
	switch st.To {
	case tcpstate.Closed, tcpstate.FinWait2, tcpstate.TimeWait:
	default:
		return nil
	}
	local, remote := timeline.Unmap(st.Socket.Local), timeline.Unmap(st.Socket.Remote)
	for _, e := range events[i+1:] {
		if s := e.State; s != nil && s.Socket == st.Socket {
			return nil // a later state speaks for the socket from here on
		}
		p := e.Packet
		if p == nil || p.Proto != decode.ProtoTCP || timeline.Unmap(p.Src) != local || timeline.Unmap(p.Dst) != remote {
			continue
		}
		if st.To == tcpstate.Closed {
			if p.Flags.Has(decode.RST) || p.Flags.Has(decode.SYN) {
				return nil
			}
			return e
		}
		if p.PayloadLen > 0 || p.Flags.Has(decode.SYN) || p.Flags.Has(decode.FIN) {
			return e
		}
		return nil
	}
	return nil
}

// reading is what the kernel read of a socket, from the event at index at.
type reading struct {
	state  tcpstate.State // CLOSED: not in the table
	absent bool           // the kernel had listed the socket, then did not
	at     int
}

// allows reports whether a socket read as r can be in s later.
func (r reading) allows(s tcpstate.State) bool {
	if r.absent {
		return s == tcpstate.Closed || tcpstate.Opens(s)
	}
	return tcpstate.Reachable(r.state, s)
}

// readBefore is the last reading of kernel events ks whose dump ended
// before events[i] happened; ok is false when there is none, or when the
// socket was absent and a new connection opened on it since.
func readBefore(events []*timeline.Event, ks []int, i int, opened time.Time) (r reading, ok bool) {
	t := events[i].Time
	for _, k := range ks {
		st := events[k].State
		if k > i || st.ReadAt.IsZero() || !st.ReadAt.Before(t) {
			continue
		}
		r, ok = reading{state: st.To, absent: st.Gone, at: k}, true
		if st.Gone && st.ReadAt.Before(opened) {
			ok = false // a new connection on the same addresses
		}
	}
	return r, ok
}

// readAfter is the kernel's first reading after events[i]; ks is not empty.
func readAfter(events []*timeline.Event, ks []int, i int) reading {
	t := events[i].Time
	for _, k := range ks {
		if k < i {
			continue
		}
		st := events[k].State
		if !st.KernelFromAt.IsZero() && st.KernelFromAt.After(t) {
			return reading{state: st.KernelFrom, at: k}
		}
		return reading{state: st.To, at: k}
	}
	k := ks[len(ks)-1] // nothing changed until the run ended
	return reading{state: events[k].State.To, at: k}
}
