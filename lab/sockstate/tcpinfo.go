package sockstate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/tcpstate"
)

// CAState is the congestion-avoidance state (tcpstate.CAState: the
// timeline carries it too).
type CAState = tcpstate.CAState

// Congestion-avoidance states as the kernel numbers them.
const (
	CAOpen     = tcpstate.CAOpen
	CADisorder = tcpstate.CADisorder
	CACWR      = tcpstate.CACWR
	CARecovery = tcpstate.CARecovery
	CALoss     = tcpstate.CALoss
)

// Lengths of struct tcp_info (linux/tcp.h) as the kernels that grew it send
// it. The struct only ever grows at the end, so a field is present exactly
// when [TCPInfo.Size] is at least the length of the version that added it.
const (
	TCPInfoSize2_6  = 104 // up to tcpi_total_retrans
	TCPInfoSize3_15 = 120 // + pacing_rate, max_pacing_rate
	TCPInfoSize4_1  = 136 // + bytes_acked, bytes_received
	TCPInfoSize4_2  = 144 // + segs_out, segs_in
	TCPInfoSize4_6  = 160 // + notsent_bytes, min_rtt, data_segs_in, data_segs_out
	TCPInfoSize4_9  = 168 // + delivery_rate (and the delivery_rate_app_limited bit)
	TCPInfoSize4_10 = 192 // + busy_time, rwnd_limited, sndbuf_limited
	TCPInfoSize4_18 = 200 // + delivered, delivered_ce
	TCPInfoSize4_19 = 224 // + bytes_sent, bytes_retrans, dsack_dups, reord_seen
	TCPInfoSize5_4  = 232 // + rcv_ooopack, snd_wnd
	TCPInfoSize6_2  = 240 // + rcv_wnd, rehash
	TCPInfoSize6_7  = 248 // + total_rto, total_rto_recoveries, total_rto_time
)

// TCPInfo is a socket's struct tcp_info (INET_DIAG_INFO) with the
// congestion-control attributes of the same reply.
//
// Every kernel sends at least the 2.6 struct. A field added later is present
// only if Size reaches the length of its version (the TCPInfoSize
// constants, named on each group below); an absent field is zero here, and
// zero then means "the kernel did not say", not zero: check Size (or
// [TCPInfo.Has] for the fields a lesson watches) before showing it. Fields
// the kernel added after Linux 6.7 are not read.
//
// Times are the kernel's microseconds (rtt, rttvar, rto, ato, rcv_rtt,
// min_rtt, busy times) or milliseconds (last_data_sent and friends, total_rto_time)
// as a Duration. Counts of segments are in segments, windows and queues in
// bytes unless said otherwise.
type TCPInfo struct {
	// Size is the length of the struct tcp_info the kernel sent, in bytes.
	Size int

	// Linux 2.6 (always present).
	CAState     CAState
	Retransmits uint8 // consecutive RTO retransmissions of the current segment
	Probes      uint8 // unanswered zero-window or keepalive probes
	Backoff     uint8 // exponential RTO backoff
	Options     uint8 // TCPI_OPT_* bits (timestamps, SACK, wscale, ECN, ...)
	SndWscale   uint8 // window scale the peer announced (applied to its windows)
	RcvWscale   uint8 // window scale we announced
	RTO, ATO    time.Duration
	SndMSS      uint32
	RcvMSS      uint32
	Unacked     uint32 // segments sent and not yet acknowledged (packets_out)
	Sacked      uint32 // segments SACKed by the peer
	Lost        uint32 // segments presumed lost
	Retrans     uint32 // retransmitted segments not yet acknowledged
	// Time since the last data segment sent, data received and ACK
	// received (tcpi_last_ack_sent is never filled in by Linux).
	LastDataSent, LastDataRecv, LastAckRecv time.Duration
	PMTU                                    uint32 // path MTU, bytes
	RcvSsthresh                             uint32 // receive window clamp of slow start, bytes
	RTT, RTTVar                             time.Duration
	SndSsthresh                             uint32 // slow-start threshold, segments; see SsthreshSet
	SndCwnd                                 uint32 // congestion window, segments
	AdvMSS                                  uint32
	Reordering                              uint32 // reordering degree the sender tolerates, segments
	RcvRTT                                  time.Duration
	RcvSpace                                uint32 // receive-buffer auto-tuning estimate
	TotalRetrans                            uint32 // retransmitted segments over the connection's life

	// Linux 3.15 (TCPInfoSize3_15). ^uint64(0) means "no limit".
	PacingRate, MaxPacingRate uint64 // bytes per second
	// Linux 4.1 (TCPInfoSize4_1).
	BytesAcked, BytesReceived uint64
	// Linux 4.2 (TCPInfoSize4_2).
	SegsOut, SegsIn uint32
	// Linux 4.6 (TCPInfoSize4_6).
	NotsentBytes            uint32
	MinRTT                  time.Duration
	DataSegsIn, DataSegsOut uint32
	// Linux 4.9 (TCPInfoSize4_9).
	DeliveryRate           uint64 // bytes per second
	DeliveryRateAppLimited bool   // the sample was limited by the application, not the network
	// Linux 4.10 (TCPInfoSize4_10).
	BusyTime, RwndLimited, SndbufLimited time.Duration
	// Linux 4.18 (TCPInfoSize4_18).
	Delivered, DeliveredCE uint32
	// Linux 4.19 (TCPInfoSize4_19).
	BytesSent, BytesRetrans uint64
	DSACKDups, ReordSeen    uint32
	// Linux 5.4 (TCPInfoSize5_4).
	RcvOOOPack uint32
	SndWnd     uint32 // peer's advertised receive window after scaling
	// Linux 6.2 (TCPInfoSize6_2).
	RcvWnd uint32 // window we advertise, after scaling
	Rehash uint32
	// Linux 6.7 (TCPInfoSize6_7).
	TotalRTO, TotalRTORecoveries uint16
	TotalRTOTime                 time.Duration

	// Congestion is the congestion-control algorithm's name as the kernel
	// reports it (INET_DIAG_CONG): "cubic", "bbr", "reno", ... It is ""
	// only if the kernel sent none; netlab never assumes a default.
	Congestion string
	// BBR is set by algorithms that report tcp_bbr_info (INET_DIAG_BBRINFO),
	// Vegas by those that report tcpvegas_info (INET_DIAG_VEGASINFO: vegas,
	// and veno, illinois and westwood, which reuse it); Present says which.
	BBR   BBRInfo
	Vegas VegasInfo
}

