package sockstate

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/tcpstate"
)

// TestTCPInfoLayout checks every hand-written tcp_info offset against
// golang.org/x/sys/unix.TCPInfo, and the version lengths against the offsets
// of the fields that begin each version.
func TestTCPInfoLayout(t *testing.T) {
	var ti unix.TCPInfo
	tests := []struct {
		name      string
		ours, ref uintptr
	}{
		{"ca_state", tiCAState, unsafe.Offsetof(ti.Ca_state)},
		{"retransmits", tiRetransmits, unsafe.Offsetof(ti.Retransmits)},
		{"probes", tiProbes, unsafe.Offsetof(ti.Probes)},
		{"backoff", tiBackoff, unsafe.Offsetof(ti.Backoff)},
		{"options", tiOptions, unsafe.Offsetof(ti.Options)},
		{"wscale", tiWscale, unsafe.Offsetof(ti.Options) + 1},
		{"app_limited", tiAppLimited, unsafe.Offsetof(ti.Options) + 2},
		{"rto", tiRTO, unsafe.Offsetof(ti.Rto)},
		{"ato", tiATO, unsafe.Offsetof(ti.Ato)},
		{"snd_mss", tiSndMSS, unsafe.Offsetof(ti.Snd_mss)},
		{"rcv_mss", tiRcvMSS, unsafe.Offsetof(ti.Rcv_mss)},
		{"unacked", tiUnacked, unsafe.Offsetof(ti.Unacked)},
		{"sacked", tiSacked, unsafe.Offsetof(ti.Sacked)},
		{"lost", tiLost, unsafe.Offsetof(ti.Lost)},
		{"retrans", tiRetrans, unsafe.Offsetof(ti.Retrans)},
		{"last_data_sent", tiLastDataSent, unsafe.Offsetof(ti.Last_data_sent)},
		{"last_data_recv", tiLastDataRecv, unsafe.Offsetof(ti.Last_data_recv)},
		{"last_ack_recv", tiLastAckRecv, unsafe.Offsetof(ti.Last_ack_recv)},
		{"pmtu", tiPMTU, unsafe.Offsetof(ti.Pmtu)},
		{"rcv_ssthresh", tiRcvSsthresh, unsafe.Offsetof(ti.Rcv_ssthresh)},
		{"rtt", tiRTT, unsafe.Offsetof(ti.Rtt)},
		{"rttvar", tiRTTVar, unsafe.Offsetof(ti.Rttvar)},
		{"snd_ssthresh", tiSndSsthresh, unsafe.Offsetof(ti.Snd_ssthresh)},
		{"snd_cwnd", tiSndCwnd, unsafe.Offsetof(ti.Snd_cwnd)},
		{"advmss", tiAdvMSS, unsafe.Offsetof(ti.Advmss)},
		{"reordering", tiReordering, unsafe.Offsetof(ti.Reordering)},
		{"rcv_rtt", tiRcvRTT, unsafe.Offsetof(ti.Rcv_rtt)},
		{"rcv_space", tiRcvSpace, unsafe.Offsetof(ti.Rcv_space)},
		{"total_retrans", tiTotalRetrans, unsafe.Offsetof(ti.Total_retrans)},
		{"pacing_rate", tiPacingRate, unsafe.Offsetof(ti.Pacing_rate)},
		{"max_pacing_rate", tiMaxPacingRate, unsafe.Offsetof(ti.Max_pacing_rate)},
		{"bytes_acked", tiBytesAcked, unsafe.Offsetof(ti.Bytes_acked)},
		{"bytes_received", tiBytesReceived, unsafe.Offsetof(ti.Bytes_received)},
		{"segs_out", tiSegsOut, unsafe.Offsetof(ti.Segs_out)},
		{"segs_in", tiSegsIn, unsafe.Offsetof(ti.Segs_in)},
		{"notsent_bytes", tiNotsentBytes, unsafe.Offsetof(ti.Notsent_bytes)},
		{"min_rtt", tiMinRTT, unsafe.Offsetof(ti.Min_rtt)},
		{"data_segs_in", tiDataSegsIn, unsafe.Offsetof(ti.Data_segs_in)},
		{"data_segs_out", tiDataSegsOut, unsafe.Offsetof(ti.Data_segs_out)},
		{"delivery_rate", tiDeliveryRate, unsafe.Offsetof(ti.Delivery_rate)},
		{"busy_time", tiBusyTime, unsafe.Offsetof(ti.Busy_time)},
		{"rwnd_limited", tiRwndLimited, unsafe.Offsetof(ti.Rwnd_limited)},
		{"sndbuf_limited", tiSndbufLimited, unsafe.Offsetof(ti.Sndbuf_limited)},
		{"delivered", tiDelivered, unsafe.Offsetof(ti.Delivered)},
		{"delivered_ce", tiDeliveredCE, unsafe.Offsetof(ti.Delivered_ce)},
		{"bytes_sent", tiBytesSent, unsafe.Offsetof(ti.Bytes_sent)},
		{"bytes_retrans", tiBytesRetrans, unsafe.Offsetof(ti.Bytes_retrans)},
		{"dsack_dups", tiDSACKDups, unsafe.Offsetof(ti.Dsack_dups)},
		{"reord_seen", tiReordSeen, unsafe.Offsetof(ti.Reord_seen)},
		{"rcv_ooopack", tiRcvOOOPack, unsafe.Offsetof(ti.Rcv_ooopack)},
		{"snd_wnd", tiSndWnd, unsafe.Offsetof(ti.Snd_wnd)},
		{"rcv_wnd", tiRcvWnd, unsafe.Offsetof(ti.Rcv_wnd)},
		{"rehash", tiRehash, unsafe.Offsetof(ti.Rehash)},
		{"total_rto", tiTotalRTO, unsafe.Offsetof(ti.Total_rto)},
		{"total_rto_recoveries", tiTotalRTORec, unsafe.Offsetof(ti.Total_rto_recoveries)},
		{"total_rto_time", tiTotalRTOTime, unsafe.Offsetof(ti.Total_rto_time)},
		// Each version's length is where the next version's first field begins.
		{"2.6 length", TCPInfoSize2_6, unsafe.Offsetof(ti.Pacing_rate)},
		{"3.15 length", TCPInfoSize3_15, unsafe.Offsetof(ti.Bytes_acked)},
		{"4.1 length", TCPInfoSize4_1, unsafe.Offsetof(ti.Segs_out)},
		{"4.2 length", TCPInfoSize4_2, unsafe.Offsetof(ti.Notsent_bytes)},
		{"4.6 length", TCPInfoSize4_6, unsafe.Offsetof(ti.Delivery_rate)},
		{"4.9 length", TCPInfoSize4_9, unsafe.Offsetof(ti.Busy_time)},
		{"4.10 length", TCPInfoSize4_10, unsafe.Offsetof(ti.Delivered)},
		{"4.18 length", TCPInfoSize4_18, unsafe.Offsetof(ti.Bytes_sent)},
		{"4.19 length", TCPInfoSize4_19, unsafe.Offsetof(ti.Rcv_ooopack)},
		{"5.4 length", TCPInfoSize5_4, unsafe.Offsetof(ti.Rcv_wnd)},
		{"6.2 length", TCPInfoSize6_2, unsafe.Offsetof(ti.Total_rto)},
		{"6.7 length", TCPInfoSize6_7, unsafe.Offsetof(ti.Received_ce)},
	}
	for _, tt := range tests {
		if tt.ours != tt.ref {
			t.Errorf("tcpi_%s at %d, unix.TCPInfo has it at %d", tt.name, tt.ours, tt.ref)
		}
	}
}

