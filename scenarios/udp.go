package scenarios

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/timeline"
)

// udpMessages are sent over TCP (act 1) and over UDP (act 2).
var udpMessages = []string{"one", "two", "three"}

const (
	udpPort     = 9999
	closedPort9 = 9 // nothing listens there
)

// UDP: the same messages over TCP and UDP, and what a closed UDP port does.
var UDP = lesson.Define(lesson.Scenario{
	Name:      "udp",
	Title:     i18n.T("TCP vs UDP: connections, boundaries, overhead, errors", "TCP 与 UDP:连接、边界、开销、错误"),
	Summary:   i18n.T("the same three messages over TCP and UDP; a datagram to a closed port draws ICMP port unreachable", "同样三条消息分别走 TCP 和 UDP;发往关闭端口的数据报引来 ICMP 端口不可达"),
	Lanes:     []string{client, server, closedPort},
	ShowBytes: true,
	Lesson: i18n.T("Interview answers list the differences between TCP and UDP; this run shows them on the wire.",
		"面试答案会列出 TCP 和 UDP 的区别;本次运行在线路上把它们展示出来。"),
	Acts: []*lesson.Act{udpOverTCP, udpDatagrams, udpClosedPort},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(udpOverTCP)
		if err := udpTCPMessages(s, ln); err != nil {
			return err
		}
		s.Act(udpDatagrams)
		if err := udpMessagesAsDatagrams(s); err != nil {
			return err
		}
		s.Act(udpClosedPort)
		return udpToClosedPort(s)
	},
	Checks: []check.Check{
		check.New("header overhead from the capture: UDP 8 bytes, TCP 20 bytes or more", "从抓包测得的头部开销:UDP 8 字节,TCP 20 字节以上", func(v *check.View) (bool, i18n.Text) {
			tcp := v.Act(udpOverTCP.ActNumber()).Packets(check.TCP, check.WithPayload)
			udp := v.Act(udpDatagrams.ActNumber()).Packets(check.UDP)
			if len(tcp) == 0 || len(udp) == 0 {
				return false, check.Say("no TCP data segment or no UDP datagram", "没有 TCP 数据报文段或没有 UDP 数据报")
			}
			th, uh := transportHeader(tcp[0]), transportHeader(udp[0])
			tw, uw := frameBytes(v.Act(udpOverTCP.ActNumber()).Packets(check.TCP)), frameBytes(udp)
			ok := uh == 8 && th >= 20
			return ok, check.Say("TCP header %d bytes, UDP header %d bytes; for the same %d bytes of data TCP used %d packets (%d bytes of frames), UDP %d (%d bytes)",
				"TCP 头部 %d 字节,UDP 头部 %d 字节;同样 %d 字节的数据,TCP 用了 %d 个报文(帧共 %d 字节),UDP 用了 %d 个(%d 字节)",
				th, uh, len(strings.Join(udpMessages, "")), len(v.Act(udpOverTCP.ActNumber()).Packets(check.TCP)), tw, len(udp), uw)
		}),
	},
})

// transportHeader is the length of a packet's TCP or UDP header, as
// captured.
func transportHeader(p *decode.Packet) int { return p.PayloadOffset - p.TransportOffset }

// frameBytes adds up the packets' frame sizes as captured (lo's 14-byte
// Ethernet header, the IP header, the transport header and the data).
func frameBytes(ps []*decode.Packet) int {
	n := 0
	for _, p := range ps {
		n += p.Length
	}
	return n
}

