package scenarios

import (
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// leakTime is how long act 1's server keeps the connection it forgot to close.
const leakTime = time.Second

// CloseWait: a server that never closes leaves its sockets in CLOSE-WAIT.
var CloseWait = lesson.Define(lesson.Scenario{
	Name:    "close-wait",
	Title:   i18n.T("CLOSE-WAIT: the server that never closes", "CLOSE-WAIT:从不关闭的服务器"),
	Summary: i18n.T("the client closes, the server forgets to: FIN-WAIT-2 on one side, CLOSE-WAIT on the other, until the program closes", "客户端关闭了,服务器忘了关闭:一边 FIN-WAIT-2,一边 CLOSE-WAIT,直到程序关闭为止"),
	Lanes:   []string{client, server},
	Lesson: i18n.T(`CLOSE-WAIT means "the peer has closed its side, and this program has not closed yet". The kernel cannot close the socket on the program's behalf: the program might still want to send. So a server that reads EOF and forgets to call close() keeps the socket, and its file descriptor, in CLOSE-WAIT for as long as the process lives. On a busy server they pile up by the thousand (ss -tan state close-wait) until it runs out of file descriptors. The bug is always in the program, never in the network.`,
		`CLOSE-WAIT 的意思是"对方已经关闭了它那一侧,而本程序还没有关闭"。内核不能替程序关闭套接字:程序也许还想发送数据。所以一个读到 EOF 却忘了调用 close() 的服务器,会让套接字(以及它的文件描述符)在进程存活期间一直停在 CLOSE-WAIT。繁忙的服务器上它们会成千上万地堆积(ss -tan state close-wait),直到文件描述符耗尽。这个 bug 永远在程序里,而不在网络上。`),
	Acts: []*lesson.Act{closeWaitBug, closeWaitFix},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(closeWaitBug)
		leaked := make(chan *session.Conn, 1)
		if err := requestThenClose(s, ln, func(c *session.Conn) error {
			leaked <- c // bug: returns without c.Close()
			return nil
		}); err != nil {
			return err
		}
		if err := awaitKernel(s, inState{server, tcpstate.CloseWait}, inState{client, tcpstate.FinWait2}); err != nil {
			return err
		}
		s.Step("Client in FIN-WAIT-2, server in CLOSE-WAIT. Wait one second: nothing changes.", "客户端 FIN-WAIT-2,服务器 CLOSE-WAIT。等一秒:什么都没变。")
		if err := s.Sleep(leakTime); err != nil {
			return err
		}
		s.Step("The server program finally closes the socket it leaked.", "服务器程序终于关闭了它遗漏的套接字。")
		if err := (<-leaked).Close(); err != nil {
			return err
		}
		if err := awaitKernel(s, inState{client, tcpstate.TimeWait}); err != nil {
			return err
		}
		s.Act(closeWaitFix)
		return requestThenClose(s, ln, func(c *session.Conn) error { return c.Close() })
	},
	Checks: []check.Check{},
})

// requestThenClose runs one connection: the client sends a request, reads
// the reply and closes; the server replies, reads EOF and calls done.
func requestThenClose(s *session.Session, ln *session.Listener, done func(*session.Conn) error) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	s.Go(func() error {
		err := func() error {
			if _, err := srv.ReadFull(4); err != nil {
				return err
			}
			if _, err := srv.Write([]byte("pong")); err != nil {
				return err
			}
			if _, err := srv.ReadAll(); err != nil { // until EOF
				return err
			}
			return done(srv)
		}()
		served <- err
		return err
	})
	if _, err := cli.Write([]byte("ping")); err != nil {
		return err
	}
	if _, err := cli.ReadFull(4); err != nil {
		return err
	}
	if err := cli.Close(); err != nil {
		return err
	}
	return <-served
}

// kernelEntry is the first kernel report of lane's socket in st.
func kernelEntry(v *check.View, lane string, st tcpstate.State) *timeline.State {
	for _, s := range v.KernelStates(lane) {
		if s.To == st {
			return s
		}
	}
	return nil
}

// timerName names a kernel timer for a check's detail: "none" rather than "".
func timerName(t tcpstate.Timer) i18n.Text {
	if t == tcpstate.TimerNone {
		return i18n.T("none", "无")
	}
	return check.Plain(t.String())
}