// refTCPInfo decodes a struct tcp_info independently of parseTCPInfo: by
// laying golang.org/x/sys/unix.TCPInfo over a zero-padded copy, then
// clearing what a struct of len(b) bytes does not carry.
func refTCPInfo(b []byte) TCPInfo {
	var ti unix.TCPInfo
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&ti)), unsafe.Sizeof(ti))
	copy(raw, b)
	us := func(v uint32) time.Duration { return time.Duration(v) * time.Microsecond }
	ms := func(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }
	in := TCPInfo{
		Size: len(b), CAState: CAState(ti.Ca_state), Retransmits: ti.Retransmits, Probes: ti.Probes,
		Backoff: ti.Backoff, Options: ti.Options, SndWscale: raw[6] & 0xf, RcvWscale: raw[6] >> 4,
		RTO: us(ti.Rto), ATO: us(ti.Ato), SndMSS: ti.Snd_mss, RcvMSS: ti.Rcv_mss,
		Unacked: ti.Unacked, Sacked: ti.Sacked, Lost: ti.Lost, Retrans: ti.Retrans,
		LastDataSent: ms(ti.Last_data_sent), LastDataRecv: ms(ti.Last_data_recv), LastAckRecv: ms(ti.Last_ack_recv),
		PMTU: ti.Pmtu, RcvSsthresh: ti.Rcv_ssthresh, RTT: us(ti.Rtt), RTTVar: us(ti.Rttvar),
		SndSsthresh: ti.Snd_ssthresh, SndCwnd: ti.Snd_cwnd, AdvMSS: ti.Advmss, Reordering: ti.Reordering,
		RcvRTT: us(ti.Rcv_rtt), RcvSpace: ti.Rcv_space, TotalRetrans: ti.Total_retrans,
		PacingRate: ti.Pacing_rate, MaxPacingRate: ti.Max_pacing_rate,
		BytesAcked: ti.Bytes_acked, BytesReceived: ti.Bytes_received, SegsOut: ti.Segs_out, SegsIn: ti.Segs_in,
		NotsentBytes: ti.Notsent_bytes, MinRTT: us(ti.Min_rtt), DataSegsIn: ti.Data_segs_in, DataSegsOut: ti.Data_segs_out,
		DeliveryRate: ti.Delivery_rate, DeliveryRateAppLimited: raw[7]&1 != 0 && len(b) >= TCPInfoSize4_9,
		BusyTime: time.Duration(ti.Busy_time) * time.Microsecond, RwndLimited: time.Duration(ti.Rwnd_limited) * time.Microsecond,
		SndbufLimited: time.Duration(ti.Sndbuf_limited) * time.Microsecond,
		Delivered:     ti.Delivered, DeliveredCE: ti.Delivered_ce, BytesSent: ti.Bytes_sent, BytesRetrans: ti.Bytes_retrans,
		DSACKDups: ti.Dsack_dups, ReordSeen: ti.Reord_seen, RcvOOOPack: ti.Rcv_ooopack, SndWnd: ti.Snd_wnd,
		RcvWnd: ti.Rcv_wnd, Rehash: ti.Rehash, TotalRTO: ti.Total_rto, TotalRTORecoveries: ti.Total_rto_recoveries,
		TotalRTOTime: ms(ti.Total_rto_time),
	}
	return in
}

