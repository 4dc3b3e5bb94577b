package scenarios

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
)

const (
	// congRate is the bottleneck: the client's direction of the wire
	// carries 10 Mbit/s (Ethernet headers included).
	congRate = 10_000_000
	// congDelay each way: a 10 ms round trip when the queue is empty.
	congDelay = 5 * time.Millisecond
	// congQueue is the bottleneck's queue, in frames: eight times the
	// path's bandwidth-delay product (8 full frames), 77 ms to drain.
	congQueue = 64
	congBytes = 5 << 20
	// congPort is the bulk transfer's server port: the measurements are of
	// its connection only.
	congPort = 8888
)

// congWire is the congestion lessons' path: a rate-limited direction with
// a finite tail-drop queue towards the server, a plain delay back.
func congWire(queue int) *[2]wire.Impairment {
	return &[2]wire.Impairment{
		wire.AtoB: {Delay: congDelay, Rate: congRate, Queue: queue},
		wire.BtoA: {Delay: congDelay},
	}
}

// Congestion: reno, cubic and bbr, one after another, each moving 5 MiB
// through the same 10 Mbit/s bottleneck with a 64-frame queue.
var Congestion = lesson.Define(lesson.Scenario{
	Name:    "congestion",
	Title:   i18n.T("Congestion control: reno, cubic and bbr on one bottleneck", "拥塞控制:reno、cubic 与 bbr 同走一个瓶颈"),
	Summary: i18n.T("5 MiB each through a 10 Mbit/s wire with a 64-frame queue: reno halves its window at each loss, cubic backs off to 70%, bbr loses nothing and queues less, though not nothing; throughput, losses and queueing side by side", "各自通过 10 Mbit/s、队列 64 帧的线路发送 5 MiB:reno 每次丢包把窗口减半,cubic 退到 70%,bbr 不丢包、排队更短,但并非不排队;吞吐量、丢包和排队并排比较"),
	Lanes:   []string{client, server},
	Wire:    &wire.Config{Seed: 1, Impair: *congWire(congQueue)},
	Lesson: i18n.T(`Every path has a narrowest link, the bottleneck, and in front of it a queue. A sender that sends faster than the bottleneck fills the queue: its packets wait longer and longer (the round trip grows), and when the queue is full the next packet is dropped (a tail drop). Congestion control is how a sender decides how much to have in flight without being told the bottleneck's speed. The kernel keeps it in the congestion window, cwnd, which no header carries; netlab reads it from the kernel (tcp_info) next to the packets.

This run's bottleneck is the lab wire itself: 10 Mbit/s towards the server, a 5 ms delay each way (10 ms round trip with an empty queue) and a queue of 64 frames. The path holds 10 Mbit/s × 10 ms ≈ 12.5 KB, 8 full frames, in flight; the queue holds eight times that, and full it adds 77 ms to every round trip. The client sends 5 MiB three times, on three connections, each with another algorithm (TCP_CONGESTION, read back from the kernel).

Loss-based algorithms (reno, cubic) grow cwnd until the queue overflows, then cut it: they keep the queue full and learn of congestion only by losing packets. Model-based bbr measures the bottleneck's rate and the path's smallest round trip and paces its sending at that rate: it does not need a loss to find the limit. The whole-run check sets the three side by side: throughput, retransmissions, tail drops, the kernel's smoothed RTT and how long the client's packets waited in the queue.`,
		`每条路径上都有一段最窄的链路,即瓶颈,它前面有一个队列。发送方发得比瓶颈快,队列就会被填满:报文等得越来越久(往返时间变长),队列满了下一个报文就被丢掉(尾部丢弃)。拥塞控制就是发送方在没人告诉它瓶颈速度的情况下,决定让多少数据在途的办法。内核把它记在拥塞窗口 cwnd 里,任何报头都不携带它;netlab 从内核(tcp_info)读出它,放在报文旁边。

这次运行的瓶颈就是实验线路本身:通往服务器的方向 10 Mbit/s,单向时延 5 ms(队列为空时往返 10 ms),队列 64 帧。这条路径能容纳 10 Mbit/s × 10 ms ≈ 12.5 KB,即 8 个满帧在途;队列能再装八倍,装满时给每个往返增加 77 ms。客户端发三次 5 MiB,用三个连接,每个连接换一种算法(TCP_CONGESTION,从内核读回)。

基于丢包的算法(reno、cubic)一直增大 cwnd 直到队列溢出,然后削减它:它们让队列保持满的状态,只有丢了包才知道拥塞。基于模型的 bbr 测量瓶颈的速率和路径的最小往返时间,按这个速率均匀发送:它不需要丢包就能找到上限。整次运行的检查把三者并排比较:吞吐量、重传、尾部丢弃、内核的平滑 RTT,以及客户端的报文在队列里等了多久。`),
	Acts: []*lesson.Act{congReno, congCubic, congBBR},
	Run: func(s *session.Session) error {
		if err := roomyReceiver(s); err != nil {
			return err
		}
		ln, err := s.Listen(server, congPort)
		if err != nil {
			return err
		}
		for _, a := range []struct {
			act *lesson.Act
			alg string
		}{{congReno, "reno"}, {congCubic, "cubic"}, {congBBR, "bbr"}} {
			s.Act(a.act)
			s.Step(fmt.Sprintf("The client connects with %s and sends %d MiB; the server reads it all.", a.alg, congBytes>>20),
				fmt.Sprintf("客户端用 %s 建立连接,发送 %d MiB;服务器全部读完。", a.alg, congBytes>>20))
			if err := sendBulk(s, ln, congBytes, a.alg); err != nil {
				return err
			}
		}
		return nil
	},
	Checks: []check.Check{
		check.New("side by side: each algorithm kept the bottleneck busy, reno and cubic lost packets each time they filled the queue, and bbr's packets waited in it less than theirs (how much less depends on how evenly the machine delivers the ACKs: bbr makes room for ACKs that come in bursts)", "并排比较:每种算法都让瓶颈保持忙碌,reno 和 cubic 每次填满队列都丢包,bbr 的报文在队列里的等待比它们短(短多少取决于机器递送 ACK 是否均匀:bbr 会给成批到达的 ACK 留出余量)", func(v *check.View) (bool, i18n.Text) {
			var rows []string
			var runs []congRun
			for _, a := range []*lesson.Act{congReno, congCubic, congBBR} {
				r := congMeasure(v.Act(a.ActNumber()), congBytes)
				runs = append(runs, r)
				rows = append(rows, r.row())
			}
			ok := len(runs) == 3
			for _, r := range runs {
				ok = ok && r.busy()
			}
			reno, cubic, bbr := runs[0], runs[1], runs[2]
			ok = ok && reno.drops > 0 && cubic.drops > 0 &&
				bbr.queueDelayMedian > 0 && bbr.queueDelayMedian < min(reno.queueDelayMedian, cubic.queueDelayMedian)
			return ok, check.Say("%s", "%s", strings.Join(rows, "; "))
		}).Clean(),
	},
})

