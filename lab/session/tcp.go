package session

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// Option configures a socket before it listens or connects.
type Option func(*sockOpts)

type sockOpts struct {
	backlog  int
	controls []func(fd int) error
	details  []string
}

// Backlog sets the listen backlog (the accept queue limit).
func Backlog(n int) Option { return func(o *sockOpts) { o.backlog = n } }

// SockoptInt sets an integer socket option before listen or connect; name is
// how the ladder shows it ("SO_RCVBUF=4096").
func SockoptInt(level, opt, value int, name string) Option {
	return func(o *sockOpts) {
		o.controls = append(o.controls, func(fd int) error {
			if err := unix.SetsockoptInt(fd, level, opt, value); err != nil {
				return fmt.Errorf("setsockopt %s=%d: %w", name, value, err)
			}
			return nil
		})
		o.details = append(o.details, name+"="+strconv.Itoa(value))
	}
}

func options(opts []Option) sockOpts {
	o := sockOpts{backlog: 128}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Listener is a listening TCP socket.
type Listener struct {
	s    *Session
	l    *net.TCPListener
	lane string
	addr netip.AddrPort
}

// Listen opens a TCP listener for lane on port (0: one the kernel
// chooses) at the lane's address.
func (s *Session) Listen(lane Lane, port uint16, opts ...Option) (*Listener, error) {
	ap := s.AddrPort(lane, port)
	if err := s.over(); err != nil {
		return nil, fmt.Errorf("listen %s: %w", ap, err)
	}
	o := options(opts)
	a := timeline.App{Lane: string(lane), Call: timeline.CallListen, Proto: decode.ProtoTCP, Socket: timeline.Socket{Local: ap},
		Detail: joinDetails(append([]string{"backlog=" + strconv.Itoa(o.backlog)}, o.details...))}
	c := s.begin(a)
	var l *net.TCPListener
	err := s.in(lane, func() (err error) { l, err = listenTCP(ap, o); return err })
	if err == nil && ap.Port() == 0 {
		ap = addrPort(l.Addr()) // the port the kernel chose
		a.Socket.Local = ap
	}
	a.Err = errText(err)
	c.done(a)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", ap, err)
	}
	s.cfg.Lanes.Set(ap, string(lane))
	ln := &Listener{s: s, l: l, lane: string(lane), addr: ap}
	s.track(ln)
	return ln, nil
}

// listenTCP does socket, bind, listen by hand: the net package offers no
// way to choose the backlog.
func listenTCP(ap netip.AddrPort, o sockOpts) (*net.TCPListener, error) {
	family := unix.AF_INET
	if ap.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	fail := func(err error) (*net.TCPListener, error) { unix.Close(fd); return nil, err }
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail(fmt.Errorf("setsockopt SO_REUSEADDR: %w", err))
	}
	for _, c := range o.controls {
		if err := c(fd); err != nil {
			return fail(err)
		}
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail(fmt.Errorf("bind: %w", err))
	}
	if err := unix.Listen(fd, o.backlog); err != nil {
		return fail(fmt.Errorf("listen: %w", err))
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // FileListener dups the descriptor
	l, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	return l.(*net.TCPListener), nil
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Accept waits for the next connection in the accept queue.
func (l *Listener) Accept() (*Conn, error) {
	start := now()
	c, err := l.l.AcceptTCP()
	if err != nil {
		if l.s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return nil, errSessionClosed
		}
		l.s.returned(timeline.App{Lane: l.lane, Call: timeline.CallAccept, Proto: decode.ProtoTCP, Socket: timeline.Socket{Local: l.addr}, Err: errText(err), Dur: now().Sub(start)})
		return nil, fmt.Errorf("accept: %w", err)
	}
	c.SetKeepAlive(false) // accepted sockets would get Go's 15 s keep-alive
	conn := l.s.newConn(c, l.lane)
	l.s.returned(timeline.App{Lane: l.lane, Call: timeline.CallAccept, Proto: decode.ProtoTCP, Socket: conn.sock, Detail: "from " + conn.sock.Remote.String(), Dur: now().Sub(start)})
	return conn, nil
}

// Close stops listening.
func (l *Listener) Close() error {
	a := timeline.App{Lane: l.lane, Call: timeline.CallClose, Proto: decode.ProtoTCP, Socket: timeline.Socket{Local: l.addr}, Detail: "listener"}
	c := l.s.begin(a)
	err := l.l.Close()
	if errors.Is(err, net.ErrClosed) {
		c.s.cfg.Clock.End(c.id)
		return nil // already closed
	}
	a.Err = errText(err)
	c.done(a)
	return err
}

// Conn is a connected TCP socket.
type Conn struct {
	s    *Session
	c    *net.TCPConn
	lane string
	sock timeline.Socket
	// readDeadline is the last read deadline set (Unix ns, 0: none).
	readDeadline atomic.Int64
}

