package scenarios

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

const (
	bloatSmallQueue = 16  // frames: two bandwidth-delay products, 19 ms to drain
	bloatLargeQueue = 256 // frames: 310 ms to drain
	bloatBytes      = 3 << 20
	bloatPings      = 5
	bloatPingPort   = 9999
	// bloatAlgorithm fills queues: loss-based, the default of most
	// distributions (the congestion lesson shows bbr).
	bloatAlgorithm = "cubic"
)

// Bufferbloat: the same bulk transfer through a 10 Mbit/s bottleneck with
// a small queue, then a large one, and small requests on another
// connection behind it.
var Bufferbloat = lesson.Define(lesson.Scenario{
	Name:    "bufferbloat",
	Title:   i18n.T("Bufferbloat: a bigger queue, no more throughput, a longer wait", "缓冲区膨胀:队列更大,吞吐量不增,等待更久"),
	Summary: i18n.T("3 MiB with cubic through a 10 Mbit/s wire, its queue 16 frames then 256: the deeper queue adds no throughput, the round trip grows several times over, and a one-byte request on another connection waits behind the bulk", "用 cubic 通过 10 Mbit/s 的线路发 3 MiB,队列先是 16 帧再是 256 帧:更深的队列不增加吞吐量,往返时间成倍增长,另一个连接上一个字节的请求排在大批数据后面等待"),
	Lanes:   []string{client, server},
	Wire:    &wire.Config{Seed: 1, Impair: *congWire(bloatSmallQueue)},
	Lesson: i18n.T(`A queue in front of a bottleneck absorbs bursts: without one, two packets arriving together would lose one. So buffers seem good, and bigger seem better. But a loss-based sender (reno, cubic) grows its window until the queue overflows, however large the queue is: a large queue does not make the bottleneck faster, it only stays full. Every packet through it, the bulk transfer's and everyone else's, waits for the whole queue ahead of it. That is bufferbloat: seconds of delay in home routers and modems, a video call stuttering while a file uploads.

This run's wire is the congestion lesson's: 10 Mbit/s towards the server, 5 ms each way. The client sends 3 MiB with cubic twice: first with a queue of 16 frames (two bandwidth-delay products, 19 ms to drain), then with 256 (310 ms). During each transfer it also sends five one-byte requests on a second connection, which the server answers at once, like a keystroke over ssh or a game's update.`,
		`瓶颈前面的队列能吸收突发:没有队列,两个同时到达的报文就得丢一个。所以缓冲区看起来是好东西,越大越好。可是基于丢包的发送方(reno、cubic)会一直增大窗口直到队列溢出,不管队列有多大:大队列并不会让瓶颈变快,只会一直是满的。经过它的每个报文,不论是这次大批传输的还是别人的,都要等前面整个队列排完。这就是缓冲区膨胀(bufferbloat):家用路由器和调制解调器里几秒钟的延迟,上传文件时视频通话卡顿。

这次运行的线路和拥塞控制那一课一样:通往服务器的方向 10 Mbit/s,单向 5 ms。客户端用 cubic 发两次 3 MiB:第一次队列 16 帧(两个带宽时延积,19 ms 排空),第二次 256 帧(310 ms)。每次传输期间,它还在第二个连接上发五个一字节的请求,服务器立即回答,就像 ssh 里的一次按键或游戏的一次状态更新。`),
	Acts: []*lesson.Act{bloatSmall, bloatLarge},
	Run: func(s *session.Session) error {
		if err := roomyReceiver(s); err != nil {
			return err
		}
		bulk, err := s.Listen(server, congPort)
		if err != nil {
			return err
		}
		pings, err := s.Listen(server, bloatPingPort)
		if err != nil {
			return err
		}
		for _, a := range []*lesson.Act{bloatSmall, bloatLarge} {
			s.Act(a)
			s.Step("The client opens a second connection for small requests; the server answers each at once.", "客户端为小请求再开一个连接;服务器对每个请求立即回答。")
			pc, ps, err := connectPair(s, pings)
			if err != nil {
				return err
			}
			s.Go(func() error {
				for range bloatPings {
					if _, err := ps.ReadFull(1); err != nil {
						return err
					}
					if _, err := ps.Write([]byte("!")); err != nil {
						return err
					}
				}
				return nil
			})
			s.Step(fmt.Sprintf("The client sends %d MiB with %s; meanwhile, every 200 ms, a one-byte request on the other connection.", bloatBytes>>20, bloatAlgorithm),
				fmt.Sprintf("客户端用 %s 发送 %d MiB;同时每隔 200 ms 在另一个连接上发一个字节的请求。", bloatAlgorithm, bloatBytes>>20))
			done := make(chan error, 1)
			s.Go(func() error { // the session waits for it, whatever ends the run
				err := sendBulk(s, bulk, bloatBytes, bloatAlgorithm)
				done <- err
				return err
			})
			// Requests once the queue has had time to fill, all within
			// the transfer (2.6 s at 10 Mbit/s).
			if err := s.Sleep(800 * time.Millisecond); err != nil {
				return err
			}
			for range bloatPings {
				if _, err := pc.Write([]byte("?")); err != nil {
					return err
				}
				if _, err := pc.ReadFull(1); err != nil {
					return err
				}
				if err := s.Sleep(200 * time.Millisecond); err != nil {
					return err
				}
			}
			if err := <-done; err != nil {
				return err
			}
			if err := closeBoth(pc, ps); err != nil {
				return err
			}
		}
		return nil
	},
})

