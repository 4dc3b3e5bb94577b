package scenarios

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// passiveCloseDelay keeps the passive closer in CLOSE-WAIT long enough for
// the kernel poller to see it.
const passiveCloseDelay = 100 * time.Millisecond

// TimeWait: who ends in TIME-WAIT, for how long, and what the other side does.
var TimeWait = lesson.Define(lesson.Scenario{
	Name:    "time-wait",
	Title:   i18n.T("TIME-WAIT: the active closer waits", "TIME-WAIT:主动关闭方的等待"),
	Summary: i18n.T("the side that closes first sits in TIME-WAIT for 60 s; the other goes CLOSE-WAIT → LAST-ACK → CLOSED", "先关闭的一方在 TIME-WAIT 停留 60 秒;另一方经历 CLOSE-WAIT → LAST-ACK → CLOSED"),
	Lanes:   []string{client, server},
	Lesson: i18n.T(`The side that sends the first FIN (the active closer) does not forget the connection when the close is done: it keeps a small socket in TIME-WAIT. Linux keeps it 60 seconds (TCP_TIMEWAIT_LEN; RFC 9293 asks for 2×MSL). Two reasons:

1. Its last ACK may be lost. The peer, in LAST-ACK, would then send its FIN again, and the TIME-WAIT socket can answer it with ACK instead of RST.
2. Old duplicate segments of this connection may still be in the network. While the 4-tuple (addresses and ports) is held, a new connection with the same 4-tuple cannot receive them.

The passive closer goes the other way: CLOSE-WAIT when the FIN arrives (its program has not closed yet), LAST-ACK once it closes and sends its own FIN, then CLOSED as soon as that FIN is acknowledged: no waiting.`,
		`先发送 FIN 的一方(主动关闭方)在关闭完成后并不会立刻忘掉这个连接:它保留一个处于 TIME-WAIT 的小套接字。Linux 保留 60 秒(TCP_TIMEWAIT_LEN;RFC 9293 要求 2×MSL)。原因有二:

1. 它最后发出的 ACK 可能丢失。对方处于 LAST-ACK,会重发 FIN,TIME-WAIT 套接字可以回应 ACK,而不是 RST。
2. 网络中可能还残留这个连接的旧报文。只要四元组(地址和端口)被占用,使用相同四元组的新连接就不会收到它们。

被动关闭方走另一条路:收到 FIN 时进入 CLOSE-WAIT(程序还没关闭),程序关闭并发出自己的 FIN 后进入 LAST-ACK,这个 FIN 一被确认就进入 CLOSED,无需等待。`),
	After: i18n.T(`Who closes first is the protocol's and the program's choice, not TCP's. HTTP shows both (see the http scenario, which checks each connection): on a kept-alive connection the client closes when it is done, so the client sits in TIME-WAIT; with "Connection: close" both ends close once the response is complete, and the server, which closes as soon as it has written it, usually sends the first FIN and collects the TIME-WAIT sockets.

The run does not wait out the 60 seconds: the namespace, and the TIME-WAIT sockets with it, vanish when the run ends.`,
		`谁先关闭由协议和程序决定,而不是由 TCP 决定。HTTP 两种情况都有(见 http 场景,它逐一检查):在长连接上,客户端用完后关闭,于是客户端停在 TIME-WAIT;带 "Connection: close" 时,响应一完整两端都会关闭,服务器写完响应就关,通常先发出 FIN,TIME-WAIT 套接字就积累在服务器上。

本次运行不会等满 60 秒:运行结束时网络命名空间连同 TIME-WAIT 套接字一起消失。`),
	Acts: []*lesson.Act{twClientFirst, twServerFirst},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(twClientFirst)
		if err := closeFirst(s, ln, client); err != nil {
			return err
		}
		if err := awaitKernel(s, inState{client, tcpstate.TimeWait}); err != nil {
			return err
		}
		s.Step("The client is in TIME-WAIT: watch the kernel's countdown.", "客户端处于 TIME-WAIT:看内核的倒计时。")
		// Let the poller read the countdown again a second later.
		if _, err := s.Wait(3*time.Second, func(e *timeline.Event) bool {
			st := e.State
			return st != nil && st.Lane == client && st.From == tcpstate.TimeWait && st.To == tcpstate.TimeWait
		}); err != nil {
			return fmt.Errorf("TIME-WAIT countdown: %w", err)
		}
		s.Act(twServerFirst)
		if err := closeFirst(s, ln, server); err != nil {
			return err
		}
		if err := awaitKernel(s, inState{server, tcpstate.TimeWait}); err != nil {
			return err
		}
		return nil
	},
	Checks: []check.Check{
		check.New("the TIME-WAIT countdown runs down: a later kernel reading shows less time left", "TIME-WAIT 倒计时在减少:内核稍后读出的剩余时间更少", func(v *check.View) (bool, i18n.Text) {
			var first, last *timeline.Event
			for _, e := range v.Act(twClientFirst.ActNumber()).Events() {
				if st := e.State; st != nil && st.Lane == client && st.Source == timeline.Kernel && st.To == tcpstate.TimeWait && st.Timer == tcpstate.TimerTimeWait {
					if first == nil {
						first = e
					}
					last = e
				}
			}
			if first == nil || last == first {
				return false, check.Say("fewer than two kernel readings of the TIME-WAIT timer", "内核读出 TIME-WAIT 定时器不到两次")
			}
			elapsed := last.Time.Sub(first.Time)
			drop := first.State.Expires - last.State.Expires
			ok := drop > 0 && absDur(drop-elapsed) < 300*time.Millisecond
			return ok, check.Say("%.1f s left, then %.1f s left %.1f s later", "剩余 %.1f 秒,之后剩余 %.1f 秒(相隔 %.1f 秒)", first.State.Expires.Seconds(), last.State.Expires.Seconds(), elapsed.Seconds())
		}),
	},
})