// udpOverTCP: three messages over TCP
var udpOverTCP = &lesson.Act{
	Title: i18n.T("three messages over TCP.", "三条消息走 TCP。"),
	Lesson: i18n.T(`TCP. Three messages, "one", "two" and "three", each in its own write. Before the first byte there is a handshake, after the last a close; every segment is acknowledged. The server reads once, after all three have arrived, and gets "onetwothree": a byte stream has no message boundaries (see the coalescing scenario).`,
		`TCP。三条消息 "one"、"two"、"three",每条单独一次 write。第一个字节之前有握手,最后一个字节之后有关闭;每个报文段都被确认。服务器等三条都到了才读一次,得到 "onetwothree":字节流没有消息边界(见 coalescing 粘包场景)。`),
	Checks: []check.Check{
		check.New("TCP sends packets without data (handshake, ACKs, close) and the server's one read joins the three messages", "TCP 发送了不带数据的报文(握手、ACK、关闭),服务器一次读取把三条消息连在了一起", func(v *check.View) (bool, i18n.Text) {
			all := v.Packets(check.TCP)
			data := v.Packets(check.TCP, check.WithPayload)
			reads := v.Calls(server, timeline.CallRead)
			ok := len(all)-len(data) >= 6 && len(reads) >= 1 && reads[0].Bytes == len(strings.Join(udpMessages, ""))
			got := 0
			if len(reads) > 0 {
				got = reads[0].Bytes
			}
			return ok, check.Say("%d segments, %d of them without data; first read %d bytes", "%d 个报文段,其中 %d 个不带数据;第一次读取 %d 字节", len(all), len(all)-len(data), got)
		}).Clean(),
	},
}

// udpDatagrams: the same messages over UDP
var udpDatagrams = &lesson.Act{
	Title: i18n.T("the same messages over UDP.", "同样的消息走 UDP。"),
	Lesson: i18n.T(`UDP. The same three messages, each in its own send(). connect() on a UDP socket sends nothing: it only records the peer's address. Each send is one datagram on the wire, nothing is acknowledged, close() sends nothing. The server also reads only after all three have arrived, and still gets three separate datagrams: UDP keeps every boundary, one send = one datagram = one receive. It also guarantees nothing else: a lost datagram stays lost and nobody tells the sender (loopback loses nothing; run this lesson with --loss 30% and watch datagrams vanish, unrepaired).

Header overhead, measured from this capture: the UDP header is 8 bytes (ports, length, checksum). The TCP header is 20 bytes plus options; Linux adds 12 bytes of timestamps to every segment, so 32. Add the handshake, the ACKs and the close, and TCP needs several times the packets and bytes to carry the same 11 bytes of data.`,
		`UDP。同样三条消息,每条单独一次 send()。UDP 套接字上的 connect() 不发送任何东西:它只记下对方的地址。每次 send 在线路上就是一个数据报,没有任何确认,close() 也不发送任何东西。服务器同样等三条都到了才读,读到的仍是三个独立的数据报:UDP 保留每一个边界,一次 send = 一个数据报 = 一次接收。除此之外它什么也不保证:丢失的数据报就丢了,也没有人通知发送方(环回接口不丢包;用 --loss 30% 运行本课,可以看到数据报消失,无人修补)。

头部开销,从本次抓包中测得:UDP 头部 8 字节(端口、长度、校验和)。TCP 头部 20 字节加选项;Linux 在每个报文段里加 12 字节时间戳,所以是 32 字节。再加上握手、ACK 和关闭,TCP 传输同样 11 字节的数据需要多出好几倍的报文和字节。`),
	Checks: []check.Check{
		check.New("UDP sends exactly one datagram per send, and nothing else (no handshake, no ACK, no close)", "UDP 每次 send 恰好一个数据报,除此之外什么也不发(没有握手、确认、关闭)", func(v *check.View) (bool, i18n.Text) {
			all := v.Packets()
			sends := v.Calls(client, timeline.CallSend)
			var sizes []int
			for _, p := range all {
				sizes = append(sizes, p.PayloadLen)
			}
			ok := len(all) == len(udpMessages) && len(v.Packets(check.UDP)) == len(all) && len(sends) == len(udpMessages)
			return ok, check.Say("%d sends, %d packets on the wire with payloads %v", "send %d 次,线路上 %d 个报文,载荷长度 %v", len(sends), len(all), sizes)
		}),
		check.New("the server receives every datagram that arrived, once, and nothing sends a lost one again", "服务器把到达的每个数据报接收一次,丢失的数据报没有谁重发", func(v *check.View) (bool, i18n.Text) {
			sent := v.Packets(check.UDP, check.From(client))
			arrived := 0
			for _, p := range sent {
				arrived += udpDelivered(p)
			}
			recvs := 0
			for _, a := range v.Calls(server, timeline.CallRecvfrom) {
				if a.Err == "" {
					recvs++
				}
			}
			sends := len(v.Calls(client, timeline.CallSend))
			ok := len(sent) == sends && recvs == min(arrived, len(udpMessages))
			return ok, check.Say("%d sends, %d datagrams on the wire, %d arrived, %d received", "send %d 次,线路上 %d 个数据报,到达 %d 个,接收 %d 次", sends, len(sent), arrived, recvs)
		}),
		check.New("each receive returns exactly one datagram: the boundaries survive", "每次接收恰好得到一个数据报:边界保留了下来", func(v *check.View) (bool, i18n.Text) {
			st := v.StreamFrom(client)
			if st == nil {
				return false, check.Say("no datagrams", "没有数据报")
			}
			want := []int{3, 3, 5}
			ok := slices.Equal(st.Writes, want) && slices.Equal(st.Segments, want) && slices.Equal(st.Reads, want)
			return ok, check.Say("%d sends %v, %d datagrams %v, %d receives %v", "发送 %d 次 %v,数据报 %d 个 %v,接收 %d 次 %v",
				len(st.Writes), st.Writes, len(st.Segments), st.Segments, len(st.Reads), st.Reads)
		}).Clean(),
	},
}