// replyInfo returns the payload of the message's INET_DIAG_INFO attribute.
func replyInfo(t *testing.T, msg []byte) []byte {
	t.Helper()
	ad, err := netlink.NewAttributeDecoder(msg[sizeofMsg:])
	if err != nil {
		t.Fatal(err)
	}
	var info []byte
	for ad.Next() {
		if ad.Type() == inetDiagInfo {
			info = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		t.Fatal(err)
	}
	return info
}

// withInfoLength returns msg with its INET_DIAG_INFO attribute cut to n
// bytes, as an older kernel would send it.
func withInfoLength(t *testing.T, msg []byte, n int) []byte {
	t.Helper()
	ad, err := netlink.NewAttributeDecoder(msg[sizeofMsg:])
	if err != nil {
		t.Fatal(err)
	}
	ae := netlink.NewAttributeEncoder()
	for ad.Next() {
		d := ad.Bytes()
		if ad.Type() == inetDiagInfo {
			d = d[:n]
		}
		ae.Bytes(ad.Type(), d)
	}
	attrs, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), msg[:sizeofMsg]...), attrs...)
}

// Replies recorded from Linux 6.18 (go test -update -run TestTCPInfoMatchesKernel
// records them anew): a loopback connection after a 1 MiB transfer with bbr
// and with cubic, its listener, and a TIME-WAIT row.
var recordedReplies = []struct {
	file    string
	state   tcpstate.State
	cong    string // "" for no tcp_info at all
	bbr     bool
	minSize int
}{
	{"reply-established-bbr.bin", tcpstate.Established, "bbr", true, TCPInfoSize6_7},
	{"reply-established-cubic.bin", tcpstate.Established, "cubic", false, TCPInfoSize6_7},
	{"reply-listen.bin", tcpstate.Listen, "bbr", false, TCPInfoSize6_7},
	{"reply-timewait.bin", tcpstate.TimeWait, "", false, 0},
}

