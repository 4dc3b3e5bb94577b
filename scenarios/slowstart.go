package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/timeline"
)

const (
	// slowStartDelay is the wire's one-way delay: a 20 ms round trip,
	// long enough to tell one flight of segments from the next.
	slowStartDelay = 10 * time.Millisecond
	// slowStartBytes is four flights of full segments: 10, 20, 40 and 80.
	slowStartBytes   = 150 * 1448
	slowStartFlights = 4
	// slowStartAlgorithm is classic slow start: one segment more per
	// segment acknowledged, so the window doubles each round trip.
	slowStartAlgorithm = "reno"
)

// SlowStart: a bulk transfer on a 20 ms wire. The sender's congestion
// window, read from its kernel, starts at 10 segments and doubles each
// round trip; the capture shows it as flights of segments twice as long.
var SlowStart = lesson.Define(lesson.Scenario{
	Name:    "slow-start",
	Title:   i18n.T("Slow start: the congestion window doubles each round trip", "慢启动:拥塞窗口每个往返翻一倍"),
	Summary: i18n.T("212 KiB on a 20 ms wire with reno: cwnd from the kernel starts at 10 segments and doubles every round trip; the capture shows flights of 10, 20, 40, 80 segments", "在 20 ms 的线路上用 reno 发 212 KiB:内核的 cwnd 从 10 个报文段开始,每个往返翻倍;抓包看到 10、20、40、80 个报文段的一批批发送"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:   1,
		Impair: [2]wire.Impairment{{Delay: slowStartDelay}, {Delay: slowStartDelay}},
	},
	Lesson: i18n.T(`A new connection knows nothing of the network between its two hosts. Were it to send everything at once it could overflow a queue on the way and lose most of it. So the sender starts small and probes. Its congestion window (cwnd) is how many segments it lets be in flight, sent and not yet acknowledged; no header carries it, only the sender's kernel knows it. Linux starts at 10 segments (RFC 6928; older RFCs said 1 to 4). In slow start each segment acknowledged adds one segment to cwnd, so a whole flight acknowledged doubles it. "Slow" is a misnomer: the growth is exponential, slow only next to sending everything at once.

This run sends 212 KiB across a lab wire with a 20 ms round trip, with reno, the classic algorithm (this kernel's default may be another: the socket asks for reno with TCP_CONGESTION, and the kernel's reading names the algorithm it really used). Watch the capture: the client sends a flight of segments back to back, then waits a round trip for their ACKs, and each ACK lets it send two more. Flights of 10, 20, 40, 80 segments. Next to the packets are the kernel's own readings of cwnd (tcp_info), keeping pace. A sender may have in flight only the smaller of two windows: its cwnd (what the network seems to take) and the receiver's advertised window (what the receiver can take: flow control). Here the server's host gives its sockets a 4 MiB receive buffer (net.ipv4.tcp_rmem), so the receiver's window is never the smaller and cwnd alone decides; a check confirms it.

ssthresh stays unset: nothing was lost, so slow start never ended. The first loss would set ssthresh to about half the window and switch to congestion avoidance, one segment more per round trip.`,
		`新连接对两台主机之间的网络一无所知。要是一下子把所有数据都发出去,可能会撑爆路上的某个队列,丢掉大部分。所以发送方从小处开始试探。它的拥塞窗口(cwnd)是它允许在途(已发送、未确认)的报文段数;没有哪个报头携带它,只有发送方的内核知道。Linux 从 10 个报文段开始(RFC 6928;更早的 RFC 说 1 到 4 个)。慢启动时每确认一个报文段,cwnd 就加一个报文段,所以一整批被确认,cwnd 就翻一倍。"慢"是个误称:增长是指数级的,只是比起一下子全发出去才算慢。

这次运行在往返 20 ms 的实验线路上用 reno(经典算法)发送 212 KiB(本机内核的默认算法可能是别的:套接字用 TCP_CONGESTION 要求 reno,内核的读数说明它实际用的算法)。看抓包:客户端连续发出一批报文段,然后等一个往返拿到它们的 ACK,每个 ACK 让它再发两个。一批批是 10、20、40、80 个报文段。报文旁边是内核自己读出的 cwnd(tcp_info),步调一致。发送方在途的数据只能是两个窗口中较小的那个:它的 cwnd(网络看来能承受多少)和接收方通告的窗口(接收方能接收多少,即流量控制)。这里服务器所在主机给套接字 4 MiB 的接收缓冲区(net.ipv4.tcp_rmem),所以接收方的窗口从来不是较小的那个,只由 cwnd 决定;有一项检查确认这一点。

ssthresh 一直没有设定:什么都没丢,所以慢启动从未结束。第一次丢包会把 ssthresh 设为窗口的一半左右,并转入拥塞避免:每个往返只加一个报文段。`),
	Run: func(s *session.Session) error {
		// A receive buffer of 4 MiB from the start, so that the
		// receiver's window never holds the sender back: cwnd alone
		// decides.
		if err := roomyReceiver(s); err != nil {
			return err
		}
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Step("The client connects with reno, TCP's classic congestion control.", "客户端用 reno(TCP 经典的拥塞控制)建立连接。")
		cli, srv, err := connectPair(s, ln, session.Congestion(slowStartAlgorithm))
		if err != nil {
			return err
		}
		if _, err := cli.Congestion(); err != nil {
			return err
		}
		s.Step(fmt.Sprintf("The client writes %d KiB at once; the server reads it all.", slowStartBytes>>10), fmt.Sprintf("客户端一次写入 %d KiB;服务器全部读完。", slowStartBytes>>10))
		if err := transferBulk(s, cli, srv, slowStartBytes); err != nil {
			return err
		}
		return closeBoth(cli, srv)
	},
	Checks: []check.Check{
		check.New("the client's socket used reno: the program read it back, and so does every tcp_info reading", "客户端套接字用的是 reno:程序读回的是它,每次 tcp_info 读数也是", func(v *check.View) (bool, i18n.Text) {
			asked := ""
			for _, a := range v.Calls(client, timeline.CallGetsockopt) {
				if name, ok := strings.CutPrefix(a.Detail, "TCP_CONGESTION="); ok {
					asked = name
				}
			}
			infos := v.TCPInfos(client)
			algs := map[string]bool{}
			for _, t := range infos {
				algs[t.Congestion] = true
			}
			ok := asked == slowStartAlgorithm && len(infos) > 0 && len(algs) == 1 && algs[slowStartAlgorithm]
			return ok, check.Say("getsockopt TCP_CONGESTION=%s; tcp_info: %s in %d readings", "getsockopt TCP_CONGESTION=%s;tcp_info:%s,共 %d 次读数",
				asked, strings.Join(slices.Sorted(maps.Keys(algs)), ", "), len(infos))
		}),
		check.New("the first flight is the initial window, 10 segments (RFC 6928), the kernel's first cwnd; ssthresh stays unset: no loss ended slow start", "第一批是初始窗口 10 个报文段(RFC 6928),也是内核的第一个 cwnd;ssthresh 始终未设定:没有丢包,慢启动就没有结束", func(v *check.View) (bool, i18n.Text) {
			fl, infos := flights(v, client), v.TCPInfos(client)
			cwnd0, ssthresh := uint32(0), uint32(0)
			if len(infos) > 0 {
				cwnd0 = infos[0].Cwnd
			}
			for _, t := range infos {
				ssthresh = max(ssthresh, t.Ssthresh)
			}
			ok := len(fl) > 0 && fl[0].segments == initialWindow && cwnd0 == initialWindow && ssthresh == 0
			return ok, check.Say("first flight %d segments; first cwnd %d; largest ssthresh %d (0: unset)", "第一批 %d 个报文段;第一个 cwnd %d;最大的 ssthresh %d(0:未设定)",
				firstFlight(fl), cwnd0, ssthresh)
		}).Clean(),
		check.New("each round trip the flight doubles: 10, 20, 40, 80 segments", "每个往返一批翻一倍:10、20、40、80 个报文段", func(v *check.View) (bool, i18n.Text) {
			fl := flights(v, client)
			ok := len(fl) == slowStartFlights
			for i := 1; ok && i < len(fl); i++ {
				r := float64(fl[i].segments) / float64(fl[i-1].segments)
				ok = r >= 1.7 && r <= 2.3
			}
			return ok, check.Say("flights of %s segments", "各批 %s 个报文段", flightList(fl))
		}).Clean(),
		check.New("the kernel's cwnd keeps pace with the flights: each reading lies between the flight sent before it and the flight after", "内核的 cwnd 与各批同步:每次读数都在它之前发出的那一批和之后那一批之间", func(v *check.View) (bool, i18n.Text) {
			fl := flights(v, client)
			ok := len(fl) > 0
			var seen []string
			for _, e := range v.Events() {
				t := e.TCPInfo
				if t == nil || t.Lane != client {
					continue
				}
				i := -1 // the latest flight with a segment sent before the reading
				for j, f := range fl {
					if f.last.Before(e.Time) {
						i = j
					}
				}
				lo, hi := initialWindow, initialWindow
				switch {
				case i >= 0 && i+1 < len(fl):
					lo, hi = fl[i].segments, fl[i+1].segments
				case i >= 0: // after the last flight, its ACKs may still grow cwnd
					lo, hi = fl[i].segments, 2*fl[i].segments
				case len(fl) > 0:
					hi = fl[0].segments
				}
				// 2 segments and 5%: a reading is taken while the ACKs
				// of a flight may still be arriving.
				ok = ok && int(t.Cwnd) >= lo-2-lo/20 && int(t.Cwnd) <= hi+2+hi/20
				seen = append(seen, fmt.Sprintf("%d≤%d≤%d", lo, t.Cwnd, hi))
			}
			return ok, check.Say("flight before ≤ cwnd ≤ flight after: %s", "之前一批 ≤ cwnd ≤ 之后一批:%s", strings.Join(seen, " "))
		}).Clean(),
		check.New("the receiver's window never held the sender back: each flight was smaller than the window the server advertised", "接收方的窗口从未拖住发送方:每一批都小于服务器通告的窗口", func(v *check.View) (bool, i18n.Text) {
			fl := flights(v, client)
			ok := len(fl) > 0
			var seen []string
			for _, f := range fl {
				ok = ok && f.segments < f.window
				seen = append(seen, fmt.Sprintf("%d<%d", f.segments, f.window))
			}
			return ok, check.Say("segments<window per flight: %s", "每批报文段数<窗口:%s", strings.Join(seen, " "))
		}).Clean(),
	},
})

