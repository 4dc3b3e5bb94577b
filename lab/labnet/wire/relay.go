package wire

import (
	"container/heap"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// maxFrame bounds a frame read from a port (the veths carry no GSO
// super-frames once segmentation offload is off, but a large MTU may be set).
const maxFrame = 65536

// socketBuffer is the receive and send buffer asked for on each port: a
// burst of small frames must not overflow while the relay is descheduled.
const socketBuffer = 4 << 20

// Port is one end of the wire: an AF_PACKET socket bound to an interface,
// which receives what arrives on it (never the relay's own transmissions)
// and transmits onto it.
type Port struct {
	name string
	f    *os.File // non-blocking: reads wait in the runtime's poller
}

// OpenPort opens a port on the named interface, looked up in the network
// namespace of the calling thread (call it inside that namespace). It needs
// CAP_NET_RAW there.
func OpenPort(iface string) (*Port, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("wire port %s: %w", iface, err)
	}
	// Protocol 0 receives nothing until bound with ETH_P_ALL below, after
	// PACKET_IGNORE_OUTGOING is on.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("wire port %s: packet socket: %w", iface, err)
	}
	fail := func(what string, err error) (*Port, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("wire port %s: %s: %w", iface, what, err)
	}
	// The relay's own transmissions would otherwise come back as outgoing
	// copies on the port it sends from.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail("PACKET_IGNORE_OUTGOING", err)
	}
	// Transmit straight to the driver: a veth has no queue to wait in.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], socketBuffer) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], socketBuffer)
		}
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	return &Port{name: iface, f: os.NewFile(uintptr(fd), "packet:"+iface)}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Name is the port's interface.
func (p *Port) Name() string { return p.name }

// Close closes the port's socket (a Relay closes its ports itself).
func (p *Port) Close() error { return p.f.Close() }

// Stats counts what a relay has done.
type Stats struct {
	Frames     [2]uint64 // frames read, per Direction
	Sent       [2]uint64 // copies transmitted
	Dropped    [2]uint64 // frames dropped by the wire's decisions
	SendErrors [2]uint64 // copies the kernel refused to transmit
	// Overflow counts verdicts the consumer did not take in time (the
	// relay never waits for it).
	Overflow uint64
}

// Relay moves frames between two ports through a Model: A's frames go to B
// (AtoB) and B's to A (BtoA). Each direction has a goroutine that reads,
// decides and transmits frames due at once, and a scheduler for delayed ones.
type Relay struct {
	model    *Model
	ports    [2]*Port // indexed by the direction a port receives
	verdicts chan Verdict
	closed   atomic.Bool
	wg       sync.WaitGroup
	stop     chan struct{}
	sched    [2]*scheduler

	frames, sent, dropped, sendErrors [2]atomic.Uint64
	overflow                          atomic.Uint64

	errMu sync.Mutex
	err   error // why a direction stopped before Close
}

// VerdictBuffer is the capacity of a relay's verdict channel.
const VerdictBuffer = 8192

// Start starts a relay between ports a and b with the wire c. The relay
// owns the ports from now on; Close closes them.
func Start(c Config, a, b *Port) (*Relay, error) {
	m, err := NewModel(c, time.Now())
	if err != nil {
		a.Close()
		b.Close()
		return nil, err
	}
	r := &Relay{
		model:    m,
		ports:    [2]*Port{a, b},
		verdicts: make(chan Verdict, VerdictBuffer),
		stop:     make(chan struct{}),
	}
	for d := range 2 {
		dir := Direction(d)
		r.sched[d] = newScheduler()
		r.wg.Add(2)
		go r.forward(dir)
		go r.schedule(dir)
	}
	return r, nil
}

// SetImpairment changes what the wire does from the next frame on
// (Model.SetImpairment).
func (r *Relay) SetImpairment(im [2]Impairment) error { return r.model.SetImpairment(im) }

// Verdicts delivers the wire's verdict on every copy of every frame. The
// channel is closed by Close. A consumer that falls behind loses verdicts
// (counted in Stats.Overflow), never frames. Verdicts come from several
// goroutines (each direction's reader and scheduler), so the channel's
// order can differ from time order by a few microseconds: order them by
// Out (by In for drops), which the relay takes just before each write.
func (r *Relay) Verdicts() <-chan Verdict { return r.verdicts }

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	var s Stats
	for d := range 2 {
		s.Frames[d] = r.frames[d].Load()
		s.Sent[d] = r.sent[d].Load()
		s.Dropped[d] = r.dropped[d].Load()
		s.SendErrors[d] = r.sendErrors[d].Load()
	}
	s.Overflow = r.overflow.Load()
	return s
}

// Err reports why the relay stopped moving frames before Close, or nil.
func (r *Relay) Err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// Close stops the relay: frames still held for later are discarded, the
// ports are closed and, once every goroutine has returned, the verdict
// channel is closed. Calling it again is harmless.
func (r *Relay) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	close(r.stop)
	var errs []error
	for _, p := range r.ports {
		errs = append(errs, p.Close()) // wakes a blocked Read
	}
	r.wg.Wait()
	close(r.verdicts)
	return errors.Join(errs...)
}

