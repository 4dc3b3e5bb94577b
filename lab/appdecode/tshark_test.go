package appdecode

import (
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/decode"
)

// TestTsharkAgrees: Wireshark's dissectors, run on the same recorded
// captures, find the same HTTP requests and responses, DNS messages and TLS
// handshake messages in the same frames. Wireshark names an HTTP message on
// the frame that completes its body; the decoder names it where its head
// completes and adds "body N B" / "last chunk" where the body ends: that
// later frame is what is compared.
func TestTsharkAgrees(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (.ci/run installs it): cannot compare with Wireshark's dissectors")
	}
	type query struct {
		filter string
		fields []string
		mine   func(m decode.AppFields, summary string) string // "" to skip
	}
	httpQ := query{"http.request or http.response", []string{"http.request.method", "http.request.uri", "http.response.code"}, nil}
	dnsQ := query{"dns", []string{"dns.id", "dns.qry.name", "dns.flags.rcode"},
		func(f decode.AppFields, _ string) string {
			if f.Get("id") == "" {
				return ""
			}
			name, _, _ := strings.Cut(f.Get("question"), " ")
			rcode := "" // tshark shows none for a query
			if f.Get("message") == "response" {
				rcode = map[string]string{"NOERROR": "0", "NXDOMAIN": "3", "SERVFAIL": "2", "REFUSED": "5"}[f.Get("rcode")]
			}
			return f.Get("id") + " " + name + " " + rcode
		}}
	for _, tc := range []struct {
		name string
		qs   []query
	}{
		{"http", []query{httpQ}},
		{"https", []query{httpQ, {"tls.handshake.type", []string{"tls.handshake.type"},
			func(_ decode.AppFields, s string) string {
				var types []string
				for _, name := range []string{"ClientHello", "ServerHello"} {
					if strings.Contains(s, name) {
						types = append(types, map[string]string{"ClientHello": "1", "ServerHello": "2"}[name])
					}
				}
				return strings.Join(types, ",")
			}}}},
		{"dns", []query{dnsQ}},
		{"browse", []query{httpQ, dnsQ}},
		{"url", []query{httpQ, dnsQ}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.name+".pcapng")
			pl := feedFile(t, path, nil)
			for _, q := range tc.qs {
				args := []string{"-r", path, "-Y", q.filter, "-T", "fields", "-E", "separator=/s", "-e", "frame.number"}
				for _, f := range q.fields {
					args = append(args, "-e", f)
				}
				out, err := exec.Command(tshark, args...).Output()
				if err != nil {
					t.Fatalf("tshark: %v", err)
				}
				var theirs []string
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					if l != "" {
						theirs = append(theirs, strings.TrimRight(l, " "))
					}
				}
				var mine []string
				if q.mine == nil {
					mine = httpCompleted(pl)
				}
				for _, p := range pl.pkts {
					if q.mine == nil {
						break
					}
					if p.App == nil {
						continue
					}
					for _, m := range p.App.Messages {
						f := m.Fields
						if s := q.mine(f, p.App.Summary()); s != "" {
							mine = append(mine, strings.TrimRight(strconv.Itoa(p.N)+" "+s, " "))
						}
					}
				}
				if strings.Join(mine, "\n") != strings.Join(theirs, "\n") {
					t.Errorf("%s: tshark -Y %q and the decoder disagree:\n%s", tc.name, q.filter, diffLines(strings.Join(theirs, "\n"), strings.Join(mine, "\n")))
				}
			}
		})
	}
}

// httpCompleted lists the HTTP messages by the frame that completes them
// (head and body), as "N METHOD TARGET" and "N   STATUS".
func httpCompleted(pl *pipeline) []string {
	type msg struct {
		n    int
		text string
	}
	var done []msg
	open := map[string]string{} // start line -> text, waiting for its body's end
	for _, p := range pl.pkts {
		if p.App == nil || p.App.Proto != "http" {
			continue
		}
		for _, m := range p.App.Messages {
			f := m.Fields
			text := ""
			switch {
			case f.Get("method") != "":
				text = f.Get("method") + " " + f.Get("target")
			case f.Get("status") != "":
				text = "  " + f.Get("status")
			}
			switch {
			case text != "" && f.Get("body.bytes") != "":
				done = append(done, msg{p.N, text})
			case text != "":
				open[f.Get("line")] = text
			case f.Get("part") == "end":
				done = append(done, msg{p.N, open[f.Get("of")]})
				delete(open, f.Get("of"))
			}
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].n < done[j].n })
	out := make([]string, len(done))
	for i, m := range done {
		out[i] = strconv.Itoa(m.n) + " " + m.text
	}
	return out
}