// bloatRun is one act: the bulk transfer as the congestion lesson
// measures it, and the small requests: how many (retransmissions not
// counted), their round trips (from the request first leaving the client
// to the answer arriving there), their waits in the bottleneck's queue and
// the waits of the bulk segments that left just before each, median of
// each.
type bloatRun struct {
	bulk                    congRun
	requests                int
	requestRTT, requestWait time.Duration
	neighbourWait           time.Duration
}

func bloatMeasure(v *check.View) bloatRun {
	r := bloatRun{bulk: congMeasure(v, bloatBytes)}
	var rtts, waits, neighbours []time.Duration
	var sent time.Time
	seen := map[uint32]bool{}      // requests by sequence number: a resend is the same request
	neighbour := time.Duration(-1) // the last bulk segment's wait, -1: none yet
	for _, e := range v.Events() {
		p := e.Packet
		if p == nil || p.PayloadLen == 0 || !check.Original(p) {
			continue
		}
		wait := p.Lab.Wire.InFlight(e.Time) - congDelay
		arrived := !p.Lab.Wire.Arrived.IsZero()
		switch {
		case p.Lab.From == client && p.Dst.Port() == congPort && arrived:
			neighbour = max(wait, 0)
		case p.Lab.From == client && p.Dst.Port() == bloatPingPort && !seen[p.Flow.RelSeq]:
			seen[p.Flow.RelSeq] = true
			sent = e.Time
			r.requests++
			if arrived && neighbour >= 0 {
				waits = append(waits, max(wait, 0))
				neighbours = append(neighbours, neighbour)
			}
		case p.Lab.From == server && p.Src.Port() == bloatPingPort && !sent.IsZero() && arrived:
			rtts = append(rtts, p.Lab.Wire.Arrived.Sub(sent))
			sent = time.Time{}
		}
	}
	r.requestRTT, r.requestWait, r.neighbourWait = median(rtts), median(waits), median(neighbours)
	return r
}

func (r bloatRun) String() string {
	return fmt.Sprintf("%s; %d requests: round trip %s ms, %s ms of it in the queue (the bulk segment before each: %s ms)", r.bulk.row(), r.requests, fmtMS(r.requestRTT), fmtMS(r.requestWait), fmtMS(r.neighbourWait))
}

var bloatSmall = &lesson.Act{
	Title: i18n.T("a queue of 16 frames.", "队列 16 帧。"),
	Lesson: i18n.T(`a queue of 16 frames, two bandwidth-delay products. cubic overflows it often, and backs off to 70% each time; 70% of a window that filled the path and the queue still fills the path, so the link need not idle. How much it carried is shown beside the checks: on an idle machine nearly the full rate; a busy machine's relay, reading frames late and in bunches, overflows so short a queue more often.`,
		`队列 16 帧,两个带宽时延积。cubic 经常让它溢出,每次退到 70%;一个装满路径和队列的窗口的 70% 仍能装满路径,所以链路不必空闲。实际传了多少列在检查旁边:空闲的机器上几乎是满速;繁忙的机器上中继读帧又晚又成批,这么短的队列更容易溢出。`),
	Checks: []check.Check{
		check.New("every request is answered while the bulk transfer runs (the round trip and the throughput are shown)", "大批传输进行时每个请求都得到回答(列出往返时间和吞吐量)", func(v *check.View) (bool, i18n.Text) {
			r := bloatMeasure(v)
			return r.bulk.alg == bloatAlgorithm && r.bulk.goodput > 0 && r.requests == bloatPings && r.requestRTT > 0, check.Say("%s", "%s", r.String())
		}).Clean(),
	},
}

