// Package engine runs one scenario live: it captures the namespace's
// loopback, decodes and follows every packet, polls the kernel's socket
// table, gives the scenario a session whose calls are recorded, and merges
// all of it into one time-ordered stream of timeline events.
//
// Data flows one way: scenario (real sockets) -> kernel -> lo -> AF_PACKET
// ring -> capture goroutine (decode + flow) -> merger <- sock_diag poller,
// <- session. The merger is the only writer of the stream.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/appdecode"
	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/impair"
	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/sockstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Config is one live run.
type Config struct {
	Scenario *lesson.Scenario
	Mode     sandbox.Mode
	Iface    string // default "lo"
	Lang     i18n.Lang
	// Pause is called at each narration step (nil: never pause).
	Pause func(ctx context.Context) error
	// Meta receives the run's description once capture has started.
	Meta func(timeline.Meta)
	// Emit receives every event in order, from one goroutine.
	Emit func(timeline.Event)
	// Poll is the kernel socket table poll interval (default 2 ms).
	Poll time.Duration
	// Stats, if set, receives the packets captured and the kernel's drop
	// counter twice a second while the run goes.
	Stats func(packets, drops uint64)
	// Limits bound what the run keeps in memory (zero fields: defaults).
	Limits Limits
	// Net, when set, runs the scenario on a lab network (its lanes on two
	// hosts joined by a wire) instead of loopback. A scenario that declares
	// a wire gets one by default.
	Net *Net
}

// Limits bound what one run keeps, so that a scenario that floods the wire
// cannot exhaust memory: every event travels to the front end and stays in
// its timeline (and in the worker's, which the session waits on). A run
// that reaches a limit says so on its timeline.
type Limits struct {
	// Bytes of packet data kept whole; after that each packet keeps its
	// headers only, as with a capture snap length (the payload length
	// stays known). Default DefaultLimitBytes.
	Bytes int
	// Events: packets and program calls recorded on the timeline; later
	// ones are counted but not kept (kernel states, narration and checks
	// still are). Default DefaultLimitEvents.
	Events int
}

// Default limits: far above what a lesson needs (the largest scenario
// records under a thousand events and under a megabyte of packets), and
// low enough that a flood stays within a few hundred MB.
const (
	DefaultLimitBytes  = 32 << 20
	DefaultLimitEvents = 100_000
)

func (l Limits) withDefaults() Limits {
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimitBytes
	}
	if l.Events <= 0 {
		l.Events = DefaultLimitEvents
	}
	return l
}

// Result is how a run ended.
type Result struct {
	Packets int
	Drops   uint64
	// TLSKeyLog holds the TLS secrets the scenario's TLS stack logged (NSS
	// key log format), so a pcapng of the run can be decrypted by Wireshark.
	TLSKeyLog []byte
	// Err is the scenario's own failure (a socket call that failed, a
	// timeout); the run's events are still complete.
	Err error
}

// Run runs the scenario and returns when every event has been emitted. It
// returns an error only when the run cannot start (capture or kernel socket
// table unavailable: a *sandbox.Error).
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Net != nil {
		return runNet(ctx, cfg)
	}
	src, err := openCapture(cfg.Iface)
	if err != nil {
		return Result{}, err
	}
	defer src.Close()

	r := startRun(cfg, src)
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		r.finish()
		return Result{}, fmt.Errorf("capture on %s: %w", cfg.Iface, err)
	}
	// TLS secrets the scenario's own TLS stack logs let the app decoder
	// name the TLS 1.3 handshake messages that travel encrypted.
	keys := appdecode.NewKeyLog()
	drops := openDrops(cfg.Mode)
	defer drops.close()
	prod := r.startProducers(src, dec, appdecode.New(keys), drops)

	runErr, closeErr := r.runLesson(ctx, keys)
	packets, prodErr := prod.stop()
	r.finish()

	res := Result{Packets: packets, Drops: src.Stats().Drops, TLSKeyLog: keys.Lines()}
	if ctx.Err() == nil {
		res.Err = errors.Join(runErr, closeErr)
	}
	if prodErr != nil {
		res.Err = errors.Join(res.Err, prodErr)
	}
	return res, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Iface == "" {
		cfg.Iface = sandbox.Loopback
	}
	if cfg.Net == nil && cfg.Scenario != nil && cfg.Scenario.Wire != nil {
		cfg.Net = &Net{Wire: *cfg.Scenario.Wire}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Millisecond
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return cfg
}

