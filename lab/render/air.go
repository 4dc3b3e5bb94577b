package render

import (
	"slices"
	"strconv"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// Air is what a lab wire holds: the packets that left their sender and
// had not yet reached their receiver, each drawn from the row it left on
// to a row of its own at the moment it arrived, the rows between crossed
// by its slope — the ladder of a textbook, measured at both ends of the
// wire. Only packets that spent a millisecond or more in flight are kept
// (on loopback and on a fast wire an arrow's row says enough). Add packet
// events in timeline order; the zero Air holds nothing.
type Air struct {
	flights []flight // by arrival
	longest time.Duration
}

// flight is one copy of a packet on its way between two lanes.
type flight struct {
	e       *timeline.Event
	event   int // e's index in the timeline
	copy    int // 0 for the first copy to arrive
	arrived time.Time
}

// MinFlight is how long a packet must be in flight for its arrow to span
// rows.
const MinFlight = time.Millisecond

// Add notes the event with index i, if it is a packet that crossed a lab
// wire slowly enough: each copy captured at the receiver arrives on its
// own row.
func (a *Air) Add(i int, e *timeline.Event) {
	if e.Kind != timeline.KindPacket {
		return
	}
	p := e.Packet
	w := &p.Lab.Wire
	if !w.Crossed() || w.Arrived.IsZero() || p.Lab.From == "" || p.Lab.To == "" || p.Lab.From == p.Lab.To {
		return
	}
	at := []time.Time{w.Arrived}
	if len(w.Arrivals) > 1 {
		at = at[:0]
		for _, c := range w.Arrivals {
			at = append(at, c.At)
		}
	}
	for k, t := range at {
		d := t.Sub(e.Time)
		if d < MinFlight {
			continue
		}
		f := flight{e: e, event: i, copy: k, arrived: t}
		// After every flight arriving by t: equal arrivals keep the
		// order they were added in.
		a.flights = slices.Insert(a.flights, a.first(t), f)
		a.longest = max(a.longest, d)
	}
}

// Forget drops the flights that arrived at or before t: a ladder printed
// as the run goes never draws them again.
func (a *Air) Forget(t time.Time) {
	n := a.first(t)
	if n > 0 {
		a.flights = slices.Delete(a.flights, 0, n)
	}
}

// Len is how many flights the air holds.
func (a *Air) Len() int {
	if a == nil {
		return 0
	}
	return len(a.flights)
}

// first is the index of the first flight arriving after t.
func (a *Air) first(t time.Time) int {
	j, _ := slices.BinarySearchFunc(a.flights, t, func(f flight, t time.Time) int {
		if f.arrived.After(t) {
			return 1
		}
		return -1
	})
	return j
}

// arriving are the flights that arrived after after and by upTo, in the
// order they arrived.
func (a *Air) arriving(after, upTo time.Time) []flight {
	if a == nil {
		return nil
	}
	i := a.first(after)
	j := i
	for j < len(a.flights) && !a.flights[j].arrived.After(upTo) {
		j++
	}
	return a.flights[i:j]
}

// flying are the flights sent before t and arriving after it.
func (a *Air) flying(t time.Time) []flight {
	if a == nil {
		return nil
	}
	var out []flight
	for _, f := range a.flights[a.first(t):] {
		if f.arrived.Sub(t) > a.longest {
			break
		}
		if f.e.Time.Before(t) {
			out = append(out, f)
		}
	}
	return out
}

// arrivalLabel names a packet on the row where it arrives, short enough
// to sit on the arrow: its flags and where its bytes start ("SYN seq=0",
// "PSH,ACK seq=1 len=5"), or what it acknowledges for a bare ACK ("ACK
// ack=6").
func arrivalLabel(p *decode.Packet) string {
	switch p.Proto {
	case decode.ProtoTCP:
		s := p.Flags.String()
		if p.Flags == decode.ACK && p.PayloadLen == 0 {
			return s + " ack=" + strconv.FormatUint(uint64(p.Flow.RelAck), 10)
		}
		s += " seq=" + strconv.FormatUint(uint64(p.Flow.RelSeq), 10)
		if p.PayloadLen > 0 {
			s += " len=" + strconv.Itoa(p.PayloadLen)
		}
		return s
	case decode.ProtoUDP:
		return "UDP len=" + strconv.Itoa(p.PayloadLen)
	}
	return p.Label()
}
