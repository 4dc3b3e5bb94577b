package scenarios

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// backlogSize is the listen backlog; Linux queues one connection more.
const backlogSize = 1

// Backlog: a listener that never accepts, with a tiny backlog.
var Backlog = lesson.Define(lesson.Scenario{
	Name:    "backlog",
	Title:   i18n.T("The listen backlog: a full accept queue drops SYNs", "监听队列:accept 队列满了就丢弃 SYN"),
	Summary: i18n.T("listen(backlog=1) and no accept(): two connections wait in the queue, the third client's SYN is dropped and retransmitted after 1 s", "listen(backlog=1) 且从不 accept():两个连接在队列里等待,第三个客户端的 SYN 被丢弃,1 秒后重传"),
	Lanes:   []string{server, client1, client2, client3},
	Lesson: i18n.T(`The kernel, not the program, completes TCP handshakes. A finished connection waits in the listener's accept queue until the program calls accept(). listen()'s backlog argument (the 5 in the notebook's sock.listen(5)) caps that queue.

Here the server listens with backlog 1 and never calls accept(). Clients 1 and 2 connect and their connect() returns at once: the handshake is done and both sides are ESTABLISHED, although no program on the server has seen them. The kernel's socket table shows the queue on the listener: 2 waiting, limit 1. Linux lets one more connection in than the backlog says (it refuses only when the queue is already over the limit).

Client 3's SYN finds the queue full. The server's kernel drops it silently: no SYN,ACK, no RST (a RST would tell the client to give up; a drop lets it try again). Client 3 stays in SYN-SENT with its retransmission timer running, and its connect() blocks. The initial retransmission timeout is 1 second, so the same SYN goes out again 1 s later, then after 2 s more, 4 s more, and so on (6 tries by default, about 2 minutes). The run ends after the first retransmission.

When the listener is closed, the connections still waiting in its queue are reset: clients 1 and 2 get RST, although they were ESTABLISHED and had never heard from a program.

This is what an overloaded server looks like from outside: connects that take exactly 1, 3 or 7 seconds. On the server, "nstat -az TcpExtListenOverflows" counts the drops and "ss -ltn" shows Recv-Q (waiting) against Send-Q (the backlog). The cure is a program that accepts faster; a bigger backlog (also capped by net.core.somaxconn) only absorbs bursts.`,
		`完成 TCP 握手的是内核,不是程序。握手完成的连接在监听套接字的 accept 队列里等待,直到程序调用 accept()。listen() 的 backlog 参数(笔记里 sock.listen(5) 的那个 5)限制这个队列的长度。

这里服务器以 backlog 1 监听,而且从不调用 accept()。客户端 1 和 2 发起连接,connect() 立即返回:握手已经完成,双方都是 ESTABLISHED,尽管服务器上还没有任何程序见过它们。内核的套接字表显示了监听套接字上的队列:2 个在等,上限 1。Linux 允许比 backlog 多进一个连接(只有队列已经超过上限时才拒绝)。

客户端 3 的 SYN 遇到了满的队列。服务器内核悄悄丢弃它:不回 SYN,ACK,也不回 RST(RST 会让客户端放弃;丢弃则让它再试)。客户端 3 停在 SYN-SENT,重传定时器在走,它的 connect() 阻塞着。初始重传超时是 1 秒,所以同一个 SYN 在 1 秒后再次发出,之后再过 2 秒、4 秒……(默认重试 6 次,约 2 分钟)。本次运行在第一次重传之后结束。

监听套接字关闭时,仍在队列中等待的连接会被复位:客户端 1 和 2 收到 RST,尽管它们早已是 ESTABLISHED,却从来没有和任何程序打过交道。

从外面看,过载的服务器就是这样:连接恰好要花 1、3 或 7 秒。在服务器上,"nstat -az TcpExtListenOverflows" 统计这类丢弃,"ss -ltn" 显示 Recv-Q(等待数)和 Send-Q(backlog)。真正的解决办法是让程序更快地 accept;更大的 backlog(还受 net.core.somaxconn 限制)只能吸收突发。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888, session.Backlog(backlogSize))
		if err != nil {
			return err
		}
		s.Step("Clients 1 and 2 connect. Nobody calls accept().", "客户端 1 和 2 发起连接。没有人调用 accept()。")
		for _, lane := range []session.Lane{client1, client2} {
			if _, err := s.Dial(lane, server, ln.Addr().Port()); err != nil {
				return err
			}
		}
		if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
			st := e.State
			return st != nil && st.Lane == server && st.To == tcpstate.Listen && st.RecvQ == backlogSize+1
		}); err != nil {
			return fmt.Errorf("accept queue 2/1: %w", err)
		}
		s.Step("The accept queue is full. Client 3 connects: its SYN is dropped.", "accept 队列已满。客户端 3 发起连接:它的 SYN 被丢弃。")
		s.Go(func() error {
			_, err := s.Dial(client3, server, ln.Addr().Port())
			if err == nil {
				return fmt.Errorf("client 3 connected through a full accept queue")
			}
			return nil // cancelled when the run ends
		})
		if _, err := s.Wait(3*time.Second, func(e *timeline.Event) bool {
			p := e.Packet
			return p != nil && p.Lab.From == client3 && p.Flags == decode.SYN && p.Flow.Expert&decode.Retransmission != 0
		}); err != nil {
			return fmt.Errorf("client 3's SYN retransmission: %w", err)
		}
		s.Step("The server closes its listener: the connections still waiting in the queue are reset.", "服务器关闭监听套接字:仍在队列中等待的连接被复位。")
		if err := ln.Close(); err != nil {
			return err
		}
		_, err = s.Wait(waitLong, func(e *timeline.Event) bool {
			p := e.Packet
			return p != nil && p.Lab.To == client2 && p.Flags.Has(decode.RST)
		})
		return err
	},
	Checks: []check.Check{
		check.New("the kernel shows 2 connections waiting in an accept queue whose limit is 1", "内核显示 accept 队列中有 2 个连接在等待,上限为 1", func(v *check.View) (bool, i18n.Text) {
			var most, limit uint32
			for _, st := range v.States(server) {
				if st.Source == timeline.Kernel && st.To == tcpstate.Listen && st.RecvQ >= most {
					most, limit = st.RecvQ, st.SendQ
				}
			}
			return most == backlogSize+1 && limit == backlogSize, check.Say("accept queue at most %d/%d", "accept 队列最多 %d/%d", most, limit)
		}),
		check.New("clients 1 and 2 are ESTABLISHED although the server never called accept()", "客户端 1 和 2 都是 ESTABLISHED,尽管服务器从未调用 accept()", func(v *check.View) (bool, i18n.Text) {
			c1, c2 := kernelSaw(v, client1, tcpstate.Established), kernelSaw(v, client2, tcpstate.Established)
			accepts := len(v.Calls(server, timeline.CallAccept))
			return c1 && c2 && accepts == 0, check.Say("client 1 ESTABLISHED %v, client 2 ESTABLISHED %v, accept() calls %d", "客户端 1 处于 ESTABLISHED:%v,客户端 2 处于 ESTABLISHED:%v,accept() 调用 %d 次", check.Bool(c1), check.Bool(c2), accepts)
		}),
		check.New("client 3's SYN gets no answer: no SYN,ACK and no RST", "客户端 3 的 SYN 没有得到任何回应:没有 SYN,ACK,也没有 RST", func(v *check.View) (bool, i18n.Text) {
			syns := v.Packets(check.From(client3), check.HasFlags(decode.SYN))
			answers := v.Packets(check.TCP, func(p *decode.Packet) bool { return p.Lab.To == client3 })
			return len(syns) >= 2 && len(answers) == 0, check.Say("client 3 sent %d SYNs, got %d segments back", "客户端 3 发出 %d 个 SYN,收到 %d 个报文段", len(syns), len(answers))
		}),
		check.New("the SYN is retransmitted about 1 s later (the initial retransmission timeout)", "SYN 大约 1 秒后重传(初始重传超时)", func(v *check.View) (bool, i18n.Text) {
			var times []time.Time
			var marked bool
			for _, e := range v.Events() {
				if p := e.Packet; p != nil && p.Lab.From == client3 && p.Flags == decode.SYN {
					times = append(times, e.Time)
					marked = marked || p.Flow.Expert&decode.Retransmission != 0
				}
			}
			if len(times) < 2 {
				return false, check.Say("%d SYNs from client 3", "客户端 3 发出 %d 个 SYN", len(times))
			}
			gap := times[1].Sub(times[0])
			ok := gap >= 900*time.Millisecond && gap <= 1500*time.Millisecond && marked
			return ok, check.Say("second SYN %.0f ms after the first, marked retransmission: %v", "第二个 SYN 在第一个之后 %.0f 毫秒,标记为 retransmission:%v", ms(gap), check.Bool(marked))
		}),
		check.New("closing the listener resets the two queued connections", "关闭监听套接字会复位队列中的两个连接", func(v *check.View) (bool, i18n.Text) {
			closed := false
			reset := map[string]bool{}
			for _, e := range v.Events() {
				if a := e.App; a != nil && a.Lane == server && a.Call == timeline.CallClose && a.Detail == "listener" {
					closed = true
				}
				if p := e.Packet; p != nil && closed && p.Lab.From == server && p.Flags.Has(decode.RST) {
					reset[p.Lab.To] = true
				}
			}
			return reset[client1] && reset[client2], check.Say("after the listener's close(): RST to client 1 %v, to client 2 %v", "监听套接字 close() 之后:发给客户端 1 的 RST:%v,发给客户端 2 的 RST:%v", check.Bool(reset[client1]), check.Bool(reset[client2]))
		}),
		check.New("the kernel shows client 3 in SYN-SENT with its retransmission timer running", "内核显示客户端 3 处于 SYN-SENT,重传定时器在运行", func(v *check.View) (bool, i18n.Text) {
			seen := false
			for _, st := range v.KernelStates(client3) {
				if st.To != tcpstate.SynSent {
					continue
				}
				seen = true
				// A dump can land between connect() entering SYN-SENT and
				// arming the timer: any reading with it running will do.
				if st.Timer == tcpstate.TimerRetrans {
					return true, check.Say("SYN-SENT, timer %q %.0f ms", "SYN-SENT,定时器 %q %.0f 毫秒", st.Timer, ms(st.Expires))
				}
			}
			if seen {
				return false, check.Say("client 3 seen in SYN-SENT, never with its retransmission timer", "看到客户端 3 处于 SYN-SENT,但从未带着重传定时器")
			}
			return false, check.Say("client 3 never seen in SYN-SENT by the kernel", "内核从未看到客户端 3 处于 SYN-SENT")
		}),
	},
})
