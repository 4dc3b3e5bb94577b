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

// HandshakeLoss: the three-way handshake when each of its three segments
// is lost once, on a real wire.
var HandshakeLoss = lesson.Define(lesson.Scenario{
	Name:    "handshake-loss",
	Title:   i18n.T("A handshake on a lossy wire: a lost SYN, SYN,ACK or ACK", "有丢包的握手:丢失的 SYN、SYN,ACK 或 ACK"),
	Summary: i18n.T("each segment of the handshake lost once: who notices, who sends again, after how long", "握手的每个报文段各丢一次:谁发现、谁重发、等多久"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed: 1,
		Rules: []wire.Rule{
			{Name: "lose the SYN", Dir: wire.AtoB, Match: wire.MatchSYN, Conn: 1},
			{Name: "lose the SYN,ACK", Dir: wire.BtoA, Match: wire.MatchSYNACK, Conn: 2},
			{Name: "lose the handshake's ACK", Dir: wire.AtoB, Match: wire.MatchHandshakeACK, Conn: 3},
		},
	},
	Lesson: i18n.T(`Interviewers like to ask what happens when a segment of the three-way handshake is lost. Nobody acknowledges a SYN or a SYN,ACK except with the next step of the handshake, so a loss is noticed only by a timer: the side that is waiting sends again. Linux starts that timer at 1 second for a connection that has no round-trip measurement yet (RFC 6298's initial RTO) and doubles it each time.

This run is on a lab network whose wire loses one segment of each act's handshake, and nothing else.`,
		`面试官喜欢问:三次握手的某个报文段丢了会怎样?SYN 和 SYN,ACK 除了握手的下一步之外没有别的确认,所以丢失只能靠定时器发现:正在等待的一方再发一次。连接还没有测得往返时间时,Linux 把这个定时器设为 1 秒(RFC 6298 的初始 RTO),之后每次加倍。

这次运行在实验网络上,线路在每一幕的握手中丢掉一个报文段,其余什么都不丢。`),
	Acts: []*lesson.Act{lostSYN, lostSYNACK, lostACK},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		for _, a := range []*lesson.Act{lostSYN, lostSYNACK} {
			s.Act(a)
			s.Step("The client connects; the wire loses one segment of the handshake.", "客户端发起连接;线路丢掉握手中的一个报文段。")
			cli, srv, err := connectPair(s, ln)
			if err != nil {
				return err
			}
			if err := closeBoth(cli, srv); err != nil {
				return err
			}
			if err := s.Sleep(100 * time.Millisecond); err != nil {
				return err
			}
		}
		s.Act(lostACK)
		return lostACKAct(s, ln)
	},
})

// lostACKAct: the handshake's ACK is lost; the client, ESTABLISHED, sends
// data, which completes the server's side of the handshake.
func lostACKAct(s *session.Session, ln *session.Listener) error {
	read := serveOnce(s, ln, len("hi"))
	s.Step("The client connects; the wire loses its ACK, the handshake's last segment.", "客户端发起连接;线路丢掉它的 ACK,也就是握手的最后一个报文段。")
	cli, err := s.Dial(client, server, 8888)
	if err != nil {
		return err
	}
	// Let the kernel show both sides of the disagreement before the data
	// settles it: the client's socket ESTABLISHED, the server's request
	// socket for it SYN-RECEIVED.
	port := cli.Socket().Local.Port()
	if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
		st := e.State
		return st != nil && st.Source == timeline.Kernel && st.Lane == client && st.Socket.Local.Port() == port && st.To == tcpstate.Established
	}); err != nil {
		return fmt.Errorf("the client ESTABLISHED: %w", err)
	}
	if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
		st := e.State
		return st != nil && st.Source == timeline.Kernel && st.Lane == server && st.Socket.Remote.Port() == port && synReceived(st.To)
	}); err != nil {
		return fmt.Errorf("the server's request socket in SYN-RECEIVED: %w", err)
	}
	s.Step("The client believes the connection is open and sends \"hi\".", "客户端认为连接已经建立,发送 \"hi\"。")
	if _, err := cli.Write([]byte("hi")); err != nil {
		return err
	}
	select {
	case err := <-read:
		if err != nil {
			return err
		}
	case <-s.Context().Done():
		return s.Context().Err()
	}
	return cli.Close()
}

