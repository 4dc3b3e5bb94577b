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

// closeLateDelay is how long the server waits before closing in act 2: well
// past Linux's delayed-ACK timer (40 ms minimum), so the ACK of the client's
// FIN cannot ride on the server's FIN.
const closeLateDelay = 150 * time.Millisecond

// Close: the four-way close, why loopback often shows three segments, and
// half-close.
var Close = lesson.Define(lesson.Scenario{
	Name:    "close",
	Title:   i18n.T("Closing a TCP connection: four-way close and half-close", "关闭 TCP 连接:四次挥手与半关闭"),
	Summary: i18n.T("FIN and ACK in each direction; three segments when the ACK rides on the FIN; half-close", "每个方向一个 FIN 和一个 ACK;ACK 搭在 FIN 上时只有三个报文段;半关闭"),
	Lanes:   []string{client, server},
	Lesson: i18n.T(`A TCP connection is two independent byte streams, one per direction, and each is closed on its own: the side that has nothing more to send sends FIN, and the other side acknowledges it. Two directions × (FIN + ACK) = the "four-way close".`,
		`TCP 连接是两个独立的字节流,每个方向一个,各自单独关闭:没有数据要发的一方发送 FIN,另一方确认它。两个方向 × (FIN + ACK) = "四次挥手"。`),
	Acts: []*lesson.Act{closeAtEOF, closeLate, closeHalf},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		// Act 1: server closes at EOF.
		s.Act(closeAtEOF)
		if err := closeAct(s, ln, 0); err != nil {
			return err
		}
		if err := s.Sleep(100 * time.Millisecond); err != nil {
			return err
		}
		s.Act(closeLate)
		if err := closeAct(s, ln, closeLateDelay); err != nil {
			return err
		}
		if err := s.Sleep(100 * time.Millisecond); err != nil {
			return err
		}
		s.Act(closeHalf)
		return halfCloseAct(s, ln)
	},
	Checks: []check.Check{},
})

// closeAct opens a connection, exchanges a request and a reply, then the
// client closes and the server closes delay after reading EOF.
func closeAct(s *session.Session, ln *session.Listener, delay time.Duration) error {
	done := make(chan error, 1)
	s.Go(func() error {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return err
		}
		buf := make([]byte, 64)
		if _, err := c.Read(buf); err != nil {
			done <- err
			return err
		}
		if _, err := c.Write([]byte("bye")); err != nil {
			done <- err
			return err
		}
		if _, err := c.Read(buf); err == nil { // expect EOF
			err = fmt.Errorf("server: expected EOF")
			done <- err
			return err
		}
		if delay > 0 {
			if err := s.Sleep(delay); err != nil {
				done <- err
				return err
			}
		}
		err = c.Close()
		done <- err
		return err
	})
	c, err := s.Dial(client, server, 8888)
	if err != nil {
		return err
	}
	if _, err := c.Write([]byte("quit")); err != nil {
		return err
	}
	if _, err := c.ReadFull(3); err != nil {
		return err
	}
	s.Step("The client calls close(): its kernel sends FIN.", "客户端调用 close():内核发出 FIN。")
	if err := c.Close(); err != nil {
		return err
	}
	return <-done
}

// halfCloseAct: the client sends its request, shuts down writing, and reads
// the reply the server sends after seeing EOF.
func halfCloseAct(s *session.Session, ln *session.Listener) error {
	s.Go(func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if _, err := c.ReadAll(); err != nil { // the request, up to the client's FIN
			return err
		}
		for _, part := range []string{"reply part 1\n", "reply part 2\n", "reply part 3\n"} {
			if _, err := c.Write([]byte(part)); err != nil {
				return err
			}
			if err := s.Sleep(20 * time.Millisecond); err != nil {
				return err
			}
		}
		return c.Close()
	})
	c, err := s.Dial(client, server, 8888)
	if err != nil {
		return err
	}
	if _, err := c.Write([]byte("GET everything")); err != nil {
		return err
	}
	s.Step("shutdown(SHUT_WR): FIN goes out, but the client keeps reading.", "shutdown(SHUT_WR):发出 FIN,但客户端继续读。")
	if err := c.CloseWrite(); err != nil {
		return err
	}
	if _, err := c.ReadAll(); err != nil {
		return err
	}
	return c.Close()
}

// closing returns the segments from the first FIN on.
func closing(v *check.View) []*decode.Packet {
	ps := v.Packets(check.TCP)
	for i, p := range ps {
		if p.Flags.Has(decode.FIN) {
			return ps[i:]
		}
	}
	return nil
}

