package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

const closedTCPPort = 9 // nothing listens there

// Reset: forced close (强行关闭) and the other ways a RST ends a connection.
var Reset = lesson.Define(lesson.Scenario{
	Name:    "reset",
	Title:   i18n.T("Forced close: RST instead of FIN", "强行关闭:用 RST 代替 FIN"),
	Summary: i18n.T("SO_LINGER 0 and unread data make close() send RST; a closed port and a vanished peer answer RST", "SO_LINGER 0 和未读数据让 close() 发送 RST;关闭的端口和已消失的对端也以 RST 回应"),
	Lanes:   []string{client, server, closedPort},
	CleanOnly: i18n.T("a RST is sent once and never again: if the wire loses it, the peer's read waits forever, and so would this lesson's program",
		"RST 只发一次,从不重发:线路若把它丢了,对方的读取就会永远等下去,本课的程序也一样"),
	Lesson: i18n.T(`close() is normally polite: the kernel sends what is still queued, then FIN, and the peer reads EOF. A reset (RST) is the other way to end a connection: it means "this connection does not exist (any more)", the peer's next call fails, queued data is thrown away, and nobody waits in TIME-WAIT. Setting a flag in a loop and calling close(), as some interview answers suggest for a "forced close" (强行关闭), still sends FIN; these are the ways RST really happens.`,
		`close() 通常是礼貌的:内核先把排队的数据发完,再发 FIN,对方读到 EOF。复位(RST)是结束连接的另一种方式:它表示"这个连接(已经)不存在了",对方的下一次调用会失败,排队的数据被丢弃,也没有人进入 TIME-WAIT。有些面试答案说"强行关闭"就是在循环里检查一个标志然后调用 close(),但那样发出的仍然是 FIN;下面才是真正产生 RST 的几种方式。`),
	Acts: []*lesson.Act{resetLinger, resetUnread, resetRefused, resetVanished},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(resetLinger)
		if err := lingerZeroAct(s, ln); err != nil {
			return err
		}
		s.Act(resetUnread)
		if err := unreadCloseAct(s, ln); err != nil {
			return err
		}
		s.Act(resetRefused)
		s.Name(closedPort, closedTCPPort)
		if _, err := s.Dial(client, closedPort, closedTCPPort); !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("connect to a closed port: want connection refused, got %v", err)
		}
		s.Act(resetVanished)
		return writeAfterCloseAct(s, ln)
	},
	Checks: []check.Check{},
})

// lingerZeroAct: the client sets SO_LINGER 0 and closes; the server's read
// sees the reset.
func lingerZeroAct(s *session.Session, ln *session.Listener) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	if _, err := cli.Write([]byte("bye")); err != nil {
		return err
	}
	if _, err := srv.ReadFull(3); err != nil {
		return err
	}
	// The kernel poller must have seen the socket to report it gone.
	if err := awaitKernel(s, inState{client, tcpstate.Established}); err != nil {
		return err
	}
	if err := cli.SetLinger(0); err != nil {
		return err
	}
	if err := cli.Close(); err != nil {
		return err
	}
	if _, err := srv.Read(make([]byte, 16)); !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("server read after RST: want connection reset, got %v", err)
	}
	if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
		st := e.State
		return st != nil && st.Lane == client && st.Source == timeline.Kernel && st.Gone
	}); err != nil {
		return fmt.Errorf("client socket gone: %w", err)
	}
	return srv.Close()
}

// unreadCloseAct: the server sends a reply the client never reads; the
// client closes.
func unreadCloseAct(s *session.Session, ln *session.Listener) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	if _, err := srv.Write([]byte("a reply nobody reads")); err != nil {
		return err
	}
	// Let the reply reach the client's receive buffer.
	if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
		p := e.Packet
		return p != nil && p.Lab.From == client && p.Flags == decode.ACK && p.Flow.RelAck > 1
	}); err != nil {
		return err
	}
	if err := cli.Close(); err != nil {
		return err
	}
	if _, err := srv.Read(make([]byte, 16)); !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("server read after RST: want connection reset, got %v", err)
	}
	return srv.Close()
}