// udpClosedPort: datagrams to a port where nothing listens
var udpClosedPort = &lesson.Act{
	Title: i18n.T("datagrams to a port where nothing listens.", "发往无人监听端口的数据报。"),
	Lesson: i18n.T(`a datagram to a port where nothing listens. The receiving kernel answers with ICMP "port unreachable", quoting the start of the datagram that failed. An unconnected socket (sendto) never hears of it: Linux does not report ICMP errors to unconnected UDP sockets unless asked (IP_RECVERR). A connected socket does: its next receive fails with ECONNREFUSED, "connection refused", the same words TCP uses for a RST to a SYN, though no connection was ever made.`,
		`发往一个没有程序监听的端口的数据报。接收方内核回复 ICMP "端口不可达",并引用出错数据报的开头部分。未连接的套接字(sendto)永远不会知道:除非特别要求(IP_RECVERR),Linux 不会把 ICMP 错误报告给未连接的 UDP 套接字。已连接的套接字则会知道:它的下一次接收失败,返回 ECONNREFUSED "connection refused"(连接被拒绝),和 TCP 的 SYN 遇到 RST 时用词一样,尽管这里从来没有建立过连接。`),
	Checks: []check.Check{
		check.New("each datagram to the closed port draws ICMP port unreachable, quoting that datagram", "每个发往关闭端口的数据报都引来 ICMP 端口不可达,并引用了该数据报", func(v *check.View) (bool, i18n.Text) {
			sent := v.Packets(check.UDP)
			icmp := v.Packets(check.ICMP)
			quoted := 0
			for _, p := range icmp {
				if p.ICMP.Type == 3 && p.ICMP.Code == 3 && p.ICMP.Quoted && p.ICMP.QuotedProto == decode.ProtoUDP && p.ICMP.QuotedDst.Port() == closedPort9 {
					quoted++
				}
			}
			return len(sent) == 2 && quoted == 2, check.Say("%d datagrams to %s, %d ICMP port unreachable quoting them", "%d 个数据报发往 %s,%d 个 ICMP 端口不可达引用了它们", len(sent), closedAddr(sent), quoted)
		}).Clean(),
		check.New("the unconnected sendto() saw no error; the connected socket's receive failed with connection refused", "未连接的 sendto() 没有看到错误;已连接套接字的接收以 connection refused 失败", func(v *check.View) (bool, i18n.Text) {
			st := v.Calls(client, timeline.CallSendto)
			rv := v.Calls(client, timeline.CallRecv)
			ok := len(st) == 1 && st[0].Err == "" && len(rv) == 1 && strings.Contains(rv[0].Err, "connection refused")
			var se, re string
			if len(st) > 0 {
				se = st[0].Err
			}
			if len(rv) > 0 {
				re = rv[0].Err
			}
			return ok, check.Say("sendto error %q, recv error %q", "sendto 的错误 %q,recv 的错误 %q", se, re)
		}).Clean(),
	},
}

