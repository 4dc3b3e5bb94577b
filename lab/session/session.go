// Package session is what a scenario gets: real sockets whose calls are
// recorded on the run's timeline, narration steps, and waiting for what the
// capture or the kernel shows.
//
// Listen, Dial, Accept, Read, Write, Close, CloseWrite, SetNoDelay, SetLinger
// and the UDP helpers behave exactly like the net package's (they are real
// sockets on the namespace's loopback) and record an app event with the
// call, the byte count, the socket's address pair and the lane ("client",
// "server", ...) that made it. Calls that make the kernel send (connect,
// write, close) are stamped when they start, calls that wait for the peer
// (accept, read) when they return, so on the ladder a write sits above the
// segment it caused and a read below the segment it consumed.
//
// Go turns TCP keep-alive on for every socket (15 s); a session turns it off,
// so captures hold only what the scenario does. Go also sets TCP_NODELAY on
// every TCP socket: scenarios about Nagle's algorithm call SetNoDelay(false).
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// Session is a scenario's handle on the run.
type Session struct {
	ctx    context.Context
	cancel context.CancelFunc
	cfg    sessionrun.Config

	mu      sync.Mutex
	act     int
	closers []io.Closer
	closed  bool // the run's context ended: every socket is closed, new ones too
	// closeOnce makes closeAll's callers wait for the one that closes.
	closeOnce sync.Once
	wg        sync.WaitGroup
	errs      []error
}

// New starts a session; Close ends it. The engine calls it: a scenario is
// given its session.
func New(ctx context.Context, cfg sessionrun.Config) *Session {
	if cfg.Lanes == nil {
		cfg.Lanes = sessionrun.NewLanes()
	}
	if cfg.Clock == nil {
		cfg.Clock = sessionrun.NewClock(50 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Session{ctx: ctx, cancel: cancel, cfg: cfg}
	// The session owns cancellation: when the run's context ends it closes
	// every socket, so whatever call the scenario is blocked in (accept,
	// read, a datagram) returns at once and its next call fails.
	context.AfterFunc(ctx, s.closeAll)
	return s
}

// closeAll closes every socket the scenario opened, newest first; sockets
// opened later are closed as soon as they are tracked. Every caller returns
// only once the sockets are closed, whoever closed them (AfterFunc's
// goroutine, a pause that saw the run end, Close).
func (s *Session) closeAll() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		cl := s.closers
		s.closers = nil
		s.closed = true
		s.mu.Unlock()
		for i := len(cl) - 1; i >= 0; i-- {
			cl[i].Close()
		}
	})
}

// Context is cancelled when the run is interrupted or over.
func (s *Session) Context() context.Context { return s.ctx }

// Mode is the sandbox the run is in.
func (s *Session) Mode() sandbox.Mode { return s.cfg.Mode }

// TLSKeyLog is where the scenario's TLS configurations write their secrets
// (tls.Config.KeyLogWriter), as a browser does with SSLKEYLOGFILE: the
// run's decoder then names the handshake messages TLS 1.3 encrypts. The
// bytes on the wire stay encrypted.
func (s *Session) TLSKeyLog() io.Writer {
	if s.cfg.KeyLog == nil {
		return io.Discard
	}
	return s.cfg.KeyLog
}

// Lane names a part a program plays in the scenario ("client", "server",
// "resolver"): a column of the ladder. A scenario addresses lanes, never
// addresses: the run decides where a lane lives (Addr).
type Lane string

