package scenarios

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/impair"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

const (
	keepIdle     = time.Second // TCP_KEEPIDLE
	keepInterval = time.Second // TCP_KEEPINTVL
	keepCount    = 2           // TCP_KEEPCNT: unanswered probes before giving up
)

// KeepAlive: idle probes, and a peer that vanishes.
var KeepAlive = lesson.Define(lesson.Scenario{
	Name:    "keepalive",
	Title:   i18n.T("TCP keep-alive: probing an idle connection", "TCP 保活:探测空闲连接"),
	Summary: i18n.T("probes every second on an idle connection; when the peer vanishes behind a firewall the connection times out", "空闲连接上每秒一次探测;对端消失在防火墙后面时连接超时"),
	LoopbackOnly: i18n.T("its firewall (nftables in the run's namespace, whose drops the engine reads back) is not yet on lab hosts",
		"它的防火墙(运行命名空间里的 nftables,引擎会读回它丢弃的报文)还没有搬到实验主机上"),
	Lanes: []string{client, server},
	Lesson: i18n.T(`An idle TCP connection sends nothing at all. If the peer's machine dies, its cable is pulled, or a firewall on the way forgets the connection, the other side learns nothing until it next sends, and a program that only waits to read waits forever. Keep-alive is the kernel checking on its own: after the connection has been idle for TCP_KEEPIDLE it sends a probe, a segment with no new data carrying the sequence number just before what the peer has acknowledged, which the peer must answer with an ACK. (Not to be confused with keepalived, the high-availability daemon, nor with HTTP keep-alive, which reuses connections.)

Linux's defaults are 2 hours idle, then probes 75 s apart, 9 unanswered probes before giving up. The client here sets 1 s idle, 1 s interval and 2 probes (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT). Go enables keep-alive with 15 s on every socket; this lab turns it off except here.`,
		`空闲的 TCP 连接什么也不发送。如果对方机器宕机、网线被拔、或者途中某个防火墙忘记了这个连接,另一方在下次发送之前什么也不知道,而一个只等着读的程序会永远等下去。保活(keep-alive)就是内核自己去检查:连接空闲 TCP_KEEPIDLE 之后,发送一个探测报文:不带新数据,序号是对方已确认位置之前的那一个,对方必须以 ACK 回应。(不要和高可用守护进程 keepalived 混淆,也不要和复用连接的 HTTP keep-alive 混淆。)

Linux 的默认值是空闲 2 小时,然后每 75 秒探测一次,9 次没有回应才放弃。这里客户端设置空闲 1 秒、间隔 1 秒、2 次探测(SO_KEEPALIVE、TCP_KEEPIDLE、TCP_KEEPINTVL、TCP_KEEPCNT)。Go 默认对每个套接字开启 15 秒的保活;本实验除了这里都把它关掉了。`),
	Timeout: 15 * time.Second,
	Acts:    []*lesson.Act{keepaliveIdle, keepaliveVanish},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(keepaliveIdle)
		cli, _, err := connectPair(s, ln)
		if err != nil {
			return err
		}
		if err := cli.SetKeepAlive(keepIdle, keepInterval); err != nil {
			return err
		}
		if err := cli.SetsockoptInt(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, keepCount, "TCP_KEEPCNT"); err != nil {
			return err
		}
		readErr := make(chan error, 1)
		s.Go(func() error {
			_, err := cli.Read(make([]byte, 16))
			readErr <- err
			return nil
		})
		if _, err := s.Wait(3*time.Second, func(e *timeline.Event) bool {
			p := e.Packet
			return p != nil && p.Lab.From == server && p.Flow.Expert&decode.KeepAliveAck != 0
		}); err != nil {
			return fmt.Errorf("keep-alive answered: %w", err)
		}
		s.Act(keepaliveVanish)
		fw, err := impair.Open(s.Mode())
		if err != nil {
			return err
		}
		defer fw.Close()
		drop := impair.Match{Proto: "tcp", DstPort: ln.Addr().Port()}
		if err := fw.Drop(drop); err != nil {
			return err
		}
		s.Note("nftables in the namespace: "+drop.String()+" drop (input hook)", "命名空间中的 nftables 规则:"+drop.String()+" drop(input 钩子)")
		select {
		case err = <-readErr:
		case <-time.After(keepIdle + keepCount*keepInterval + 3*time.Second):
			return errors.New("the client's read did not fail after the keep-alive probes went unanswered")
		}
		if !errors.Is(err, syscall.ETIMEDOUT) {
			return fmt.Errorf("client read: want connection timed out, got %v", err)
		}
		n, err := fw.Dropped()
		if err != nil {
			return err
		}
		s.Note(fmt.Sprintf("The firewall dropped %d packets. The server's socket is still ESTABLISHED: nothing ever told it.", n),
			fmt.Sprintf("防火墙丢弃了 %d 个报文。服务器的套接字仍是 ESTABLISHED:从来没有任何东西通知它。", n))
		// Let the kernel poller show both sides as they are now.
		return s.Sleep(20 * time.Millisecond)
	},
	Checks: []check.Check{},
})

