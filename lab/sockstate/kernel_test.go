package sockstate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/tcpstate"

	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

// The tests in this file run against the kernel, each in a private network
// namespace (see sandboxtest.InNetns).

const waitTimeout = 5 * time.Second

func tcpAddrPort(a net.Addr) netip.AddrPort {
	ap := a.(*net.TCPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func openConn(t testing.TB) *Conn {
	t.Helper()
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func find(socks []Socket, local, remote netip.AddrPort) *Socket {
	for i := range socks {
		if socks[i].Local == local && socks[i].Remote == remote {
			return &socks[i]
		}
	}
	return nil
}

func fmtSockets(socks []Socket) string {
	var b strings.Builder
	for _, s := range socks {
		fmt.Fprintf(&b, "\t%s cookie=%d info=%v\n", s, s.Cookie, s.Info != nil)
	}
	return b.String()
}

// waitDump dumps until cond holds and returns that dump.
func waitDump(t *testing.T, c *Conn, what string, cond func([]Socket) bool) []Socket {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var socks []Socket
	for {
		var err error
		socks, err = c.DumpTCP(socks[:0])
		if err != nil {
			t.Fatal(err)
		}
		if cond(socks) {
			return socks
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last dump:\n%s", what, fmtSockets(socks))
		}
		time.Sleep(time.Millisecond)
	}
}

func hasState(local, remote netip.AddrPort, state tcpstate.State) func([]Socket) bool {
	return func(socks []Socket) bool {
		s := find(socks, local, remote)
		return s != nil && s.State.Canonical() == state.Canonical()
	}
}

// recorder runs a Poller and records its changes.
type recorder struct {
	mu      sync.Mutex
	changes []Change
	cancel  context.CancelFunc
	done    chan error
}

func startPoller(t *testing.T, p *Poller) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- p.Run(ctx, func(c Change) {
			r.mu.Lock()
			r.changes = append(r.changes, c)
			r.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// waitFor waits until the poller has emitted a change satisfying pred.
func (r *recorder) waitFor(t *testing.T, what string, pred func(Change) bool) Change {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		r.mu.Lock()
		for _, c := range r.changes {
			if pred(c) {
				r.mu.Unlock()
				return c
			}
		}
		n := len(r.changes)
		r.mu.Unlock()
		select {
		case err := <-r.done:
			t.Fatalf("poller stopped while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the poller to report %s (%d changes so far):\n%s", what, n, r.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// stop cancels the poller, checks it returned nil and returns all changes.
func (r *recorder) stop(t *testing.T) []Change {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("Poller.Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Poller.Run did not return after cancel")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Change(nil), r.changes...)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmtChanges(r.changes)
}

func fmtChanges(cs []Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\t%s %s (%s)\n", c.Time.Format("15:04:05.000000"), c, c.Socket)
	}
	return b.String()
}

func forTuple(cs []Change, local, remote netip.AddrPort) []Change {
	var out []Change
	for _, c := range cs {
		if c.Socket.Local == local && c.Socket.Remote == remote {
			out = append(out, c)
		}
	}
	return out
}

// checkChain checks that a socket's changes form a chain: each From is the
// previous To.
func checkChain(t *testing.T, what string, cs []Change) {
	t.Helper()
	for i := 1; i < len(cs); i++ {
		if cs[i].From.Canonical() != cs[i-1].To.Canonical() {
			t.Errorf("%s: change %d starts from %v, previous ended in %v:\n%s", what, i, cs[i].From, cs[i-1].To, fmtChanges(cs))
		}
	}
}

func portFilter(port uint16) func(*Socket) bool {
	return func(s *Socket) bool { return s.Local.Port() == port || s.Remote.Port() == port }
}

// ssRow is one socket line of `ss -tanoiH`.
type ssRow struct {
	line          string
	state         tcpstate.State
	recvQ, sendQ  uint32
	local, remote netip.AddrPort
	timer         string            // kind from timer:(kind,...), "" if none
	info          map[string]string // key:value pairs of the -i line
}

var ssStates = map[string]tcpstate.State{
	"ESTAB": tcpstate.Established, "SYN-SENT": tcpstate.SynSent, "SYN-RECV": tcpstate.SynReceived,
	"FIN-WAIT-1": tcpstate.FinWait1, "FIN-WAIT-2": tcpstate.FinWait2, "TIME-WAIT": tcpstate.TimeWait,
	"UNCONN": tcpstate.Closed, "CLOSE-WAIT": tcpstate.CloseWait, "LAST-ACK": tcpstate.LastAck,
	"LISTEN": tcpstate.Listen, "CLOSING": tcpstate.Closing,
}

// parseSSAddr parses ss's "127.0.0.1:80", "[::1]:80", "*:80", "0.0.0.0:*".
func parseSSAddr(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	host, port := strings.Trim(s[:i], "[]"), s[i+1:]
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
	}
	if host == "*" {
		host = "::"
	}
	if port == "*" {
		port = "0"
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

func runSS(t *testing.T) []ssRow {
	t.Helper()
	out, err := exec.Command("ss", "-tanoiH").CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("ss (iproute2) not installed")
	}
	if err != nil {
		t.Fatalf("ss -tanoiH: %v\n%s", err, out)
	}
	var rows []ssRow
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(rows) == 0 {
				t.Fatalf("ss: info line before any socket: %q", line)
			}
			for _, f := range strings.Fields(line) {
				if k, v, ok := strings.Cut(f, ":"); ok {
					rows[len(rows)-1].info[k] = v
				}
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			t.Fatalf("ss: short line %q", line)
		}
		r := ssRow{line: line, info: map[string]string{}}
		var ok bool
		if r.state, ok = ssStates[f[0]]; !ok {
			t.Fatalf("ss: unknown state in %q", line)
		}
		rq, err1 := strconv.ParseUint(f[1], 10, 32)
		sq, err2 := strconv.ParseUint(f[2], 10, 32)
		l, err3 := parseSSAddr(f[3])
		p, err4 := parseSSAddr(f[4])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatalf("ss: parse %q: %v", line, err)
		}
		r.recvQ, r.sendQ, r.local, r.remote = uint32(rq), uint32(sq), l, p
		for _, x := range f[5:] {
			if rest, ok := strings.CutPrefix(x, "timer:("); ok {
				r.timer, _, _ = strings.Cut(rest, ",")
				if r.timer == "persist" {
					r.timer = "probe"
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// TestDumpMatchesSS compares DumpTCP with ss on a listener, a client that has
// closed (FIN-WAIT-2, an orphan kept as a timewait socket) and the server
// side (CLOSE-WAIT), over IPv4, IPv6 and a dual-stack listener reached over
// IPv4 (whose sockets carry v4-mapped addresses).
func TestDumpMatchesSS(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	tests := []struct {
		name, network, listen, dial string
	}{
		{"ipv4", "tcp4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "tcp6", "[::1]:0", "::1"},
		{"dual-stack listener, ipv4 client", "tcp", "[::]:0", "127.0.0.1"},
	}
	c := openConn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen(tt.network, tt.listen)
			if err != nil {
				if strings.Contains(tt.listen, "::") {
					t.Skipf("no IPv6 here: %v", err)
				}
				t.Fatal(err)
			}
			defer ln.Close()
			lnAddr := tcpAddrPort(ln.Addr())
			port := lnAddr.Port()
			cl, err := net.Dial("tcp", net.JoinHostPort(tt.dial, strconv.Itoa(int(port))))
			if err != nil {
				t.Fatal(err)
			}
			sv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sv.Close()
			cli, srv := tcpAddrPort(cl.LocalAddr()), tcpAddrPort(sv.LocalAddr())
			if err := cl.Close(); err != nil {
				t.Fatal(err)
			}
			waitDump(t, c, "client FIN-WAIT-2 and server CLOSE-WAIT", func(s []Socket) bool {
				return hasState(cli, srv, tcpstate.FinWait2)(s) && hasState(srv, cli, tcpstate.CloseWait)(s)
			})
			socks, err := c.DumpTCP(nil)
			if err != nil {
				t.Fatal(err)
			}
			ss := runSS(t)

			var ours []Socket
			for _, s := range socks {
				if s.Local.Port() == port || s.Remote.Port() == port {
					ours = append(ours, s)
				}
			}
			var theirs []ssRow
			for _, r := range ss {
				if r.local.Port() == port || r.remote.Port() == port {
					theirs = append(theirs, r)
				}
			}
			if len(ours) != 3 || len(theirs) != 3 {
				t.Fatalf("want 3 sockets on port %d; DumpTCP has %d:\n%sss has %d:\n%v",
					port, len(ours), fmtSockets(ours), len(theirs), theirs)
			}
			type tuple struct{ local, remote netip.AddrPort }
			unspec := netip.IPv6Unspecified()
			if lnAddr.Addr().Is4() {
				unspec = netip.IPv4Unspecified()
			}
			wantStates := map[tuple]tcpstate.State{
				{lnAddr, netip.AddrPortFrom(unspec, 0)}: tcpstate.Listen,
				{cli, srv}:                              tcpstate.FinWait2,
				{srv, cli}:                              tcpstate.CloseWait,
			}
			for _, r := range theirs {
				s := find(ours, r.local, r.remote)
				if s == nil {
					t.Errorf("ss row %q not in DumpTCP:\n%s", r.line, fmtSockets(ours))
					continue
				}
				if !s.Listening() && tt.dial == "127.0.0.1" && (!s.Local.Addr().Is4() || !s.Remote.Addr().Is4()) {
					t.Errorf("%v: IPv4 connection reported with a non-IPv4 address", s)
				}
				if want := wantStates[tuple{s.Local, s.Remote}]; s.State != r.state || s.State != want {
					t.Errorf("%v: state %v, ss says %v, want %v", s, s.State, r.state, want)
				}
				if s.Timer.String() != r.timer {
					t.Errorf("%v: timer %q, ss says %q (%q)", s.Local, s.Timer, r.timer, r.line)
				}
				if s.RecvQ != r.recvQ || s.SendQ != r.sendQ {
					t.Errorf("%v: queues %d/%d, ss says %d/%d", s.Local, s.RecvQ, s.SendQ, r.recvQ, r.sendQ)
				}
				// The orphaned FIN-WAIT-2 socket is a timewait socket
				// without tcp_info; ss prints no -i line for it.
				if wantInfo := s.State != tcpstate.FinWait2; (s.Info != nil) != wantInfo {
					t.Errorf("%v: has tcp_info = %v, want %v", s.Local, s.Info != nil, wantInfo)
				}
				if s.Info != nil {
					compareInfo(t, s, r)
				}
			}
		})
	}
}

// compareInfo compares the tcp_info fields ss prints for r with s.Info.
func compareInfo(t *testing.T, s *Socket, r ssRow) {
	t.Helper()
	in := s.Info
	fields := []struct {
		key      string
		got      uint64
		required bool // ss prints it even when zero
	}{
		{"cwnd", uint64(in.SndCwnd), true},
		{"mss", uint64(in.SndMSS), s.State != tcpstate.Listen},
		{"rcvmss", uint64(in.RcvMSS), s.State != tcpstate.Listen},
		{"rcv_space", uint64(in.RcvSpace), false},
		{"bytes_acked", in.BytesAcked, false},
		{"bytes_received", in.BytesReceived, false},
		{"unacked", uint64(in.Unacked), false},
		{"lost", uint64(in.Lost), false},
		{"snd_wnd", uint64(in.SndWnd), false},
		{"rcv_wnd", uint64(in.RcvWnd), false},
		{"data_segs_out", uint64(in.DataSegsOut), false},
		{"data_segs_in", uint64(in.DataSegsIn), false},
	}
	for _, f := range fields {
		v, ok := r.info[f.key]
		if !ok {
			if f.required {
				t.Errorf("%v: ss printed no %s: (%v)", s.Local, f.key, r.info)
			} else if f.got != 0 && f.key != "rcv_wnd" { // older ss does not print rcv_wnd
				t.Logf("%v: %s = %d, ss printed none", s.Local, f.key, f.got)
			}
			continue
		}
		want, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Errorf("%v: ss %s:%s: %v", s.Local, f.key, v, err)
			continue
		}
		if f.got != want {
			t.Errorf("%v: %s = %d, ss says %d", s.Local, f.key, f.got, want)
		}
	}
	if v, ok := r.info["wscale"]; ok {
		if got := fmt.Sprintf("%d,%d", in.SndWscale, in.RcvWscale); got != v {
			t.Errorf("%v: wscale %s, ss says %s", s.Local, got, v)
		}
	}
}

// TestTimeWait closes a connection from the client side first: the client
// must end in TIME-WAIT, the server side must disappear.
func TestTimeWait(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lnAddr := tcpAddrPort(ln.Addr())
	rec := startPoller(t, &Poller{Filter: portFilter(lnAddr.Port())})
	rec.waitFor(t, "the listener", func(c Change) bool { return c.Socket.Local == lnAddr })

	cl, err := net.Dial("tcp4", lnAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	sv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := tcpAddrPort(cl.LocalAddr()), tcpAddrPort(sv.LocalAddr())
	rec.waitFor(t, "the connection", func(c Change) bool {
		return c.Socket.Local == cli && c.To == tcpstate.Established
	})
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := sv.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("server read = %d, %v; want EOF", n, err)
	}
	if err := sv.Close(); err != nil {
		t.Fatal(err)
	}

	c := openConn(t)
	socks := waitDump(t, c, "client TIME-WAIT, server gone", func(s []Socket) bool {
		return hasState(cli, srv, tcpstate.TimeWait)(s) && find(s, srv, cli) == nil
	})
	tw := find(socks, cli, srv)
	t.Logf("TIME-WAIT row: %v cookie=%d", tw, tw.Cookie)
	if tw.Timer != tcpstate.TimerTimeWait {
		t.Errorf("TIME-WAIT timer = %q, want timewait", tw.Timer)
	}
	if tw.Expires < 55*time.Second || tw.Expires > 61*time.Second {
		t.Errorf("TIME-WAIT expires in %v, want 55s..61s", tw.Expires)
	}
	if tw.Info != nil {
		t.Errorf("TIME-WAIT socket has tcp_info %+v, want none", tw.Info)
	}
	rec.waitFor(t, "client TIME-WAIT", func(c Change) bool { return c.Socket.Local == cli && c.To == tcpstate.TimeWait })
	rec.waitFor(t, "server gone", func(c Change) bool { return c.Socket.Local == srv && c.Gone })

	all := rec.stop(t)
	t.Logf("changes:\n%s", fmtChanges(all))

	client := forTuple(all, cli, srv)
	if len(client) == 0 {
		t.Fatal("no changes for the client")
	}
	if first := client[0]; first.From != tcpstate.Closed || (first.To != tcpstate.Established && first.To != tcpstate.SynSent) {
		t.Errorf("client first change %v, want CLOSED -> ESTABLISHED or SYN-SENT", first)
	}
	if last := client[len(client)-1]; last.To != tcpstate.TimeWait || last.Gone {
		t.Errorf("client last change %v, want -> TIME-WAIT", last)
	}
	for _, c := range client {
		if c.Gone || c.Socket.Cookie != client[0].Socket.Cookie {
			t.Errorf("client change %v (cookie %d): want one socket throughout (cookie %d)", c, c.Socket.Cookie, client[0].Socket.Cookie)
		}
	}
	checkChain(t, "client", client)

	server := forTuple(all, srv, cli)
	if len(server) == 0 {
		t.Fatal("no changes for the server")
	}
	if first := server[0]; first.From != tcpstate.Closed {
		t.Errorf("server first change %v, want from CLOSED", first)
	}
	if last := server[len(server)-1]; !last.Gone || last.To != tcpstate.Closed {
		t.Errorf("server last change %v, want gone", last)
	}
	for _, c := range server[:len(server)-1] {
		if c.Gone {
			t.Errorf("server socket reported gone early: %v", c)
		}
	}
	checkChain(t, "server", server)
}

// TestListenAcceptQueue fills the accept queue of a listener with backlog 1
// that never accepts.
func TestListenAcceptQueue(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	const backlog = 1
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	lnAddr := netip.AddrPortFrom(netip.AddrFrom4(sa.(*unix.SockaddrInet4).Addr), uint16(sa.(*unix.SockaddrInet4).Port))

	isListener := func(s *Socket) bool { return s.Local == lnAddr && s.Listening() }
	rec := startPoller(t, &Poller{Filter: isListener})
	rec.waitFor(t, "the listener", func(c Change) bool { return c.From == tcpstate.Closed })
	for i := 1; i <= 2; i++ {
		cl, err := net.DialTimeout("tcp4", lnAddr.String(), waitTimeout)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer cl.Close()
		rec.waitFor(t, fmt.Sprintf("accept queue %d", i), func(c Change) bool {
			return c.From == tcpstate.Listen && c.Socket.RecvQ == uint32(i)
		})
	}
	all := rec.stop(t)
	t.Logf("changes:\n%s", fmtChanges(all))
	var queue []uint32
	for _, c := range all {
		if !isListener(&c.Socket) {
			t.Errorf("filter let through %v", c)
		}
		if c.To != tcpstate.Listen || c.Gone {
			t.Errorf("unexpected change %v", c)
		}
		if c.Socket.SendQ != backlog {
			t.Errorf("%v: SendQ = %d, want the backlog %d", c, c.Socket.SendQ, backlog)
		}
		queue = append(queue, c.Socket.RecvQ)
	}
	if fmt.Sprint(queue) != "[0 1 2]" {
		t.Errorf("accept queue lengths reported: %v, want [0 1 2]", queue)
	}
	if all[0].From != tcpstate.Closed {
		t.Errorf("first change %v, want the listener appearing", all[0])
	}
	for _, c := range all[1:] {
		if c.From != tcpstate.Listen {
			t.Errorf("change %v, want From == To == LISTEN", c)
		}
	}
}

// TestSynReceived holds a connection in SYN-RECEIVED with TCP_DEFER_ACCEPT:
// the server drops the client's bare ACK and keeps the request socket until
// data arrives. Then the client sends a byte and the request socket is
// replaced by an ESTABLISHED child, which the poller must report as a state
// change of one connection, not as a disappearance.
func TestSynReceived(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	tests := []struct {
		name, network, listen, dial string
	}{
		{"ipv4", "tcp4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "tcp6", "[::1]:0", "::1"},
		{"dual-stack listener, ipv4 client", "tcp", "[::]:0", "127.0.0.1"},
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 5)
		}); err != nil {
			return err
		}
		return serr
	}}
	c := openConn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := lc.Listen(context.Background(), tt.network, tt.listen)
			if err != nil {
				if strings.Contains(tt.listen, "::") {
					t.Skipf("no IPv6 here: %v", err)
				}
				t.Fatal(err)
			}
			defer ln.Close()
			lnAddr := tcpAddrPort(ln.Addr())
			rec := startPoller(t, &Poller{Filter: portFilter(lnAddr.Port())})
			rec.waitFor(t, "the listener", func(c Change) bool { return c.Socket.Local == lnAddr })

			srv := netip.AddrPortFrom(netip.MustParseAddr(tt.dial), lnAddr.Port())
			cl, err := net.Dial("tcp", srv.String())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			cli := tcpAddrPort(cl.LocalAddr())

			socks := waitDump(t, c, "a SYN-RECEIVED row for the server side", hasState(srv, cli, tcpstate.SynReceived))
			req := find(socks, srv, cli)
			t.Logf("request socket: %v state=%d cookie=%d inode=%d", req, req.State, req.Cookie, req.Inode)
			if req.Info != nil {
				t.Errorf("request socket has tcp_info %+v, want none", req.Info)
			}
			if s := find(socks, cli, srv); s == nil || s.State != tcpstate.Established {
				t.Errorf("client side %v, want ESTABLISHED", s)
			}
			rec.waitFor(t, "SYN-RECEIVED", func(c Change) bool {
				return c.Socket.Local == srv && c.To.Canonical() == tcpstate.SynReceived
			})

			if _, err := cl.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			socks = waitDump(t, c, "the server side ESTABLISHED", hasState(srv, cli, tcpstate.Established))
			child := find(socks, srv, cli)
			t.Logf("child socket: %v cookie=%d (same as the request socket's: %v)", child, child.Cookie, child.Cookie == req.Cookie)
			rec.waitFor(t, "ESTABLISHED", func(c Change) bool {
				return c.Socket.Local == srv && c.Socket.Remote == cli && c.To == tcpstate.Established
			})
			all := rec.stop(t)
			t.Logf("changes:\n%s", fmtChanges(all))
			server := forTuple(all, srv, cli)
			checkChain(t, "server", server)
			var sawHandshake bool
			for _, c := range server {
				if c.Gone {
					t.Errorf("request socket replaced by its child reported as gone: %v", c)
				}
				if c.From.Canonical() == tcpstate.SynReceived && c.To == tcpstate.Established {
					sawHandshake = true
				}
			}
			if !sawHandshake {
				t.Errorf("no SYN-RECEIVED -> ESTABLISHED change for the server side:\n%s", fmtChanges(server))
			}
		})
	}
}