// writeAfterCloseAct: the server closes; the client writes twice.
func writeAfterCloseAct(s *session.Session, ln *session.Listener) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	if err := srv.Close(); err != nil {
		return err
	}
	if err := awaitKernel(s, inState{client, tcpstate.CloseWait}); err != nil {
		return err
	}
	s.Step("The client, in CLOSE-WAIT, writes: the data reaches a closed socket.", "处于 CLOSE-WAIT 的客户端写数据:数据到达一个已关闭的套接字。")
	if _, err := cli.Write([]byte("still there?")); err != nil {
		return fmt.Errorf("first write after the peer closed: %w", err)
	}
	if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
		p := e.Packet
		return p != nil && p.Lab.From == server && p.Flags.Has(decode.RST)
	}); err != nil {
		return err
	}
	if _, err := cli.Write([]byte("hello?")); !errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("second write after RST: want broken pipe, got %v", err)
	}
	return cli.Close()
}

// closedWithRST checks that lane ended its connection with RST and sent no FIN.
func closedWithRST(v *check.View, name string) (bool, i18n.Text) {
	rst := v.Packets(check.From(name), check.HasFlags(decode.RST))
	fin := v.Packets(check.From(name), check.HasFlags(decode.FIN))
	return len(rst) == 1 && len(fin) == 0, check.Say("%s sent %d RST, %d FIN", "%s发出 %d 个 RST,%d 个 FIN", lane(name), len(rst), len(fin))
}

// callFailed checks that lane's call named call failed with an error
// containing want.
func callFailed(v *check.View, name string, call timeline.Call, want string) (bool, i18n.Text) {
	for _, c := range v.Calls(name, call) {
		if c.Err != "" && !c.Blocking {
			return strings.Contains(c.Err, want), check.Say("%s %s: %s", "%s的 %s:%s", lane(name), call, c.Err)
		}
	}
	return false, check.Say("no failed %s by %s", "没有失败的 %s(%s)", call, lane(name))
}

// resetLinger: SO_LINGER 0, then close(): RST instead of FIN
var resetLinger = &lesson.Act{
	Title: i18n.T("SO_LINGER 0, then close(): RST instead of FIN.", "SO_LINGER 设为 0 后 close():发送 RST 而不是 FIN。"),
	Lesson: i18n.T(`SO_LINGER with a zero timeout, then close(): the kernel discards the connection at once and sends RST. The server's next read fails with "connection reset by peer" (ECONNRESET). The client's socket leaves the kernel's table immediately: no TIME-WAIT, which is why some servers use it, and why it is dangerous (data still in flight is lost and the peer sees an error, not EOF).`,
		`设置 SO_LINGER 超时为 0,然后 close():内核立即丢弃连接并发送 RST。服务器的下一次读取失败,返回 "connection reset by peer"(ECONNRESET)。客户端的套接字立即从内核表中消失:没有 TIME-WAIT。这正是有些服务器这样做的原因,也是它危险的地方(在途数据会丢失,对方看到的是错误而不是 EOF)。`),
	Checks: []check.Check{
		check.New("the client's close() sends RST and no FIN", "客户端的 close() 发出 RST,没有 FIN", func(v *check.View) (bool, i18n.Text) {
			return closedWithRST(v, client)
		}).Clean(),
		check.New("the server's read fails with connection reset by peer", "服务器的读取以 connection reset by peer 失败", func(v *check.View) (bool, i18n.Text) {
			return callFailed(v, server, timeline.CallRead, "connection reset by peer")
		}),
		check.New("the client's socket leaves the kernel's table at once, without TIME-WAIT", "客户端套接字立即从内核表中消失,没有 TIME-WAIT", func(v *check.View) (bool, i18n.Text) {
			gone := false
			for _, st := range v.KernelStates(client) {
				gone = gone || st.Gone
			}
			tw := check.Contains(v.Path(client), tcpstate.TimeWait)
			return gone && !tw, check.Say("gone: %v; path %s", "已从内核表中消失:%v;状态路径 %s", check.Bool(gone), check.PathString(v.Path(client)))
		}),
	},
}

// resetUnread: close() with unread data in the receive buffer
var resetUnread = &lesson.Act{
	Title: i18n.T("close() with unread data in the receive buffer.", "接收缓冲区中有未读数据时 close()。"),
	Lesson: i18n.T(`close() with unread data in the receive buffer. The server has sent a reply the client never read; closing then sends RST instead of FIN (RFC 2525 asks for this: the peer must learn that data was lost). A classic source of "connection reset" errors on the other side.`,
		`接收缓冲区里还有未读数据时调用 close()。服务器发来的回复客户端一直没读;这时关闭会发送 RST 而不是 FIN(RFC 2525 要求这样做:对方必须知道有数据丢失了)。这是对端出现 "connection reset" 错误的常见原因。`),
	Checks: []check.Check{
		check.New("closing with unread data sends RST, not FIN", "有未读数据时关闭,发送的是 RST 而不是 FIN", func(v *check.View) (bool, i18n.Text) {
			return closedWithRST(v, client)
		}),
	},
}

