package labsvc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.n++
		l.mu.Unlock()
	}
	return c, err
}

func (l *countingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// startWeb serves h (over TLS if cfg is set) on a loopback port of ip until
// the test ends; it returns the listener and its port.
func startWeb(t *testing.T, ip string, h http.Handler, cfg *tls.Config) (*countingListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("listen on %s: %v", ip, err)
	}
	cl := &countingListener{Listener: ln}
	done := make(chan error, 1)
	go func() { done <- Serve(cl, h, cfg) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err == nil {
			t.Error("Serve returned nil after its listener closed")
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return cl, port
}

// dialer opens plain loopback sockets with Go's TCP keep-alive off, as the
// lab's sockets have it.
func dialer() DialFunc { return (&net.Dialer{KeepAlive: -1}).DialContext }

// TestShop fetches every page of the site over one kept-alive connection.
func TestShop(t *testing.T) {
	ln, port := startWeb(t, "127.0.0.1", Shop(), nil)
	cl, tr := NewClient(dialer(), ClientOptions{Hosts: map[string]netip.Addr{SiteName: netip.MustParseAddr("127.0.0.1")}})
	defer tr.CloseIdleConnections()
	ctx := context.Background()
	for _, tc := range []struct {
		method, path, body string
		hdr                []string
		status             int
		header, value      string // a response header and its value
		bodyHas            string
	}{
		{"GET", "/index.html", "", nil, 200, "Content-Type", "text/html; charset=utf-8", "Welcome to shop.lab"},
		{"HEAD", "/index.html", "", nil, 200, "Content-Length", strconv.Itoa(len(ShopPage)), ""},
		{"POST", "/orders", `{"qty":1}`, []string{"Content-Type", "application/json", "Expect", "100-continue"}, 201, "Location", "/orders/42", `"received":9`},
		{"PUT", "/orders/42", `{"qty":2}`, []string{"Content-Type", "application/json"}, 200, "Content-Type", "application/json", `"replaced":9`},
		{"DELETE", "/orders/42", "", nil, 204, "", "", ""},
		{"OPTIONS", "/orders", "", nil, 204, "Allow", "GET, HEAD, POST, OPTIONS", ""},
		{"TRACE", "/echo", "", nil, 200, "Content-Type", "message/http", "TRACE /echo HTTP/1.1\r\nHost: " + SiteName},
		{"GET", "/old-page", "", nil, 200, "", "", "Welcome"}, // 301, followed
		{"GET", "/cart", "", nil, 200, "", "", "Welcome"},     // 302 to /login, followed
		{"GET", "/logo.png", "", nil, 200, "ETag", `"v1"`, "PNGPNG"},
		{"GET", "/logo.png", "", []string{"If-None-Match", `"v1"`}, 304, "ETag", `"v1"`, ""},
		{"GET", "/admin", "", nil, 403, "", "", "forbidden"},
		{"GET", "/missing", "", nil, 404, "", "", ""},
		{"GET", "/crash", "", nil, 500, "", "", "the server failed"},
		{"GET", "/stream", "", nil, 200, "Content-Type", "text/plain", "part 1 of 3\npart 2 of 3\npart 3 of 3\n"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body, err := Fetch(ctx, cl, tc.method, "http://"+SiteName+":"+port+tc.path, tc.body, tc.hdr...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Proto != "HTTP/1.1" {
				t.Errorf("%s %d, want HTTP/1.1 %d", resp.Proto, resp.StatusCode, tc.status)
			}
			if tc.header != "" && resp.Header.Get(tc.header) != tc.value {
				t.Errorf("%s: %q, want %q", tc.header, resp.Header.Get(tc.header), tc.value)
			}
			if !bytes.Contains(body, []byte(tc.bodyHas)) {
				t.Errorf("body %q lacks %q", body, tc.bodyHas)
			}
		})
	}
	if n := ln.accepted(); n != 1 {
		t.Errorf("%d connections for every request, want 1 (keep-alive)", n)
	}
}

// TestShopStreamChunks: /stream is chunked, with no Content-Length, and
// its chunks are ChunkDelay apart.
func TestShopStreamChunks(t *testing.T) {
	_, port := startWeb(t, "127.0.0.1", Shop(), nil)
	start := time.Now()
	resp, body, err := Fetch(context.Background(), http.DefaultClient, "GET", "http://127.0.0.1:"+port+"/stream", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.TransferEncoding; len(got) != 1 || got[0] != "chunked" || resp.ContentLength != -1 {
		t.Errorf("Transfer-Encoding %v, length %d, want chunked with no length", got, resp.ContentLength)
	}
	if d := time.Since(start); d < 3*ChunkDelay {
		t.Errorf("the 3 chunks took %v, want at least %v", d, 3*ChunkDelay)
	}
	if strings.Count(string(body), "of 3") != 3 {
		t.Errorf("body %q", body)
	}
}

// TestClientClose: with Close every request has its own connection and
// says Connection: close.
func TestClientClose(t *testing.T) {
	var mu sync.Mutex
	var conn []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conn = append(conn, r.Header.Get("Connection"))
		mu.Unlock()
		Shop().ServeHTTP(w, r)
	})
	ln, port := startWeb(t, "127.0.0.1", h, nil)
	for _, tc := range []struct {
		close     bool
		wantConns int
		wantHdr   string
	}{
		{false, 1, ""},
		{true, 3, "close"},
	} {
		before := ln.accepted()
		mu.Lock()
		conn = nil
		mu.Unlock()
		cl, tr := NewClient(dialer(), ClientOptions{Close: tc.close, Hosts: map[string]netip.Addr{SiteName: netip.MustParseAddr("127.0.0.1")}})
		for _, p := range []string{"/index.html", "/logo.png", "/about.html"} {
			if _, _, err := Fetch(context.Background(), cl, "GET", "http://"+SiteName+":"+port+p, ""); err != nil {
				t.Fatal(err)
			}
		}
		tr.CloseIdleConnections()
		if n := ln.accepted() - before; n != tc.wantConns {
			t.Errorf("close %v: %d connections, want %d", tc.close, n, tc.wantConns)
		}
		mu.Lock()
		for _, c := range conn {
			if c != tc.wantHdr {
				t.Errorf("close %v: Connection: %q, want %q", tc.close, c, tc.wantHdr)
			}
		}
		mu.Unlock()
	}
}

// TestClientResolves: with a Resolver the client asks DNS for the name (the
// lab zone: shop.lab is 127.0.0.80) and dials the answer.
func TestClientResolves(t *testing.T) {
	dnsAddr := startDNS(t, LabZone())
	_, port := startWeb(t, WebIP, Shop(), nil)
	var looked []string
	var dialled []netip.Addr
	var networks []string
	d := dialer()
	cl, tr := NewClient(func(ctx context.Context, network, addr string) (net.Conn, error) {
		networks = append(networks, network+" "+addr)
		return d(ctx, network, addr)
	}, ClientOptions{
		Resolver: NewResolver(dnsAddr, d),
		OnLookup: func(host string) { looked = append(looked, host) },
		OnDial:   func(ip netip.Addr) { dialled = append(dialled, ip) },
	})
	defer tr.CloseIdleConnections()
	resp, _, err := Fetch(context.Background(), cl, "GET", "http://"+SiteName+":"+port+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	want := "tcp " + WebIP + ":" + port
	if resp.StatusCode != 200 || len(looked) != 1 || looked[0] != SiteName || len(dialled) != 1 || dialled[0].String() != WebIP ||
		len(networks) != 1 || networks[0] != want {
		t.Errorf("status %d, looked up %v, dialled %v via %v; want 200, [%s], [%s] via [%s]", resp.StatusCode, looked, dialled, networks, SiteName, WebIP, want)
	}
}

func TestClientUnknownHost(t *testing.T) {
	cl, _ := NewClient(dialer(), ClientOptions{})
	if _, _, err := Fetch(context.Background(), cl, "GET", "http://nowhere.lab/", ""); err == nil || !strings.Contains(err.Error(), "no address for nowhere.lab") {
		t.Errorf("Fetch: %v, want no address", err)
	}
}

// TestClientNoWallClock: a lesson pauses inside a request (narration from
// OnLookup/OnDial) while a learner reads; a client timeout would fail the
// request after 10 s of reading (seen: browse stepped slowly in the
// dashboard failed with "Client.Timeout exceeded while awaiting headers").
// Requests are bounded by Fetch's ctx alone, which a run pauses with its
// running-time budget.
func TestClientNoWallClock(t *testing.T) {
	cl, _ := NewClient(func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, errors.New("unused")
	}, ClientOptions{})
	if cl.Timeout != 0 {
		t.Errorf("client timeout %v: a wall clock bounds requests that a paused lesson holds", cl.Timeout)
	}
}