// Addr is where the run put lane.
func (s *Session) Addr(lane Lane) netip.Addr {
	if a, ok := s.cfg.Hosts[string(lane)]; ok {
		return a
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// AddrPort is port on lane's address.
func (s *Session) AddrPort(lane Lane, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(s.Addr(lane), port)
}

// in runs fn where lane's sockets live (a lab network host), so that the
// sockets fn creates belong there.
func (s *Session) in(lane Lane, fn func() error) error {
	if s.cfg.Enter == nil {
		return fn()
	}
	return s.cfg.Enter(string(lane), fn)
}

// Name gives port on lane's address the lane's name without opening a
// socket (for example the closed port a datagram is sent to).
func (s *Session) Name(lane Lane, port uint16) {
	s.cfg.Lanes.Set(s.AddrPort(lane, port), string(lane))
}

// Act is one act of a scenario, as the scenario declares it
// (lesson.Act): its number in the scenario's list and its title.
type Act interface {
	ActNumber() int
	ActTitle() i18n.Text
}

// Act starts act a (a new connection, a variation) and pauses there like
// Step. The narration reads "Act 2: " and the act's title. Acts must start
// in the order they are declared: the checks of act n read the events the
// session recorded while act n ran.
func (s *Session) Act(a Act) {
	n, title := a.ActNumber(), a.ActTitle()
	s.mu.Lock()
	if n != s.act+1 {
		s.errs = append(s.errs, fmt.Errorf("act %d (%q) started after act %d: start acts in the order the scenario declares them", n, title.En, s.act))
	}
	s.act = n
	s.mu.Unlock()
	text := i18n.T(fmt.Sprintf("Act %d: %s", n, title.En), "第"+i18n.Numeral(n)+"幕:"+title.Zh)
	s.recordNow(timeline.Event{Kind: timeline.KindNote, Act: n,
		Note: &timeline.Note{Text: text, Step: true, ActStart: true}})
	if w, ok := a.(interface{ ActImpairment() *[2]wire.Impairment }); ok && w.ActImpairment() != nil {
		s.setWire(*w.ActImpairment())
	}
	s.pause()
}

// setWire puts the act's impairment on the wire and narrates how the wire
// stands; an act that needs a wire on a run without one is an error.
func (s *Session) setWire(im [2]wire.Impairment) {
	if s.cfg.SetWire == nil {
		s.fail(errors.New("an act sets the wire, but this run has no wire (it runs on loopback)"))
		return
	}
	desc, err := s.cfg.SetWire(im)
	if err != nil {
		s.fail(fmt.Errorf("set the wire: %w", err))
		return
	}
	s.Note("the wire from now on: "+desc, "从现在起线路:"+desc)
}

// Step narrates what happens next and, in an interactive run, waits for the
// user. It returns nothing: if the run is interrupted meanwhile, the session
// has closed its sockets, so the scenario's next call fails and ends Run.
func (s *Session) Step(en, zh string) {
	s.recordNow(timeline.Event{Kind: timeline.KindNote,
		Note: &timeline.Note{Text: i18n.T(en, zh), Step: true}})
	s.pause()
}

// Note adds an explanation to the timeline without pausing.
func (s *Session) Note(en, zh string) {
	s.recordNow(timeline.Event{Kind: timeline.KindNote, Note: &timeline.Note{Text: i18n.T(en, zh)}})
}

// pause waits for the user in an interactive run. Its only error is the
// run's end, which the session answers by closing its sockets.
func (s *Session) pause() {
	if s.cfg.Pause != nil {
		s.cfg.Pause(s.ctx) //nolint:errcheck // the run ended: the sockets are closed
	}
	if s.ctx.Err() != nil {
		// The run ended during the pause: make sure the sockets are
		// closed before the scenario goes on (context.AfterFunc's
		// goroutine may not have finished), so its next call fails.
		s.closeAll()
	}
}

// Sleep waits d or until the run is interrupted.
func (s *Session) Sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// Go runs fn in a goroutine (typically a server). Close waits for it; its
// error, unless caused by the session closing the sockets, fails the run.
func (s *Session) Go(fn func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(); err != nil && s.ctx.Err() == nil && !errors.Is(err, errSessionClosed) {
			s.fail(err)
		}
	}()
}

// fail records an error that fails the run when the session closes.
func (s *Session) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// Wait waits up to timeout for an event matching match (see Observer).
func (s *Session) Wait(timeout time.Duration, match func(*timeline.Event) bool) (*timeline.Event, error) {
	if s.cfg.Observer == nil {
		return nil, errors.New("wait: this run has no observer")
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	ev, err := s.cfg.Observer.Wait(ctx, match)
	if err != nil {
		return nil, fmt.Errorf("wait %v: %w", timeout, err)
	}
	return ev, nil
}

// over fails once the run has ended: a socket opened now would be closed
// at once.
func (s *Session) over() error {
	if s.ctx.Err() != nil {
		return errSessionClosed
	}
	return nil
}

// errSessionClosed marks errors caused by Close shutting the sockets.
var errSessionClosed = errors.New("session closed")

// Close closes every socket the scenario left open, waits for its goroutines
// and returns their first error. The kernel then finishes the connections on
// its own (FIN or RST as their state requires).
func (s *Session) Close() error {
	s.cancel()
	s.closeAll() // or wait for AfterFunc's goroutine to finish closing
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Err returns the errors of the session's goroutines so far.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

func (s *Session) track(c io.Closer) {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.closers = append(s.closers, c)
	}
	s.mu.Unlock()
	if closed {
		c.Close()
	}
}

func (s *Session) currentAct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.act
}

func (s *Session) record(ev timeline.Event) {
	if ev.Act == 0 {
		ev.Act = s.currentAct()
	}
	if s.cfg.Sink != nil {
		s.cfg.Sink.Record(ev)
	}
}

// recordNow stamps ev now and hands it over: for calls recorded when they
// return (accept, read) and for narration.
func (s *Session) recordNow(ev timeline.Event) {
	id, t := s.cfg.Clock.Begin(nil)
	ev.Time = t
	s.record(ev)
	s.cfg.Clock.End(id)
}

// returned records a call when it returns (accept, read, recv).
func (s *Session) returned(a timeline.App) {
	s.recordNow(timeline.Event{Kind: timeline.KindApp, App: &a})
}

// call is a socket call recorded as of when it started (connect, write,
// close): the segments it causes come after it on the timeline.
type call struct {
	s     *Session
	id    uint64
	start time.Time
}

// begin starts a call; a describes it with what is known before it runs.
func (s *Session) begin(a timeline.App) *call {
	early := &timeline.Event{Kind: timeline.KindApp, Act: s.currentAct(), App: &a}
	id, start := s.cfg.Clock.Begin(early)
	return &call{s: s, id: id, start: start}
}

// done records the finished call.
func (c *call) done(a timeline.App) {
	t, blocked := c.s.cfg.Clock.Finish(c.id)
	a.Dur = now().Sub(c.start)
	if blocked {
		a.Detail = strings.TrimSpace(a.Detail + fmt.Sprintf(" (returned after %.1f ms)", float64(a.Dur.Microseconds())/1000))
	}
	c.s.record(timeline.Event{Time: t, Kind: timeline.KindApp, App: &a})
	c.s.cfg.Clock.End(c.id)
}

// now is the wall clock without Go's monotonic reading, the clock capture
// timestamps use, so the two order correctly.
func now() time.Time { return time.Now().Round(0) }

// preview quotes up to 40 bytes of payload for the ladder.
// Binary payloads (DNS, TLS) show their first bytes in hex instead, which
// reads better than escaped control characters ("0c 16 01 00 … (37 bytes)").
func preview(b []byte) string {
	const max = 40
	if len(b) == 0 {
		return ""
	}
	if !text(b) {
		n := min(len(b), 8)
		h := fmt.Sprintf("% x", b[:n])
		if n < len(b) {
			h += " …"
		}
		return h
	}
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

// text reports whether b looks like text: mostly printable UTF-8, with
// line breaks and tabs allowed (a byte that is not UTF-8, such as TLS
// ciphertext's, counts against it like a control character).
func text(b []byte) bool {
	b = b[:min(len(b), 64)]
	bad := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1 && i+utf8.UTFMax <= len(b)) || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f {
			bad++
		}
		i += n
	}
	return bad*8 <= len(b)
}