// stateName names a kernel state, CLOSED when the socket is gone.
func stateName(st *timeline.State) i18n.Text {
	if st.Gone {
		return i18n.T("gone", "已消失")
	}
	return check.Plain(st.To.String())
}

// keepaliveIdle: an idle connection with keep-alive (1 s idle, 1 s interval, 2 probes)
var keepaliveIdle = &lesson.Act{
	Title: i18n.T("an idle connection with keep-alive (1 s idle, 1 s interval, 2 probes).", "开启保活的空闲连接(空闲 1 秒、间隔 1 秒、2 次探测)。"),
	Lesson: i18n.T(`the connection is idle: one second later the client's kernel sends a probe (marked keep-alive) and the server's kernel answers (keep-alive-ack). Neither program is involved: the client is blocked in read() the whole time and sees nothing.`,
		"连接空闲:一秒后客户端内核发出探测(标记为 keep-alive),服务器内核回应(keep-alive-ack)。两个程序都没有参与:客户端一直阻塞在 read() 里,什么也没看到。"),
	Checks: []check.Check{
		check.New("after 1 s idle the client's kernel sends a keep-alive probe, and the server's kernel answers it", "空闲 1 秒后客户端内核发出保活探测,服务器内核回应", func(v *check.View) (bool, i18n.Text) {
			var lastT, probeT, ackT time.Time
			for _, e := range v.Events() {
				p := e.Packet
				switch {
				case p == nil:
				case p.Flow.Expert&decode.KeepAlive != 0 && p.Lab.From == client && probeT.IsZero():
					probeT = e.Time
				case p.Flow.Expert&decode.KeepAliveAck != 0 && p.Lab.From == server && !probeT.IsZero() && ackT.IsZero():
					ackT = e.Time
				case probeT.IsZero():
					lastT = e.Time
				}
			}
			if probeT.IsZero() || ackT.IsZero() {
				return false, check.Say("no keep-alive probe or no answer", "没有保活探测或没有回应")
			}
			idle := probeT.Sub(lastT)
			ok := idle >= keepIdle-100*time.Millisecond && idle <= keepIdle+500*time.Millisecond
			return ok, check.Say("probe %.0f ms after the last segment, answered %.2f ms later", "探测在最后一个报文段之后 %.0f 毫秒发出,%.2f 毫秒后得到回应", ms(idle), ms(ackT.Sub(probeT)))
		}),
		check.New("the probe carries no data and the sequence number just before the acknowledged edge", "探测报文不带数据,序号是已确认位置之前的那一个", func(v *check.View) (bool, i18n.Text) {
			var lastAck, relAck uint32
			for _, p := range v.Packets(check.TCP) {
				if p.Lab.From == server && p.Flags.Has(decode.ACK) && p.Flow.Expert == 0 {
					lastAck, relAck = p.Ack, p.Flow.RelAck
				}
				if p.Lab.From == client && p.Flow.Expert&decode.KeepAlive != 0 {
					return p.PayloadLen == 0 && p.Seq == lastAck-1, check.Say("probe seq=%d len=%d; the server had acknowledged up to seq=%d", "探测 seq=%d len=%d;服务器已确认到 seq=%d", p.Flow.RelSeq, p.PayloadLen, relAck)
				}
			}
			return false, check.Say("no probe", "没有探测报文")
		}),
		check.New("the client program saw nothing: its read() was still blocked", "客户端程序什么也没看到:它的 read() 仍在阻塞", func(v *check.View) (bool, i18n.Text) {
			reads := v.Calls(client, timeline.CallRead)
			return len(reads) == 0, check.Say("%d reads returned in act %s", "第%[2]s幕中有 %[1]d 次 read 返回", len(reads), v.ActNumber())
		}),
	},
}

