package scenarios

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// TimeWaitWhy: the first reason for TIME-WAIT, shown: the active closer's
// last ACK is lost, the peer sends its FIN again, and the socket still in
// TIME-WAIT answers it.
var TimeWaitWhy = lesson.Define(lesson.Scenario{
	Name:    "time-wait-why",
	Title:   i18n.T("Why TIME-WAIT: the last ACK is lost and the FIN comes again", "为什么要有 TIME-WAIT:最后一个 ACK 丢了,FIN 又来了"),
	Summary: i18n.T("a wire loses the active closer's last ACK: the peer in LAST-ACK resends its FIN, the socket still in TIME-WAIT answers, the timer starts over", "线路丢掉主动关闭方的最后一个 ACK:处于 LAST-ACK 的对端重发 FIN,仍在 TIME-WAIT 的套接字作答,定时器重新开始"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:  1,
		Rules: []wire.Rule{{Name: "lose the last ACK", Dir: wire.AtoB, Match: wire.MatchLastACK}},
	},
	Lesson: i18n.T(`The side that closes first ends in TIME-WAIT for 2×MSL (60 s on Linux) instead of forgetting the connection at once. Textbooks give two reasons. The first one is shown here: the last ACK of the close may be lost, and then the other side, in LAST-ACK, sends its FIN again. Somebody must still be there to acknowledge it; that is the socket in TIME-WAIT. (Had the client's kernel forgotten the connection, a FIN for a connection it does not know would draw a RST, as the reset lesson shows for data, and the server's close would end in an error instead of cleanly.)

This run is on a lab network whose wire loses the client's last ACK once. Watch the server's kernel hold its socket in LAST-ACK, send the FIN again after its retransmission timeout, get the ACK from the client's TIME-WAIT socket, and only then close. The client's TIME-WAIT timer starts over when the FIN comes again: the kernel reads a later deadline.

The second reason, that old duplicate segments of this connection die out before a new connection with the same ports could take them for its own, needs a wire that keeps a segment for a long time; it is not shown here.`,
		`先关闭的一方会在 TIME-WAIT 停留 2×MSL(Linux 上 60 秒),而不是马上忘掉这个连接。教科书给出两个理由,这里展示第一个:关闭的最后一个 ACK 可能丢失,于是处于 LAST-ACK 的另一方会重发 FIN。必须还有人在那里确认它,这个人就是处于 TIME-WAIT 的套接字。(如果客户端内核已经忘了这个连接,发给一个它不认识的连接的 FIN 会引来 RST——reset 课演示了数据遇到的同样情况——服务器的关闭就会以错误而不是正常结束。)

这次运行在实验网络上,线路把客户端的最后一个 ACK 丢掉一次。看服务器内核把它的套接字保持在 LAST-ACK,在重传超时后再发一次 FIN,收到客户端 TIME-WAIT 套接字的 ACK,然后才关闭。FIN 再次到来时,客户端的 TIME-WAIT 定时器会重新开始:内核读出的截止时间更晚了。

第二个理由——让这个连接的旧的重复报文段在同样端口的新连接可能把它们当成自己的之前消失——需要一条能把报文段扣留很久的线路,这里没有展示。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Note("The client closes first; the wire will lose its last ACK.", "客户端先关闭;线路会丢掉它的最后一个 ACK。")
		if err := closeFirst(s, ln, client); err != nil {
			return err
		}
		if _, err := s.Wait(5*time.Second, func(e *timeline.Event) bool {
			st := e.State
			return st != nil && st.Lane == server && st.Source == timeline.Kernel && st.Gone && !st.Socket.Listener()
		}); err != nil {
			return fmt.Errorf("the server's socket closing: %w", err)
		}
		s.Step("The server's socket is gone; the client's is still in TIME-WAIT.", "服务器的套接字已经消失;客户端的仍在 TIME-WAIT。")
		// Long enough for the poller to read the client's restarted timer.
		return s.Sleep(1500 * time.Millisecond)
	},
	Checks: []check.Check{
		check.New("the wire lost the client's last ACK: the server's kernel held its socket in LAST-ACK", "线路丢掉了客户端的最后一个 ACK:服务器内核把它的套接字保持在 LAST-ACK", func(v *check.View) (bool, i18n.Text) {
			acks, _ := copies(v, client, decode.ACK, decode.SYN|decode.FIN|decode.PSH)
			lost := 0
			for _, p := range acks {
				if p.Lab.Drop == decode.DropWire {
					lost++
				}
			}
			la := kernelSaw(v, server, tcpstate.LastAck)
			return lost == 1 && la, check.Say("%d of the client's ACKs lost; server LAST-ACK seen: %v", "客户端的 ACK 丢了 %d 个;看到服务器处于 LAST-ACK:%v", lost, check.Bool(la))
		}),
		check.New("the server sent its FIN again, 200 ms or more later (its retransmission timeout)", "服务器在 200 毫秒或更久之后重发了 FIN(它的重传超时)", func(v *check.View) (bool, i18n.Text) {
			fins, gaps := copies(v, server, decode.FIN, 0)
			ok := len(fins) == 2 && gaps[0] >= 200*time.Millisecond && fins[1].Flow.Expert&decode.Retransmission != 0
			return ok, check.Say("%d FIN(s) from the server; gaps %s", "服务器发了 %d 个 FIN;间隔 %s", len(fins), gapList(gaps))
		}),
		check.New("the client's socket, still in TIME-WAIT, acknowledged the FIN again, and only then was the server's socket gone", "客户端仍在 TIME-WAIT 的套接字再次确认了 FIN,此后服务器的套接字才消失", func(v *check.View) (bool, i18n.Text) {
			var fin2, ack2, gone *timeline.Event
			var before tcpstate.State // the client's last kernel state before the second FIN
			fins := 0
			for _, e := range v.Events() {
				p, st := e.Packet, e.State
				switch {
				case st != nil && st.Lane == client && st.Source == timeline.Kernel && fin2 == nil:
					before = st.To
				case p != nil && p.Lab.From == server && p.Flags.Has(decode.FIN):
					if fins++; fins == 2 {
						fin2 = e
					}
				case p != nil && fin2 != nil && ack2 == nil && p.Lab.From == client && p.Flags == decode.ACK && p.Lab.Drop == decode.Delivered:
					ack2 = e
				case st != nil && st.Lane == server && st.Source == timeline.Kernel && st.Gone && !st.Socket.Listener() && gone == nil:
					gone = e
				}
			}
			ok := fin2 != nil && ack2 != nil && gone != nil && before == tcpstate.TimeWait && gone.ID > ack2.ID
			return ok, check.Say("client %s when the FIN came again; its ACK: %v; server's socket gone after it: %v", "FIN 再次到来时客户端处于 %s;它的 ACK:%v;此后服务器的套接字消失:%v",
				before, check.Bool(ack2 != nil), check.Bool(gone != nil && ack2 != nil && gone.ID > ack2.ID))
		}),
		check.New("the FIN coming again restarted the client's TIME-WAIT timer: the kernel reads a later deadline", "FIN 再次到来让客户端的 TIME-WAIT 定时器重新开始:内核读出的截止时间更晚", func(v *check.View) (bool, i18n.Text) {
			var first, after time.Time // deadlines: reading time + time left
			fins := 0
			for _, e := range v.Events() {
				if p := e.Packet; p != nil && p.Lab.From == server && p.Flags.Has(decode.FIN) {
					fins++
				}
				st := e.State
				if st == nil || st.Lane != client || st.Source != timeline.Kernel || st.To != tcpstate.TimeWait || st.Timer != tcpstate.TimerTimeWait {
					continue
				}
				switch deadline := e.Time.Add(st.Expires); {
				case fins < 2 && first.IsZero():
					first = deadline
				case fins >= 2 && after.IsZero():
					after = deadline
				}
			}
			if first.IsZero() || after.IsZero() {
				return false, check.Say("TIME-WAIT timer read before the second FIN: %v, after it: %v", "第二个 FIN 之前读到 TIME-WAIT 定时器:%v,之后:%v", check.Bool(!first.IsZero()), check.Bool(!after.IsZero()))
			}
			later := after.Sub(first)
			return later >= 100*time.Millisecond, check.Say("the deadline moved %s ms later", "截止时间推迟了 %s 毫秒", fmtMS(later))
		}),
	},
})
