package wire

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Direction is the way a frame crosses the wire: from host A (the first host
// of a topology, usually the client) to host B, or back.
type Direction uint8

// The two directions of a wire.
const (
	AtoB Direction = iota
	BtoA
)

func (d Direction) String() string {
	if d == AtoB {
		return "a>b"
	}
	return "b>a"
}

// Reverse is the other direction.
func (d Direction) Reverse() Direction { return 1 - d }

// Action is what the wire did to one copy of a frame: a set of flags, zero
// for a frame passed on at once and unchanged.
type Action uint8

// Actions (flags; a frame can be delayed and corrupted and duplicated).
const (
	Dropped    Action = 1 << iota // never left the wire
	Delayed                       // left later than it arrived (delay, jitter, rate limit)
	Reordered                     // held back so that later frames could overtake it
	Corrupted                     // one bit flipped
	Duplicated                    // this is the extra copy of a duplicated frame
)

var actionNames = []string{"drop", "delay", "reorder", "corrupt", "duplicate"}

func (a Action) String() string {
	if a == 0 {
		return "pass"
	}
	var parts []string
	for i, n := range actionNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "+")
}

// Names of the impairments, as they appear in Verdict.Rule.
const (
	RuleLoss    = "loss"    // Bernoulli loss
	RuleBurst   = "burst"   // Gilbert–Elliott loss
	RuleMTU     = "mtu"     // larger than the wire's MTU
	RuleQueue   = "queue"   // the rate limiter's queue was full (tail drop)
	RuleCorrupt = "corrupt" // random corruption
	RuleSend    = "send"    // the relay failed to transmit (Verdict.Rule is "send: " + the error)
	RuleLimit   = "limit"   // too many frames held already (Impairment.Limit)
)

// Verdict is the wire's decision about one copy of one frame.
type Verdict struct {
	Dir   Direction
	Index uint64    // the frame's position in its direction, from 0 (a duplicate shares it)
	In    time.Time // when the relay read the frame
	// Out is when the copy left the wire: the due time in a Model's
	// decision, the time of transmission in a Relay's verdict. Zero if
	// dropped.
	Out    time.Time
	Action Action
	// Rule names what decided a drop or a corruption: one of the Rule*
	// constants or a targeted Rule's Name. Empty for a frame passed on.
	Rule string
	Len  int // frame length in bytes (Ethernet header included)
	// Key is FrameKey of the frame as it arrived (before any corruption):
	// a capture on the sender's interface computes the same key for the
	// same frame, and so finds the wire's verdict on each packet it saw.
	Key uint64
	// Bit is the index of the flipped bit (Corrupted only), counted from the
	// first bit of the frame.
	Bit int
}

func (v Verdict) String() string {
	s := fmt.Sprintf("%s #%d %s", v.Dir, v.Index, v.Action)
	if v.Rule != "" {
		s += " (" + v.Rule + ")"
	}
	if v.Action&Dropped == 0 {
		s += fmt.Sprintf(" +%v", v.Out.Sub(v.In))
	}
	return s
}

// Impairment is what the wire does to every frame in one direction. The zero
// value passes every frame at once, unchanged. Probabilities are in [0, 1].
type Impairment struct {
	Loss float64 // each frame is lost with this probability (Bernoulli)
	// Burst, when set, loses frames in bursts instead of Loss.
	Burst *GilbertElliott
	// Delay is added to every frame; Jitter spreads it uniformly over
	// [Delay-Jitter, Delay+Jitter] (never below zero). Unless JitterReorders,
	// frames still leave in the order they came (a frame never leaves before
	// the one in front of it).
	Delay, Jitter  time.Duration
	JitterReorders bool
	// Reorder holds a frame back by ReorderGap (default 1 ms) so that the
	// frames behind it overtake it (when there are any within the gap).
	Reorder    float64
	ReorderGap time.Duration
	Duplicate  float64 // the frame is sent twice
	Corrupt    float64 // one random bit after the IP header is flipped
	// Rate limits the wire to this many bits per second (0: unlimited): a
	// token bucket of RateBurst bytes (default 1514) feeding a queue of Queue
	// frames (default DefaultQueue); a frame that finds the queue full is dropped.
	Rate      uint64
	RateBurst int
	Queue     int
	// MTU drops frames whose IP packet is longer than this (0: no limit).
	MTU int
	// Limit bounds the frames held at once for later (delay, jitter,
	// reorder, rate), like netem's limit: a frame that would be held beyond
	// it is dropped. 0 means DefaultLimit.
	Limit int
}