// udpTCPMessages sends the messages over TCP, one write each, and lets the
// server read once they have all arrived.
func udpTCPMessages(s *session.Session, ln *session.Listener) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	if err := sendSpaced(s, cli.Write); err != nil {
		return err
	}
	if _, err := srv.Read(make([]byte, 100)); err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// udpMessagesAsDatagrams sends the same messages as datagrams on a
// connected socket; the server receives once per datagram.
func udpMessagesAsDatagrams(s *session.Session) error {
	us, err := s.ListenUDP(server, udpPort)
	if err != nil {
		return err
	}
	uc, err := s.DialUDP(client, server, udpPort)
	if err != nil {
		return err
	}
	if err := sendSpaced(s, uc.Write); err != nil {
		return err
	}
	s.Step("The server receives, once per datagram that arrived.", "服务器接收:每个到达的数据报接收一次。")
	// On a lossy wire a datagram may never come: nothing sends it again.
	us.UDP().SetReadDeadline(time.Now().Add(waitLong))
	for range udpMessages {
		if _, _, err := us.ReadFrom(make([]byte, 100)); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return err
			}
			s.Note("No more datagrams come: the wire lost the rest, and nothing sends them again.", "再没有数据报到来:其余的被线路丢掉了,也没有谁重发。")
			break
		}
	}
	if err := uc.Close(); err != nil {
		return err
	}
	return us.Close()
}

// sendSpaced writes each message 1 ms apart, then waits until they have
// all arrived.
func sendSpaced(s *session.Session, write func([]byte) (int, error)) error {
	msgs := make([][]byte, len(udpMessages))
	for i, m := range udpMessages {
		msgs[i] = []byte(m)
	}
	if err := writeSpaced(s, write, msgs); err != nil {
		return err
	}
	return s.Sleep(20 * time.Millisecond)
}

// udpToClosedPort sends a datagram to a port where nothing listens, first
// from an unconnected socket, then from a connected one.
func udpToClosedPort(s *session.Session) error {
	s.Name(closedPort, closedPort9)
	s.Step("An unconnected socket: sendto() succeeds, the ICMP error never reaches the program.", "未连接的套接字:sendto() 成功,ICMP 错误永远到不了程序。")
	un, err := s.ListenUDP(client, 0)
	if err != nil {
		return err
	}
	if _, err := un.SendTo([]byte("anyone?"), closedPort, closedPort9); err != nil {
		return err
	}
	if err := s.Sleep(10 * time.Millisecond); err != nil {
		return err
	}
	if err := un.Close(); err != nil {
		return err
	}
	s.Step("A connected socket: the ICMP error comes back as ECONNREFUSED on the next receive.", "已连接的套接字:ICMP 错误在下一次接收时以 ECONNREFUSED 返回。")
	cc, err := s.DialUDP(client, closedPort, closedPort9)
	if err != nil {
		return err
	}
	if _, err := cc.Write([]byte("anyone?")); err != nil {
		return err
	}
	cc.UDP().SetReadDeadline(time.Now().Add(waitLong))
	_, err = cc.Read(make([]byte, 100))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The datagram or the ICMP error was lost (an impaired wire): the
		// check says so; the program has nothing to wait for.
		s.Note("No ICMP error came back: the wire lost the datagram or the error.", "没有收到 ICMP 错误:线路丢掉了数据报或这条错误。")
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("connected UDP socket: want connection refused, got %v", err)
	}
	return cc.Close()
}

// closedAddr is where the datagrams went ("127.0.0.1:9"), as captured.
func closedAddr(sent []*decode.Packet) string {
	if len(sent) == 0 {
		return "?"
	}
	return sent[0].Dst.String()
}