func (s *Session) newConn(c *net.TCPConn, lane string) *Conn {
	conn := &Conn{s: s, c: c, lane: lane, sock: timeline.Socket{
		Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())}}
	s.track(conn)
	return conn
}

// Dial connects from lane to port on lane to, from an ephemeral port.
func (s *Session) Dial(from, to Lane, port uint16, opts ...Option) (*Conn, error) {
	return s.DialAddr(from, s.AddrPort(to, port).String(), opts...)
}

// DialAddr connects from lane to addr ("127.0.0.80:80"), for library code
// that has an address, not a lane: an HTTP client dialling what its
// resolver answered.
func (s *Session) DialAddr(lane Lane, addr string, opts ...Option) (*Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	o := options(opts)
	d := net.Dialer{KeepAlive: -1}
	if len(o.controls) > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var cerr error
			err := rc.Control(func(fd uintptr) {
				for _, c := range o.controls {
					if cerr = c(int(fd)); cerr != nil {
						return
					}
				}
			})
			return errors.Join(err, cerr)
		}
	}
	s.cfg.Lanes.Dialing(ap, string(lane))
	a := timeline.App{Lane: string(lane), Call: timeline.CallConnect, Proto: decode.ProtoTCP, Socket: timeline.Socket{Remote: ap},
		Detail: joinDetails(append([]string{"to " + ap.String()}, o.details...))}
	call := s.begin(a)
	var c net.Conn
	err = s.in(lane, func() (err error) { c, err = d.DialContext(s.ctx, "tcp", addr); return err })
	if err != nil {
		// The failed connect's local port is unknown and its SYN and the RST
		// that refused it reach the merger a little after connect returns:
		// keep naming them after the dialer for a moment.
		time.AfterFunc(failedDialGrace, func() { s.cfg.Lanes.Dialed(ap, netip.AddrPort{}, string(lane)) })
		a.Err = errText(err)
		call.done(a)
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	conn := s.newConn(c.(*net.TCPConn), string(lane))
	s.cfg.Lanes.Dialed(ap, conn.sock.Local, string(lane))
	a.Socket = conn.sock
	call.done(a)
	return conn, nil
}

// failedDialGrace is how long the packets of a failed connect still get the
// dialer's lane: well past the merger's reorder window (tens of ms).
const failedDialGrace = time.Second

// Socket is the connection's address pair seen from this end.
func (c *Conn) Socket() timeline.Socket { return c.sock }

// Lane is the lane that owns this end.
func (c *Conn) Lane() string { return c.lane }

// TCP is the underlying connection, for what the session does not wrap. Calls
// made on it directly are not recorded.
func (c *Conn) TCP() *net.TCPConn { return c.c }

// Write sends b and records "write N bytes".
func (c *Conn) Write(b []byte) (int, error) {
	a := timeline.App{Lane: c.lane, Call: timeline.CallWrite, Proto: decode.ProtoTCP, Socket: c.sock, Detail: fmt.Sprintf("%d bytes", len(b))}
	call := c.s.begin(a)
	n, err := c.c.Write(b)
	a.Bytes, a.Detail, a.Err = n, preview(b[:n]), errText(err)
	call.done(a)
	return n, err
}

// Read reads what has arrived (at most len(b)) and records "read N bytes".
// At the end of the stream it records a read of 0 bytes with "EOF".
//
// A read the program interrupts itself is not recorded: one cut short by
// closing the socket, or by a deadline already past (net/http stops its
// background read that way after each request). Nothing happens on the wire
// or in the kernel's socket; it is Go's runtime waking its own goroutine.
func (c *Conn) Read(b []byte) (int, error) {
	start := now()
	n, err := c.c.Read(b)
	if err != nil && c.s.ctx.Err() != nil {
		return n, errSessionClosed
	}
	if n == 0 && err != nil && (errors.Is(err, net.ErrClosed) ||
		(errors.Is(err, os.ErrDeadlineExceeded) && c.readDeadline.Load() != 0 && c.readDeadline.Load() <= start.UnixNano())) {
		return n, err
	}
	c.s.returned(timeline.App{Lane: c.lane, Call: timeline.CallRead, Proto: decode.ProtoTCP, Bytes: n, Socket: c.sock, Detail: preview(b[:n]), Err: errText(err), Dur: now().Sub(start)})
	return n, err
}

// ReadFull reads exactly n bytes (as many reads as the kernel needs, each
// recorded) and returns them.
func (c *Conn) ReadFull(n int) ([]byte, error) {
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := c.Read(buf[got:])
		got += k
		if err != nil {
			return buf[:got], err
		}
	}
	return buf, nil
}

// ReadAll reads until the peer closes its side and returns everything read.
func (c *Conn) ReadAll() ([]byte, error) {
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// SetDeadline sets the read and write deadline (not recorded: it is Go's,
// not the kernel's).
func (c *Conn) SetDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.c.SetDeadline(t)
}

// SetReadDeadline sets the read deadline (not recorded, like SetDeadline).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.c.SetReadDeadline(t)
}