// finAckedBy checks that peer's FIN segment acknowledges closer's FIN.
func finAckedBy(v *check.View, closer, peer string) (bool, i18n.Text) {
	cf := first(v.Packets(check.From(closer), check.HasFlags(decode.FIN)))
	pf := first(v.Packets(check.From(peer), check.HasFlags(decode.FIN)))
	if cf == nil || pf == nil {
		return false, check.Say("a FIN is missing", "缺少一个 FIN")
	}
	want := cf.Seq + uint32(cf.PayloadLen) + 1
	return pf.Flags.Has(decode.ACK) && pf.Ack == want, check.Say("%s FIN seq=%d, %s FIN ack=%d", "%s FIN seq=%d,%s FIN ack=%d", lane(closer), cf.Flow.RelSeq, lane(peer), pf.Flow.RelAck)
}

// kernelSaw reports whether the kernel reported lane's socket in st.
func kernelSaw(v *check.View, lane string, st tcpstate.State) bool {
	for _, s := range v.KernelStates(lane) {
		if s.To == st {
			return true
		}
	}
	return false
}

// delayedACKMin is the least a delayed ACK waits, as measured from the
// capture: Linux's minimum delayed-ACK timeout is 40 ms, armed in timer
// ticks, so it can fire up to one tick (4 ms at HZ=250) early.
const delayedACKMin = 35 * time.Millisecond

// ms is a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// closeAtEOF: the client closes; the server closes as soon as it reads EOF
var closeAtEOF = &lesson.Act{
	Title: i18n.T("the client closes; the server closes as soon as it reads EOF.", "客户端关闭;服务器读到 EOF 立即关闭。"),
	Lesson: i18n.T(`the client closes, the server closes as soon as it reads EOF. On the wire you will usually see only three segments: FIN from the client, then FIN,ACK from the server, then ACK. The kernel does not acknowledge the client's FIN at once: it delays ACKs (by about 40 ms on Linux, its minimum delayed-ACK timeout; the next act measures it) hoping to send them with data. Here the server program closes within microseconds, so its FIN leaves first and carries the ACK with it. The textbook's four segments are still all there, two of them share one packet.`,
		`客户端关闭,服务器一读到 EOF 就关闭。线路上通常只看到三个报文段:客户端的 FIN,服务器的 FIN,ACK,然后是 ACK。内核不会立刻确认客户端的 FIN:它会延迟 ACK(Linux 上大约 40 毫秒,即延迟确认的最短超时;下一幕会测出它),希望和数据一起发送。这里服务器程序在几微秒内就关闭了,所以它的 FIN 先发出,并捎带了 ACK。教科书上的四个报文段都在,只是其中两个合在了一个包里。`),
	Checks: []check.Check{
		check.New("the close takes three segments: FIN, FIN,ACK, ACK", "关闭用了三个报文段:FIN、FIN,ACK、ACK", func(v *check.View) (bool, i18n.Text) {
			ps := closing(v)
			got := check.Flags(ps)
			return len(ps) == 3 && ps[0].Lab.From == client && ps[1].Lab.From == server && ps[1].Flags.Has(decode.FIN|decode.ACK), check.Plain(got)
		}).Clean(),
		check.New("the server's FIN acknowledges the client's FIN (the ACK rides on the FIN)", "服务器的 FIN 同时确认了客户端的 FIN(ACK 搭便车)", func(v *check.View) (bool, i18n.Text) {
			return finAckedBy(v, client, server)
		}),
	},
}