var bloatLarge = &lesson.Act{
	Title:  i18n.T("a queue of 256 frames.", "队列 256 帧。"),
	Impair: congWire(bloatLargeQueue),
	Lesson: i18n.T(`the same transfer through a queue of 256 frames. cubic's window grows into it: the bottleneck was busy already, so the throughput stays about the same, and the extra packets in flight only lengthen the queue. Nothing overflows for a long while, so nothing tells a loss-based sender to slow down, and every packet waits behind the others (up to 310 ms of them). The small requests wait with them: a one-byte answer takes as long as the queue is deep.`,
		`同样的传输,队列 256 帧。cubic 的窗口一直往里长:瓶颈本来就是忙的,所以吞吐量基本不变,多出来的在途报文只会让队列变长。很长时间里没有溢出,也就没有什么告诉基于丢包的发送方该慢下来,每个报文都要排在其他报文后面(最多 310 ms)。小请求也跟着等:一个字节的回答要花的时间和队列一样深。`),
	Checks: []check.Check{
		check.New("a deeper queue adds delay, not capacity: with 256 frames the transfer runs at the bottleneck's rate, no faster (the small queue's throughput is shown too: it depends on how promptly this machine's relay delivers frames)", "更深的队列只增加延迟,不增加容量:256 帧时传输以瓶颈的速率进行,不会更快(也列出小队列的吞吐量:它取决于本机中继递送帧是否及时)", func(v *check.View) (bool, i18n.Text) {
			small, large := bloatMeasure(v.Whole().Act(bloatSmall.ActNumber())), bloatMeasure(v)
			ratio := large.bulk.goodput / goodputMax
			return large.bulk.busy() && ratio <= 1.05, check.Say("%.2f Mbit/s with 256 frames (%.0f%% of the wire's %.2f Mbit/s of data); %.2f Mbit/s with 16", "256 帧时 %.2f Mbit/s(线路数据速率的 %.0f%%,%.2f Mbit/s);16 帧时 %.2f Mbit/s",
				large.bulk.goodput*8/1e6, 100*ratio, goodputMax*8/1e6, small.bulk.goodput*8/1e6)
		}).Clean(),
		check.New("the round trip grows with the queue: the kernel's smoothed RTT is twice as long and 50 ms longer at least", "往返时间随队列增长:内核的平滑 RTT 至少是两倍,且至少长 50 ms", func(v *check.View) (bool, i18n.Text) {
			small, large := bloatMeasure(v.Whole().Act(bloatSmall.ActNumber())), bloatMeasure(v)
			return large.bulk.rtt >= 2*small.bulk.rtt && large.bulk.rtt >= small.bulk.rtt+50*time.Millisecond, check.Say("RTT %s ms with 16 frames, %s ms with 256; the bulk's packets waited %s ms and %s ms in the queue", "16 帧时 RTT %s 毫秒,256 帧时 %s 毫秒;大批数据的报文在队列里分别等了 %s 毫秒和 %s 毫秒",
				fmtMS(small.bulk.rtt), fmtMS(large.bulk.rtt), fmtMS(small.bulk.queueDelayMedian), fmtMS(large.bulk.queueDelayMedian))
		}).Clean(),
		check.New("a small request behind the bulk waits: as long in the queue as the bulk segment that left just before it, and its round trip is 50 ms longer at least than with the small queue", "排在大批数据后面的小请求要等:在队列里等得和它之前刚发出的大批报文段一样久,往返时间比小队列时至少长 50 ms", func(v *check.View) (bool, i18n.Text) {
			small, large := bloatMeasure(v.Whole().Act(bloatSmall.ActNumber())), bloatMeasure(v)
			ratio := float64(large.requestWait) / max(float64(large.neighbourWait), 1)
			ok := large.requests == bloatPings && large.requestRTT >= small.requestRTT+50*time.Millisecond && ratio >= 0.7 && ratio <= 1.3
			return ok, check.Say("16 frames: %s; 256 frames: %s", "16 帧:%s;256 帧:%s", small.String(), large.String())
		}).Clean(),
	},
}
