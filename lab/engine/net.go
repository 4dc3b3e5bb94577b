package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/appdecode"
	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/labnet"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/neighstate"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/sockstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Net runs a scenario on a lab network instead of loopback: its lanes on
// two hosts, "client" and "server", each in a network namespace of its own
// inside the run's sandbox, joined by a wire (lab/labnet) that can lose,
// delay, reorder, duplicate and corrupt frames as Wire says.
type Net struct {
	Wire wire.Config
	// Impaired: Wire impairs more than the scenario declares (the user's
	// --loss, --delay, ...); checks of a clean path do not apply.
	Impaired bool
}

// The lab network's hosts, in the wire's order (wire.AtoB is the client's
// traffic).
const (
	ClientHost = "client"
	ServerHost = "server"
)

// newLabNet builds the run's two hosts joined by w (static: each knows
// the other's MAC from the start, no ARP), each host's socket
// table private and small, so that polling it is cheap (where the kernel
// has no such sysctl, before 6.1, the dumps are slower and nothing else
// changes).
func newLabNet(w *wire.Config, static bool) (*labnet.Net, error) {
	_ = sandbox.SmallChildTables()
	return labnet.New(labnet.Topology{
		Hosts:           []labnet.HostConfig{{Name: ClientHost}, {Name: ServerHost}},
		Wire:            w,
		StaticNeighbors: static,
	})
}

// runNet is Run on a lab network.
func runNet(ctx context.Context, cfg Config) (Result, error) {
	sc := cfg.Scenario
	if err := sc.NetRefused(cfg.Net.Impaired); err != nil {
		return Result{}, err
	}
	n, err := newLabNet(&cfg.Net.Wire, !sc.ARP)
	if err != nil {
		return Result{}, sandbox.Explain(fmt.Errorf("lab network: %w", err))
	}
	defer n.Close()
	hosts := n.Hosts()
	var srcs [2]capture.Source
	for i, h := range hosts {
		err := h.Do(func() (err error) { srcs[i], err = openCapture(labnet.Iface); return err })
		if err != nil {
			for _, s := range srcs[:i] {
				s.Close()
			}
			return Result{}, fmt.Errorf("host %s: %w", h.Name, err)
		}
		defer srcs[i].Close()
	}
	points := [2]string{hosts[0].Name + ":" + labnet.Iface, hosts[1].Name + ":" + labnet.Iface}
	cfg.Iface = labnet.Iface
	r := startRunWith(cfg, srcs[0], func(m *timeline.Meta) {
		m.Points = points[:]
		m.Seed = cfg.Net.Wire.Seed
		m.Wire = describeWire(cfg.Net.Wire)
		m.Impaired = cfg.Net.Impaired
	})
	r.placeLanes(sc, hosts)
	dec, err := decode.NewDecoder(srcs[0].LinkType())
	if err != nil {
		r.finish()
		return Result{}, fmt.Errorf("capture on %s: %w", points[0], err)
	}
	keys := appdecode.NewKeyLog()
	fo := newFollower(dec, appdecode.New(keys), r.m, cfg.Limits)
	r.setWire = func(im [2]wire.Impairment) (string, error) {
		if cfg.Net.Impaired {
			return describeWire(cfg.Net.Wire) + " (kept: you set the wire)", nil
		}
		if err := n.Relay().SetImpairment(im); err != nil {
			return "", err
		}
		return describeWire(wire.Config{Impair: im}), nil
	}
	prod := r.startNetProducers(srcs, hosts, n.Relay(), fo, points, holdFor(cfg.Net.Wire, sc.Acts))

	runErr, closeErr := r.runLesson(ctx, keys)
	packets, prodErr := prod.stop()
	r.finish()

	res := Result{Packets: packets, Drops: srcs[0].Stats().Drops + srcs[1].Stats().Drops, TLSKeyLog: keys.Lines()}
	if ctx.Err() == nil {
		res.Err = errors.Join(runErr, closeErr)
	}
	if err := n.Relay().Err(); err != nil {
		prodErr = errors.Join(prodErr, fmt.Errorf("wire: %w", err))
	}
	if prodErr != nil {
		res.Err = errors.Join(res.Err, prodErr)
	}
	return res, nil
}