// InfiniteSsthresh is the slow-start threshold of a connection that has not
// left slow start yet (TCP_INFINITE_SSTHRESH).
const InfiniteSsthresh = 0x7fffffff

// SsthreshSet reports whether the kernel has set a slow-start threshold:
// false until the first loss or congestion signal (or, with bbr, its first
// estimate), when SndSsthresh is InfiniteSsthresh. ss prints no ssthresh
// then.
func (t *TCPInfo) SsthreshSet() bool { return t.SndSsthresh < InfiniteSsthresh }

// BBRInfo is struct tcp_bbr_info (linux/inet_diag.h).
type BBRInfo struct {
	Present bool
	// Bandwidth is BBR's estimate of the bottleneck bandwidth, bytes per second.
	Bandwidth uint64
	MinRTT    time.Duration
	// PacingGain and CwndGain are fixed point with 8 fractional bits
	// (256 = 1.0).
	PacingGain, CwndGain uint32
}

// VegasInfo is struct tcpvegas_info (linux/inet_diag.h).
type VegasInfo struct {
	Present     bool
	Enabled     bool
	RTTCount    uint32 // RTT samples in the last round trip
	RTT, MinRTT time.Duration
}

// Offsets into struct tcp_info (linux/tcp.h), checked against
// golang.org/x/sys/unix.TCPInfo by the tests.
const (
	tiCAState       = 1 // __u8
	tiRetransmits   = 2
	tiProbes        = 3
	tiBackoff       = 4
	tiOptions       = 5
	tiWscale        = 6 // __u8 tcpi_snd_wscale:4, tcpi_rcv_wscale:4
	tiAppLimited    = 7 // __u8 tcpi_delivery_rate_app_limited:1, ...
	tiRTO           = 8 // __u32
	tiATO           = 12
	tiSndMSS        = 16
	tiRcvMSS        = 20
	tiUnacked       = 24
	tiSacked        = 28
	tiLost          = 32
	tiRetrans       = 36
	tiLastDataSent  = 44
	tiLastDataRecv  = 52
	tiLastAckRecv   = 56
	tiPMTU          = 60
	tiRcvSsthresh   = 64
	tiRTT           = 68
	tiRTTVar        = 72
	tiSndSsthresh   = 76
	tiSndCwnd       = 80
	tiAdvMSS        = 84
	tiReordering    = 88
	tiRcvRTT        = 92
	tiRcvSpace      = 96
	tiTotalRetrans  = 100
	tiPacingRate    = 104 // __u64
	tiMaxPacingRate = 112
	tiBytesAcked    = 120
	tiBytesReceived = 128
	tiSegsOut       = 136 // __u32
	tiSegsIn        = 140
	tiNotsentBytes  = 144
	tiMinRTT        = 148
	tiDataSegsIn    = 152
	tiDataSegsOut   = 156
	tiDeliveryRate  = 160 // __u64
	tiBusyTime      = 168
	tiRwndLimited   = 176
	tiSndbufLimited = 184
	tiDelivered     = 192 // __u32
	tiDeliveredCE   = 196
	tiBytesSent     = 200 // __u64
	tiBytesRetrans  = 208
	tiDSACKDups     = 216 // __u32
	tiReordSeen     = 220
	tiRcvOOOPack    = 224
	tiSndWnd        = 228
	tiRcvWnd        = 232
	tiRehash        = 236
	tiTotalRTO      = 240 // __u16
	tiTotalRTORec   = 242
	tiTotalRTOTime  = 244 // __u32, ms
)

