package check

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// appView is a run of one HTTP exchange and one DNS query, with packets as
// the decoder and the flow tracker annotate them.
func appView() *View {
	cli := netip.MustParseAddrPort("127.0.0.1:40000")
	srv := netip.MustParseAddrPort("127.0.0.80:80")
	seg := func(act int, from string, flags decode.Flags, payload string, app *decode.AppInfo, ex decode.Expert) timeline.Event {
		src, dst, to := cli, srv, "server"
		if from == "server" {
			src, dst, to = srv, cli, "client"
		}
		hdr := "HDR:" // stands for the link, IP and TCP headers
		return timeline.Event{Kind: timeline.KindPacket, Act: act, Packet: &decode.Packet{
			Proto: decode.ProtoTCP, Src: src, Dst: dst, Lab: decode.LabNotes{From: from, To: to}, Flags: flags, Flow: decode.FlowNotes{Expert: ex}, App: app,
			Data: []byte(hdr + payload), PayloadOffset: len(hdr), PayloadLen: len(payload),
		}}
	}
	msg := func(summary string, kv ...string) decode.AppMessage {
		f := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return decode.AppMessage{Summary: summary, Fields: decode.FieldsOf(f)}
	}
	get := &decode.AppInfo{Proto: "http", Messages: []decode.AppMessage{msg("GET /", "message", "request", "method", "GET", "target", "/", "line", "GET / HTTP/1.1")}}
	// The response's head and the end of its body in one segment: two
	// messages.
	resp := &decode.AppInfo{Proto: "http", Messages: []decode.AppMessage{
		msg("200 OK", "message", "response", "status", "200", "line", "HTTP/1.1 200 OK"),
		msg("body 0 B", "message", "response", "of", "HTTP/1.1 200 OK", "part", "end"),
	}}
	dnsQ := &decode.AppInfo{Proto: "dns", Messages: []decode.AppMessage{msg("A? shop.lab", "message", "query", "question", "shop.lab IN A", "id", "7")}}
	tl := timeline.New(timeline.Meta{})
	tl.Append(
		timeline.Event{Kind: timeline.KindPacket, Act: 1, Packet: &decode.Packet{Proto: decode.ProtoUDP, Lab: decode.LabNotes{From: "client", To: "resolver"}, App: dnsQ, Data: []byte("dns")}},
		seg(1, "client", decode.SYN, "", nil, 0),
		seg(1, "server", decode.SYN|decode.ACK, "", nil, 0),
		seg(1, "client", decode.ACK, "", nil, 0),
		seg(1, "client", decode.ACK|decode.PSH, "GET / HTT", nil, 0),
		seg(1, "client", decode.ACK|decode.PSH, "GET / HTT", nil, decode.Retransmission),
		seg(1, "client", decode.ACK|decode.PSH, "P/1.1\r\n\r\n", get, 0),
		seg(1, "server", decode.ACK|decode.PSH, "HTTP/1.1 200 OK\r\n\r\n", resp, 0),
		seg(2, "client", decode.SYN, "", nil, 0),
	)
	return NewView(tl)
}

func TestAppMsgs(t *testing.T) {
	v := appView()
	for _, tc := range []struct {
		name string
		got  []AppMsg
		want []string // message, then method or status or part, and its index
	}{
		{"http", v.AppMsgs("http"), []string{"request GET 1", "response 200 1", "response end 2"}},
		{"dns", v.AppMsgs("dns"), []string{"query shop.lab IN A 1"}},
		{"tls: none", v.AppMsgs("tls"), nil},
		{"requests", v.HTTPRequests(), []string{"request GET 1"}},
		{"responses: the head, not the body's end", v.HTTPResponses(), []string{"response 200 1"}},
		{"act 2 has no messages", v.Act(2).AppMsgs("http"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range tc.got {
				what := m.Get("method") + m.Get("status") + m.Get("part") + m.Get("question")
				got = append(got, m.Get("message")+" "+what+" "+string(rune('0'+m.Index)))
				if m.Packet == nil || m.Packet.App == nil {
					t.Errorf("%v has no packet", m)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if v.AppMsgs("http")[2].Get("nothing") != "" {
		t.Error("an absent field is not empty")
	}
}

func TestWireSentSYNs(t *testing.T) {
	v := appView()
	for _, tc := range []struct {
		name, got, want string
	}{
		{"wire: every frame whole, in order", string(v.Act(1).Wire()), "dnsHDR:HDR:HDR:HDR:GET / HTTHDR:GET / HTTHDR:P/1.1\r\n\r\nHDR:HTTP/1.1 200 OK\r\n\r\n"},
		{"client's bytes, the retransmission left out", string(v.Sent("client")), "GET / HTTP/1.1\r\n\r\n"},
		{"server's bytes", string(v.Sent("server")), "HTTP/1.1 200 OK\r\n\r\n"},
		{"nobody's bytes", string(v.Sent("resolver")), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		v    *View
		want int
	}{
		{"whole run: two connection attempts, the SYN,ACK is none", v, 2},
		{"act 1", v.Act(1), 1},
		{"act 2", v.Act(2), 1},
	} {
		ss := tc.v.SYNs()
		if len(ss) != tc.want {
			t.Errorf("%s: %d SYNs, want %d", tc.name, len(ss), tc.want)
		}
		for _, p := range ss {
			if p.Flags != decode.SYN {
				t.Errorf("%s: SYNs() holds %v", tc.name, p.Flags)
			}
		}
	}
}