// placeLanes puts each lane on its host: the client host's lanes at its
// address, the others at the server's; their sockets are made inside the
// host's namespace.
func (r *liveRun) placeLanes(sc interface{ OnClientHost(string) bool }, hosts []*labnet.Host) {
	hostOf := func(lane string) *labnet.Host {
		if sc.OnClientHost(lane) {
			return hosts[0]
		}
		return hosts[1]
	}
	r.hosts = make(map[string]netip.Addr)
	for _, l := range r.cfg.Scenario.Lanes {
		r.hosts[l] = hostOf(l).Addr.Addr()
	}
	r.enter = func(lane string, fn func() error) error { return hostOf(lane).Do(fn) }
	// A host's own frames (ARP) belong to the lane named like the host,
	// else to its first lane.
	r.hostLanes = make(map[string]string)
	for _, l := range r.cfg.Scenario.Lanes {
		h := hostOf(l).Name
		if _, ok := r.hostLanes[h]; !ok || l == h {
			r.hostLanes[h] = l
		}
	}
}

// hostLane is the lane of the host a capture point ("client:eth0") is on.
func (r *liveRun) hostLane(point string) string {
	host, _, _ := strings.Cut(point, ":")
	return r.hostLanes[host]
}

// holdFor is how long the joiner waits for a packet's verdict and
// arrival: longer than any delay the wire can give, and than a loaded
// machine can stall a capture reader (300 ms once let an arrival through
// unjoined on 2 busy cores: reliability counted 90 arrivals for 91
// reads). A packet is handed on as soon as it is settled; only one whose
// verdict or arrival is missing waits the whole hold.
// The acts' wires count too.
func holdFor(c wire.Config, acts []*lesson.Act) time.Duration {
	hold := time.Second
	var worst time.Duration
	wires := [][2]wire.Impairment{c.Impair}
	for _, a := range acts {
		if a.Impair != nil {
			wires = append(wires, *a.Impair)
		}
	}
	for _, w := range wires {
		for _, im := range w {
			d := im.Delay + im.Jitter + im.ReorderGap + time.Millisecond
			if im.Rate > 0 {
				q := max(im.Queue, wire.DefaultQueue) + 1
				d += time.Duration(float64(q*1514*8) / float64(im.Rate) * float64(time.Second))
			}
			worst = max(worst, d)
		}
	}
	return hold + worst
}

// joinItem is what the joiner's inputs send it.
type joinItem struct {
	host    int
	out     bool
	frame   capture.Frame
	wm      time.Time // a watermark of host's capture, if frame is empty
	verdict *wire.Verdict
}