// parseTCPInfo decodes the fields of struct tcp_info that fit in b into in,
// leaving the congestion-control fields alone.
func parseTCPInfo(b []byte, in *TCPInfo) {
	ne := binary.NativeEndian
	u8 := func(off int) uint8 {
		if len(b) > off {
			return b[off]
		}
		return 0
	}
	u16 := func(off int) uint16 {
		if len(b) >= off+2 {
			return ne.Uint16(b[off:])
		}
		return 0
	}
	u32 := func(off int) uint32 {
		if len(b) >= off+4 {
			return ne.Uint32(b[off:])
		}
		return 0
	}
	u64 := func(off int) uint64 {
		if len(b) >= off+8 {
			return ne.Uint64(b[off:])
		}
		return 0
	}
	us := func(off int) time.Duration { return time.Duration(u32(off)) * time.Microsecond }
	us64 := func(off int) time.Duration { return time.Duration(u64(off)) * time.Microsecond }
	ms := func(off int) time.Duration { return time.Duration(u32(off)) * time.Millisecond }

	ws, flags := u8(tiWscale), u8(tiAppLimited)
	snd, rcv, appLimited := ws&0x0f, ws>>4, flags&1 != 0
	if isBigEndian() { // C compilers fill bitfields from the most significant bit there
		snd, rcv, appLimited = ws>>4, ws&0x0f, flags&0x80 != 0
	}
	in.Size = len(b)
	in.CAState = CAState(u8(tiCAState))
	in.Retransmits, in.Probes, in.Backoff, in.Options = u8(tiRetransmits), u8(tiProbes), u8(tiBackoff), u8(tiOptions)
	in.SndWscale, in.RcvWscale = snd, rcv
	in.RTO, in.ATO = us(tiRTO), us(tiATO)
	in.SndMSS, in.RcvMSS = u32(tiSndMSS), u32(tiRcvMSS)
	in.Unacked, in.Sacked, in.Lost, in.Retrans = u32(tiUnacked), u32(tiSacked), u32(tiLost), u32(tiRetrans)
	in.LastDataSent, in.LastDataRecv, in.LastAckRecv = ms(tiLastDataSent), ms(tiLastDataRecv), ms(tiLastAckRecv)
	in.PMTU, in.RcvSsthresh = u32(tiPMTU), u32(tiRcvSsthresh)
	in.RTT, in.RTTVar = us(tiRTT), us(tiRTTVar)
	in.SndSsthresh, in.SndCwnd, in.AdvMSS, in.Reordering = u32(tiSndSsthresh), u32(tiSndCwnd), u32(tiAdvMSS), u32(tiReordering)
	in.RcvRTT, in.RcvSpace, in.TotalRetrans = us(tiRcvRTT), u32(tiRcvSpace), u32(tiTotalRetrans)
	in.PacingRate, in.MaxPacingRate = u64(tiPacingRate), u64(tiMaxPacingRate)
	in.BytesAcked, in.BytesReceived = u64(tiBytesAcked), u64(tiBytesReceived)
	in.SegsOut, in.SegsIn = u32(tiSegsOut), u32(tiSegsIn)
	in.NotsentBytes, in.MinRTT = u32(tiNotsentBytes), us(tiMinRTT)
	in.DataSegsIn, in.DataSegsOut = u32(tiDataSegsIn), u32(tiDataSegsOut)
	in.DeliveryRate = u64(tiDeliveryRate)
	in.DeliveryRateAppLimited = appLimited && len(b) >= TCPInfoSize4_9
	in.BusyTime, in.RwndLimited, in.SndbufLimited = us64(tiBusyTime), us64(tiRwndLimited), us64(tiSndbufLimited)
	in.Delivered, in.DeliveredCE = u32(tiDelivered), u32(tiDeliveredCE)
	in.BytesSent, in.BytesRetrans = u64(tiBytesSent), u64(tiBytesRetrans)
	in.DSACKDups, in.ReordSeen = u32(tiDSACKDups), u32(tiReordSeen)
	in.RcvOOOPack, in.SndWnd = u32(tiRcvOOOPack), u32(tiSndWnd)
	in.RcvWnd, in.Rehash = u32(tiRcvWnd), u32(tiRehash)
	in.TotalRTO, in.TotalRTORecoveries, in.TotalRTOTime = u16(tiTotalRTO), u16(tiTotalRTORec), ms(tiTotalRTOTime)
}

