package appdecode

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestClassify: a protocol is named on evidence (a whole request line, a
// status line, a TLS hello record, DNS's port, a well-known port for a
// connection caught mid-way), never on a prefix.
func TestClassify(t *testing.T) {
	hello := []byte{recordHandshake, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}
	for _, tc := range []struct {
		name         string
		b            string
		sport, dport uint16
		mid          bool
		want         kind
	}{
		{"close act 3: plain bytes that begin with GET", "GET everything", 51138, 8888, false, kindNone},
		{"GET and a line end but no version", "GET everything\r\n", 51138, 8888, false, kindNone},
		{"a whole request line", "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 51138, 8888, false, kindHTTP},
		{"a request line ended by LF alone", "POST /login HTTP/1.0\n", 51138, 8888, false, kindHTTP},
		{"an unknown method", "BREW /pot HTTP/1.1\r\n", 51138, 8888, false, kindNone},
		{"HTTP/2 is not HTTP/1.x", "GET / HTTP/2.0\r\n", 51138, 8888, false, kindNone},
		{"a request line still arriving on port 80", "GET /index.ht", 51138, 80, false, kindHTTP},
		{"... but not on port 8888", "GET /index.ht", 51138, 8888, false, kindNone},
		{"a status line", "HTTP/1.1 200 OK\r\n", 8888, 51138, false, kindHTTP},
		{"a status line without a reason", "HTTP/1.1 204\r\n", 8888, 51138, false, kindHTTP},
		{"the version alone", "HTTP/1.1 is a protocol", 8888, 51138, false, kindNone},
		{"a code of two digits", "HTTP/1.1 20 OK\r\n", 8888, 51138, false, kindNone},
		{"a TLS ClientHello record", string(hello), 51138, 8888, false, kindTLS},
		{"a handshake record type with a length no record has", string([]byte{recordHandshake, 3, 1, 0xff, 0xff, 1}), 51138, 8888, false, kindNone},
		{"byte 22 then text", "\x16\x03\x01hello", 51138, 8888, false, kindNone},
		{"DNS over TCP by its port", "\x00\x1d\x1a\x2b", 51138, 53, false, kindDNS},
		{"mid-stream on port 80", "tml>", 51138, 80, true, kindHTTP},
		{"mid-stream on port 8888", "tml>", 51138, 8888, true, kindNone},
	} {
		if got := classify([]byte(tc.b), tc.sport, tc.dport, tc.mid); got != tc.want {
			t.Errorf("%s: classify(%q) = %v, want %v", tc.name, tc.b, got, tc.want)
		}
	}
}

// TestPlainBytesNotHTTP: close act 3's stream ("GET everything" and a FIN
// each way on port 8888) names nothing, and no FIN ends "inside a header
// block".
func TestPlainBytesNotHTTP(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	c := newConn(t, pl, "127.0.0.1:51138", "127.0.0.1:8888")
	c.handshake()
	c.send(0, "GET everything", 1460)
	c.ack(1)
	c.fin(0)
	c.send(1, "reply part 1\n", 1460)
	c.send(1, "reply part 2\n", 1460)
	c.fin(1)
	c.ack(0)
	if got := pl.summaries(); len(got) != 0 {
		t.Errorf("named %q, want nothing", got)
	}
}