// closeLate: the server waits 150 ms before closing: all four segments appear
var closeLate = &lesson.Act{
	Title: i18n.T("the server waits 150 ms before closing: all four segments appear.", "服务器等待 150 毫秒再关闭:四个报文段都出现了。"),
	Lesson: i18n.T(`the same, but the server waits 150 ms before closing. Now the delayed-ACK timer fires first: ACK alone, then the server's FIN 150 ms later, then the client's ACK: four segments. Meanwhile the kernel shows the client in FIN-WAIT-2 (its FIN is acknowledged, it waits for the server's) and the server in CLOSE-WAIT (it got FIN, its program has not closed yet).`,
		`同样的过程,但服务器等 150 毫秒再关闭。这次延迟确认定时器先到期:先单独发 ACK,150 毫秒后才是服务器的 FIN,然后是客户端的 ACK:四个报文段。在此期间内核显示客户端处于 FIN-WAIT-2(它的 FIN 已被确认,在等服务器的 FIN),服务器处于 CLOSE-WAIT(收到了 FIN,但程序还没关闭)。`),
	Checks: []check.Check{
		check.New("the close takes four segments: FIN, ACK, FIN, ACK", "关闭用了四个报文段:FIN、ACK、FIN、ACK", func(v *check.View) (bool, i18n.Text) {
			ps := closing(v)
			got := check.Flags(ps)
			return len(ps) == 4 && ps[1].Flags == decode.ACK && ps[2].Flags.Has(decode.FIN), check.Plain(got)
		}).Clean(),
		check.New("the server's kernel acknowledges the FIN on its own (delayed ACK), long before the program closes", "服务器内核自行确认 FIN(延迟确认),远早于程序关闭", func(v *check.View) (bool, i18n.Text) {
			var finT, ackT, srvFinT time.Time
			for _, e := range v.Events() {
				p := e.Packet
				switch {
				case p == nil:
				case p.Lab.From == client && p.Flags.Has(decode.FIN) && finT.IsZero():
					finT = e.Time
				case p.Lab.From == server && !finT.IsZero() && p.Flags == decode.ACK && ackT.IsZero():
					ackT = e.Time
				case p.Lab.From == server && p.Flags.Has(decode.FIN) && srvFinT.IsZero():
					srvFinT = e.Time
				}
			}
			if finT.IsZero() || ackT.IsZero() || srvFinT.IsZero() {
				return false, check.Say("client FIN, server ACK or server FIN missing", "缺少客户端的 FIN、服务器的 ACK 或服务器的 FIN")
			}
			ack, fin := ackT.Sub(finT), srvFinT.Sub(finT)
			ok := ack >= delayedACKMin && ack < fin && fin >= closeLateDelay-10*time.Millisecond
			return ok, check.Say("ACK %.1f ms after the client's FIN (the delayed-ACK timer), server FIN %.1f ms after it", "ACK 在客户端 FIN 之后 %.1f 毫秒(延迟确认定时器),服务器 FIN 在其后 %.1f 毫秒", ms(ack), ms(fin))
		}),
		check.New("the kernel shows the client in FIN-WAIT-2 and the server in CLOSE-WAIT", "内核显示客户端处于 FIN-WAIT-2,服务器处于 CLOSE-WAIT", func(v *check.View) (bool, i18n.Text) {
			c, s := kernelSaw(v, client, tcpstate.FinWait2), kernelSaw(v, server, tcpstate.CloseWait)
			return c && s, check.Say("client FIN-WAIT-2 seen: %v, server CLOSE-WAIT seen: %v", "看到客户端处于 FIN-WAIT-2:%v,看到服务器处于 CLOSE-WAIT:%v", check.Bool(c), check.Bool(s))
		}).Clean(),
	},
}

// closeHalf: half-close: the client shuts down its sending side and keeps reading
var closeHalf = &lesson.Act{
	Title: i18n.T("half-close: the client shuts down its sending side and keeps reading.", "半关闭:客户端关闭发送方向,继续读取。"),
	Lesson: i18n.T(`half-close. The client calls shutdown(SHUT_WR) instead of close(): it sends FIN, so the server reads EOF, but the client can still read. The server then sends more data, which the client receives in FIN-WAIT-2, and only then closes. This is how a client says "that was my whole request" while still reading the reply.

Who sends the first FIN is the "active closer": it is the side that ends in TIME-WAIT (see the time-wait scenario).`,
		`半关闭。客户端调用 shutdown(SHUT_WR) 而不是 close():它发出 FIN,服务器读到 EOF,但客户端仍然可以读。服务器接着发送更多数据,客户端在 FIN-WAIT-2 状态下照样收到,然后服务器才关闭。客户端就是这样表示"我的请求发完了",同时继续读取回复。

先发 FIN 的一方是"主动关闭方",最后进入 TIME-WAIT 的就是它(见 time-wait 场景)。`),
	Checks: []check.Check{
		check.New("the server sends data after the client's FIN, and the client reads it", "客户端发出 FIN 之后服务器仍发送数据,客户端照样读到", func(v *check.View) (bool, i18n.Text) {
			var finSeen bool
			after := 0
			for _, e := range v.Events() {
				if p := e.Packet; p != nil {
					if p.Lab.From == client && p.Flags.Has(decode.FIN) {
						finSeen = true
					}
					// Bytes, not copies: a segment the wire lost is sent again.
					if finSeen && p.Lab.From == server && p.PayloadLen > 0 && check.Original(p) {
						after += p.PayloadLen
					}
				}
			}
			read := 0
			shut := false
			for _, e := range v.Events() {
				if ap := e.App; ap != nil && ap.Lane == client {
					if ap.Call == timeline.CallShutdown {
						shut = true
					}
					if shut && ap.Call == timeline.CallRead {
						read += ap.Bytes
					}
				}
			}
			return after > 0 && read == after, check.Say("server sent %d bytes after the client's FIN; client read %d bytes after shutdown", "客户端 FIN 之后服务器发送了 %d 字节;shutdown 之后客户端读到 %d 字节", after, read)
		}),
		check.New("the client receives that data while in FIN-WAIT-2", "客户端在 FIN-WAIT-2 状态下接收这些数据", func(v *check.View) (bool, i18n.Text) {
			return kernelSaw(v, client, tcpstate.FinWait2), check.Say("client path %s", "客户端的状态路径 %s", check.PathString(v.Path(client)))
		}),
	},
}