func synReceived(st tcpstate.State) bool {
	return st == tcpstate.SynReceived || st == tcpstate.NewSynRecv
}

// connectTook is how long the client's connect() blocked.
func connectTook(v *check.View) (time.Duration, bool) {
	for _, a := range v.Calls(client, timeline.CallConnect) {
		if !a.Blocking {
			return a.Dur, true
		}
	}
	return 0, false
}

var lostSYN = &lesson.Act{
	Title: i18n.T("the SYN is lost.", "SYN 丢失。"),
	Lesson: i18n.T(`the wire loses the client's SYN. The server never knew; only the client is waiting, and after 1 second its kernel sends the same SYN again (same initial sequence number). connect() blocks the whole time: a program sees a lost SYN as a connect() that takes a second longer. Had the second SYN been lost too, the next wait would be 2 s, then 4 s... until tcp_syn_retries (6 here, about 127 s) gives up with "connection timed out".`,
		`线路丢掉了客户端的 SYN。服务器根本不知道;只有客户端在等,1 秒后它的内核再发一次同样的 SYN(同样的初始序号)。connect() 一直阻塞:对程序来说,丢失的 SYN 就是 connect() 多花了一秒。要是第二个 SYN 也丢了,下一次要等 2 秒,然后 4 秒……直到 tcp_syn_retries(这里是 6,约 127 秒)用完,以 "connection timed out" 放弃。`),
	Checks: []check.Check{
		check.New("the client sent its SYN twice, the same ISN, about 1 s apart: the first was lost", "客户端发了两次 SYN,初始序号相同,相隔约 1 秒:第一次丢了", func(v *check.View) (bool, i18n.Text) {
			syns, gaps := copies(v, client, decode.SYN, decode.ACK)
			ok := len(syns) == 2 && syns[0].Lab.Drop == decode.DropWire && syns[1].Lab.Drop == decode.Delivered &&
				syns[0].Seq == syns[1].Seq && aboutRTO(gaps[0])
			return ok, check.Say("%d SYN(s): %s; gaps %s", "%d 个 SYN:%s;间隔 %s", len(syns), fates(syns), gapList(gaps))
		}),
		check.New("the server sent one SYN,ACK: it never saw the lost SYN", "服务器只发了一个 SYN,ACK:它从没见过那个丢失的 SYN", func(v *check.View) (bool, i18n.Text) {
			sas, _ := copies(v, server, decode.SYN|decode.ACK, 0)
			return len(sas) == 1, check.Say("%d SYN,ACK(s)", "%d 个 SYN,ACK", len(sas))
		}),
		check.New("connect() blocked for about 1 s", "connect() 阻塞了约 1 秒", func(v *check.View) (bool, i18n.Text) {
			d, ok := connectTook(v)
			return ok && aboutRTO(d), check.Say("connect() took %v", "connect() 用了 %v", d.Round(time.Millisecond))
		}),
	},
}

