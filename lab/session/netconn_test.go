package session

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/timeline"
)

// recorder keeps what a session records.
type recorder struct {
	mu  sync.Mutex
	evs []timeline.Event
}

func (r *recorder) Record(ev timeline.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) calls(lane string, call timeline.Call) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.evs {
		if e.App != nil && e.App.Lane == lane && e.App.Call == call && !e.App.Blocking {
			n++
		}
	}
	return n
}

func newTestSession(t *testing.T) (*Session, *recorder) {
	t.Helper()
	rec := &recorder{}
	s := New(context.Background(), sessionrun.Config{Sink: rec})
	t.Cleanup(func() { s.Close() })
	return s, rec
}

// TestConnIsNetConn runs x/net's conformance tests for net.Conn (reads,
// writes, deadlines, close) on a pair of recorded sockets.
func TestConnIsNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		s, _ := newTestSession(t)
		ln, err := s.Listen("server", 0)
		if err != nil {
			return nil, nil, nil, err
		}
		accepted := make(chan *Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}()
		cli, err := s.DialAddr("client", ln.Addr().String())
		if err != nil {
			return nil, nil, nil, err
		}
		srv := <-accepted
		if srv == nil {
			return nil, nil, nil, io.ErrUnexpectedEOF
		}
		return cli, srv, func() { cli.Close(); srv.Close(); ln.Close() }, nil
	})
}

// TestHTTPOverSession serves and fetches a page with net/http over
// recorded sockets: the listener adapter, the net.Conn methods, and the
// calls recorded on both sides.
func TestHTTPOverSession(t *testing.T) {
	s, rec := newTestSession(t)
	ln, err := s.Listen("server", 0)
	if err != nil {
		t.Fatal(err)
	}
	nl := ln.NetListener()
	if nl.Addr().String() != ln.Addr().String() {
		t.Fatalf("listener address %s, want %s", nl.Addr(), ln.Addr())
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+r.RemoteAddr)
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(nl) }()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return s.DialAddr("client", addr)
	}}
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.HasPrefix(string(body), "hello from 127.0.0.1:") {
		t.Fatalf("body %q, err %v", body, err)
	}
	tr.CloseIdleConnections()
	srv.Close()
	<-done
	// A call is recorded when it returns, which may be after the peer has
	// its bytes: give the server's goroutine a moment.
	deadline := time.Now().Add(2 * time.Second)
	for _, c := range []struct {
		lane string
		call timeline.Call
	}{{"client", timeline.CallConnect}, {"client", timeline.CallWrite}, {"client", timeline.CallRead}, {"server", timeline.CallAccept}, {"server", timeline.CallRead}, {"server", timeline.CallWrite}} {
		for rec.calls(c.lane, c.call) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if rec.calls(c.lane, c.call) == 0 {
			t.Errorf("no %s %s recorded", c.lane, c.call)
		}
	}
}

// TestPacketConn checks the UDP adapter: a connected socket is a
// net.PacketConn (Go's resolver needs that to use UDP framing), datagrams
// keep their boundaries and the sender's address comes back.
func TestPacketConn(t *testing.T) {
	s, rec := newTestSession(t)
	srv, err := s.ListenUDP("server", 0)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := s.DialUDPAddr("client", srv.Socket().Local.String())
	if err != nil {
		t.Fatal(err)
	}
	var c net.Conn = cli.NetConn()
	if _, ok := c.(net.PacketConn); !ok {
		t.Fatal("NetConn is not a net.PacketConn")
	}
	if c.RemoteAddr().String() != srv.Socket().Local.String() {
		t.Fatalf("remote %v", c.RemoteAddr())
	}
	if srv.NetConn().RemoteAddr() != nil {
		t.Fatal("unconnected socket has a remote address")
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, from, err := srv.NetConn().ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" || from.String() != c.LocalAddr().String() {
		t.Fatalf("read %q from %v: %v", buf[:n], from, err)
	}
	if _, err := srv.NetConn().WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("read %q: %v", buf[:n], err)
	}
	if rec.calls("client", timeline.CallSend) != 1 || rec.calls("server", timeline.CallRecvfrom) != 1 || rec.calls("server", timeline.CallSendto) != 1 || rec.calls("client", timeline.CallRecv) != 1 {
		t.Fatal("calls not recorded")
	}
}

// TestSelfInterruptedReadNotRecorded: a read the program cuts short itself
// (a deadline set in the past, as net/http does after each request) leaves
// no trace, while a read that times out on a real deadline is recorded.
func TestSelfInterruptedReadNotRecorded(t *testing.T) {
	s, rec := newTestSession(t)
	ln, err := s.Listen("server", 0)
	if err != nil {
		t.Fatal(err)
	}
	go ln.Accept()
	c, err := s.DialAddr("client", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.SetReadDeadline(time.Unix(1, 0)) // net/http's abortPendingRead
	if err := <-done; err == nil {
		t.Fatal("read not interrupted")
	}
	if n := rec.calls("client", timeline.CallRead); n != 0 {
		t.Fatalf("%d reads recorded for a read the program interrupted", n)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read did not time out")
	}
	if n := rec.calls("client", timeline.CallRead); n != 1 {
		t.Fatalf("%d reads recorded, want the timed-out one", n)
	}
}
