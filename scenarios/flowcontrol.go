package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

const (
	flowRcvBuf = 4096     // the server's SO_RCVBUF (the kernel doubles it)
	flowBytes  = 64 << 10 // what the client sends
	flowProbes = 3        // zero-window probes to wait for before reading
	// oowRateLimit is Linux's net.ipv4.tcp_invalid_ratelimit: at most one
	// answer per 500 ms to segments outside the window (the probes are).
	oowRateLimit = 500 * time.Millisecond
)

// FlowControl: a receiver that stops reading closes its window.
var FlowControl = lesson.Define(lesson.Scenario{
	Name:    "flow-control",
	Title:   i18n.T("Flow control: the receive window closes and reopens", "流量控制:接收窗口关闭又打开"),
	Summary: i18n.T("a small receive buffer and a reader that stops: the window shrinks to 0, the sender probes, a window update lets it go on", "小接收缓冲区加上停止读取的接收方:窗口缩小到 0,发送方探测,窗口更新后继续发送"),
	Lanes:   []string{client, server},
	CleanOnly: i18n.T("its program waits a few seconds for the zero-window probes; lost probes back off past that wait",
		"它的程序只等几秒钟的零窗口探测;探测报文丢失后退避的时间会超出这个等待"),
	Lesson: i18n.T(`Every segment a receiver sends carries its window: how many more bytes it can buffer right now. The sender may have at most that many bytes in flight (sent, not yet acknowledged). This is flow control: a slow reader slows the sender down, whatever the network could carry. (Congestion control, which protects the network, is another mechanism.)

The server sets a small receive buffer (SO_RCVBUF 4096 before listen; Linux doubles the value to leave room for its own bookkeeping) and accepts, but does not read. The client writes 64 KB at once.

Watch the win= field of the server's ACKs: each ACK acknowledges data that now sits unread in the buffer, so the window shrinks, until it is 0 (marked zero-window). The sender stops: the segment that fills the window to its last byte is marked window-full. The client's write() has handed everything to its kernel (or blocks, if its send buffer is full too); the data waits there, not in the network.

With a zero window the sender must not send data, but must not wait forever either: if the window update got lost the connection would deadlock. So its persist timer sends a zero-window probe: a segment with no new data (Linux sends the byte before the acknowledged edge again, without the byte) that asks the receiver to answer with its current window. The answer is still 0, so the sender backs off: the probes come about 200 ms, then 400 ms, then 800 ms apart. Wireshark calls Linux's probes keep-alives, because they look the same; here they are marked zero-window-probe, since the peer's window is 0.

A surprise on the wire: the second probe gets no answer. A probe lies outside the receive window, and Linux answers such segments at most once per 500 ms (net.ipv4.tcp_invalid_ratelimit, a defence against ACK storms); the second probe comes about 400 ms after the first answer. The third, 800 ms later, is answered again.

After three probes the server starts reading. As soon as its buffer has room again its kernel sends a window update (same ACK number, bigger window) without waiting for a probe, and the rest of the 64 KB flows.`,
		`接收方发出的每个报文段都带着它的窗口:此刻它还能缓存多少字节。发送方在途(已发送、未确认)的字节数最多只能这么多。这就是流量控制:不管网络能承载多少,读得慢的接收方会让发送方慢下来。(保护网络的拥塞控制是另一套机制。)

服务器设置了很小的接收缓冲区(listen 之前设 SO_RCVBUF 4096;Linux 会把它翻倍,给自己的管理开销留空间),accept 之后却不读取。客户端一次写入 64 KB。

看服务器 ACK 里的 win= 字段:每个 ACK 确认的数据都还没被读取,留在缓冲区里,所以窗口不断缩小,直到变成 0(标记为 zero-window)。发送方停下来:把窗口填满到最后一个字节的那个报文段被标记为 window-full。客户端的 write() 已经把数据全部交给了内核(如果它的发送缓冲区也满了,write 就会阻塞);数据在发送方内核里等待,而不是在网络上。

窗口为零时发送方不能发送数据,但也不能永远等下去:万一窗口更新丢了,连接就会死锁。所以它的坚持定时器会发送零窗口探测:一个不带新数据的报文段(Linux 使用已确认边界之前的那个序号,但不带数据),请接收方回复当前窗口。回复仍然是 0,于是发送方退避:探测间隔约 200 毫秒,然后 400 毫秒、800 毫秒。Wireshark 把 Linux 的这种探测标成 keep-alive,因为两者看起来一样;这里对端窗口为 0,所以标记为 zero-window-probe。

线路上的一个意外:第二次探测没有得到回复。探测报文落在接收窗口之外,而 Linux 对这类报文每 500 毫秒最多回复一次(net.ipv4.tcp_invalid_ratelimit,用来防止 ACK 风暴);第二次探测距第一次回复只有约 400 毫秒。再过 800 毫秒的第三次探测又得到了回复。

三次探测之后服务器开始读取。缓冲区一有空间,它的内核就立即发送窗口更新(确认号不变,窗口变大),不等下一次探测,剩下的 64 KB 数据接着发送。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888, session.SockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUF, flowRcvBuf, "SO_RCVBUF"))
		if err != nil {
			return err
		}
		cli, srv, err := connectPair(s, ln)
		if err != nil {
			return err
		}
		if _, err := srv.GetsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUF, "SO_RCVBUF"); err != nil {
			return err
		}
		s.Step("The client writes 64 KB; the server does not read.", "客户端写入 64 KB;服务器不读。")
		wrote := make(chan error, 1)
		s.Go(func() error {
			_, err := cli.Write(make([]byte, flowBytes))
			wrote <- err
			return err
		})
		probes := 0
		if _, err := s.Wait(4*time.Second, func(e *timeline.Event) bool {
			if p := e.Packet; p != nil && p.Lab.From == client && p.Flow.Expert&decode.ZeroWindowProbe != 0 {
				probes++
			}
			return probes == flowProbes
		}); err != nil {
			return fmt.Errorf("zero-window probes: %w", err)
		}
		// Let the answer to the last probe, if any, come.
		if err := s.Sleep(20 * time.Millisecond); err != nil {
			return err
		}
		s.Step("After three zero-window probes the server starts reading.", "三次零窗口探测之后,服务器开始读取。")
		if _, err := srv.ReadFull(flowBytes); err != nil {
			return err
		}
		if err := <-wrote; err != nil {
			return err
		}
		return closeBoth(cli, srv)
	},
	Checks: []check.Check{
		check.New("Linux doubles SO_RCVBUF: the accepted socket reads back twice the value set on the listener", "Linux 把 SO_RCVBUF 翻倍:accept 得到的套接字读回的是监听套接字上所设值的两倍", func(v *check.View) (bool, i18n.Text) {
			for _, a := range v.Calls(server, timeline.CallGetsockopt) {
				if n, ok := strings.CutPrefix(a.Detail, "SO_RCVBUF="); ok {
					got, err := strconv.Atoi(n)
					return err == nil && got == 2*flowRcvBuf, check.Say("set %d, the kernel reads back %s", "设置 %d,内核读回 %s", flowRcvBuf, n)
				}
			}
			return false, check.Say("no getsockopt(SO_RCVBUF) on the server", "服务器上没有 getsockopt(SO_RCVBUF)")
		}),
		check.New("the server's advertised window shrinks to 0 while nobody reads", "没有人读取时,服务器通告的窗口缩小到 0", func(v *check.View) (bool, i18n.Text) {
			var wins []uint32
			for _, p := range v.Packets(check.From(server), check.TCP) {
				if p.Flags.Has(decode.SYN) {
					continue
				}
				wins = append(wins, p.Flow.WinBytes)
				if p.Flow.WinBytes == 0 {
					ok := p.Flow.Expert&decode.ZeroWindow != 0 && shrinking(wins)
					return ok, check.Say("windows %v, the last marked zero-window: %v", "窗口 %v,最后一个标记为 zero-window:%v", wins, check.Bool(p.Flow.Expert&decode.ZeroWindow != 0))
				}
			}
			return false, check.Say("windows %v never reached 0", "窗口 %v 从未降到 0", wins)
		}),
		check.New("the sender never has more bytes in flight than the window allows, and fills it exactly", "发送方在途字节从不超过窗口,并恰好把窗口填满", func(v *check.View) (bool, i18n.Text) {
			var full bool
			most := uint32(0)
			for _, p := range v.Packets(check.From(client), check.WithPayload) {
				most = max(most, p.Flow.InFlight)
				full = full || p.Flow.Expert&decode.WindowFull != 0
			}
			ok, detail := inFlightWithinWindow(v)
			return ok && full, check.Say("%s; at most %d bytes in flight; a segment filled the window (window-full): %v", "%s;在途字节最多 %d;有报文段恰好填满窗口(window-full):%v", detail, most, check.Bool(full))
		}),
		check.New("the client probes the zero window, backing off (second gap longer than the first, the first 150 ms or more)", "客户端探测零窗口并退避(第二个间隔比第一个长,第一个至少 150 毫秒)", func(v *check.View) (bool, i18n.Text) {
			var zeroT time.Time
			var probes []time.Time
			for _, e := range v.Events() {
				p := e.Packet
				if p == nil {
					continue
				}
				if p.Lab.From == server && p.Flow.WinBytes == 0 && !p.Flags.Has(decode.SYN) && zeroT.IsZero() {
					zeroT = e.Time
				}
				if p.Lab.From == client && p.Flow.Expert&decode.ZeroWindowProbe != 0 {
					probes = append(probes, e.Time)
				}
			}
			if zeroT.IsZero() || len(probes) < 2 {
				return false, check.Say("zero window seen: %v, %d probes", "看到零窗口:%v,探测 %d 次", check.Bool(!zeroT.IsZero()), len(probes))
			}
			g1, g2 := probes[0].Sub(zeroT), probes[1].Sub(probes[0])
			return g1 >= 150*time.Millisecond && g2 > g1, check.Say("first probe %.0f ms after the zero window, second %.0f ms after the first", "第一次探测在零窗口之后 %.0f 毫秒,第二次在第一次之后 %.0f 毫秒", ms(g1), ms(g2))
		}),
		check.New("the server's kernel answers a probe with window 0, but at most once per 500 ms (the second probe goes unanswered)", "服务器内核以窗口 0 回复探测,但每 500 毫秒最多一次(第二次探测没有回复)", func(v *check.View) (bool, i18n.Text) {
			return probeAnswers(v)
		}).Clean(),
		check.New("the kernel shows the client's persist (zero-window probe) timer", "内核显示客户端的坚持定时器(零窗口探测)", func(v *check.View) (bool, i18n.Text) {
			for _, st := range v.KernelStates(client) {
				if st.Timer == tcpstate.TimerProbe {
					return true, check.Say("%s, timer probe %.0f ms", "%s,定时器 probe %.0f 毫秒", st.To, ms(st.Expires))
				}
			}
			return false, check.Say("no kernel reading with a probe timer", "内核读数中没有 probe 定时器")
		}),
		check.New("when the server reads, a window update reopens the window and all 64 KB arrive", "服务器开始读取后,窗口更新重新打开窗口,64 KB 全部到达", func(v *check.View) (bool, i18n.Text) {
			var update *decode.Packet
			for _, p := range v.Packets(check.From(server)) {
				if p.Flow.Expert&decode.WindowUpdate != 0 && p.Flow.WinBytes > 0 {
					update = p
					break
				}
			}
			read := v.Bytes(server, timeline.CallRead)
			if update == nil {
				return false, check.Say("no window update; server read %d bytes", "没有窗口更新;服务器读到 %d 字节", read)
			}
			return read == flowBytes, check.Say("window update to %d bytes (packet %d); server read %d of %d bytes", "窗口更新为 %d 字节(第 %d 个报文);服务器读到 %d 字节(共 %d 字节)", update.Flow.WinBytes, update.N, read, flowBytes)
		}),
	},
})

// shrinking reports whether wins never grows.
func shrinking(wins []uint32) bool {
	for i := 1; i < len(wins); i++ {
		if wins[i] > wins[i-1] {
			return false
		}
	}
	return true
}

// inFlightWithinWindow checks every client data segment against the window
// the server last advertised: the segment must end within ack + window.
func inFlightWithinWindow(v *check.View) (bool, i18n.Text) {
	var right uint32 // right edge of the window: ack + window
	var seen bool
	segs := 0
	for _, p := range v.Packets(check.TCP) {
		switch {
		case p.Lab.From == server && p.Flags.Has(decode.ACK) && !p.Flags.Has(decode.SYN):
			right, seen = p.Ack+p.Flow.WinBytes, true
		case p.Lab.From == client && p.PayloadLen > 0 && seen:
			segs++
			if end := p.Seq + uint32(p.PayloadLen); int32(end-right) > 0 {
				return false, check.Say("segment %d ends %d bytes past the window", "报文段 %d 的末尾超出窗口 %d 字节", p.N, end-right)
			}
		}
	}
	return segs > 0, check.Say("%d data segments, each within the advertised window", "%d 个数据报文段,每个都在通告的窗口之内", segs)
}

// probeAnswers checks that a probe is answered (zero-window-probe-ack, window
// 0) exactly when the last answer is at least oowRateLimit old.
func probeAnswers(v *check.View) (bool, i18n.Text) {
	var probes, answers []time.Time
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil:
		case p.Lab.From == client && p.Flow.Expert&decode.ZeroWindowProbe != 0:
			probes = append(probes, e.Time)
		case p.Lab.From == server && p.Flow.Expert&decode.ZeroWindowProbeAck != 0 && p.Flow.WinBytes == 0:
			answers = append(answers, e.Time)
		}
	}
	if len(probes) < flowProbes {
		return false, check.Say("%d probes", "探测 %d 次", len(probes))
	}
	ok := true
	var last time.Time
	var parts []i18n.Text
	unanswered := 0
	for i, pt := range probes {
		answered := false
		for _, at := range answers {
			if !at.Before(pt) && (i+1 == len(probes) || at.Before(probes[i+1])) && at.Sub(pt) < 50*time.Millisecond {
				answered = true
			}
		}
		since := i18n.T("first", "首次")
		if !last.IsZero() {
			gap := pt.Sub(last)
			since = check.Say("%.0f ms after the last answer", "距上次回应 %.0f 毫秒", ms(gap))
			// Far from the limit either way, or the claim is not tested.
			switch {
			case gap < oowRateLimit-50*time.Millisecond:
				ok = ok && !answered
			case gap > oowRateLimit+50*time.Millisecond:
				ok = ok && answered
			}
		} else {
			ok = ok && answered
		}
		parts = append(parts, check.Say("probe %d (%s): answered %v", "第 %d 次探测(%s):得到回应:%v", i+1, since, check.Bool(answered)))
		if answered {
			last = pt
		} else {
			unanswered++
		}
	}
	return ok && unanswered >= 1 && len(answers) >= 2, check.Join(parts, i18n.T("; ", ";"))
}