// DefaultLimit is the hold limit of an Impairment that sets none: enough for
// the bandwidth-delay product of any lesson (a megabyte a second held for
// 10 s), small enough that a flood cannot fill the memory.
const DefaultLimit = 10000

// GilbertElliott is a two-state loss model: in the good state frames are
// lost with probability LossGood, in the bad state with LossBad; after each
// frame the state changes from good to bad with probability P and from bad
// to good with probability R. The mean burst length is 1/R frames.
type GilbertElliott struct {
	P, R              float64
	LossGood, LossBad float64
}

// Config is a wire: its impairment in each direction (indexed by Direction),
// its targeted rules and the seed of its random decisions.
type Config struct {
	Impair [2]Impairment
	Rules  []Rule
	// Seed makes the wire's random decisions repeatable: the same seed and
	// the same frames in a direction give the same decisions.
	Seed uint64
}

// Validate reports the first value out of range.
func (c *Config) Validate() error {
	for d, im := range c.Impair {
		for _, p := range []struct {
			name string
			v    float64
		}{{"loss", im.Loss}, {"reorder", im.Reorder}, {"duplicate", im.Duplicate}, {"corrupt", im.Corrupt}} {
			if p.v < 0 || p.v > 1 {
				return fmt.Errorf("wire %s: %s %v is not a probability in [0, 1]", Direction(d), p.name, p.v)
			}
		}
		if im.Delay < 0 || im.Jitter < 0 || im.ReorderGap < 0 {
			return fmt.Errorf("wire %s: negative delay, jitter or reorder gap", Direction(d))
		}
		if im.Queue < 0 || im.RateBurst < 0 || im.MTU < 0 || im.Limit < 0 {
			return fmt.Errorf("wire %s: negative queue, burst or mtu", Direction(d))
		}
		if b := im.Burst; b != nil {
			for _, v := range []float64{b.P, b.R, b.LossGood, b.LossBad} {
				if v < 0 || v > 1 {
					return fmt.Errorf("wire %s: Gilbert–Elliott parameter %v is not a probability", Direction(d), v)
				}
			}
		}
	}
	for _, r := range c.Rules {
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Model decides the fate of frames: the wire without its sockets. It is
// deterministic: given the same Config, start time and sequence of (frame,
// time) in a direction, it returns the same verdicts. The directions draw
// from separate random streams, so the interleaving of the two directions
// does not change either one's random decisions. Safe for concurrent use.
type Model struct {
	mu    sync.Mutex
	start time.Time
	dirs  [2]dirState
	rules []ruleState
	tcp   tcpTracker
	dec   decoder
}

type dirState struct {
	im      Impairment
	rng     *rand.Rand
	index   uint64
	bad     bool      // Gilbert–Elliott state
	lastOut time.Time // FIFO floor for the next frame
	// token bucket: credit left after the departure at last; queue holds
	// the departure times of frames waiting, oldest first.
	credit uint64
	last   time.Time
	queue  []time.Time
	// held is a min-heap of the due times (UnixNano) of frames held for
	// later, for Limit.
	held []int64
}

// NewModel returns the model of a wire that starts at start (the time base
// of windowed rules).
func NewModel(c Config, start time.Time) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Model{start: start}
	for d := range m.dirs {
		m.dirs[d] = dirState{im: c.Impair[d].WithDefaults(), rng: rand.New(rand.NewPCG(c.Seed, uint64(d)+0x9e3779b97f4a7c15))}
	}
	for _, r := range c.Rules {
		m.rules = append(m.rules, ruleState{Rule: r})
	}
	return m, nil
}

// WithDefaults fills in the values an Impairment leaves zero: what the
// wire really does.
func (im Impairment) WithDefaults() Impairment {
	if im.ReorderGap == 0 {
		im.ReorderGap = time.Millisecond
	}
	if im.RateBurst == 0 {
		im.RateBurst = 1514
	}
	if im.Queue == 0 {
		im.Queue = DefaultQueue
	}
	if im.Limit == 0 {
		im.Limit = DefaultLimit
	}
	return im
}

// DefaultQueue is the rate limiter's queue, in frames, of an Impairment
// that sets none.
const DefaultQueue = 32

// SetImpairment changes what the wire does from now on, in each direction
// (a lesson's next act on a bigger queue, say). The random streams, the
// frames already held and the queue's contents carry on: a queue made
// smaller drains what it holds and drops newcomers until it fits.
func (m *Model) SetImpairment(im [2]Impairment) error {
	c := Config{Impair: im}
	if err := c.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := range m.dirs {
		m.dirs[d].im = im[d].WithDefaults()
	}
	return nil
}

// Decide returns the verdicts on a frame that arrived at now in direction
// dir, appended to out: one verdict, or two for a duplicated frame. The
// frame is not modified (a Corrupted verdict says which bit to flip).
func (m *Model) Decide(dir Direction, frame []byte, now time.Time, out []Verdict) []Verdict {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := &m.dirs[dir]
	v := Verdict{Dir: dir, Index: d.index, In: now, Len: len(frame), Bit: -1, Key: FrameKey(frame)}
	d.index++
	im := &d.im

	if len(m.rules) > 0 {
		seg, ok := m.dec.tcp(frame)
		if ok {
			m.tcp.observe(dir, &seg)
		}
		for i := range m.rules {
			r := &m.rules[i]
			if !r.matches(dir, now.Sub(m.start), seg, ok, &m.tcp) {
				continue
			}
			if r.Action == Corrupt {
				v.Action |= Corrupted
				v.Bit = corruptBit(frame, d.rng)
				v.Rule = r.Name
				continue
			}
			v.Action, v.Rule = Dropped, r.Name
			return append(out, v)
		}
	}
	if im.MTU > 0 && len(frame)-ethHeaderLen > im.MTU {
		v.Action, v.Rule = Dropped, RuleMTU
		return append(out, v)
	}
	depart := now
	if im.Rate > 0 {
		var ok bool
		if depart, ok = d.shape(now, len(frame)); !ok {
			v.Action, v.Rule = Dropped, RuleQueue
			return append(out, v)
		}
	}
	if d.lost() {
		v.Action, v.Rule = Dropped, RuleLoss
		if im.Burst != nil {
			v.Rule = RuleBurst
		}
		return append(out, v)
	}
	if im.Corrupt > 0 && d.rng.Float64() < im.Corrupt && v.Bit < 0 {
		v.Action |= Corrupted
		v.Bit = corruptBit(frame, d.rng)
		v.Rule = RuleCorrupt
	}
	dup := im.Duplicate > 0 && d.rng.Float64() < im.Duplicate

	o := depart.Add(im.Delay)
	if im.Jitter > 0 {
		o = o.Add(time.Duration(d.rng.Int64N(2*int64(im.Jitter)+1)) - im.Jitter)
		if o.Before(depart) {
			o = depart
		}
	}
	if !im.JitterReorders && o.Before(d.lastOut) {
		o = d.lastOut
	}
	if im.Reorder > 0 && d.rng.Float64() < im.Reorder {
		// Held back without raising the floor: the frames behind overtake.
		o = o.Add(im.ReorderGap)
		v.Action |= Reordered
	} else {
		d.lastOut = o
	}
	if o.After(now) {
		if !d.hold(now, o) {
			v.Action, v.Rule, v.Bit = Dropped, RuleLimit, -1
			return append(out, v)
		}
		v.Action |= Delayed
	}
	v.Out = o
	out = append(out, v)
	if dup {
		v.Action |= Duplicated
		out = append(out, v)
	}
	return out
}

// hold counts a frame held until out, or reports false when Limit frames
// are held already at now.
func (d *dirState) hold(now, out time.Time) bool {
	t := now.UnixNano()
	for len(d.held) > 0 && d.held[0] <= t {
		heapPop(&d.held)
	}
	if len(d.held) >= d.im.Limit {
		return false
	}
	heapPush(&d.held, out.UnixNano())
	return true
}

func heapPush(h *[]int64, v int64) {
	*h = append(*h, v)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func heapPop(h *[]int64) {
	a := *h
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && a[l] < a[m] {
			m = l
		}
		if r := l + 1; r < n && a[r] < a[m] {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
}

// lost draws the loss decision (Bernoulli or Gilbert–Elliott).
func (d *dirState) lost() bool {
	if b := d.im.Burst; b != nil {
		p := b.LossGood
		if d.bad {
			p = b.LossBad
		}
		lost := d.rng.Float64() < p
		if d.bad {
			d.bad = d.rng.Float64() >= b.R
		} else {
			d.bad = d.rng.Float64() < b.P
		}
		return lost
	}
	return d.im.Loss > 0 && d.rng.Float64() < d.im.Loss
}

// shape runs the token bucket: the frame's departure time from the queue,
// or false when the queue is full. Credit is counted in bit·ns per second
// of rate (elapsed ns × bits/s), so that the arithmetic is exact.
func (d *dirState) shape(now time.Time, n int) (time.Time, bool) {
	for len(d.queue) > 0 && !d.queue[0].After(now) {
		d.queue = d.queue[1:]
	}
	if len(d.queue) >= d.im.Queue {
		return time.Time{}, false
	}
	rate := d.im.Rate
	need := uint64(n) * 8 * uint64(time.Second)
	capacity := uint64(max(d.im.RateBurst, n)) * 8 * uint64(time.Second)
	t := now
	if d.last.After(t) {
		t = d.last // first in, first out
	}
	credit := capacity
	if el := t.Sub(d.last); !d.last.IsZero() && uint64(el) < capacity/rate {
		credit = min(capacity, d.credit+uint64(el)*rate)
	}
	if credit < need {
		wait := (need - credit + rate - 1) / rate
		t = t.Add(time.Duration(wait))
		credit += wait * rate
	}
	d.credit, d.last = credit-need, t
	if t.After(now) {
		d.queue = append(d.queue, t)
	}
	return t, true
}

const ethHeaderLen = 14

// corruptBit picks a bit after the IP header (so the transport checksum
// fails), or after the Ethernet header when the frame has no IP payload.
func corruptBit(frame []byte, rng *rand.Rand) int {
	from := l4Offset(frame)
	if from >= len(frame) {
		from = min(ethHeaderLen, len(frame))
	}
	if from >= len(frame) {
		return rng.IntN(max(len(frame), 1) * 8)
	}
	return from*8 + rng.IntN((len(frame)-from)*8)
}

// l4Offset is where the IPv4 or IPv6 payload starts, or len(frame).
func l4Offset(f []byte) int {
	if len(f) < ethHeaderLen+1 {
		return len(f)
	}
	switch uint16(f[12])<<8 | uint16(f[13]) {
	case 0x0800:
		return ethHeaderLen + int(f[14]&0x0f)*4
	case 0x86dd:
		return ethHeaderLen + 40
	}
	return len(f)
}

// keyBytes is how much of a frame FrameKey reads: every header up to TCP's
// options (the IP ID, sequence numbers and checksums, which cover the
// payload, tell frames apart).
const keyBytes = 128

// FrameKey identifies a frame: FNV-1a over its length and first keyBytes.
// Two different frames of one conversation practically never share a key: a
// TCP retransmission differs in the IP ID (and timestamps); a duplicate made
// by the wire shares its original's. Byte-identical frames do share one (the
// same datagram sent twice from an unconnected socket, whose IP ID is 0):
// match equal keys in order, first verdict to first capture.
func FrameKey(frame []byte) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	n := len(frame)
	for _, b := range []byte{byte(n >> 8), byte(n)} {
		h = (h ^ uint64(b)) * prime
	}
	for _, b := range frame[:min(n, keyBytes)] {
		h = (h ^ uint64(b)) * prime
	}
	return h
}

// FlipBit flips bit i of frame (as a Corrupted verdict says).
func FlipBit(frame []byte, i int) {
	if i >= 0 && i/8 < len(frame) {
		frame[i/8] ^= 0x80 >> (i % 8)
	}
}