// closeFirst runs one connection in which closer sends the first FIN and the
// other side closes passiveCloseDelay after reading EOF.
func closeFirst(s *session.Session, ln *session.Listener, closer string) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	active, passive := cli, srv
	if closer == server {
		active, passive = srv, cli
	}
	if _, err := active.Write([]byte("done")); err != nil {
		return err
	}
	if _, err := passive.ReadFull(4); err != nil {
		return err
	}
	// Narrate before the close, not between the two closes: a learner who
	// paused there for over a minute let the active closer's orphaned
	// FIN-WAIT-2 socket expire (tcp_fin_timeout, 60 s), and the passive
	// closer's FIN then drew a RST instead of the lesson's TIME-WAIT.
	s.Step("The active closer closes; the passive closer reads EOF and stays in CLOSE-WAIT until its program closes, 100 ms later.",
		"主动关闭方关闭;被动关闭方读到 EOF,在程序关闭之前(100 毫秒后)一直处于 CLOSE-WAIT。")
	if err := active.Close(); err != nil {
		return err
	}
	if _, err := passive.ReadAll(); err != nil { // EOF: the FIN arrived
		return err
	}
	if err := s.Sleep(passiveCloseDelay); err != nil {
		return err
	}
	return passive.Close()
}

// timeWaitTimer checks that the kernel showed lane's connection in TIME-WAIT
// with a timer of 50–61 s when first seen.
func timeWaitTimer(v *check.View, name string) (bool, i18n.Text) {
	for _, s := range v.KernelStates(name) {
		if s.To == tcpstate.TimeWait {
			ok := s.Timer == tcpstate.TimerTimeWait && s.Expires > 50*time.Second && s.Expires <= 61*time.Second
			return ok, check.Say("%s timer %s, %.1f s left", "%s的定时器 %s,剩余 %.1f 秒", lane(name), s.Timer, s.Expires.Seconds())
		}
	}
	return false, check.Say("%s never seen in TIME-WAIT; path %s", "从未看到%s处于 TIME-WAIT;状态路径 %s", lane(name), check.PathString(v.Path(name)))
}

// passiveCloser checks the passive closer's path and that its socket is gone.
func passiveCloser(v *check.View, name string) (bool, i18n.Text) {
	path := v.Path(name)
	gone := false
	for _, s := range v.KernelStates(name) {
		if s.Gone {
			gone = true
		}
	}
	ok := check.Contains(path, tcpstate.CloseWait, tcpstate.LastAck, tcpstate.Closed) && !check.Contains(path, tcpstate.TimeWait) &&
		kernelSaw(v, name, tcpstate.CloseWait) && gone
	return ok, check.Say("%s: %s; gone from the kernel's table: %v", "%s:%s;已从内核的表中消失:%v", lane(name), check.PathString(path), check.Bool(gone))
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// twClientFirst: the client closes first
var twClientFirst = &lesson.Act{
	Title: i18n.T("the client closes first.", "客户端先关闭。"),
	Lesson: i18n.T("the client closes first, so the client sits in TIME-WAIT and the countdown you see is the kernel's own timer, read from the socket table.",
		"客户端先关闭,所以客户端停在 TIME-WAIT,你看到的倒计时是内核自己的定时器,从套接字表中读出。"),
	Checks: []check.Check{
		check.New("the kernel puts the client (active closer) in TIME-WAIT with a timer of about 60 s", "内核让客户端(主动关闭方)进入 TIME-WAIT,定时器约 60 秒", func(v *check.View) (bool, i18n.Text) {
			return timeWaitTimer(v, client)
		}),
		check.New("the server goes CLOSE-WAIT → LAST-ACK → CLOSED and never TIME-WAIT", "服务器经历 CLOSE-WAIT → LAST-ACK → CLOSED,不进入 TIME-WAIT", func(v *check.View) (bool, i18n.Text) {
			return passiveCloser(v, server)
		}).Clean(),
	},
}

// twServerFirst: the server closes first
var twServerFirst = &lesson.Act{
	Title: i18n.T("the server closes first.", "服务器先关闭。"),
	Lesson: i18n.T("the server closes first, so the server's connection socket (server:8888 → client) sits in TIME-WAIT. That is why busy servers that close connections themselves collect thousands of TIME-WAIT sockets.",
		"服务器先关闭,于是服务器的连接套接字(服务器:8888 → 客户端)停在 TIME-WAIT。这就是为什么主动关闭连接的繁忙服务器会积累成千上万个 TIME-WAIT 套接字。"),
	Checks: []check.Check{
		check.New("the kernel puts the server's connection (active closer) in TIME-WAIT", "内核让服务器的连接(主动关闭方)进入 TIME-WAIT", func(v *check.View) (bool, i18n.Text) {
			return timeWaitTimer(v, server)
		}),
		check.New("the client goes CLOSE-WAIT → LAST-ACK → CLOSED and never TIME-WAIT", "客户端经历 CLOSE-WAIT → LAST-ACK → CLOSED,不进入 TIME-WAIT", func(v *check.View) (bool, i18n.Text) {
			return passiveCloser(v, client)
		}).Clean(),
	},
}
