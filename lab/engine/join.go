package engine

import (
	"bytes"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/labnet/wire"
)

// A lab network run captures on both hosts' interfaces, so each packet is
// seen twice (leaving its sender, arriving at its receiver, unless the wire
// dropped it) and the relay between them says what it did (a verdict). The
// joiner puts the three together: one timeline packet per frame sent,
// stamped with the time its sender sent it, carrying where and when it
// arrived and what the wire did (decode.WireNotes). It hands them on in
// send order once the verdict and every arrival it announced are in, or
// once hold has passed.
type joiner struct {
	points [2]string     // capture points, by host index: "client:eth0"
	hold   time.Duration // how long a packet may wait for its verdict and arrivals
	// out receives each packet, in send order, with what the wire did.
	out func(f capture.Frame, w decode.WireNotes, drop decode.Drop)
	// outWM tells the merger the joiner has handed on every packet sent
	// before t.
	outWM func(t time.Time)

	pending []*jentry // sent, not handed on yet, in send order
	byKey   map[uint64][]*jentry
	verdict map[uint64][]jverdict // verdicts that came before their packet
	arrived []jarrival            // arrivals that came before their packet
	wm      [2]time.Time          // each capture has delivered every frame before wm
}

type jentry struct {
	f       capture.Frame
	from    int // sender's host index (= the wire's Direction)
	key     uint64
	w       decode.WireNotes
	pass    int       // copies the wire passed on
	settled time.Time // when the verdict and its arrivals were all in
}

type jverdict struct {
	v  wire.Verdict
	at time.Time
}

type jarrival struct {
	host int
	f    capture.Frame
	key  uint64
}

// joinGrace is how long a packet whose verdict and arrival are in waits
// for a duplicate's verdict, which the relay reports a moment later.
const joinGrace = 3 * time.Millisecond

// orphanAge is how long a verdict or an arrival waits for its packet.
const orphanAge = 2 * time.Second

func newJoiner(points [2]string, hold time.Duration) *joiner {
	return &joiner{points: points, hold: hold, byKey: make(map[uint64][]*jentry), verdict: make(map[uint64][]jverdict)}
}

// frame takes a frame captured on host's interface: sent by that host
// (out) or arriving at it.
func (j *joiner) frame(host int, out bool, f capture.Frame) {
	if !out {
		j.arrival(jarrival{host: host, f: f, key: wire.FrameKey(f.Data)}, true)
		return
	}
	e := &jentry{f: f, from: host, key: wire.FrameKey(f.Data)}
	e.w = decode.WireNotes{From: j.points[host], To: j.points[1-host], Bit: -1}
	// Keep pending in send order: the two captures' frames come in from
	// two goroutines.
	i := len(j.pending)
	for i > 0 && j.pending[i-1].f.Time.After(f.Time) {
		i--
	}
	j.pending = slices.Insert(j.pending, i, e)
	j.byKey[e.key] = append(j.byKey[e.key], e)
	if vs := j.verdict[e.key]; len(vs) > 0 {
		delete(j.verdict, e.key)
		// The original's verdict first: a duplicate's attaches to it.
		slices.SortStableFunc(vs, func(a, b jverdict) int {
			return int(a.v.Action&wire.Duplicated) - int(b.v.Action&wire.Duplicated)
		})
		for _, v := range vs {
			j.wireVerdict(v.v, v.at)
		}
	}
	if len(j.arrived) > 0 {
		early := j.arrived
		j.arrived = nil
		for _, a := range early {
			j.arrival(a, true)
		}
	}
}

// wireVerdict takes the relay's verdict on one copy of a frame.
func (j *joiner) wireVerdict(v wire.Verdict, now time.Time) {
	for _, e := range j.byKey[v.Key] {
		if e.from != int(v.Dir) || (v.Action&wire.Duplicated == 0) == e.w.Known {
			continue
		}
		e.w.Known = true
		e.w.Action |= decode.WireAction(v.Action)
		if v.Rule != "" {
			e.w.Rule = v.Rule
		}
		if v.Action&wire.Corrupted != 0 {
			e.w.Bit = int32(v.Bit)
		}
		if v.Action&wire.Dropped == 0 {
			e.pass++
		}
		j.settle(e, now)
		return
	}
	j.verdict[v.Key] = append(j.verdict[v.Key], jverdict{v, now})
}