// TestParseRecordedReplies parses real replies and their tcp_info cut to
// each older kernel's length: every field the length carries decodes as
// unix.TCPInfo says, every other field is zero and reported absent.
func TestParseRecordedReplies(t *testing.T) {
	if isBigEndian() {
		t.Skip("replies were recorded on a little-endian machine")
	}
	sizes := []int{TCPInfoSize2_6, TCPInfoSize3_15, TCPInfoSize4_1, TCPInfoSize4_2, TCPInfoSize4_6,
		TCPInfoSize4_9, TCPInfoSize4_10, TCPInfoSize4_18, TCPInfoSize4_19, TCPInfoSize5_4,
		TCPInfoSize6_2, TCPInfoSize6_7}
	for _, rr := range recordedReplies {
		t.Run(rr.file, func(t *testing.T) {
			msg, err := os.ReadFile(filepath.Join("testdata", rr.file))
			if err != nil {
				t.Fatalf("%v (go test -update -run TestTCPInfoMatchesKernel records it)", err)
			}
			var c Conn
			var s Socket
			if err := c.parseMsg(msg, &s); err != nil {
				t.Fatal(err)
			}
			if s.State != rr.state {
				t.Errorf("state %v, want %v", s.State, rr.state)
			}
			if rr.cong == "" {
				if s.Info != nil {
					t.Fatalf("%v row has tcp_info %+v, want none", s.State, *s.Info)
				}
				if w := s.Info.Has(WatchAll); w != 0 {
					t.Errorf("absent reading has %v", w)
				}
				return
			}
			if s.Info == nil {
				t.Fatalf("%v row without tcp_info", s.State)
			}
			if s.Info.Size < rr.minSize {
				t.Errorf("tcp_info of %d bytes, want at least %d", s.Info.Size, rr.minSize)
			}
			if s.Info.Congestion != rr.cong || s.Info.BBR.Present != rr.bbr || s.Info.Vegas.Present {
				t.Errorf("congestion %q, BBR %+v, Vegas %+v; want %q, BBR present %v, no Vegas",
					s.Info.Congestion, s.Info.BBR, s.Info.Vegas, rr.cong, rr.bbr)
			}
			if rr.bbr && (s.Info.BBR.Bandwidth == 0 || s.Info.BBR.MinRTT == 0 || s.Info.BBR.CwndGain == 0) {
				t.Errorf("BBR info %+v has zeros", s.Info.BBR)
			}
			if rr.state == tcpstate.Established && (s.Info.SndCwnd == 0 || s.Info.RTT == 0 || s.Info.BytesAcked == 0 && s.Info.BytesReceived == 0) {
				t.Errorf("established reading %+v has zeros", *s.Info)
			}
			full := replyInfo(t, msg)
			for _, n := range append(sizes, len(full)) {
				var c Conn
				var got Socket
				if err := c.parseMsg(withInfoLength(t, msg, n), &got); err != nil {
					t.Fatalf("tcp_info of %d bytes: %v", n, err)
				}
				want := refTCPInfo(full[:n])
				want.Congestion, want.BBR, want.Vegas = s.Info.Congestion, s.Info.BBR, s.Info.Vegas
				if *got.Info != want {
					t.Errorf("tcp_info of %d bytes:\n got %+v\nwant %+v", n, *got.Info, want)
				}
				if has := got.Info.Has(WatchSndWnd) != 0; has != (n >= TCPInfoSize5_4) {
					t.Errorf("tcp_info of %d bytes: has snd_wnd %v", n, has)
				}
			}
		})
	}
}