var lostSYNACK = &lesson.Act{
	Title: i18n.T("the SYN,ACK is lost.", "SYN,ACK 丢失。"),
	Lesson: i18n.T(`the wire loses the server's SYN,ACK. Now both sides wait. The server's kernel holds the half-open connection as a request socket in SYN-RECEIVED (it sits in the listener's SYN queue, not yet in the accept queue) and will send its SYN,ACK again; the client, still in SYN-SENT, will send its SYN again; both timers are 1 second, and a SYN that reaches a request socket is answered with the SYN,ACK again. Whichever fires first, the handshake completes about a second late.`,
		`线路丢掉了服务器的 SYN,ACK。这下两边都在等。服务器内核把半开的连接作为一个处于 SYN-RECEIVED 的请求套接字保存(它在监听套接字的 SYN 队列里,还没进全连接队列),并会重发 SYN,ACK;客户端仍处于 SYN-SENT,会重发 SYN;两边的定时器都是 1 秒,而一个到达请求套接字的 SYN 会让服务器再回一次 SYN,ACK。不管谁先到期,握手都晚了大约一秒才完成。`),
	Checks: []check.Check{
		check.New("the server's first SYN,ACK was lost; one came again about 1 s later", "服务器的第一个 SYN,ACK 丢了;约 1 秒后又来了一个", func(v *check.View) (bool, i18n.Text) {
			sas, gaps := copies(v, server, decode.SYN|decode.ACK, 0)
			ok := len(sas) >= 2 && sas[0].Lab.Drop == decode.DropWire && sas[1].Lab.Drop == decode.Delivered && aboutRTO(gaps[0])
			return ok, check.Say("%d SYN,ACK(s): %s; gaps %s", "%d 个 SYN,ACK:%s;间隔 %s", len(sas), fates(sas), gapList(gaps))
		}),
		check.New("meanwhile the kernel shows the server's side SYN-RECEIVED and the client's SYN-SENT", "这期间内核显示服务器一侧处于 SYN-RECEIVED,客户端处于 SYN-SENT", func(v *check.View) (bool, i18n.Text) {
			srv, cli := false, kernelSaw(v, client, tcpstate.SynSent)
			for _, st := range v.KernelStates(server) {
				srv = srv || synReceived(st.To)
			}
			return srv && cli, check.Say("server SYN-RECEIVED seen: %v, client SYN-SENT seen: %v", "看到服务器处于 SYN-RECEIVED:%v,看到客户端处于 SYN-SENT:%v", check.Bool(srv), check.Bool(cli))
		}),
		check.New("connect() blocked for about 1 s", "connect() 阻塞了约 1 秒", func(v *check.View) (bool, i18n.Text) {
			d, ok := connectTook(v)
			syns, _ := copies(v, client, decode.SYN, decode.ACK)
			return ok && aboutRTO(d), check.Say("connect() took %v; the client sent %d SYN(s)", "connect() 用了 %v;客户端发了 %d 个 SYN", d.Round(time.Millisecond), len(syns))
		}),
	},
}