// startNetProducers starts a capture on each host, the relay's verdict
// reader, the joiner that makes one packet of the three, and a kernel
// socket table poller in each host.
func (r *liveRun) startNetProducers(srcs [2]capture.Source, hosts []*labnet.Host, relay *wire.Relay, fo *follower, points [2]string, hold time.Duration) *producers {
	cfg, m := r.cfg, r.m
	stopCtx, stop := context.WithCancel(context.Background())
	p := &producers{cancel: stop}
	in := make(chan joinItem, 4096)
	var inputs sync.WaitGroup
	var capErrs [2]error
	for i, src := range srcs {
		mac := hosts[i].MAC
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			capErrs[i] = readHost(stopCtx, src, i, mac, in)
		}()
	}
	inputs.Add(1)
	go func() {
		defer inputs.Done()
		for {
			select {
			case v, ok := <-relay.Verdicts():
				if !ok {
					return
				}
				in <- joinItem{verdict: &v}
			case <-stopCtx.Done():
				// What the relay decided before the captures stopped.
				for {
					select {
					case v, ok := <-relay.Verdicts():
						if !ok {
							return
						}
						in <- joinItem{verdict: &v}
					default:
						return
					}
				}
			}
		}
	}()
	go func() { inputs.Wait(); close(in) }()

	j := newJoiner(points, hold)
	j.out = func(f capture.Frame, w decode.WireNotes, drop decode.Drop) {
		fo.add(f, func(p *decode.Packet) {
			p.Lab.Wire = w
			p.Lab.Drop = drop
			if p.Proto == decode.ProtoARP {
				// The host's kernel sent it, to whoever is at the other
				// end of the wire (a broadcast included).
				p.Lab.From, p.Lab.To = r.hostLane(w.From), r.hostLane(w.To)
			}
		})
	}
	j.outWM = func(t time.Time) { m.watermark(srcCapture, t) }
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		join(in, j)
		p.packets = fo.n
		p.capErr = errors.Join(capErrs[:]...)
	}()

	// The kernel pollers (sockets, and with ARP the neighbour tables)
	// share one watermark: the oldest of their last dumps.
	nPollers := len(hosts)
	if cfg.Scenario.ARP {
		nPollers *= 2
	}
	ticks := newMinTicks(nPollers, func(t time.Time) { m.watermark(srcPoller, t) })
	var pollErrs [4]error
	// The neighbour tables are read once before the scenario starts: an
	// entry the first packet makes (INCOMPLETE, for a round trip) must not
	// come and go before a poller starting late on a busy machine looks.
	var firstDumps sync.WaitGroup
	if cfg.Scenario.ARP {
		for i, h := range hosts {
			p.wg.Add(1)
			firstDumps.Add(1)
			go func() {
				defer p.wg.Done()
				var first sync.Once
				defer first.Do(firstDumps.Done) // a poller that failed to start
				np := &neighstate.Poller{Interval: cfg.Poll, Tick: func(t time.Time) {
					ticks.tick(len(hosts)+i, t)
					first.Do(firstDumps.Done)
				}}
				lane := r.hostLanes[h.Name]
				err := h.Do(func() error {
					return np.Run(stopCtx, func(c neighstate.Change) {
						m.Record(timeline.Event{Time: c.Time, Kind: timeline.KindNeigh, Neigh: &timeline.Neigh{
							Lane: lane, Host: h.Name, Iface: c.Iface, Addr: c.Addr, MAC: c.MAC, State: c.State, Gone: c.Gone}})
					})
				})
				if err != nil {
					pollErrs[len(hosts)+i] = fmt.Errorf("host %s: %w", h.Name, err)
				}
			}()
		}
	}
	for i, h := range hosts {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			poller := &sockstate.Poller{Interval: cfg.Poll, Refresh: time.Second, Watch: infoWatch, Tick: func(t time.Time) { ticks.tick(i, t) }}
			// The poller's netlink socket reads the namespace it is made
			// in: the host's, for the whole run.
			pollErrs[i] = h.Do(func() error { return poller.Run(stopCtx, m.change) })
			if pollErrs[i] != nil {
				pollErrs[i] = fmt.Errorf("host %s: %w", h.Name, pollErrs[i])
			}
		}()
	}
	p.joinPoll = func() error { return errors.Join(pollErrs[:]...) }
	dumped := make(chan struct{})
	go func() { firstDumps.Wait(); close(dumped) }()
	select {
	case <-dumped:
	case <-time.After(5 * time.Second): // the checks will say what was missed
	}
	if cfg.Stats != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			reportStats(stopCtx, multiSource(srcs[:]), cfg.Stats)
		}()
	}
	return p
}

