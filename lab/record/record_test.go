package record_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/record"
	"github.com/netlab/netlab/lab/timeline"
)

func fixture(t *testing.T) *timeline.Timeline { return labtest.Sample(t, "testdata/handshake.pcapng") }

func TestJSONLinesSchema(t *testing.T) {
	tl := fixture(t)
	var buf bytes.Buffer
	j := record.NewJSON(&buf, i18n.En)
	if err := j.Run(tl.Meta()); err != nil {
		t.Fatal(err)
	}
	tl.All(func(e *timeline.Event) bool { j.Event(e); return true })
	sum, _ := tl.Closed()
	j.Summary(sum)

	required := map[string][]string{
		"run":     {"schema", "scenario", "lanes"},
		"packet":  {"proto", "src", "dst", "from", "to", "flags", "seq", "ack", "len", "win", "summary"},
		"state":   {"endpoint", "socket", "from", "to", "source", "timer", "expires_ms"},
		"app":     {"endpoint", "call", "bytes", "socket"},
		"note":    {"text"},
		"check":   {"name", "ok", "detail"},
		"summary": {"packets", "drops", "checks_passed", "checks_failed"},
	}
	seen := map[string]int{}
	lastID := -1
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		for _, k := range []string{"id", "t", "type"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %d lacks %q: %s", i+1, k, line)
			}
		}
		id := int(m["id"].(float64))
		if id <= lastID {
			t.Fatalf("line %d: id %d not increasing", i+1, id)
		}
		lastID = id
		typ := m["type"].(string)
		seen[typ]++
		for _, k := range required[typ] {
			if _, ok := m[k]; !ok {
				t.Errorf("%s line lacks %q: %s", typ, k, line)
			}
		}
		if typ == "packet" && seen[typ] == 1 {
			if fl := m["flags"].([]any); len(fl) != 1 || fl[0] != "SYN" || m["seq"].(float64) != 0 || m["from"] != "client" {
				t.Errorf("first packet: %s", line)
			}
		}
	}
	for typ := range required {
		if seen[typ] == 0 {
			t.Errorf("no %s line", typ)
		}
	}
	if seen["run"] != 1 || seen["summary"] != 1 || seen["packet"] != 6 {
		t.Errorf("line counts %v", seen)
	}
}

func TestPcapngRoundTrip(t *testing.T) {
	tl := fixture(t)
	path := filepath.Join(t.TempDir(), "out.pcapng")
	written, err := record.WritePcapng(path, tl, i18n.En)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var comments []string
	for {
		data, _, opts, err := r.ReadPacketDataWithOptions()
		if err != nil {
			break
		}
		want := tl.At(n + 2).Packet.Data // two events precede the first packet
		if !bytes.Equal(data, want) {
			t.Fatalf("packet %d bytes differ", n+1)
		}
		comments = append(comments, strings.Join(opts.Comments, " | "))
		n++
	}
	if n != 6 || written != n {
		t.Fatalf("read %d packets, WritePcapng said %d; want 6", n, written)
	}
	if !strings.Contains(comments[0], "narration: The client connects") || !strings.Contains(comments[0], "app client: connect") || !strings.Contains(comments[0], "SYN seq=0") {
		t.Errorf("first packet's comments: %q", comments[0])
	}
	if last := comments[n-1]; !strings.Contains(last, "TIME-WAIT") || !strings.Contains(last, "check ✓ first is SYN") {
		t.Errorf("events after the last packet go on it: %q", last)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := record.CheckWritable(filepath.Join(dir, "ok.pcapng")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.pcapng")); !os.IsNotExist(err) {
		t.Error("CheckWritable left a file behind")
	}
	err := record.CheckWritable(filepath.Join(dir, "missing", "x.pcapng"))
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("missing directory: %v", err)
	}
}

// TestJSONCheckDetailInLanguage: a check line's name and detail are strings
// in the chosen language, as schema v1 says.
func TestJSONCheckDetailInLanguage(t *testing.T) {
	e := &timeline.Event{Kind: timeline.KindCheck, Check: &timeline.Check{
		Name: i18n.T("both sides send FIN", "双方都发送了 FIN"), OK: true,
		Detail: i18n.T("client FIN 1, server FIN 1", "客户端 FIN 1 个,服务器 FIN 1 个"),
	}}
	for lang, want := range map[i18n.Lang][2]string{
		i18n.En: {"both sides send FIN", "client FIN 1, server FIN 1"},
		i18n.Zh: {"双方都发送了 FIN", "客户端 FIN 1 个,服务器 FIN 1 个"},
	} {
		var buf bytes.Buffer
		if err := record.NewJSON(&buf, lang).Event(e); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m["name"] != want[0] || m["detail"] != want[1] {
			t.Errorf("%s: %s", lang, buf.String())
		}
	}
}

// TestJSONTCPInfo: a tcp_info reading is a "tcpinfo" line with the
// kernel's names and units; ssthresh is absent until the kernel sets one.
func TestJSONTCPInfo(t *testing.T) {
	for _, tc := range []struct {
		ssthresh uint32
		bbr      *timeline.BBRModel
		pacing   uint64
		want     string
	}{
		{0, nil, 0, `"info":{"cong":"cubic","ca_state":"Recovery","cwnd":7,"rtt_us":10250,"rttvar_us":500,"rto_ms":212,"unacked":9,"lost":1,"retrans":1,"retransmits":0,"total_retrans":2,"reordering":3,"reord_seen":0,"dsack_dups":0,"snd_wnd":64512,"delivery_rate":1000000}`},
		{14, nil, 0, `"cwnd":7,"ssthresh":14,`},
		{0, &timeline.BBRModel{Bandwidth: 1254000, MinRTT: 12504 * time.Microsecond, PacingGain: 1.25, CwndGain: 2}, 1567500,
			`"delivery_rate":1000000,"pacing_rate":1567500,"bbr":{"bw":1254000,"min_rtt_us":12504,"pacing_gain":1.25,"cwnd_gain":2}}`},
	} {
		var buf bytes.Buffer
		j := record.NewJSON(&buf, i18n.En)
		e := &timeline.Event{ID: 5, Kind: timeline.KindTCPInfo, TCPInfo: &timeline.TCPInfo{
			Lane: "client", Congestion: "cubic", CAState: 3, Cwnd: 7, Ssthresh: tc.ssthresh, RTT: 10250 * time.Microsecond, RTTVar: 500 * time.Microsecond,
			RTO: 212 * time.Millisecond, Unacked: 9, Lost: 1, Retrans: 1, TotalRetrans: 2, Reordering: 3, SndWnd: 64512, DeliveryRate: 1e6,
			PacingRate: tc.pacing, BBR: tc.bbr,
		}}
		if err := j.Event(e); err != nil {
			t.Fatal(err)
		}
		got := buf.String()
		if !strings.Contains(got, `"type":"tcpinfo"`) || !strings.Contains(got, `"endpoint":"client"`) || !strings.Contains(got, tc.want) {
			t.Errorf("line %s\nwant it to contain %s", got, tc.want)
		}
	}
}