// congRun is what one act's transfer shows: the algorithm the kernel
// reported, the goodput over the second half of the data, the client's
// retransmitted segments and the wire's tail drops, the kernel's smoothed
// round trip (median of its readings over the second half) and its least,
// and each cut of the window after a loss: cwnd before, ssthresh after.
type congRun struct {
	alg              string
	goodput          float64 // bytes per second
	retrans, drops   int
	rtt, minRTT      time.Duration
	cuts             []cwndCut
	queueDelayMedian time.Duration
	// cwnd and cwndMax: the kernel's median and largest cwnd over the
	// second half, in segments.
	cwnd, cwndMax uint32
	// bbrBW is bbr's own estimate of the bottleneck (tcp_bbr_info), bytes
	// per second, median over the second half; 0 for other algorithms.
	bbrBW uint64
}

type cwndCut struct{ before, after uint32 }

func congMeasure(v *check.View, total int) congRun {
	r := congRun{}
	var half time.Time
	r.goodput, half = secondHalfRate(v, client, total)
	var rtts, queued []time.Duration
	var cwnds []uint32 // segments
	var bws []uint64   // bytes per second
	var peak uint32
	inRecovery := false
	for _, e := range v.Events() {
		if p := e.Packet; p != nil && p.Lab.From == client && p.PayloadLen > 0 && p.Dst.Port() == congPort {
			if p.Flow.Expert&decode.Retransmission != 0 {
				r.retrans++
			}
			if p.Lab.Wire.Rule == wire.RuleQueue {
				r.drops++
			}
			if d := p.Lab.Wire.InFlight(e.Time); d > 0 && !half.IsZero() && e.Time.After(half) {
				queued = append(queued, max(d-congDelay, 0))
			}
		}
		t := e.TCPInfo
		if t == nil || t.Lane != client || t.Socket.Remote.Port() != congPort {
			continue
		}
		r.alg = t.Congestion
		if !half.IsZero() && e.Time.After(half) && t.RTT > 0 {
			rtts = append(rtts, t.RTT)
			cwnds = append(cwnds, t.Cwnd)
			r.cwndMax = max(r.cwndMax, t.Cwnd)
			if t.BBR != nil && t.BBR.Bandwidth > 0 {
				bws = append(bws, t.BBR.Bandwidth)
			}
		}
		if t.MinRTT > 0 && (r.minRTT == 0 || t.MinRTT < r.minRTT) {
			r.minRTT = t.MinRTT
		}
		lossy := t.CAState == tcpstate.CARecovery || t.CAState == tcpstate.CALoss
		switch {
		case lossy && !inRecovery:
			r.cuts = append(r.cuts, cwndCut{peak, t.Ssthresh})
			inRecovery, peak = true, 0
		case !lossy:
			inRecovery = false
			peak = max(peak, t.Cwnd)
		}
	}
	r.rtt = median(rtts)
	r.queueDelayMedian = median(queued)
	r.cwnd = median(cwnds)
	r.bbrBW = median(bws)
	return r
}