func (r *Relay) report(v Verdict) {
	select {
	case r.verdicts <- v:
	default:
		r.overflow.Add(1)
	}
}

// forward reads frames arriving in direction dir a batch at a time,
// decides them and sends those due now in one batch; the rest go to the
// scheduler with a copy of their bytes.
func (r *Relay) forward(dir Direction) {
	defer r.wg.Done()
	in, out := r.ports[dir], r.ports[dir.Reverse()]
	rb, wb := newBatch(maxFrame), newBatch(0)
	var vs, now []Verdict
	var frames [][]byte
	flush := func() {
		at := time.Now()
		out.write(wb, frames, func(i int, err error) { r.sent1(dir, now[i], at, err) })
		frames, now = frames[:0], now[:0]
	}
	for {
		n, err := in.read(rb)
		if err != nil {
			if r.closed.Load() || errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, unix.ENETDOWN) || errors.Is(err, unix.EINTR) {
				continue
			}
			r.errMu.Lock()
			r.err = errors.Join(r.err, fmt.Errorf("relay %s: read %s: %w", dir, in.name, err))
			r.errMu.Unlock()
			return
		}
		t := time.Now()
		for i := range n {
			frame := rb.frame(i)
			r.frames[dir].Add(1)
			vs = r.model.Decide(dir, frame, t, vs[:0])
			flipped := false
			for _, v := range vs {
				if v.Action&Dropped != 0 {
					r.dropped[dir].Add(1)
					r.report(v)
					continue
				}
				if v.Bit >= 0 && !flipped {
					FlipBit(frame, v.Bit)
					flipped = true
				}
				// Behind a held frame, even a frame due now waits its turn;
				// and a held frame goes after those already due.
				if v.Out.After(t) || r.sched[dir].pending() {
					flush()
					r.sched[dir].push(v, frame)
					continue
				}
				frames, now = append(frames, frame), append(now, v)
			}
		}
		flush()
	}
}

// transmit sends one copy and reports its verdict with the time it left.
func (r *Relay) transmit(out *Port, dir Direction, v Verdict, frame []byte) {
	at := time.Now()
	_, err := out.f.Write(frame)
	r.sent1(dir, v, at, err)
}

// sent1 counts and reports one copy handed to the kernel at at (or refused
// with err). The time is taken before the write: the receiver may answer
// within the write itself, and its answer must not seem to come first.
func (r *Relay) sent1(dir Direction, v Verdict, at time.Time, err error) {
	v.Out = at
	if err != nil {
		if r.closed.Load() {
			return
		}
		r.sendErrors[dir].Add(1)
		v.Action, v.Rule, v.Out = Dropped, RuleSend+": "+err.Error(), time.Time{}
	} else {
		r.sent[dir].Add(1)
	}
	r.report(v)
}

// schedule sends delayed frames in direction dir when they are due.
func (r *Relay) schedule(dir Direction) {
	defer r.wg.Done()
	s := r.sched[dir]
	out := r.ports[dir.Reverse()]
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		next, due := s.popDue(now)
		for _, it := range due {
			r.transmit(out, dir, it.v, it.frame)
		}
		s.release(due)
		if len(due) > 0 {
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = next.Sub(now)
		}
		timer.Reset(wait)
		select {
		case <-r.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// scheduler holds delayed copies in a heap ordered by due time, then by
// arrival (so frames due together leave in the order they came).
type scheduler struct {
	mu   sync.Mutex
	h    itemHeap
	seq  uint64
	free [][]byte
	wake chan struct{}
	due  []item
	// inflight: items popped by popDue and not yet released (still to be
	// transmitted, so nothing may overtake them).
	inflight bool
}

type item struct {
	v     Verdict
	seq   uint64
	frame []byte
}

func newScheduler() *scheduler { return &scheduler{wake: make(chan struct{}, 1)} }

func (s *scheduler) push(v Verdict, frame []byte) {
	s.mu.Lock()
	var b []byte
	if n := len(s.free); n > 0 {
		b, s.free = s.free[n-1][:0], s.free[:n-1]
	}
	b = append(b, frame...)
	first := len(s.h) == 0 || v.Out.Before(s.h[0].v.Out)
	heap.Push(&s.h, item{v: v, seq: s.seq, frame: b})
	s.seq++
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// popDue removes the items due at now; next is the due time of the first
// one left (zero when none).
func (s *scheduler) popDue(now time.Time) (next time.Time, due []item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.due = s.due[:0]
	for len(s.h) > 0 && !s.h[0].v.Out.After(now) {
		s.due = append(s.due, heap.Pop(&s.h).(item))
	}
	if len(s.h) > 0 {
		next = s.h[0].v.Out
	}
	s.inflight = len(s.due) > 0
	return next, s.due
}

func (s *scheduler) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h) > 0 || s.inflight
}

// release returns the buffers of transmitted items and ends their flight.
func (s *scheduler) release(due []item) {
	s.mu.Lock()
	for _, it := range due {
		if len(s.free) < 1024 {
			s.free = append(s.free, it.frame)
		}
	}
	s.inflight = false
	s.mu.Unlock()
}

type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].v.Out.Equal(h[j].v.Out) {
		return h[i].v.Out.Before(h[j].v.Out)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