// keepaliveVanish: the server vanishes: a firewall drops everything sent to it
var keepaliveVanish = &lesson.Act{
	Title: i18n.T("the server vanishes: a firewall drops everything sent to it.", "服务器消失:防火墙丢弃发给它的一切。"),
	Lesson: i18n.T(`the server vanishes: a firewall rule in the namespace (nftables: tcp dport 8888, drop at input) now drops everything sent to it. Its socket is still open, it just never hears from the client again. The capture still shows the probes, because it sees them before the firewall does, but no answer comes. After 2 unanswered probes, 1 s apart, the client's kernel gives up: it sends RST (also dropped) and the client's blocked read() fails with "connection timed out" (ETIMEDOUT). The server, behind its firewall, still believes the connection is ESTABLISHED: a half-open connection, the very thing keep-alive exists to find.`,
		`服务器消失了:命名空间里的一条防火墙规则(nftables:tcp dport 8888,在 input 处丢弃)丢掉发给它的一切。它的套接字仍然开着,只是再也收不到客户端的任何东西。抓包仍然能看到探测报文,因为抓包在防火墙之前,但没有任何回应。连续 2 次探测(间隔 1 秒)没有回应之后,客户端内核放弃:发送 RST(同样被丢弃),客户端阻塞中的 read() 以 "connection timed out"(ETIMEDOUT)失败。而防火墙后面的服务器仍然认为连接是 ESTABLISHED:这就是半开连接,正是保活机制要找出来的东西。`),
	Checks: []check.Check{
		check.New("2 probes 1 s apart go unanswered, then the client's kernel sends RST", "两次间隔 1 秒的探测都没有回应,之后客户端内核发送 RST", func(v *check.View) (bool, i18n.Text) {
			// The unanswered probes are those after the server's last
			// answer: while a learner reads the act's narration, before the
			// firewall is up, the probes go on and are answered.
			var probes []time.Time
			var rstT time.Time
			answered := 0
			for _, e := range v.Onward().Events() {
				p := e.Packet
				switch {
				case p == nil || !rstT.IsZero():
				case p.Lab.From == client && p.Flow.Expert&decode.KeepAlive != 0:
					probes = append(probes, e.Time)
				case p.Lab.From == client && p.Flags.Has(decode.RST):
					rstT = e.Time
				case p.Lab.From == server:
					answered += len(probes)
					probes = probes[:0]
				}
			}
			if len(probes) != keepCount || rstT.IsZero() {
				return false, check.Say("%d unanswered probes, RST seen %v", "%d 次探测没有回应,看到 RST:%v", len(probes), check.Bool(!rstT.IsZero()))
			}
			gap := probes[1].Sub(probes[0])
			ok := gap >= keepInterval-100*time.Millisecond && gap <= keepInterval+500*time.Millisecond && rstT.After(probes[1])
			return ok, check.Say("probes %.0f ms apart, no answer, RST %.0f ms after the last probe (%d probes answered before the firewall went up)", "探测间隔 %.0f 毫秒,没有回应,RST 在最后一次探测之后 %.0f 毫秒(防火墙生效之前有 %d 次探测得到回应)", ms(gap), ms(rstT.Sub(probes[1])), answered)
		}),
		check.New("the client's blocked read() fails with connection timed out", "客户端阻塞的 read() 以 connection timed out 失败", func(v *check.View) (bool, i18n.Text) {
			return callFailed(v.Onward(), client, timeline.CallRead, "connection timed out")
		}),
		check.New("when the client gives up, the server behind the firewall is still ESTABLISHED: a half-open connection", "客户端放弃时,防火墙后面的服务器仍是 ESTABLISHED:半开连接", func(v *check.View) (bool, i18n.Text) {
			// The poller reports every change: the last report before the
			// client's read failed is the server's state at that moment.
			var srv, cli *timeline.State
			for _, e := range v.Whole().Events() {
				if a := e.App; a != nil && a.Lane == client && a.Call == timeline.CallRead && a.Err != "" {
					break
				}
				if st := e.State; st != nil && st.Source == timeline.Kernel && !st.Socket.Listener() {
					switch st.Lane {
					case server:
						srv = st
					case client:
						cli = st
					}
				}
			}
			if srv == nil || cli == nil {
				return false, check.Say("no kernel state for the connection", "内核没有报告这条连接的状态")
			}
			ok := srv.To == tcpstate.Established && !srv.Gone
			return ok, check.Say("when the client's read failed: server %s (kernel)", "客户端的 read 失败时:服务器处于 %s(内核读数)", stateName(srv))
		}),
	},
}