// parseAttrs walks the netlink attributes of an inet_diag_msg and decodes
// the ones netlink asked for into info. It reads them in place: a dump of a
// thousand sockets allocates nothing here (netlink.AttributeDecoder makes a
// slice per message). hasInfo reports an INET_DIAG_INFO attribute.
func parseAttrs(b []byte, info *TCPInfo) (hasInfo bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < 4 {
			return false, fmt.Errorf("%d stray bytes after the last attribute", len(b))
		}
		n := int(ne.Uint16(b))
		if n < 4 || n > len(b) {
			return false, fmt.Errorf("attribute of %d bytes in %d", n, len(b))
		}
		typ, d := ne.Uint16(b[2:])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER), b[4:n]
		switch typ {
		case inetDiagInfo:
			parseTCPInfo(d, info)
			hasInfo = true
		case inetDiagCong:
			info.Congestion = congestionName(d)
		case inetDiagBBRInfo:
			info.BBR = parseBBRInfo(d)
		case inetDiagVegasInfo:
			info.Vegas = parseVegasInfo(d)
		}
		b = b[min(len(b), (n+unix.NLA_ALIGNTO-1)&^(unix.NLA_ALIGNTO-1)):]
	}
	return hasInfo, nil
}

// parseBBRInfo decodes struct tcp_bbr_info; a short attribute is ignored.
func parseBBRInfo(b []byte) BBRInfo {
	if len(b) < 20 {
		return BBRInfo{}
	}
	ne := binary.NativeEndian
	return BBRInfo{
		Present:    true,
		Bandwidth:  uint64(ne.Uint32(b[0:])) | uint64(ne.Uint32(b[4:]))<<32,
		MinRTT:     time.Duration(ne.Uint32(b[8:])) * time.Microsecond,
		PacingGain: ne.Uint32(b[12:]),
		CwndGain:   ne.Uint32(b[16:]),
	}
}

// parseVegasInfo decodes struct tcpvegas_info; a short attribute is ignored.
func parseVegasInfo(b []byte) VegasInfo {
	if len(b) < 16 {
		return VegasInfo{}
	}
	ne := binary.NativeEndian
	return VegasInfo{
		Present:  true,
		Enabled:  ne.Uint32(b[0:]) != 0,
		RTTCount: ne.Uint32(b[4:]),
		RTT:      time.Duration(ne.Uint32(b[8:])) * time.Microsecond,
		MinRTT:   time.Duration(ne.Uint32(b[12:])) * time.Microsecond,
	}
}