// readHost reads one host's capture until ctx is done and its ring is
// drained, telling frames the host sent from frames it received by their
// source MAC.
func readHost(ctx context.Context, src capture.Source, host int, mac []byte, in chan<- joinItem) error {
	for {
		start := time.Now()
		f, err := src.ReadFrame()
		if errors.Is(err, capture.ErrTimeout) {
			in <- joinItem{host: host, wm: start.Add(-captureSlack)}
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("capture: %w", err)
		}
		out := len(f.Data) >= 12 && bytes.Equal(f.Data[6:12], mac)
		in <- joinItem{host: host, out: out, frame: f}
	}
}

// join runs the joiner until in is closed, then hands on what is left.
func join(in <-chan joinItem, j *joiner) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case it, ok := <-in:
			if !ok {
				j.release(time.Now(), true)
				return
			}
			switch {
			case it.verdict != nil:
				j.wireVerdict(*it.verdict, time.Now())
			case it.frame.Data != nil:
				j.frame(it.host, it.out, it.frame)
				j.watermark(it.host, it.frame.Time)
			default:
				j.watermark(it.host, it.wm)
			}
		case <-tick.C:
			j.release(time.Now(), false)
		}
	}
}

// minTicks turns several pollers' ticks into one watermark: the oldest.
type minTicks struct {
	mu   sync.Mutex
	last []time.Time
	emit func(time.Time)
}

func newMinTicks(n int, emit func(time.Time)) *minTicks {
	return &minTicks{last: make([]time.Time, n), emit: emit}
}

func (t *minTicks) tick(i int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last[i] = at
	low := at
	for _, l := range t.last {
		if l.IsZero() {
			return
		}
		if l.Before(low) {
			low = l
		}
	}
	t.emit(low)
}

// multiSource adds up several captures' counters.
type multiSource []capture.Source

func (ms multiSource) Stats() capture.Stats {
	var s capture.Stats
	for _, src := range ms {
		st := src.Stats()
		s.Packets += st.Packets
		s.Drops += st.Drops
	}
	return s
}

// describeWire says what a wire does, for the run's header.
func describeWire(c wire.Config) string {
	var parts []string
	for d, im := range c.Impair {
		if s := describeImpairment(im); s != "" {
			parts = append(parts, wire.Direction(d).String()+": "+s)
		}
	}
	for _, r := range c.Rules {
		parts = append(parts, "rule "+r.Name)
	}
	if len(parts) == 0 {
		return "clean"
	}
	return strings.Join(parts, "; ")
}

// bitsPerSecond says a rate in the largest unit that keeps it exact to
// three digits: "10 Mbit/s", "1.5 Mbit/s", "64 kbit/s".
func bitsPerSecond(r uint64) string {
	for _, u := range []struct {
		unit string
		v    float64
	}{{"Gbit/s", 1e9}, {"Mbit/s", 1e6}, {"kbit/s", 1e3}} {
		if float64(r) >= u.v {
			return strconv.FormatFloat(float64(r)/u.v, 'g', 3, 64) + " " + u.unit
		}
	}
	return strconv.FormatUint(r, 10) + " bit/s"
}

func describeImpairment(im wire.Impairment) string {
	var parts []string
	pct := func(name string, v float64) {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s %g%%", name, v*100))
		}
	}
	pct("loss", im.Loss)
	if im.Burst != nil {
		parts = append(parts, fmt.Sprintf("burst loss p=%g r=%g", im.Burst.P, im.Burst.R))
	}
	if im.Delay > 0 || im.Jitter > 0 {
		s := "delay " + im.Delay.String()
		if im.Jitter > 0 {
			s += " ± " + im.Jitter.String()
		}
		parts = append(parts, s)
	}
	pct("reorder", im.Reorder)
	pct("duplicate", im.Duplicate)
	pct("corrupt", im.Corrupt)
	if im.Rate > 0 {
		parts = append(parts, "rate "+bitsPerSecond(im.Rate), fmt.Sprintf("queue %d frames", im.WithDefaults().Queue))
	}
	if im.MTU > 0 {
		parts = append(parts, fmt.Sprintf("mtu %d", im.MTU))
	}
	return strings.Join(parts, ", ")
}