func TestParseCongestionAttributes(t *testing.T) {
	ne := binary.NativeEndian
	u32s := func(vs ...uint32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			ne.PutUint32(b[4*i:], v)
		}
		return b
	}
	base := fixtureMsg{
		family: unix.AF_INET, state: tcpstate.Established,
		src: netip.MustParseAddrPort("10.0.0.1:40000"), dst: netip.MustParseAddrPort("10.0.0.2:80"),
	}
	tests := []struct {
		name  string
		attrs []fixtureAttr
		want  TCPInfo // Size, Congestion, BBR, Vegas only
	}{
		{"bbr", []fixtureAttr{
			{inetDiagInfo, fixtureInfo(TCPInfoSize2_6)},
			{inetDiagCong, []byte("bbr\x00")},
			{inetDiagBBRInfo, u32s(1250000, 1, 340, 739, 512)},
		}, TCPInfo{Size: TCPInfoSize2_6, Congestion: "bbr", BBR: BBRInfo{
			Present: true, Bandwidth: 1<<32 + 1250000, MinRTT: 340 * time.Microsecond, PacingGain: 739, CwndGain: 512,
		}}},
		{"vegas, attributes before tcp_info", []fixtureAttr{
			{inetDiagCong, []byte("vegas\x00")},
			{inetDiagVegasInfo, u32s(1, 7, 2000, 1500)},
			{inetDiagInfo, fixtureInfo(TCPInfoSize2_6)},
		}, TCPInfo{Size: TCPInfoSize2_6, Congestion: "vegas", Vegas: VegasInfo{
			Present: true, Enabled: true, RTTCount: 7, RTT: 2 * time.Millisecond, MinRTT: 1500 * time.Microsecond,
		}}},
		{"unknown algorithm name", []fixtureAttr{
			{inetDiagInfo, fixtureInfo(TCPInfoSize2_6)},
			{inetDiagCong, []byte("prague\x00")},
		}, TCPInfo{Size: TCPInfoSize2_6, Congestion: "prague"}},
		{"short bbr and vegas info ignored", []fixtureAttr{
			{inetDiagInfo, fixtureInfo(TCPInfoSize2_6)},
			{inetDiagBBRInfo, u32s(1, 2, 3, 4)},
			{inetDiagVegasInfo, u32s(1, 2, 3)},
		}, TCPInfo{Size: TCPInfoSize2_6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			m.attrs = tt.attrs
			var c Conn
			var s Socket
			if err := c.parseMsg(m.bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if s.Info == nil {
				t.Fatal("no tcp_info")
			}
			got := TCPInfo{Size: s.Info.Size, Congestion: s.Info.Congestion, BBR: s.Info.BBR, Vegas: s.Info.Vegas}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCAStateString(t *testing.T) {
	for s, want := range map[CAState]string{
		CAOpen: "Open", CADisorder: "Disorder", CACWR: "CWR", CARecovery: "Recovery", CALoss: "Loss", 7: "ca_state(7)",
	} {
		if got := s.String(); got != want {
			t.Errorf("CAState(%d).String() = %q, want %q", s, got, want)
		}
		if got, err := json.Marshal(s); err != nil || string(got) != `"`+want+`"` {
			t.Errorf("json.Marshal(CAState(%d)) = %s, %v; want %q", s, got, err, want)
		}
	}
}

func TestWatchedString(t *testing.T) {
	for w, want := range map[Watched]string{
		0: "", WatchCwnd: "cwnd", WatchCAState | WatchSsthresh: "ca_state|ssthresh",
		WatchCongestion | 1<<12: "cong|0x1000",
		WatchAll:                "ca_state|cwnd|ssthresh|rtt|retransmits|total_retrans|lost|rto|snd_wnd|cong|reordering",
	} {
		if got := w.String(); got != want {
			t.Errorf("Watched(%#x).String() = %q, want %q", uint16(w), got, want)
		}
	}
}

func TestChanged(t *testing.T) {
	base := TCPInfo{
		Size: TCPInfoSize6_7, CAState: CAOpen, SndCwnd: 10, SndSsthresh: 0x7fffffff, RTT: time.Millisecond,
		RTO: 201 * time.Millisecond, SndWnd: 65536, Congestion: "cubic",
		// Not watched: changes here must not count.
		BytesAcked: 1000, SegsOut: 12, PacingRate: 1e6,
	}
	with := func(f func(*TCPInfo)) *TCPInfo {
		in := base
		f(&in)
		return &in
	}
	old := &base
	tests := []struct {
		name      string
		prev, cur *TCPInfo
		watch     Watched
		want      Watched
	}{
		{"same", old, with(func(*TCPInfo) {}), WatchAll, 0},
		{"unwatched fields only", old, with(func(i *TCPInfo) { i.BytesAcked, i.SegsOut, i.PacingRate = 9, 9, 9 }), WatchAll, 0},
		{"cwnd", old, with(func(i *TCPInfo) { i.SndCwnd = 20 }), WatchAll, WatchCwnd},
		{"cwnd not watched", old, with(func(i *TCPInfo) { i.SndCwnd = 20 }), WatchAll &^ WatchCwnd, 0},
		{"loss", old, with(func(i *TCPInfo) {
			i.CAState, i.SndSsthresh, i.SndCwnd, i.Lost, i.TotalRetrans, i.Retransmits, i.RTO =
				CALoss, 5, 1, 4, 1, 1, 402*time.Millisecond
		}), WatchAll, WatchCAState | WatchSsthresh | WatchCwnd | WatchLost | WatchTotalRetrans | WatchRetransmits | WatchRTO},
		{"rtt", old, with(func(i *TCPInfo) { i.RTT += time.Microsecond }), WatchAll, WatchRTT},
		{"snd_wnd", old, with(func(i *TCPInfo) { i.SndWnd = 0 }), WatchAll, WatchSndWnd},
		{"algorithm", old, with(func(i *TCPInfo) { i.Congestion = "reno" }), WatchAll, WatchCongestion},
		{"snd_wnd absent in both", with(func(i *TCPInfo) { i.Size = TCPInfoSize4_19 }),
			with(func(i *TCPInfo) { i.Size, i.SndWnd = TCPInfoSize4_19, 1 }), WatchAll, 0},
		{"snd_wnd appears", with(func(i *TCPInfo) { i.Size = TCPInfoSize4_19 }), old, WatchAll, WatchSndWnd},
		{"tcp_info disappears", old, nil, WatchAll, WatchAll},
		{"tcp_info appears without algorithm", nil, with(func(i *TCPInfo) { i.Congestion = "" }), WatchAll, WatchAll &^ WatchCongestion},
		{"absent in both", nil, nil, WatchAll, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cur.Changed(tt.prev, tt.watch); got != tt.want {
				t.Errorf("Changed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestParseAttrsNoAlloc: reading a full reply's attributes allocates
// nothing, for the kernel's own algorithm names.
func TestParseAttrsNoAlloc(t *testing.T) {
	msg, err := os.ReadFile(filepath.Join("testdata", "reply-established-bbr.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var s Socket
	var info TCPInfo
	if n := testing.AllocsPerRun(100, func() {
		if _, err := parseMsg(msg, &s, &info); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("parseMsg allocates %v times per reply, want 0", n)
	}
	if info.Congestion != "bbr" {
		t.Errorf("Congestion %q, want bbr", info.Congestion)
	}
}

func TestParseAttrsErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		attrs []byte
	}{
		{"stray bytes", []byte{1, 2}},
		{"length below header", []byte{3, 0, 2, 0}},
		{"length beyond message", []byte{12, 0, 2, 0, 0, 0, 0, 0}},
	} {
		if _, err := parseAttrs(tt.attrs, new(TCPInfo)); err == nil {
			t.Errorf("%s: parseAttrs(% x) succeeded, want error", tt.name, tt.attrs)
		}
	}
}

func TestSsthreshSet(t *testing.T) {
	for v, want := range map[uint32]bool{0: true, 8: true, InfiniteSsthresh - 1: true, InfiniteSsthresh: false, ^uint32(0): false} {
		if got := (&TCPInfo{SndSsthresh: v}).SsthreshSet(); got != want {
			t.Errorf("SsthreshSet with ssthresh %#x = %v, want %v", v, got, want)
		}
	}
}