// openCapture opens the live capture on iface and checks that the kernel
// socket table can be read: without either there is no run.
func openCapture(iface string) (capture.Source, error) {
	src, err := capture.OpenLive(iface)
	if err != nil {
		return nil, sandbox.Explain(fmt.Errorf("capture on %s: %w", iface, err))
	}
	diag, err := sockstate.Open()
	if err != nil {
		src.Close()
		return nil, sandbox.Explain(fmt.Errorf("kernel socket table (sock_diag): %w", err))
	}
	diag.Close()
	return src, nil
}

// openDrops opens the log of what the lab's own firewall drops (lab/impair
// logs it): those packets never reached their receiver. Without the log
// (host mode, or a kernel without NFLOG) drops are not marked; the
// kernel's states still prevail.
func openDrops(mode sandbox.Mode) *dropMarker {
	drops := &dropMarker{}
	if mode != sandbox.Host {
		drops.log, _ = impair.OpenDropLog(mode)
	}
	return drops
}

// liveRun is one run under way: the merger that orders its events and the
// session plumbing the scenario's calls go through.
type liveRun struct {
	cfg       Config
	lanes     *sessionrun.Lanes
	clock     *sessionrun.Clock
	local     *timeline.Timeline // what the session waits on
	m         *merger
	mergeDone chan struct{}
	// hosts and enter place the lanes on a lab network's hosts (nil on
	// loopback: the scenario's own Hosts).
	hosts map[string]netip.Addr
	enter func(lane string, fn func() error) error
	// hostLanes names the lane each lab host's own frames belong to.
	hostLanes map[string]string
	// setWire changes the lab network's wire (nil on loopback).
	setWire func(im [2]wire.Impairment) (string, error)
}

// startRun describes the run (cfg.Meta) and starts its merger.
func startRun(cfg Config, src capture.Source) *liveRun { return startRunWith(cfg, src, nil) }

// startRunWith is startRun with more to say in the run's description.
func startRunWith(cfg Config, src capture.Source, describe func(*timeline.Meta)) *liveRun {
	sc := cfg.Scenario
	r := &liveRun{
		cfg:       cfg,
		lanes:     sessionrun.NewLanes(),
		clock:     sessionrun.NewClock(50 * time.Millisecond),
		local:     timeline.New(timeline.Meta{}),
		mergeDone: make(chan struct{}),
	}
	emit := capEvents(cfg.Limits.Events, func(ev timeline.Event) {
		r.local.Append(ev)
		if cfg.Emit != nil {
			cfg.Emit(ev)
		}
	})
	r.m = newMerger(r.lanes, r.clock, emit, cfg.Mode == sandbox.Host)
	meta := timeline.Meta{
		Scenario: sc.Name, Title: sc.Title, Lanes: sc.Lanes, Sandbox: timeline.SandboxNamed(string(cfg.Mode)),
		Iface: cfg.Iface, Start: time.Now().Round(0), Link: int(src.LinkType()),
	}
	if describe != nil {
		describe(&meta)
	}
	r.local.SetMeta(meta)
	if cfg.Meta != nil {
		cfg.Meta(meta)
	}
	go func() { r.m.run(); close(r.mergeDone) }()
	return r
}

// finish waits for the merger to emit every event it holds; no producer
// may record after it.
func (r *liveRun) finish() {
	close(r.m.in)
	<-r.mergeDone
}

// producers are the goroutines that feed the merger: the capture, the
// kernel socket table poller and the stats reporter.
type producers struct {
	// stop ends them once the scenario and its settle time are over, not
	// when the run's context ends: an interrupted run still reports what
	// happened up to the interrupt.
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	packets int
	capErr  error
	pollErr error
	// joinPoll, if set, collects the pollers' errors once they are done.
	joinPoll func() error
}