var lostACK = &lesson.Act{
	Title: i18n.T("the handshake's ACK is lost.", "握手的 ACK 丢失。"),
	Lesson: i18n.T(`the wire loses the client's ACK, the third segment. This is the interview classic: the two sides now disagree. The client received the SYN,ACK, sent its ACK and is ESTABLISHED: connect() returns at once. The server never got the ACK and is still SYN-RECEIVED; accept() has nothing to return. The client does not know and sends data. That data segment carries the same acknowledgement (every segment after the SYN has ACK set), so it completes the server's handshake: the server creates the connection, accept() returns, and the data is read. Had the client sent nothing, the server would have sent its SYN,ACK again after 1 s, and the client would have acknowledged again.`,
		`线路丢掉了客户端的 ACK,也就是第三个报文段。这是面试经典题:两边现在看法不一致。客户端收到了 SYN,ACK,发出了 ACK,已经是 ESTABLISHED:connect() 立刻返回。服务器没收到 ACK,仍是 SYN-RECEIVED;accept() 没有东西可返回。客户端并不知道,照样发送数据。这个数据报文段带着同样的确认号(SYN 之后的每个报文段都置了 ACK),于是它替服务器完成了握手:服务器建立连接,accept() 返回,数据被读走。如果客户端什么都不发,服务器会在 1 秒后重发 SYN,ACK,客户端会再确认一次。`),
	Checks: []check.Check{
		check.New("the client's ACK was lost, yet connect() returned at once and the kernel shows the client ESTABLISHED", "客户端的 ACK 丢了,connect() 却立刻返回,内核显示客户端处于 ESTABLISHED", func(v *check.View) (bool, i18n.Text) {
			acks, _ := copies(v, client, decode.ACK, decode.SYN|decode.FIN|decode.PSH)
			lost := len(acks) > 0 && acks[0].Lab.Drop == decode.DropWire && acks[0].PayloadLen == 0
			d, ok := connectTook(v)
			est := kernelSaw(v, client, tcpstate.Established)
			// At once: without waiting for any timer (the first
			// retransmission would come after the 1 s RTO).
			return lost && ok && d < initialRTO/2 && est, check.Say("first ACK lost: %v; connect() took %v; client ESTABLISHED seen: %v", "第一个 ACK 丢失:%v;connect() 用了 %v;看到客户端处于 ESTABLISHED:%v",
				check.Bool(lost), d.Round(time.Microsecond), check.Bool(est))
		}),
		check.New("while the client was ESTABLISHED, the kernel still showed the server's side SYN-RECEIVED", "客户端已经 ESTABLISHED 时,内核仍显示服务器一侧处于 SYN-RECEIVED", func(v *check.View) (bool, i18n.Text) {
			// The server's side was SYN-RECEIVED from the kernel's reading
			// until its next state: if that came after the client's
			// ESTABLISHED reading, the two overlapped.
			var est, synrecv, next time.Time
			for _, e := range v.Events() {
				st := e.State
				switch {
				case st == nil:
				case st.Lane == client && st.Source == timeline.Kernel && st.To == tcpstate.Established && est.IsZero():
					est = e.Time
				case st.Lane == server && st.Source == timeline.Kernel && synReceived(st.To) && synrecv.IsZero():
					synrecv = e.Time
				case st.Lane == server && !synrecv.IsZero() && !synReceived(st.To) && next.IsZero():
					next = e.Time
				}
			}
			ok := !est.IsZero() && !synrecv.IsZero() && next.After(est)
			ms := func(t time.Time) string {
				if t.IsZero() {
					return "–"
				}
				return fmtMS(t.Sub(v.Events()[0].Time))
			}
			return ok, check.Say("client ESTABLISHED read at %s; server SYN-RECEIVED read at %s, its next state at %s (ms into the act)", "客户端 ESTABLISHED 读于 %s;服务器 SYN-RECEIVED 读于 %s,下一个状态在 %s(从本幕开始计,毫秒)",
				ms(est), ms(synrecv), ms(next))
		}),
		check.New("the server's side opened only with the client's next segment: its first data, or (if the client waits a second) its ACK of the SYN,ACK sent again", "服务器一侧要等客户端的下一个报文段才建立:它的第一个数据报文段,或者(如果客户端等了一秒)它对重发的 SYN,ACK 的确认", func(v *check.View) (bool, i18n.Text) {
			var data, resent, reack, accept *timeline.Event
			for _, e := range v.Events() {
				p, a := e.Packet, e.App
				switch {
				case p != nil && p.Lab.From == client && p.PayloadLen > 0 && data == nil:
					data = e
				case p != nil && p.Lab.From == server && p.Flags == decode.SYN|decode.ACK && !check.Original(p) && resent == nil:
					resent = e
				case p != nil && resent != nil && p.Lab.From == client && p.Flags == decode.ACK && p.PayloadLen == 0 && p.Lab.Drop == decode.Delivered && reack == nil:
					reack = e
				case a != nil && a.Lane == server && a.Call == timeline.CallAccept && !a.Blocking && accept == nil:
					accept = e
				}
			}
			read := v.Bytes(server, timeline.CallRead)
			after := func(x, y *timeline.Event) bool { return x != nil && y != nil && x.ID > y.ID }
			if resent == nil || after(resent, data) {
				return after(accept, data) && read == len("hi"), check.Say("the data completed it: accept() returned after the data segment, with no SYN,ACK sent again; the server read %d bytes",
					"数据完成了握手:accept() 在数据报文段之后返回,SYN,ACK 没有重发;服务器读到 %d 字节", read)
			}
			sas, gaps := copies(v, server, decode.SYN|decode.ACK, 0)
			ok := after(accept, reack) && len(gaps) > 0 && aboutRTO(gaps[0]) && read == len("hi")
			return ok, check.Say("the client waited: the server sent its SYN,ACK again (%d in all, gaps %s) and the client's ACK of it completed the handshake before the data; the server read %d bytes",
				"客户端等了一会儿:服务器重发了 SYN,ACK(共 %d 个,间隔 %s),客户端对它的确认在数据之前完成了握手;服务器读到 %d 字节", len(sas), gapList(gaps), read)
		}),
	},
}
