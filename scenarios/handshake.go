package scenarios

import (
	"fmt"
	"strings"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Handshake: the TCP three-way handshake with its ISNs and options.
var Handshake = lesson.Define(lesson.Scenario{
	Name:    "handshake",
	Title:   i18n.T("TCP three-way handshake", "TCP 三次握手"),
	Summary: i18n.T("SYN, SYN-ACK, ACK: how two sockets agree on sequence numbers and options", "SYN、SYN-ACK、ACK:双方如何商定序列号和选项"),
	Lanes:   []string{client, server},
	Lesson: i18n.T(`Before TCP carries a single byte, both ends must know where the other's byte numbering starts. Each side picks an initial sequence number (ISN) at random and the other acknowledges it:

1. The client's connect() sends SYN carrying its ISN. Its socket is in SYN-SENT.
2. The server's kernel answers SYN,ACK: its own ISN, and ack = client ISN + 1 (a SYN consumes one sequence number). Linux keeps this half-open connection as a small request socket in SYN-RECEIVED.
3. The client sends ACK = server ISN + 1. Both sides are ESTABLISHED. accept() returns only now, and only if the program calls it: the kernel did the handshake on its own.

Why three and not two? The server must learn that the client received its ISN, or a delayed old SYN could open a connection nobody asked for.

The SYN and SYN,ACK also carry options that hold for the whole connection: MSS (the largest segment the sender will accept: on loopback 65495, which is 65535 − 20 − 20, the most an IPv4 packet's 16-bit total-length field allows minus the IP and TCP headers; lo's MTU, 65536 as the run reads it from the kernel, would allow one byte more, so the IP length limit, not the MTU, sets it; on a lab wire the link is an Ethernet eth0 with an MTU of 1500, and the MSS is 1500 − 40 = 1460), window scale (the window field is multiplied by 2^scale), SACK-permitted (selective acknowledgement may be used) and timestamps (RTT measurement and protection against wrapped sequence numbers).

The ladder shows sequence numbers relative to each side's ISN, as Wireshark does: the real ISNs are in the details and the checks.`,
		`TCP 传输任何数据之前,双方必须知道对方的字节编号从哪里开始。每一方随机选择一个初始序列号(ISN),由对方确认:

1. 客户端调用 connect() 发出 SYN,携带自己的 ISN,套接字进入 SYN-SENT。
2. 服务器内核回复 SYN,ACK:带上自己的 ISN,并且 ack = 客户端 ISN + 1(SYN 占用一个序号)。Linux 用一个小的请求套接字(SYN-RECEIVED)保存这个半连接。
3. 客户端发送 ACK = 服务器 ISN + 1,双方进入 ESTABLISHED。accept() 要到这时才返回,而且要程序调用它才返回:握手完全由内核完成。

为什么是三次而不是两次?服务器必须知道客户端确实收到了它的 ISN,否则一个迟到的旧 SYN 就可能建立一个没人要的连接。

SYN 和 SYN,ACK 还携带对整个连接有效的选项:MSS(发送方愿意接收的最大报文段:在回环上是 65495,即 65535 − 20 − 20,IPv4 报文 16 位总长度字段允许的最大值减去 IP 头和 TCP 头;lo 的 MTU 是 65536(本次运行从内核读出),本可以多容纳一个字节,所以限制 MSS 的是 IP 长度上限,而不是 MTU;在实验线路上,链路是 MTU 为 1500 的以太网 eth0,MSS 是 1500 − 40 = 1460)、窗口扩大因子(窗口字段要乘以 2^scale)、SACK-permitted(允许选择性确认)和时间戳(测量 RTT,防止序号回绕)。

梯形图中的序号是相对于各自 ISN 的相对序号(和 Wireshark 一样),真实 ISN 见详情和检查项。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		if err := noteLink(s, client); err != nil {
			return err
		}
		s.Step("The client calls connect(): the kernel sends SYN.", "客户端调用 connect():内核发出 SYN。")
		c, srv, err := connectPair(s, ln)
		if err != nil {
			return err
		}
		s.Step("connect() and accept() have returned: both sockets are ESTABLISHED.", "connect() 和 accept() 都已返回:两个套接字都是 ESTABLISHED。")
		// Let the kernel poller see ESTABLISHED on both sides.
		if err := awaitKernel(s, inState{server, tcpstate.Established}, inState{client, tcpstate.Established}); err != nil {
			return err
		}
		s.Step("Both close (the close scenario shows this part in detail).", "双方关闭(close 场景会详细展示这一部分)。")
		if err := c.Close(); err != nil {
			return err
		}
		return srv.Close()
	},
	Checks: []check.Check{
		check.New("client's first segment is SYN (no ACK)", "客户端的第一个报文段是 SYN(不带 ACK)", func(v *check.View) (bool, i18n.Text) {
			ps := v.Packets(check.TCP, check.From(client))
			if len(ps) == 0 {
				return false, check.Say("no segment from the client", "客户端没有发出报文段")
			}
			return ps[0].Flags == decode.SYN, check.Say("first: %s", "第一个:%s", ps[0].Summary())
		}),
		check.New("the handshake is SYN, SYN,ACK, ACK", "握手顺序是 SYN、SYN,ACK、ACK", func(v *check.View) (bool, i18n.Text) {
			ps := v.Packets(check.TCP)
			if len(ps) < 3 {
				return false, check.Say("only %d segments", "只有 %d 个报文段", len(ps))
			}
			got := check.Flags(ps[:3])
			return got == "SYN SYN,ACK ACK" && ps[0].Lab.From == client && ps[1].Lab.From == server && ps[2].Lab.From == client, check.Plain(got)
		}).Clean(),
		check.New("SYN,ACK acknowledges the client's ISN + 1", "SYN,ACK 确认号 = 客户端 ISN + 1", func(v *check.View) (bool, i18n.Text) {
			syn := first(v.Packets(check.From(client), check.HasFlags(decode.SYN)))
			sa := first(v.Packets(check.From(server), check.HasFlags(decode.SYN|decode.ACK)))
			if syn == nil || sa == nil {
				return false, check.Say("SYN or SYN,ACK missing", "缺少 SYN 或 SYN,ACK")
			}
			return sa.Ack == syn.Seq+1, check.Say("client ISN %d, SYN,ACK ack %d", "客户端 ISN %d,SYN,ACK 的 ack %d", syn.Seq, sa.Ack)
		}),
		check.New("the client's ACK acknowledges the server's ISN + 1", "客户端的 ACK 确认号 = 服务器 ISN + 1", func(v *check.View) (bool, i18n.Text) {
			sa := first(v.Packets(check.From(server), check.HasFlags(decode.SYN|decode.ACK)))
			// The client's first segment after its SYN(s): a SYN the
			// kernel sent again (its first was lost) is not the ACK.
			ack := first(v.Packets(check.TCP, check.From(client), func(p *decode.Packet) bool { return !p.Flags.Has(decode.SYN) }))
			if sa == nil || ack == nil {
				return false, check.Say("SYN,ACK or the client's ACK missing", "缺少 SYN,ACK 或客户端的 ACK")
			}
			return ack.Flags == decode.ACK && ack.Ack == sa.Seq+1, check.Say("server ISN %d, ACK ack %d", "服务器 ISN %d,ACK 的 ack %d", sa.Seq, ack.Ack)
		}),
		check.New("SYN and SYN,ACK both carry MSS, window scale, SACK-permitted and timestamps", "SYN 和 SYN,ACK 都带有 MSS、窗口扩大、SACK-permitted 和时间戳选项", func(v *check.View) (bool, i18n.Text) {
			ps := v.Packets(check.HasFlags(decode.SYN))
			if len(ps) < 2 {
				return false, check.Say("SYN or SYN,ACK missing", "缺少 SYN 或 SYN,ACK")
			}
			ok := true
			var parts []string
			for _, p := range ps[:2] {
				o := p.Opts
				ok = ok && o.MSS > 0 && o.WScale >= 0 && o.SACKPerm && o.TS
				parts = append(parts, fmt.Sprintf("%s: mss=%d wscale=%d sack_perm=%v ts=%v", p.Flags, o.MSS, o.WScale, o.SACKPerm, o.TS))
			}
			return ok, check.Plain(strings.Join(parts, "; "))
		}),
		check.New("the SYN's MSS is the client's link MTU − 40 (IP and TCP headers), or 65535 − 40 = 65495 where the IPv4 length limit is lower than the MTU", "SYN 的 MSS 是客户端链路 MTU − 40(IP 头和 TCP 头);若 IPv4 长度上限 65535 比 MTU 还小,则是 65535 − 40 = 65495", func(v *check.View) (bool, i18n.Text) {
			syn := first(v.Packets(check.From(client), check.HasFlags(decode.SYN)))
			link, mtu, ok := linkMTU(v)
			if syn == nil || !ok {
				return false, check.Say("SYN or the client's MTU missing", "缺少 SYN 或客户端的 MTU")
			}
			const ipv4Max, headers = 65535, 20 + 20
			mss, want := int(syn.Opts.MSS), min(mtu, ipv4Max)-headers
			return mss == want, check.Say("SYN mss=%d; %s MTU %d (from the kernel), min(%d, 65535) − 40 = %d", "SYN mss=%d;%s 的 MTU %d(内核读数),min(%d, 65535) − 40 = %d", mss, link, mtu, mtu, want)
		}),
		check.New("accept() returns only after the client's ACK: the kernel did the handshake on its own", "accept() 在客户端的 ACK 之后才返回:握手是内核自己完成的", func(v *check.View) (bool, i18n.Text) {
			ackAt, acceptAt := -1, -1
			for i, e := range v.Events() {
				if p := e.Packet; p != nil && p.Lab.From == client && p.Flags == decode.ACK && ackAt < 0 {
					ackAt = i
				}
				if a := e.App; a != nil && a.Lane == server && a.Call == timeline.CallAccept && acceptAt < 0 {
					acceptAt = i
				}
			}
			return ackAt >= 0 && acceptAt > ackAt, check.Say("the client's ACK is event %d of the view, accept() returns at event %d", "客户端的 ACK 是视图中第 %d 个事件,accept() 在第 %d 个事件返回", ackAt, acceptAt)
		}),
		check.New("the kernel shows both sockets ESTABLISHED", "内核显示两个套接字都是 ESTABLISHED", func(v *check.View) (bool, i18n.Text) {
			c, s := kernelSaw(v, client, tcpstate.Established), kernelSaw(v, server, tcpstate.Established)
			return c && s, check.Say("client ESTABLISHED seen: %v, server ESTABLISHED seen: %v", "看到客户端处于 ESTABLISHED:%v,看到服务器处于 ESTABLISHED:%v", check.Bool(c), check.Bool(s))
		}),
		check.New("the client went SYN-SENT → ESTABLISHED, the server SYN-RECEIVED → ESTABLISHED", "客户端经历 SYN-SENT → ESTABLISHED,服务器经历 SYN-RECEIVED → ESTABLISHED", func(v *check.View) (bool, i18n.Text) {
			cp, sp := v.Path(client), v.Path(server)
			ok := check.Contains(cp, tcpstate.SynSent, tcpstate.Established) && check.Contains(sp, tcpstate.SynReceived, tcpstate.Established)
			return ok, check.Say("client %s; server %s", "客户端 %s;服务器 %s", check.PathString(cp), check.PathString(sp))
		}),
	},
})

// linkNote starts the note in which a scenario records the MTU of a
// lane's link as the kernel reports it, for the checks (linkMTU).
const linkNote = "the client's link, as the kernel reports it: "

// noteLink records the MTU of the interface lane's address lives on.
func noteLink(s *session.Session, lane session.Lane) error {
	name, mtu, err := s.Link(lane)
	if err != nil {
		return err
	}
	s.Note(fmt.Sprintf("%s%s, MTU %d bytes", linkNote, name, mtu), fmt.Sprintf("内核报告的客户端链路:%s,MTU %d 字节", name, mtu))
	return nil
}

// linkMTU reads the link noteLink recorded.
func linkMTU(v *check.View) (name string, mtu int, ok bool) {
	for _, e := range v.Events() {
		if e.Note != nil && strings.HasPrefix(e.Note.Text.En, linkNote) {
			_, err := fmt.Sscanf(strings.TrimPrefix(e.Note.Text.En, linkNote), "%s MTU %d bytes", &name, &mtu)
			return strings.TrimSuffix(name, ","), mtu, err == nil
		}
	}
	return "", 0, false
}