// errText is the part of a net error a learner needs: the kernel's words.
func errText(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, io.EOF) {
		return "EOF"
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// Sysctl sets a network sysctl ("net.ipv4.tcp_sack" to "0") where lane's
// sockets live: on a lab network that host's namespace only, on loopback
// the run's own namespace; never the machine's. It reads the value back
// and notes it on the timeline, so a check can cite the setting the run
// really had.
func (s *Session) Sysctl(lane Lane, key, value string) error {
	if !strings.HasPrefix(key, "net.") {
		return fmt.Errorf("sysctl %s: only net.* keys belong to a lab host", key)
	}
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	var got []byte
	err := s.in(lane, func() error {
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return err
		}
		var err error
		got, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		return fmt.Errorf("sysctl %s=%s on %s's host: %w", key, value, lane, err)
	}
	v := strings.Join(strings.Fields(string(got)), " ") // "4096\t131072" as the user typed it
	s.Note(fmt.Sprintf("%s's host: sysctl %s = %s", lane, key, v), fmt.Sprintf("%s 所在主机:sysctl %s = %s", lane, key, v))
	return nil
}

// Link is the interface lane's address lives on and its MTU, read from the
// kernel where lane's sockets live: lo on loopback, eth0 on a lab network
// host. The segments lane's kernel builds are sized by it (the MSS it
// announces is the MTU less the IP and TCP headers).
func (s *Session) Link(lane Lane) (name string, mtu int, err error) {
	addr := s.Addr(lane)
	err = s.in(lane, func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, ifi := range ifs {
			addrs, err := ifi.Addrs()
			if err != nil {
				return err
			}
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.Contains(addr.AsSlice()) {
					name, mtu = ifi.Name, ifi.MTU
					return nil
				}
			}
		}
		return fmt.Errorf("no interface holds %s", addr)
	})
	if err != nil {
		return "", 0, fmt.Errorf("%s's link: %w", lane, err)
	}
	return name, mtu, nil
}