// initialWindow is Linux's initial congestion window, in segments (RFC
// 6928's ten).
const initialWindow = 10

// flight is one round trip's worth of data segments: those the sender
// sent in answer to ACKs of the flight before (the first flight: those
// sent before any data was acknowledged), and the receiver's advertised
// window, in segments, when the flight began.
type flight struct {
	segments int
	window   int
	last     time.Time // when the flight's last segment was sent
}

// flights groups the lane's data segments by the ACK that released them:
// a segment belongs to the flight after the latest one acknowledged by the
// peer's segments it echoes (its TCP timestamp echo names the newest
// segment the sender had received from the peer). No clock is compared,
// so a busy machine that spreads a flight out cannot split or merge
// flights.
func flights(v *check.View, lane string) []flight {
	type sent struct {
		end    uint32 // sequence number after the segment
		flight int    // index into out
	}
	type peer struct {
		tsval  uint32
		acked  int // the latest flight the peer's segment acknowledged, -1: none
		window uint32
	}
	var segs []sent
	var peers []peer
	var out []flight
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil || !check.Original(p) || !p.Opts.TS:
		case p.Lab.From != lane && p.Flags.Has(decode.ACK):
			acked := -1
			for _, s := range segs {
				if s.end <= p.Flow.RelAck {
					acked = max(acked, s.flight)
				}
			}
			peers = append(peers, peer{p.Opts.TSVal, acked, p.Flow.WinBytes})
		case p.Lab.From == lane && p.PayloadLen > 0 && p.Flow.Expert&decode.Retransmission == 0:
			acked, window := -1, uint32(0)
			for _, q := range peers {
				if q.tsval <= p.Opts.TSEcr {
					acked, window = max(acked, q.acked), q.window
				}
			}
			f := acked + 1
			if f >= len(out) {
				out = append(out, flight{window: int(window) / p.PayloadLen})
				f = len(out) - 1
			}
			out[f].segments++
			out[f].last = e.Time
			segs = append(segs, sent{p.Flow.RelSeq + uint32(p.PayloadLen), f})
		}
	}
	return out
}

func firstFlight(fl []flight) int {
	if len(fl) == 0 {
		return 0
	}
	return fl[0].segments
}

func flightList(fl []flight) string {
	parts := make([]string, len(fl))
	for i, f := range fl {
		parts[i] = fmt.Sprint(f.segments)
	}
	return strings.Join(parts, ", ")
}
