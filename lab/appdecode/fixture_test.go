package appdecode

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/golden"
)

// The fixtures are captures of the application scenarios, recorded with
//
//	netlab run NAME --pcap lab/appdecode/testdata/NAME.pcapng
//
// and their .golden files list what the decoder names in them; -update
// rewrites the golden files after a deliberate change.

var fixtures = []string{"http", "https", "dns", "browse", "url"}

func TestFixtures(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			pl := feedFile(t, filepath.Join("testdata", name+".pcapng"), nil)
			got := join(pl.summaries()) + "\n"
			golden.Check(t, name, []byte(got))
			if strings.Contains(got, "~") {
				t.Errorf("a complete capture gave partial messages:\n%s", got)
			}
		})
	}
}

// TestFixtureInvariants states what the golden files must show.
func TestFixtureInvariants(t *testing.T) {
	http := join(feedFile(t, "testdata/http.pcapng", nil).summaries())
	for _, want := range []string{"GET /index.html", "HEAD /index.html", "POST /orders", "100 Continue", "201 Created",
		"PUT /orders/42", "DELETE /orders/42", "204 No Content", "OPTIONS /orders", "TRACE /echo", "301 Moved Permanently",
		"302 Found", "304 Not Modified", "403 Forbidden", "404 Not Found", "500 Internal Server Error", "chunk 12 B", "last chunk (3 chunks, 36 B)"} {
		if !strings.Contains(http, want) {
			t.Errorf("http fixture: no %q", want)
		}
	}
	https := join(feedFile(t, "testdata/https.pcapng", nil).summaries())
	for _, want := range []string{"POST /login", "TLS ClientHello sni=shop.lab", "TLS ServerHello TLS 1.3, ChangeCipherSpec, Application Data"} {
		if !strings.Contains(https, want) {
			t.Errorf("https fixture: no %q", want)
		}
	}
	if strings.Contains(https, "{") || strings.Contains(https, "Certificate") {
		t.Error("https fixture: without the key log nothing encrypted can be named")
	}
	dns := join(feedFile(t, "testdata/dns.pcapng", nil).summaries())
	for _, want := range []string{"A? shop.lab", "A shop.lab = 127.0.0.80 ttl=300", "AAAA shop.lab: no records", "CNAME www.shop.lab = shop.lab", "NXDOMAIN nope.lab"} {
		if !strings.Contains(dns, want) {
			t.Errorf("dns fixture: no %q", want)
		}
	}
}

// TestFixtureLostPacket drops each data packet of the http capture in turn,
// as if the capture had missed it: the decoder marks the hole, names every
// later request, and never panics.
func TestFixtureLostPacket(t *testing.T) {
	frames := readFrames(t, "testdata/http.pcapng")
	full := newPipeline(t, layers.LinkTypeEthernet, nil)
	for _, f := range frames {
		full.add(f.Data, f.Time)
	}
	requests := strings.Count(join(full.summaries()), " GET ")
	for drop, p := range full.pkts {
		if p.PayloadLen == 0 {
			continue
		}
		pl := newPipeline(t, layers.LinkTypeEthernet, nil)
		for i, f := range frames {
			if i != drop {
				pl.add(f.Data, f.Time)
			}
		}
		got := join(pl.summaries())
		if !strings.Contains(got, "~") {
			t.Errorf("packet %d dropped: nothing marked partial:\n%s", p.N, got)
		}
		// The request in the dropped packet is lost, the others are named.
		if n := strings.Count(got, " GET "); n < requests-1 {
			t.Errorf("packet %d dropped: %d GET named, want at least %d:\n%s", p.N, n, requests-1, got)
		}
	}
}

// TestFixtureMidStream starts reading the http capture at every packet in
// turn, as if the capture began mid-connection: a connection caught
// mid-way has its first message marked partial, and every request whose
// head lies wholly in the capture is still named.
func TestFixtureMidStream(t *testing.T) {
	frames := readFrames(t, "testdata/http.pcapng")
	full := newPipeline(t, layers.LinkTypeEthernet, nil)
	for _, f := range frames {
		full.add(f.Data, f.Time)
	}
	for start := 1; start < len(frames); start++ {
		want := 0
		for _, p := range full.pkts[start:] {
			if p.App != nil {
				want += strings.Count(p.App.Summary(), "GET ")
			}
		}
		pl := newPipeline(t, layers.LinkTypeEthernet, nil)
		for _, f := range frames[start:] {
			pl.add(f.Data, f.Time)
		}
		got := 0
		firstSeen := map[int]bool{}
		mid := map[int]bool{}
		for _, p := range pl.pkts {
			if p.Flow.StreamStart {
				mid[p.Flow.Conv] = true
			}
			if p.App == nil {
				continue
			}
			got += strings.Count(p.App.Summary(), "GET ")
			if mid[p.Flow.Conv] && !firstSeen[p.Flow.Conv] && !p.App.Partial() {
				t.Errorf("start at %d: first message %q of a connection caught mid-way is not marked partial", start+1, p.App.Summary())
			}
			firstSeen[p.Flow.Conv] = true
		}
		if got != want {
			t.Errorf("start at %d: %d GET named, want %d:\n%s", start+1, got, want, join(pl.summaries()))
		}
	}
}

func readFrames(t *testing.T, path string) []capture.Frame {
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []capture.Frame
	for {
		f, err := src.ReadFrame()
		if err != nil {
			return out
		}
		out = append(out, f)
	}
}

// diffLines shows the lines that differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			b.WriteString("- " + a + "\n+ " + c + "\n")
		}
	}
	return b.String()
}