// congestionName returns the algorithm name of an INET_DIAG_CONG attribute
// (a NUL-terminated string). The names Linux ships come from a fixed table,
// so a dump allocates nothing for them; other names are copied.
func congestionName(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	switch string(b) { // no allocation: the compiler compares in place
	case "bbr":
		return "bbr"
	case "cubic":
		return "cubic"
	case "reno":
		return "reno"
	case "bic":
		return "bic"
	case "dctcp":
		return "dctcp"
	case "htcp":
		return "htcp"
	case "vegas":
		return "vegas"
	case "veno":
		return "veno"
	case "westwood":
		return "westwood"
	case "illinois":
		return "illinois"
	case "hybla":
		return "hybla"
	case "highspeed":
		return "highspeed"
	case "scalable":
		return "scalable"
	case "lp":
		return "lp"
	case "yeah":
		return "yeah"
	case "cdg":
		return "cdg"
	case "nv":
		return "nv"
	}
	return string(b)
}

// Watched is a set of the TCPInfo values a lesson follows; see
// [TCPInfo.Changed].
type Watched uint16

// The values lessons follow.
const (
	WatchCAState      Watched = 1 << iota // CAState
	WatchCwnd                             // SndCwnd
	WatchSsthresh                         // SndSsthresh
	WatchRTT                              // RTT (smoothed)
	WatchRetransmits                      // Retransmits
	WatchTotalRetrans                     // TotalRetrans
	WatchLost                             // Lost
	WatchRTO                              // RTO
	WatchSndWnd                           // SndWnd (Linux 5.4+)
	WatchCongestion                       // Congestion, the algorithm's name
	WatchReordering                       // Reordering, ReordSeen, DSACKDups: what the sender learns of reordering

	// WatchAll is every value a lesson follows.
	WatchAll = WatchReordering<<1 - 1
)

var watchedNames = [...]string{
	"ca_state", "cwnd", "ssthresh", "rtt", "retransmits", "total_retrans", "lost", "rto", "snd_wnd", "cong", "reordering",
}

// String lists the values as "cwnd|ssthresh", with the kernel's names.
func (w Watched) String() string {
	var parts []string
	for i, name := range watchedNames {
		if w&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if rest := w &^ WatchAll; rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint16(rest)))
	}
	return strings.Join(parts, "|")
}

// Has reports which of w the reading carries: all but snd_wnd (Linux 5.4)
// are in every kernel's tcp_info, and the algorithm's name is there when the
// kernel sent INET_DIAG_CONG. A nil reading (TIME-WAIT, orphaned FIN-WAIT-2,
// SYN-RECEIVED request sockets: no tcp_info at all) has none.
func (t *TCPInfo) Has(w Watched) Watched {
	if t == nil {
		return 0
	}
	has := WatchAll
	if t.Size < TCPInfoSize5_4 {
		has &^= WatchSndWnd
	}
	if t.Congestion == "" {
		has &^= WatchCongestion
	}
	return w & has
}

// Changed returns the values of w that differ between prev and t: a value
// present in one reading and absent in the other (or the reading itself,
// nil for no tcp_info) counts as changed, one absent in both does not.
// A later engine step emits a reading only when this is non-zero.
func (t *TCPInfo) Changed(prev *TCPInfo, w Watched) Watched {
	hasT, hasP := t.Has(w), prev.Has(w)
	changed := hasT ^ hasP
	both := hasT & hasP
	if both == 0 {
		return changed
	}
	diff := func(f Watched, d bool) {
		if both&f != 0 && d {
			changed |= f
		}
	}
	diff(WatchCAState, t.CAState != prev.CAState)
	diff(WatchCwnd, t.SndCwnd != prev.SndCwnd)
	diff(WatchSsthresh, t.SndSsthresh != prev.SndSsthresh)
	diff(WatchRTT, t.RTT != prev.RTT)
	diff(WatchRetransmits, t.Retransmits != prev.Retransmits)
	diff(WatchTotalRetrans, t.TotalRetrans != prev.TotalRetrans)
	diff(WatchLost, t.Lost != prev.Lost)
	diff(WatchRTO, t.RTO != prev.RTO)
	diff(WatchSndWnd, t.SndWnd != prev.SndWnd)
	diff(WatchCongestion, t.Congestion != prev.Congestion)
	diff(WatchReordering, t.Reordering != prev.Reordering || t.ReordSeen != prev.ReordSeen || t.DSACKDups != prev.DSACKDups)
	return changed
}