// leftStateAt is when lane's socket was first shown leaving st. It follows
// the one socket that entered st: a listener on the same lane reports its
// accept queue at any moment, and that is not the connection leaving st.
func leftStateAt(v *check.View, lane string, st tcpstate.State) time.Time {
	var sock timeline.Socket
	in := false
	for _, e := range v.Events() {
		s := e.State
		if s == nil || s.Lane != lane || (in && s.Socket != sock) {
			continue
		}
		if s.To == st {
			in, sock = true, s.Socket
		} else if in {
			return e.Time
		}
	}
	return time.Time{}
}

// closeWaitBug: the server reads EOF and forgets to close
var closeWaitBug = &lesson.Act{
	Title: i18n.T("the server reads EOF and forgets to close.", "服务器读到 EOF 后忘了关闭。"),
	Lesson: i18n.T(`the bug. The client sends a request, reads the reply and closes. The server answers, reads EOF, and returns without closing. The kernel shows the client in FIN-WAIT-2 (its FIN was acknowledged; it waits for the server's) and the server in CLOSE-WAIT. Look at the timers: the client's orphaned FIN-WAIT-2 has a countdown (tcp_fin_timeout, 60 s: the kernel gives up on a peer that never finishes), the server's CLOSE-WAIT has none. After a second nothing has changed. Only when the server program finally calls close() does its FIN leave: LAST-ACK, then CLOSED, and the client moves on to TIME-WAIT.`,
		`bug。客户端发送请求,读取回复,然后关闭。服务器回复后读到 EOF,没有关闭就返回了。内核显示客户端处于 FIN-WAIT-2(它的 FIN 已被确认,在等服务器的 FIN),服务器处于 CLOSE-WAIT。看定时器:客户端这个已成孤儿的 FIN-WAIT-2 套接字有倒计时(tcp_fin_timeout,60 秒:内核不会无限等待一个不收尾的对端),服务器的 CLOSE-WAIT 却没有。一秒之后什么都没变。直到服务器程序终于调用 close(),它的 FIN 才发出:LAST-ACK,然后 CLOSED,客户端则进入 TIME-WAIT。`),
	Checks: []check.Check{
		check.New("the kernel shows the client in FIN-WAIT-2 and the server in CLOSE-WAIT", "内核显示客户端处于 FIN-WAIT-2,服务器处于 CLOSE-WAIT", func(v *check.View) (bool, i18n.Text) {
			c, s := kernelSaw(v, client, tcpstate.FinWait2), kernelSaw(v, server, tcpstate.CloseWait)
			return c && s, check.Say("client FIN-WAIT-2 seen: %v, server CLOSE-WAIT seen: %v", "看到客户端处于 FIN-WAIT-2:%v,看到服务器处于 CLOSE-WAIT:%v", check.Bool(c), check.Bool(s))
		}),
		check.New("the client's FIN-WAIT-2 has a kernel countdown (about 60 s); the server's CLOSE-WAIT has none", "客户端的 FIN-WAIT-2 有内核倒计时(约 60 秒);服务器的 CLOSE-WAIT 没有", func(v *check.View) (bool, i18n.Text) {
			fw := kernelEntry(v, client, tcpstate.FinWait2)
			cw := kernelEntry(v, server, tcpstate.CloseWait)
			if fw == nil || cw == nil {
				return false, check.Say("FIN-WAIT-2 or CLOSE-WAIT not seen", "没有看到 FIN-WAIT-2 或 CLOSE-WAIT")
			}
			ok := fw.Timer == tcpstate.TimerTimeWait && fw.Expires > 50*time.Second && fw.Expires <= 61*time.Second && cw.Timer == tcpstate.TimerNone
			return ok, check.Say("client FIN-WAIT-2 timer %s %.1f s; server CLOSE-WAIT timer %s", "客户端 FIN-WAIT-2 的定时器 %s %.1f 秒;服务器 CLOSE-WAIT 的定时器 %s", timerName(fw.Timer), fw.Expires.Seconds(), timerName(cw.Timer))
		}),
		check.New("the server stays in CLOSE-WAIT, sending no FIN, until its program closes a second later", "服务器停在 CLOSE-WAIT,不发 FIN,直到一秒后程序关闭", func(v *check.View) (bool, i18n.Text) {
			var cwT, closeT, finT time.Time
			sent := 0 // server FINs or data between CLOSE-WAIT and close() (its kernel's ACK of the client's FIN may come)
			for _, e := range v.Events() {
				switch {
				case e.State != nil && e.State.Lane == server && e.State.Source == timeline.Kernel && e.State.To == tcpstate.CloseWait && cwT.IsZero():
					cwT = e.Time
				case e.App != nil && e.App.Lane == server && e.App.Call == timeline.CallClose && !e.App.Socket.Listener() && closeT.IsZero():
					closeT = e.Time
				case e.Packet != nil && e.Packet.Lab.From == server && e.Packet.Flags.Has(decode.FIN) && finT.IsZero():
					finT = e.Time
				}
				if p := e.Packet; p != nil && p.Lab.From == server && (p.PayloadLen > 0 || p.Flags.Has(decode.FIN)) && !cwT.IsZero() && closeT.IsZero() {
					sent++
				}
			}
			if cwT.IsZero() || closeT.IsZero() || finT.IsZero() {
				return false, check.Say("CLOSE-WAIT, the server's close() or its FIN missing", "缺少 CLOSE-WAIT、服务器的 close() 或它的 FIN")
			}
			// The kernel is polled every few ms and reports every change: the
			// state shown until the next report is the kernel's. (A dump is
			// stamped when it starts, so the report of LAST-ACK may carry a
			// time a few µs before the close() that caused it.)
			left := leftStateAt(v, server, tcpstate.CloseWait)
			ok := sent == 0 && !left.IsZero() && left.Sub(cwT) >= leakTime-50*time.Millisecond && !finT.Before(closeT)
			return ok, check.Say("CLOSE-WAIT for %.0f ms with %d FIN or data segments from the server; its FIN %.2f ms after close()", "CLOSE-WAIT 持续 %.0f 毫秒,期间服务器发出 %d 个 FIN 或数据报文段;它的 FIN 在 close() 之后 %.2f 毫秒", ms(left.Sub(cwT)), sent, ms(finT.Sub(closeT)))
		}),
		check.New("after the close the server goes LAST-ACK → CLOSED and the client TIME-WAIT", "关闭之后服务器经历 LAST-ACK → CLOSED,客户端进入 TIME-WAIT", func(v *check.View) (bool, i18n.Text) {
			sp, cp := v.Path(server), v.Path(client)
			ok := check.Contains(sp, tcpstate.CloseWait, tcpstate.LastAck, tcpstate.Closed) && check.Contains(cp, tcpstate.FinWait2, tcpstate.TimeWait)
			return ok, check.Say("server %s; client %s", "服务器 %s;客户端 %s", check.PathString(sp), check.PathString(cp))
		}),
	},
}