// goodputMax is the most data the bottleneck carries: 1448 bytes of each
// 1514-byte frame (Ethernet, IP and TCP headers with timestamps).
const goodputMax = float64(congRate) / 8 * 1448 / 1514

// busy: the transfer's second half ran at three quarters of the
// bottleneck's rate at least.
func (r congRun) busy() bool { return r.goodput >= 0.75*goodputMax }

func (r congRun) row() string {
	return fmt.Sprintf("%s: %.1f Mbit/s, %d retransmitted, %d tail drops, RTT %s ms (min %s), queue %s ms",
		r.alg, r.goodput*8/1e6, r.retrans, r.drops, fmtMS(r.rtt), fmtMS(r.minRTT), fmtMS(r.queueDelayMedian))
}

// cutsLike reports whether each cut set ssthresh to share of the window
// that lost (± 0.12), and there were at least least cuts. The first cut
// ends slow start, when cwnd grows fastest: the reading before it may be
// a little old, so its window is at most the one that lost and only a
// share too small counts against it.
func (r congRun) cutsLike(share float64, least int) bool {
	ok := len(r.cuts) >= least
	for i, c := range r.cuts {
		x := float64(c.after) / float64(max(c.before, 1))
		ok = ok && x >= share-0.12 && (i == 0 || x <= share+0.12)
	}
	return ok
}

func (r congRun) cutList() string {
	var parts []string
	for _, c := range r.cuts {
		parts = append(parts, fmt.Sprintf("%d→%d", c.before, c.after))
	}
	return strings.Join(parts, " ")
}