// resetRefused: connect() to a port where nothing listens
var resetRefused = &lesson.Act{
	Title: i18n.T("connect() to a port where nothing listens.", "connect() 一个无人监听的端口。"),
	Lesson: i18n.T(`connect() to a port where nothing listens. The kernel answers the SYN with RST,ACK, and connect() fails with "connection refused" (ECONNREFUSED).`,
		`connect() 一个没有程序监听的端口。内核用 RST,ACK 回应 SYN,connect() 失败,返回 "connection refused"(ECONNREFUSED)。`),
	Checks: []check.Check{
		check.New("the SYN to the closed port is answered by RST,ACK acknowledging it, and connect() fails with connection refused", "发往关闭端口的 SYN 得到确认它的 RST,ACK,connect() 以 connection refused 失败", func(v *check.View) (bool, i18n.Text) {
			syn := first(v.Packets(check.From(client), check.HasFlags(decode.SYN)))
			rst := first(v.Packets(check.From(closedPort), check.HasFlags(decode.RST|decode.ACK)))
			if syn == nil || rst == nil {
				return false, check.Say("SYN or RST,ACK missing", "缺少 SYN 或 RST,ACK")
			}
			ok, detail := callFailed(v, client, timeline.CallConnect, "connection refused")
			return ok && rst.Ack == syn.Seq+1, check.Say("%s; RST,ACK ack = SYN seq+1: %v", "%s;RST,ACK 的 ack = SYN seq+1:%v", detail, check.Bool(rst.Ack == syn.Seq+1))
		}),
	},
}

// resetVanished: the server closes; the client writes anyway
var resetVanished = &lesson.Act{
	Title: i18n.T("the server closes; the client writes anyway.", "服务器已关闭;客户端照样写。"),
	Lesson: i18n.T(`writing to a peer that has gone. The server closes; the client does not notice (it is not reading) and writes. The data reaches a socket that is closed for reading, so the server's kernel answers RST. The first write() had already returned success: TCP reports errors late. The next write() fails with "broken pipe" (EPIPE). A C program would also get SIGPIPE and die unless it ignores the signal; Go ignores SIGPIPE on network sockets and returns the error.`,
		`向已经离开的对端写数据。服务器关闭了;客户端没有察觉(它没有在读),继续写。数据到达一个已关闭读方向的套接字,服务器内核以 RST 回应。第一次 write() 早已返回成功:TCP 报告错误总是滞后的。下一次 write() 失败,返回 "broken pipe"(EPIPE)。C 程序还会收到 SIGPIPE 信号,若不忽略就会退出;Go 在网络套接字上忽略 SIGPIPE,只返回错误。`),
	Checks: []check.Check{
		check.New("data sent after the server closed draws RST from the server's kernel", "服务器关闭后发来的数据引来服务器内核的 RST", func(v *check.View) (bool, i18n.Text) {
			var finSeen, dataAfterFin, rstAfterData bool
			for _, p := range v.Packets(check.TCP) {
				switch {
				case p.Lab.From == server && p.Flags.Has(decode.FIN):
					finSeen = true
				case finSeen && p.Lab.From == client && p.PayloadLen > 0:
					dataAfterFin = true
				case dataAfterFin && p.Lab.From == server && p.Flags.Has(decode.RST):
					rstAfterData = true
				}
			}
			return rstAfterData, check.Say("server FIN %v, client data after it %v, server RST after that %v", "服务器发出 FIN:%v,其后客户端发来数据:%v,再之后服务器发出 RST:%v", check.Bool(finSeen), check.Bool(dataAfterFin), check.Bool(rstAfterData))
		}),
		check.New("the first write succeeds, the next one fails with broken pipe", "第一次写入成功,下一次以 broken pipe 失败", func(v *check.View) (bool, i18n.Text) {
			var errs []string
			for _, c := range v.Calls(client, timeline.CallWrite) {
				if c.Blocking {
					continue
				}
				e := c.Err
				if e == "" {
					e = "ok"
				}
				errs = append(errs, e)
			}
			ok := len(errs) == 2 && errs[0] == "ok" && strings.Contains(errs[1], "broken pipe")
			return ok, check.Say("writes: %s", "各次写入:%s", strings.Join(errs, ", "))
		}),
	},
}