func (r *liveRun) startProducers(src capture.Source, dec *decode.Decoder, app *appdecode.Decoder, drops *dropMarker) *producers {
	cfg, m := r.cfg, r.m
	stopCtx, stop := context.WithCancel(context.Background())
	p := &producers{cancel: stop}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		p.packets, p.capErr = capturePackets(stopCtx, src, newFollower(dec, app, m, cfg.Limits), drops)
	}()
	go func() {
		defer p.wg.Done()
		poller := &sockstate.Poller{Interval: cfg.Poll, Refresh: time.Second, Watch: infoWatch, Tick: func(t time.Time) { m.watermark(srcPoller, t) }}
		p.pollErr = poller.Run(stopCtx, m.change)
	}()
	if cfg.Stats != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			reportStats(stopCtx, src, cfg.Stats)
		}()
	}
	return p
}

// stop stops the producers and returns the packets captured and why the
// capture or the poller failed, if they did (both are kept).
func (p *producers) stop() (int, error) {
	p.cancel()
	p.wg.Wait()
	if p.joinPoll != nil {
		p.pollErr = errors.Join(p.pollErr, p.joinPoll())
	}
	return p.packets, errors.Join(p.capErr, p.pollErr)
}

// reportStats passes the capture's counters to stats twice a second until
// ctx is done.
func reportStats(ctx context.Context, src interface{ Stats() capture.Stats }, stats func(packets, drops uint64)) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			st := src.Stats()
			stats(st.Packets, st.Drops)
		case <-ctx.Done():
			return
		}
	}
}

// runLesson runs the scenario in a session and, unless ctx ended, waits
// its settle time so that the last segments and kernel states arrive. It
// returns the scenario's error (a timeout included) and the session's
// error on close.
func (r *liveRun) runLesson(ctx context.Context, keys *appdecode.KeyLog) (runErr, closeErr error) {
	sc := r.cfg.Scenario
	// The timeout counts running time only: not the time a step waits for
	// the user.
	budget := newRunBudget(ctx, sc.RunTimeout())
	hosts := sc.Hosts
	if r.hosts != nil {
		hosts = r.hosts
	}
	sess := session.New(budget.ctx, sessionrun.Config{
		Sink: r.m, Observer: observer{r.local}, Lanes: r.lanes, Clock: r.clock, Mode: r.cfg.Mode, Lang: r.cfg.Lang, Pause: budget.pausing(r.cfg.Pause),
		KeyLog: keys, Hosts: hosts, Enter: r.enter, SetWire: r.setWire,
	})
	runErr = runScenario(sc, sess)
	closeErr = sess.Close()
	if budget.expired() && ctx.Err() == nil {
		runErr = errors.Join(runErr, fmt.Errorf("scenario %s did not finish within %v of running time", sc.Name, sc.RunTimeout()))
	}
	budget.stop()
	if ctx.Err() == nil {
		t := time.NewTimer(sc.SettleTime())
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return runErr, closeErr
}

// runScenario calls the scenario's Run, turning a panic into an error.
func runScenario(sc *lesson.Scenario, s *session.Session) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("scenario %s panicked: %v", sc.Name, r)
		}
	}()
	if err := sc.Run(s); err != nil && s.Context().Err() == nil {
		return fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	return nil
}

// captureSlack is how far behind a read the capture may still deliver
// packets: TPACKET_V3 hands over a block when it fills or its 1 ms timer
// retires it, and the timer runs on jiffies (up to 4 ms at HZ=250).
const captureSlack = 10 * time.Millisecond

// capturePackets reads, decodes and follows packets (flows, then what they
// carry at the application layer) until ctx is done and the ring is
// drained, keeping within lim. It returns the number of packets read.
func capturePackets(ctx context.Context, src capture.Source, fo *follower, drops *dropMarker) (int, error) {
	for {
		start := time.Now()
		f, err := src.ReadFrame()
		if errors.Is(err, capture.ErrTimeout) {
			fo.m.watermark(srcCapture, start.Add(-captureSlack))
			if ctx.Err() != nil {
				return fo.n, nil
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return fo.n, nil
			}
			return fo.n, fmt.Errorf("capture: %w", err)
		}
		fo.add(f, func(p *decode.Packet) {
			if err := drops.mark(p, f.Time); err != nil {
				fo.m.Record(limitNote(f.Time, dropLogFailed(err)))
			}
		})
	}
}