// cutCheck: after each loss past slow start, ssthresh is about share of
// the window that lost.
func cutCheck(alg string, share float64, least int, en, zh string) check.Check {
	return check.New(en, zh, func(v *check.View) (bool, i18n.Text) {
		r := congMeasure(v, congBytes)
		return r.alg == alg && r.cutsLike(share, least), check.Say("%s; window cuts (cwnd→ssthresh): %s", "%s;窗口削减(cwnd→ssthresh):%s", r.row(), r.cutList())
	}).Clean()
}

var congReno = &lesson.Act{
	Title: i18n.T("reno: add one, halve on loss.", "reno:加一,丢包减半。"),
	Lesson: i18n.T(`reno (RFC 5681): after slow start, one segment more per round trip (additive increase); when a loss is detected by duplicate ACKs, ssthresh and cwnd go to half the window (multiplicative decrease). The cwnd graph is a sawtooth: a slow climb until the queue overflows, a drop to half, again.`,
		`reno(RFC 5681):慢启动之后每个往返只加一个报文段(加性增);通过重复 ACK 发现丢包时,ssthresh 和 cwnd 都降到窗口的一半(乘性减)。cwnd 的图是锯齿:缓慢爬升直到队列溢出,降到一半,周而复始。`),
	Checks: []check.Check{
		cutCheck("reno", 0.5, 2, "after each loss the kernel sets ssthresh to about half the window that lost", "每次丢包后内核把 ssthresh 设为丢包时窗口的一半左右"),
	},
}

var congCubic = &lesson.Act{
	Title: i18n.T("cubic: back off to 70%, then a cubic curve.", "cubic:退到 70%,再沿三次曲线增长。"),
	Lesson: i18n.T(`cubic (RFC 9438, the default of most Linux distributions): on loss it cuts the window to 70% (β = 0.7), not half; then its window follows a cubic function of the time since the loss: fast at first, flattening as it nears the window that lost, then probing beyond it faster and faster.`,
		`cubic(RFC 9438,多数 Linux 发行版的默认算法):丢包时把窗口降到 70%(β = 0.7),而不是一半;之后窗口是距上次丢包时间的三次函数:起初增长快,接近丢包时的窗口时变平,越过之后又越来越快地试探。`),
	Checks: []check.Check{
		cutCheck("cubic", 0.7, 1, "after each loss the kernel sets ssthresh to about 70% of the window that lost (β = 0.7)", "每次丢包后内核把 ssthresh 设为丢包时窗口的 70% 左右(β = 0.7)"),
	},
}