func (c *Conn) noteReadDeadline(t time.Time) {
	if t.IsZero() {
		c.readDeadline.Store(0)
	} else {
		c.readDeadline.Store(t.UnixNano())
	}
}

// SetWriteDeadline sets the write deadline (not recorded, like SetDeadline).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }

// LocalAddr is this end's address. With RemoteAddr and the deadlines it makes
// Conn a net.Conn, so net/http and crypto/tls run over recorded sockets.
func (c *Conn) LocalAddr() net.Addr { return c.c.LocalAddr() }

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.c.RemoteAddr() }

var _ net.Conn = (*Conn)(nil)

// Close closes the socket: the kernel sends FIN (or RST with SO_LINGER 0, or
// when unread data is left in the receive buffer).
func (c *Conn) Close() error {
	a := timeline.App{Lane: c.lane, Call: timeline.CallClose, Proto: decode.ProtoTCP, Socket: c.sock}
	call := c.s.begin(a)
	err := c.c.Close()
	if errors.Is(err, net.ErrClosed) {
		c.s.cfg.Clock.End(call.id)
		return nil // already closed by the scenario
	}
	a.Err = errText(err)
	call.done(a)
	return err
}

// CloseWrite shuts down the sending side (shutdown(SHUT_WR)): the kernel
// sends FIN while the socket can still read.
func (c *Conn) CloseWrite() error {
	a := timeline.App{Lane: c.lane, Call: timeline.CallShutdown, Proto: decode.ProtoTCP, Socket: c.sock, Detail: "SHUT_WR"}
	call := c.s.begin(a)
	err := c.c.CloseWrite()
	a.Err = errText(err)
	call.done(a)
	return err
}

// SetNoDelay turns Nagle's algorithm off (true) or on (false).
func (c *Conn) SetNoDelay(noDelay bool) error {
	v := 0
	if noDelay {
		v = 1
	}
	return c.setsockopt("TCP_NODELAY="+strconv.Itoa(v), func() error { return c.c.SetNoDelay(noDelay) })
}

// SetLinger sets SO_LINGER; 0 makes Close send RST and skip TIME-WAIT.
func (c *Conn) SetLinger(sec int) error {
	return c.setsockopt("SO_LINGER="+strconv.Itoa(sec), func() error { return c.c.SetLinger(sec) })
}

// SetKeepAlive turns TCP keep-alive on with the given idle time and probe
// interval (and 3 probes), or off with idle 0.
func (c *Conn) SetKeepAlive(idle, interval time.Duration) error {
	if idle == 0 {
		return c.setsockopt("SO_KEEPALIVE=0", func() error { return c.c.SetKeepAlive(false) })
	}
	name := fmt.Sprintf("SO_KEEPALIVE=1 TCP_KEEPIDLE=%v TCP_KEEPINTVL=%v", idle, interval)
	return c.setsockopt(name, func() error {
		return c.c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: idle, Interval: interval, Count: 3})
	})
}

// SetsockoptInt sets any integer socket option and records it as name=value.
func (c *Conn) SetsockoptInt(level, opt, value int, name string) error {
	return c.setsockopt(name+"="+strconv.Itoa(value), func() error {
		rc, err := c.c.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, value) }); err != nil {
			return err
		}
		return serr
	})
}

// GetsockoptInt reads an integer socket option back from the kernel and
// records it as name=value (call "getsockopt"): what the kernel made of a
// value the program set, e.g. SO_RCVBUF doubled.
func (c *Conn) GetsockoptInt(level, opt int, name string) (int, error) {
	a := timeline.App{Lane: c.lane, Call: timeline.CallGetsockopt, Proto: decode.ProtoTCP, Socket: c.sock, Detail: name}
	call := c.s.begin(a)
	v, err := -1, error(nil)
	rc, err := c.c.SyscallConn()
	if err == nil {
		if cerr := rc.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), level, opt) }); cerr != nil {
			err = cerr
		}
	}
	if err == nil {
		a.Detail = name + "=" + strconv.Itoa(v)
	}
	a.Err = errText(err)
	call.done(a)
	if err != nil {
		return 0, fmt.Errorf("getsockopt %s: %w", name, err)
	}
	return v, nil
}

func (c *Conn) setsockopt(detail string, fn func() error) error {
	a := timeline.App{Lane: c.lane, Call: timeline.CallSetsockopt, Proto: decode.ProtoTCP, Socket: c.sock, Detail: detail}
	call := c.s.begin(a)
	err := fn()
	a.Err = errText(err)
	call.done(a)
	if err != nil {
		return fmt.Errorf("setsockopt %s: %w", detail, err)
	}
	return nil
}

func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		return timeline.Unmap(v.AddrPort())
	case *net.UDPAddr:
		return timeline.Unmap(v.AddrPort())
	}
	return netip.AddrPort{}
}

func joinDetails(d []string) string {
	out := ""
	for i, s := range d {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}