// follower decodes captured frames in order and follows them: flows, what
// they carry at the application layer, the run's byte limit; then it
// records them.
type follower struct {
	dec *decode.Decoder
	tr  *flow.Tracker
	app *appdecode.Decoder
	m   *merger
	lim Limits

	slab     []decode.Packet
	n, kept  int // packets read, bytes of packet data kept whole
	trimming bool
}

func newFollower(dec *decode.Decoder, app *appdecode.Decoder, m *merger, lim Limits) *follower {
	return &follower{dec: dec, tr: flow.NewTracker(), app: app, m: m, lim: lim}
}

// add decodes f, lets mark say what the lab knows of the packet (a drop)
// before the flow tracker applies it, follows it and records it.
func (fo *follower) add(f capture.Frame, mark func(*decode.Packet)) {
	fo.n++
	if len(fo.slab) == 0 {
		fo.slab = make([]decode.Packet, 256)
	}
	p := &fo.slab[0]
	fo.slab = fo.slab[1:]
	fo.dec.Decode(f.Data, f.Length, p) // undecodable frames are kept as they are
	if mark != nil {
		mark(p)
	}
	fo.tr.Add(p)
	fo.app.Add(p, f.Time)
	if !fo.trimming && fo.kept+len(p.Data) > fo.lim.Bytes {
		fo.trimming = true
		fo.m.Record(limitNote(f.Time, i18n.T(
			fmt.Sprintf("capture limit: %d MiB of packet bytes kept; from packet %d on only headers are kept", fo.lim.Bytes>>20, p.N),
			fmt.Sprintf("抓包上限:已保留 %d MiB 报文字节;从第 %d 个报文起只保留头部", fo.lim.Bytes>>20, p.N))))
	}
	if fo.trimming {
		p.Data = headersOnly(p)
	} else {
		fo.kept += len(p.Data)
	}
	fo.m.Record(timeline.Event{Time: f.Time, Kind: timeline.KindPacket, Packet: p})
}

// capEvents passes every event on to emit until max packets and program
// calls have passed, then only the rest (kernel states, narration, checks:
// a handful per connection), saying once that it stopped.
func capEvents(max int, emit func(timeline.Event)) func(timeline.Event) {
	n := 0
	return func(ev timeline.Event) {
		if ev.Kind == timeline.KindPacket || ev.Kind == timeline.KindApp {
			n++
			if n > max {
				if n == max+1 {
					emit(limitNote(ev.Time, i18n.T(
						fmt.Sprintf("limit: %d packets and calls recorded; later ones are not kept", max),
						fmt.Sprintf("上限:已记录 %d 个报文和调用;之后的不再保留", max))))
				}
				return
			}
		}
		emit(ev)
	}
}

// limitNote tells the timeline a limit was reached.
func limitNote(t time.Time, text i18n.Text) timeline.Event {
	return timeline.Event{Time: t, Kind: timeline.KindNote, Note: &timeline.Note{Text: text}}
}

// headersOnly is a copy of the packet's bytes up to its payload (at most
// 128 bytes for a frame that was not decoded), so the large chunk the
// capture copied it into can be freed.
func headersOnly(p *decode.Packet) []byte {
	n := p.PayloadOffset
	if n <= 0 || n > len(p.Data) {
		n = min(len(p.Data), 128)
	}
	return bytes.Clone(p.Data[:n])
}

// observer lets the session wait for events the merger has emitted.
type observer struct{ tl *timeline.Timeline }

func (o observer) Wait(ctx context.Context, match func(*timeline.Event) bool) (*timeline.Event, error) {
	seen := 0
	for {
		n, _ := o.tl.Wait(ctx, seen)
		var found *timeline.Event
		o.tl.Range(seen, n, func(e *timeline.Event) bool {
			if match(e) {
				found = e
				return false
			}
			return true
		})
		if found != nil {
			return found, nil
		}
		seen = n
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}
