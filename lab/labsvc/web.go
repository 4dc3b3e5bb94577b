package labsvc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Serve serves h with net/http on ln (over TLS when cfg is not nil) until
// ln is closed, and returns Serve's error then. Server errors are not
// logged: a lesson reads them on its timeline.
func Serve(ln net.Listener, h http.Handler, cfg *tls.Config) error {
	srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ClientOptions shape an HTTP client (see NewClient).
type ClientOptions struct {
	// Close sends "Connection: close" and opens a connection per request;
	// by default a connection is kept alive and reused (HTTP keep-alive).
	Close bool
	// Resolver, if set, resolves host names through DNS (see NewResolver);
	// else Hosts maps them, as /etc/hosts would.
	Resolver *net.Resolver
	Hosts    map[string]netip.Addr
	// TLS configures https URLs (see TLS.ClientConfig).
	TLS *tls.Config
	// OnLookup, if set, is called before a name is asked of Resolver.
	OnLookup func(host string)
	// OnDial, if set, is called with the address about to be dialled.
	OnDial func(ip netip.Addr)
}

// NewClient returns an HTTP/1.1 client (one connection per host at a time,
// each request bounded by the ctx given to Fetch, never by a wall clock)
// whose connections dial opens, with network "tcp" and
// an address "ip:port" the client resolved itself (see ClientOptions). It
// also returns the client's transport, whose CloseIdleConnections closes a
// kept-alive connection. TCP keep-alive is whatever dial's sockets do; the
// lab's sockets have it off.
func NewClient(dial DialFunc, o ClientOptions) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DisableKeepAlives:     o.Close,
		MaxConnsPerHost:       1,
		ExpectContinueTimeout: 2 * time.Second,
		TLSClientConfig:       o.TLS,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if o.OnLookup != nil && o.Resolver != nil {
				o.OnLookup(host)
			}
			ip, err := lookup(ctx, host, o.Resolver, o.Hosts)
			if err != nil {
				return nil, err
			}
			if o.OnDial != nil {
				o.OnDial(ip)
			}
			return dial(ctx, network, net.JoinHostPort(ip.String(), port))
		},
	}
	// No Client.Timeout: a lesson narrates steps from inside a request
	// (OnLookup, OnDial) and pauses there while a learner reads, and a wall
	// clock would fail it. The ctx given to Fetch bounds each request: a
	// run's context ends with its running-time budget.
	return &http.Client{Transport: tr}, tr
}

// Fetch sends one request (method, url, a body unless "", and headers as
// name, value pairs) and reads the whole response body.
func Fetch(ctx context.Context, cl *http.Client, method, url, body string, hdr ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, b, fmt.Errorf("%s %s: body: %w", method, url, err)
	}
	return resp, b, nil
}

// ChunkDelay separates the chunks of shop.lab's /stream response, so each
// leaves in its own segment.
const ChunkDelay = 20 * time.Millisecond

// ShopPage is the HTML page shop.lab serves at /, /index.html, /login,
// /about.html and /search….
const ShopPage = "<!doctype html><title>shop.lab</title><h1>Welcome to shop.lab</h1>\n"

// Shop is the lab's web site, shop.lab, made to show HTTP/1.1's methods and
// status codes:
//
//	TRACE any         200, the request as received (message/http)
//	OPTIONS any       204, Allow: GET, HEAD, POST, OPTIONS
//	POST /orders      201 after reading the body (100 Continue first if asked)
//	PUT /orders/42    200, DELETE /orders/42: 204
//	/old-page         301 to /index.html; /cart: 302 to /login
//	/logo.png         300 bytes with ETag "v1"; 304 to If-None-Match: "v1"
//	/admin            403; /crash: 500
//	/stream           3 chunks ChunkDelay apart (chunked, no Content-Length)
//	the page          200, ShopPage with Content-Length
//	anything else     404
func Shop() http.Handler {
	logo := strings.Repeat("PNG", 100)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch {
		case r.Method == "TRACE":
			// The request as received, as the body (RFC 9110 §9.3.8).
			dump, _ := httputil.DumpRequest(r, false)
			h.Set("Content-Type", "message/http")
			w.Write(dump)
		case r.Method == "OPTIONS":
			h.Set("Allow", "GET, HEAD, POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/orders" && r.Method == "POST":
			body, _ := io.ReadAll(r.Body) // reading sends 100 Continue
			h.Set("Location", "/orders/42")
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":42,"received":%d}`, len(body))
		case r.URL.Path == "/orders/42" && r.Method == "PUT":
			body, _ := io.ReadAll(r.Body)
			h.Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":42,"replaced":%d}`, len(body))
		case r.URL.Path == "/orders/42" && r.Method == "DELETE":
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/old-page":
			http.Redirect(w, r, "/index.html", http.StatusMovedPermanently)
		case r.URL.Path == "/cart":
			http.Redirect(w, r, "/login", http.StatusFound)
		case r.URL.Path == "/logo.png":
			h.Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			h.Set("Content-Type", "image/png")
			h.Set("Content-Length", strconv.Itoa(len(logo)))
			io.WriteString(w, logo)
		case r.URL.Path == "/admin":
			http.Error(w, "forbidden", http.StatusForbidden)
		case r.URL.Path == "/crash":
			http.Error(w, "the server failed", http.StatusInternalServerError)
		case r.URL.Path == "/stream":
			h.Set("Content-Type", "text/plain")
			for i := 1; i <= 3; i++ {
				fmt.Fprintf(w, "part %d of 3\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(ChunkDelay)
			}
		case r.URL.Path == "/index.html" || r.URL.Path == "/" || r.URL.Path == "/login" || r.URL.Path == "/about.html" || strings.HasPrefix(r.URL.Path, "/search"):
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Length", strconv.Itoa(len(ShopPage)))
			io.WriteString(w, ShopPage)
		default:
			http.NotFound(w, r)
		}
	})
}