// TestPollerStop checks that Run returns promptly on cancellation, does a
// final dump, and leaves no goroutine behind.
func TestPollerStop(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	tests := []struct {
		name     string
		interval time.Duration
		early    bool // cancel before Run starts
	}{
		{name: "default interval"},
		{name: "long interval, final poll", interval: time.Hour},
		{name: "cancelled before start", early: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			lnAddr := tcpAddrPort(ln.Addr())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.early {
				cancel()
			}
			var (
				mu      sync.Mutex
				changes []Change
			)
			done := make(chan error, 1)
			p := &Poller{Interval: tt.interval}
			go func() {
				done <- p.Run(ctx, func(c Change) {
					mu.Lock()
					changes = append(changes, c)
					mu.Unlock()
				})
			}()
			seen := func(a netip.AddrPort) bool {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range changes {
					if c.Socket.Local == a {
						return true
					}
				}
				return false
			}
			var ln2Addr netip.AddrPort
			if !tt.early {
				deadline := time.Now().Add(waitTimeout)
				for !seen(lnAddr) {
					if time.Now().After(deadline) {
						t.Fatal("first poll did not report the listener")
					}
					time.Sleep(time.Millisecond)
				}
				// A socket created after the first poll: with a long
				// interval only the final poll can report it.
				ln2, err := net.Listen("tcp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln2.Close()
				ln2Addr = tcpAddrPort(ln2.Addr())
				time.Sleep(10 * time.Millisecond)
				cancel()
			}
			start := time.Now()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run returned %v, want nil", err)
				}
			case <-time.After(waitTimeout):
				t.Fatal("Run did not return after cancel")
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("Run took %v to return after cancel", d)
			}
			if !seen(lnAddr) {
				t.Error("the listener was never reported")
			}
			if ln2Addr.IsValid() && !seen(ln2Addr) {
				t.Error("the final poll did not report the second listener")
			}
			deadline := time.Now().Add(time.Second)
			for runtime.NumGoroutine() > before {
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<16)
					t.Fatalf("%d goroutines after Run, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// BenchmarkDump dumps a table of a dozen sockets: 4 listeners and 4
// connections of 2 sockets each. The kernel walks the whole TCP hash table of
// the namespace for each address family, so the cost depends on its size:
// "shared-ehash" uses the host's table (the default for a new namespace),
// "private-ehash" a namespace with its own 128-bucket table.
func BenchmarkDump(b *testing.B) {
	for _, bm := range []struct {
		name    string
		buckets int
	}{
		{"shared-ehash", 0},
		{"private-ehash", 128},
	} {
		b.Run(bm.name, func(b *testing.B) { benchmarkDump(b, bm.buckets) })
	}
}

func benchmarkDump(b *testing.B, ehashBuckets int) {
	threadNetns(b, ehashBuckets) // sockets created on this goroutine live in its namespace
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for range 4 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, ln)
		cl, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		sv, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, cl, sv)
	}
	c, err := Open()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	socks, err := c.DumpTCP(nil)
	if err != nil {
		b.Fatal(err)
	}
	if len(socks) != 12 {
		b.Fatalf("dump has %d sockets, want 12:\n%s", len(socks), fmtSockets(socks))
	}
	b.ReportAllocs()
	for b.Loop() {
		socks, err = c.DumpTCP(socks[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
}
