package appdecode

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

const (
	getIndex = "GET /index.html HTTP/1.1\r\nHost: shop.lab\r\nUser-Agent: t\r\n\r\n"
	ok11     = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
)

// TestHTTPSegments: where summaries land as the bytes are cut differently,
// arrive out of order, are sent twice, or go missing.
func TestHTTPSegments(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(c *conn)
		want []string // "N summary" of packets with an AppInfo, "~" after N for partial
	}{
		{"one segment each", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, ok11, 1460)
			c.fin(0)
			c.fin(1)
		}, []string{"4 GET /index.html", "5 200 OK"}},
		{"head split across segments: named on the segment that completes it", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 20)
			c.send(1, ok11, 1460)
		}, []string{"6 GET /index.html", "7 200 OK"}},
		{"body in a later segment", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello", 1460)
			c.send(1, " world", 1460)
		}, []string{"4 GET /index.html", "5 200 OK", "6 body 11 B"}},
		{"HEAD: Content-Length without a body, next response follows", func(c *conn) {
			c.handshake()
			c.send(0, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 1460)
			c.send(1, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 1460)
			c.send(0, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1460)
			c.send(1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 1460)
		}, []string{"4 HEAD /", "5 200 OK", "6 GET /", "7 404 Not Found"}},
		{"100 Continue, then the body, then the final status", func(c *conn) {
			c.handshake()
			c.send(0, "POST /o HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", 1460)
			c.send(1, "HTTP/1.1 100 Continue\r\n\r\n", 1460)
			c.send(0, "abc", 1460)
			c.send(1, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 1460)
		}, []string{"4 POST /o", "5 100 Continue", "6 body 3 B", "7 201 Created"}},
		{"chunked, one chunk per segment", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 1460)
			c.send(1, "6\r\n world\r\n", 1460)
			c.send(1, "0\r\nX-Check: 1\r\n\r\n", 1460)
		}, []string{"4 GET /index.html", "5 200 OK, chunk 5 B", "6 chunk 6 B", "7 last chunk (2 chunks, 11 B)"}},
		{"body until close (no length)", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, "HTTP/1.0 200 OK\r\n\r\nabc", 1460)
			c.send(1, "def", 1460)
			c.fin(1)
			c.fin(0)
		}, []string{"4 GET /index.html", "5 200 OK", "7 body 6 B"}},
		{"304 and 204 have no body", func(c *conn) {
			c.handshake()
			c.send(0, "GET /a HTTP/1.1\r\nIf-None-Match: \"v1\"\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 1460)
			c.send(1, "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 1460)
		}, []string{"4 GET /a, GET /b", "5 304 Not Modified, 204 No Content"}},
		{"out of order: named when the hole is filled", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			first := c.data(1, ok11[:20])
			second := c.data(1, ok11[20:])
			c.push(second)
			c.push(first)
		}, []string{"4 GET /index.html", "6 200 OK"}},
		{"retransmission: named once", func(c *conn) {
			c.handshake()
			f := c.data(0, getIndex)
			c.push(f)
			c.push(f)
			c.send(1, ok11, 1460)
		}, []string{"4 GET /index.html", "6 200 OK"}},
		{"lost segment in a body of known length: the message is partial, the next one is not", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1460)
			c.data(1, "01234") // lost by the capture
			c.send(1, "56789", 1460)
			c.ack(0) // the client acknowledges all: the hole is for good
			c.send(0, getIndex, 1460)
			c.send(1, ok11, 1460)
		}, []string{"4 GET /index.html", "5 200 OK", "7~ body 10 B (bytes of packet 6)", "8 GET /index.html", "9 200 OK"}},
		{"lost segment inside a head: resynchronised at the next message", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, ok11, 1460)
			c.send(0, getIndex, 1460)
			c.data(1, "HTTP/1.1 200 OK\r\nContent-") // lost
			c.send(1, "Length: 11\r\n\r\nhello world", 1460)
			c.ack(0)
			c.send(0, getIndex, 1460)
			c.send(1, ok11, 1460)
		}, []string{"4 GET /index.html", "5 200 OK", "6 GET /index.html", "8~ 25 B not captured (bytes of packet 7)", "9 GET /index.html", "10~ 200 OK"}},
		{"first bytes of a direction lost", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.data(1, "HTTP/1.1 200 OK\r\nContent-") // lost
			c.send(1, "Length: 11\r\n\r\nhello world", 1460)
			c.ack(0)
			c.send(0, getIndex, 1460)
			c.send(1, ok11, 1460)
		}, []string{"4 GET /index.html", "7 GET /index.html", "8~ 200 OK"}},
		{"capture began mid-connection: partial until a message starts", func(c *conn) {
			c.send(1, "tail of an earlier body", 1460)
			c.send(0, getIndex, 1460)
			c.send(1, ok11, 1460)
		}, []string{"2~ GET /index.html", "3~ 200 OK"}},
		{"not HTTP after all", func(c *conn) {
			c.handshake()
			c.send(0, "GET / HTTP/1.1\r\n\r\n", 1460)
			c.send(1, "SSH-2.0-OpenSSH\r\n\r\n", 1460)
		}, []string{"4 GET /", `5~ not HTTP: "SSH-2.0-OpenSSH"`}},
		{"101 Switching Protocols: the rest is not HTTP", func(c *conn) {
			c.handshake()
			c.send(0, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 1460)
			c.send(1, "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello", 1460)
			c.send(0, "\x81\x85abcdefghi", 1460)
		}, []string{"4 GET /ws", "5 101 Switching Protocols"}},
		{"reset inside a body", func(c *conn) {
			c.handshake()
			c.send(0, getIndex, 1460)
			c.send(1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", 1460)
			c.rst(1)
		}, []string{"4 GET /index.html", "5 200 OK", "6~ connection ended inside the body of 200 OK"}},
		{"not HTTP at all: never decoded", func(c *conn) {
			c.handshake()
			c.send(0, "hello world", 1460)
			c.send(1, "HTTP/1.1 200 OK\r\n\r\n", 1460)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := newPipeline(t, layers.LinkTypeEthernet, nil)
			tc.run(newConn(t, pl, "127.0.0.1:40000", "127.0.0.80:80"))
			if got, want := join(pl.summaries()), join(tc.want); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestHTTPFields: the details a request and a response carry.
func TestHTTPFields(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	c := newConn(t, pl, "127.0.0.1:40000", "127.0.0.80:8080")
	c.handshake()
	c.send(0, "POST /orders?x=1 HTTP/1.1\r\nHost: shop.lab:8080\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\n{}", 1460)
	req := pl.pkts[len(pl.pkts)-1].App
	want := map[string]string{
		"message": "request", "method": "POST", "target": "/orders?x=1", "version": "HTTP/1.1",
		"line": "POST /orders?x=1 HTTP/1.1", "header.host": "shop.lab:8080", "header.x-a": "1, 2",
		"body": "2 B (Content-Length)", "body.bytes": "2",
	}
	for k, v := range want {
		if req.First().Fields.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, req.First().Fields.Get(k), v)
		}
	}
	if !strings.Contains(req.First().Fields.Get("headers"), "Content-Type: application/json\nContent-Length: 2") {
		t.Errorf("headers %q", req.First().Fields.Get("headers"))
	}
}

// TestHTTPHeaderCap: an endless header block is cut off, not buffered.
func TestHTTPHeaderCap(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	c := newConn(t, pl, "127.0.0.1:40000", "127.0.0.80:80")
	c.handshake()
	c.send(0, "GET / HTTP/1.1\r\n", 1460)
	for i := 0; i < 40; i++ {
		c.send(0, "X-Long: "+strings.Repeat("a", 1000)+"\r\n", 1460)
	}
	c.send(0, "\r\nGET /next HTTP/1.1\r\n\r\n", 1460)
	got := join(pl.summaries())
	if !strings.Contains(got, "header block over 16 KiB, skipped") || !strings.Contains(got, "GET /next") {
		t.Errorf("got\n%s", got)
	}
	for _, s := range pl.app.live {
		for _, h := range s.halves {
			if hh := h.(*httpHalf); cap(hh.buf) > 2*maxHeaderBytes {
				t.Errorf("header buffer grew to %d bytes", cap(hh.buf))
			}
		}
	}
}

// TestStreamsForgotten: finished connections leave the decoder.
func TestStreamsForgotten(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	for i := 0; i < 3*MaxStreams; i++ {
		c := newConn(t, pl, "127.0.0.1:"+strconv.Itoa(20000+i), "127.0.0.80:80")
		c.handshake()
		c.send(0, getIndex, 1460)
		c.send(1, ok11, 1460)
		if i%2 == 0 {
			c.fin(0)
			c.fin(1)
			c.ack(0)
		} else {
			c.rst(0)
		}
	}
	if n := len(pl.app.live); n != 0 {
		t.Errorf("%d connections still held", n)
	}
	st := pl.app.Stats()
	if st.Streams != 3*MaxStreams || st.Skipped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestMaxStreams: past MaxStreams open connections, new ones are left undecoded.
func TestMaxStreams(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	for i := 0; i < MaxStreams+5; i++ {
		c := newConn(t, pl, "127.0.0.1:"+strconv.Itoa(20000+i), "127.0.0.80:80")
		c.handshake()
		c.send(0, getIndex, 1460)
	}
	if st := pl.app.Stats(); st.Streams != MaxStreams || st.Skipped != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestMessages: two responses completed by one segment are two messages of
// its AppInfo, each with its own fields under their own names.
func TestMessages(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	c := newConn(t, pl, "127.0.0.1:40000", "127.0.0.80:80")
	c.handshake()
	c.send(0, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 1460)
	c.send(1, "HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 1460)
	a := pl.pkts[len(pl.pkts)-1].App
	ms := a.Messages
	if len(ms) != 2 || ms[0].Fields.Get("status") != "304" || ms[1].Fields.Get("status") != "404" || ms[1].Fields.Get("body.bytes") != "0" {
		t.Fatalf("messages %+v", ms)
	}
	if ms[0].Summary != "304 Not Modified" || a.Summary() != "304 Not Modified, 404 Not Found" {
		t.Errorf("summaries %q, packet %q", ms[0].Summary, a.Summary())
	}
	for _, m := range ms {
		if _, numbered := m.Fields.Lookup("2.status"); numbered {
			t.Errorf("numbered key in a message: %+v", m.Fields)
		}
	}
}