// closeWaitFix: the fix: the server closes as soon as it reads EOF
var closeWaitFix = &lesson.Act{
	Title: i18n.T("the fix: the server closes as soon as it reads EOF.", "修复:服务器读到 EOF 立即关闭。"),
	Lesson: i18n.T(`the fix: close the connection on every path out of the handler (in Go, defer conn.Close() right after accept). The server's FIN follows the client's at once (the check allows 100 ms; usually it is a fraction of a millisecond), so CLOSE-WAIT is usually too brief for the kernel poller to show.`,
		`修复:在处理函数的每一条退出路径上都关闭连接(在 Go 里,accept 之后立即 defer conn.Close())。服务器的 FIN 紧跟客户端的 FIN 发出(检查允许 100 毫秒;通常不到一毫秒),所以 CLOSE-WAIT 通常短到内核轮询都显示不出来。`),
	Checks: []check.Check{
		check.New("with the fix the server's FIN follows the client's within 100 ms", "修复后服务器的 FIN 在 100 毫秒内紧跟客户端的 FIN", func(v *check.View) (bool, i18n.Text) {
			var cf, sf time.Time
			for _, e := range v.Events() {
				if p := e.Packet; p != nil && p.Flags.Has(decode.FIN) {
					if p.Lab.From == client && cf.IsZero() {
						cf = e.Time
					}
					if p.Lab.From == server && sf.IsZero() {
						sf = e.Time
					}
				}
			}
			if cf.IsZero() || sf.IsZero() {
				return false, check.Say("a FIN is missing", "缺少一个 FIN")
			}
			d := sf.Sub(cf)
			return d >= 0 && d < 100*time.Millisecond, check.Say("server FIN %.2f ms after the client's", "服务器的 FIN 在客户端的 FIN 之后 %.2f 毫秒", ms(d))
		}).Clean(),
	},
}