var congBBR = &lesson.Act{
	Title: i18n.T("bbr: pace at the bottleneck's rate, in flight capped by its model.", "bbr:按瓶颈速率发送,在途数据由它的模型封顶。"),
	Lesson: i18n.T(`bbr (Bottleneck Bandwidth and Round-trip propagation time): it estimates the bottleneck's delivery rate (the largest recent sample) and the path's least round trip, paces its sending at that rate and caps what is in flight at about twice their product, plus room for ACKs that arrive in bursts. Loss is not its signal, so its window has no sawtooth. It is often said to keep the queue empty. This run says otherwise, and says why. The kernel reports bbr's model (tcp_bbr_info): its bandwidth estimate is close to the wire's, but a max over recent samples, and a few per cent above the true rate is enough for a queue to build while it paces at that rate; only its cwnd then stops the growth, and bbr's cwnd, read from the kernel, stays well above the path's bandwidth-delay product. What is in flight beyond one product waits in the queue: shorter than reno's and cubic's, but not empty. The checks measure all three: the estimate, the cwnd and the wait.`,
		`bbr(Bottleneck Bandwidth and Round-trip propagation time):它估计瓶颈的交付速率(近期最大的样本)和路径的最小往返时间,按这个速率均匀发送,把在途数据限制在两者乘积的两倍左右,再留一些余量给成批到达的 ACK。丢包不是它的信号,所以它的窗口没有锯齿。常有人说它让队列保持为空。这次运行给出了不同的结果,也说明了原因。内核报告 bbr 的模型(tcp_bbr_info):它的带宽估计接近线路的速率,但取的是近期样本的最大值,只要比真实速率高几个百分点,按这个速率发送队列就会积起来;这时只有 cwnd 能让它停止增长,而从内核读出的 bbr 的 cwnd 一直远大于路径的带宽时延积。在途数据超出一个乘积的部分都在队列里等待:比 reno 和 cubic 的短,但不是空的。检查把三者都量出来:估计值、cwnd 和等待时间。`),
	Checks: []check.Check{
		check.New("bbr never overflows the queue: no tail drops, and its window has no cuts", "bbr 从未让队列溢出:没有尾部丢弃,窗口也没有被削减", func(v *check.View) (bool, i18n.Text) {
			r := congMeasure(v, congBytes)
			return r.alg == "bbr" && r.drops == 0 && len(r.cuts) == 0, check.Say("%s; window cuts: %d", "%s;窗口削减:%d 次", r.row(), len(r.cuts))
		}).Clean(),
		check.New("bbr measures the bottleneck: its own bandwidth estimate (tcp_bbr_info) is within 15% of the wire's data rate (9.56 of its 10 Mbit/s)", "bbr 测出了瓶颈:它自己的带宽估计(tcp_bbr_info)与线路的数据速率(10 Mbit/s 中的 9.56)相差不到 15%", func(v *check.View) (bool, i18n.Text) {
			r := congMeasure(v, congBytes)
			ratio := float64(r.bbrBW) / goodputMax
			return r.alg == "bbr" && ratio >= 0.85 && ratio <= 1.15, check.Say("bbr's estimate %s, the wire's data rate %s (%.0f%%)", "bbr 的估计 %s,线路的数据速率 %s(%.0f%%)",
				render.Mbits(r.bbrBW), render.Mbits(uint64(math.Round(goodputMax))), 100*ratio)
		}).Clean(),
		check.New("bbr's cwnd, not the queue, caps its flight: the kernel's cwnd (median over the second half) is below what the path and the queue hold, and its packets wait about as long as the part of cwnd beyond the path's bandwidth-delay product takes to drain", "限制 bbr 在途数据的是 cwnd 而不是队列:内核的 cwnd(后一半的中位数)小于路径加队列能容纳的量,报文在队列里的等待约等于 cwnd 超出带宽时延积的部分排空所需的时间", func(v *check.View) (bool, i18n.Text) {
			r := congMeasure(v, congBytes)
			bdp := float64(congRate) / 8 * r.minRTT.Seconds() / 1514 // frames
			predicted := time.Duration((float64(r.cwnd) - bdp) * frameTime)
			ratio := float64(r.queueDelayMedian) / max(float64(predicted), 1)
			ok := r.alg == "bbr" && r.cwnd > 0 && float64(r.cwnd) < bdp+congQueue && ratio >= 0.5 && ratio <= 1.5
			return ok, check.Say("cwnd median %d, largest %d segments; path %.1f frames (10 Mbit/s × min RTT %s ms) + queue %d; queue wait %s ms, (cwnd − path) × %.2f ms = %s ms",
				"cwnd 中位数 %d,最大 %d 个报文段;路径 %.1f 帧(10 Mbit/s × 最小 RTT %s 毫秒)+ 队列 %d;队列等待 %s 毫秒,(cwnd − 路径)× %.2f 毫秒 = %s 毫秒",
				r.cwnd, r.cwndMax, bdp, fmtMS(r.minRTT), congQueue, fmtMS(r.queueDelayMedian), frameTime/1e6, fmtMS(predicted))
		}).Clean(),
	},
}

// frameTime is how long the bottleneck takes to send one full frame, in
// nanoseconds (1.21 ms at 10 Mbit/s).
const frameTime = 1514 * 8 * float64(time.Second) / congRate