// arrival matches a frame captured arriving at a host with the packet its
// peer sent: by key, or for a corrupted copy by the key it had before the
// wire flipped its bit. Unmatched, it waits for its packet (if keep).
func (j *joiner) arrival(a jarrival, keep bool) {
	match := func(e *jentry) bool {
		return e.from == 1-a.host && e.w.Copies < 2 && e.w.Action&decode.WireDropped == 0
	}
	var hit *jentry
	for _, e := range j.byKey[a.key] {
		if match(e) {
			hit = e
			break
		}
	}
	if hit == nil {
		for _, e := range j.pending {
			if match(e) && e.w.Bit >= 0 && e.w.Copies == 0 && unflippedKey(a.f.Data, int(e.w.Bit)) == e.key {
				hit = e
				break
			}
		}
	}
	if hit == nil {
		if keep {
			j.arrived = append(j.arrived, a)
		}
		return
	}
	if hit.w.Arrived.IsZero() {
		hit.w.Arrived = a.f.Time
	}
	hit.w.Copies++
	ar := decode.Arrival{At: a.f.Time}
	if !bytes.Equal(a.f.Data, hit.f.Data) {
		ar.Data = bytes.Clone(a.f.Data)
	}
	hit.w.Arrivals = append(hit.w.Arrivals, ar)
	j.settle(hit, a.f.Time)
}

func unflippedKey(data []byte, bit int) uint64 {
	c := bytes.Clone(data)
	wire.FlipBit(c, bit)
	return wire.FrameKey(c)
}

func (j *joiner) settle(e *jentry, now time.Time) {
	if e.settled.IsZero() && e.w.Known && int(e.w.Copies) >= e.pass {
		e.settled = now
	}
}

// watermark: host's capture has delivered every frame captured before t.
func (j *joiner) watermark(host int, t time.Time) {
	if t.After(j.wm[host]) {
		j.wm[host] = t
	}
}

// release hands on, in send order, the packets that are complete (or
// waited hold) and that both captures have moved past, then drops
// verdicts and arrivals that waited too long for their packet.
func (j *joiner) release(now time.Time, flush bool) {
	floor := j.wm[0]
	if j.wm[1].Before(floor) {
		floor = j.wm[1]
	}
	n := 0
	for _, e := range j.pending {
		done := !e.settled.IsZero() && now.Sub(e.settled) >= joinGrace || now.Sub(e.f.Time) >= j.hold
		if !flush && (!done || !e.f.Time.Before(floor)) {
			break
		}
		n++
		j.unindex(e)
		j.out(e.f, e.w, wireDrop(e))
	}
	j.pending = j.pending[n:]
	wm := floor
	if len(j.pending) > 0 && j.pending[0].f.Time.Before(wm) {
		wm = j.pending[0].f.Time
	}
	if j.outWM != nil && !wm.IsZero() {
		j.outWM(wm)
	}
	for k, vs := range j.verdict {
		if now.Sub(vs[0].at) > orphanAge {
			delete(j.verdict, k)
		}
	}
	j.arrived = slices.DeleteFunc(j.arrived, func(a jarrival) bool { return flush || now.Sub(a.f.Time) > orphanAge })
}

func (j *joiner) unindex(e *jentry) {
	es := slices.DeleteFunc(j.byKey[e.key], func(o *jentry) bool { return o == e })
	if len(es) == 0 {
		delete(j.byKey, e.key)
	} else {
		j.byKey[e.key] = es
	}
}

// wireDrop says whether the packet reached its receiver's stack: not if
// the wire dropped it, nor if its only copy arrived corrupted (the
// receiver's kernel drops it on its checksum).
func wireDrop(e *jentry) decode.Drop {
	switch {
	case e.w.Action&decode.WireDropped != 0:
		return decode.DropWire
	case e.w.Action&decode.WireCorrupted != 0 && e.pass <= 1:
		return decode.DropChecksum
	}
	return decode.Delivered
}
