package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/timeline"
)

// retransmitLosses is how many times the wire loses the client's data
// segment (the original and the first retransmissions).
const retransmitLosses = 4

// Retransmit: one data segment lost again and again on a real wire; the
// kernel's retransmission timer, its backoff, and the data arriving once.
var Retransmit = lesson.Define(lesson.Scenario{
	Name:    "retransmit",
	Title:   i18n.T("Retransmission: a lost segment is sent again, later each time", "重传:丢失的报文段被重发,每次等得更久"),
	Summary: i18n.T("a wire loses one data segment four times: tail loss probe, RTO, exponential backoff, delivered once", "线路把一个数据报文段丢了四次:尾部丢失探测、重传超时、指数退避、只交付一次"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:  1,
		Rules: []wire.Rule{{Name: "lose the first data segment", Dir: wire.AtoB, Match: wire.MatchData, N: 1, Times: retransmitLosses}},
	},
	Lesson: i18n.T(`Why is TCP reliable when the network is not? Because the sender keeps a copy of every byte until the receiver acknowledges it, and sends it again when no acknowledgement comes in time.

This run is on a lab network: the client and the server are two hosts, and the wire between them is told to lose the client's first data segment four times. Nothing else is lost.

Watch the client's "hello": it leaves, the wire drops it, and nothing comes back. The client's kernel sends the same bytes again (the same sequence number: a retransmission) after a wait, and waits longer each time the copy is lost too.

The textbook says: wait one retransmission timeout (RTO), then double it each time (exponential backoff, so that a congested network is not flooded). This run shows what Linux really does. The first copy goes after about 200 ms: not the RTO but a tail loss probe (RACK-TLP, RFC 8985), which Linux sends when the last segment in flight is not acknowledged within about two round trips plus the time a receiver may delay its ACK. The RTO fires next, after about the same wait (Linux uses the RTT it measured, with a 200 ms floor, where RFC 6298 says 1 s), and only from then on does each wait double.

The fifth copy gets through. The server's program reads "hello" once: the retransmissions are the kernel's business, invisible to both programs except as delay.`,
		`网络并不可靠,TCP 为什么可靠?因为发送方为每个字节保留一份副本,直到接收方确认;确认没有按时到来,就再发一次。

这次运行在实验网络上:客户端和服务器是两台主机,它们之间的线路被设定为把客户端的第一个数据报文段丢四次。其余的都不丢。

看客户端的 "hello":它发了出去,线路把它丢了,没有任何回应。客户端内核等一会儿再发一次同样的字节(同样的序号:这就是重传);副本又丢了,就等得更久。

教科书说:等一个重传超时(RTO),之后每次加倍(指数退避,免得把拥塞的网络淹没)。这次运行展示 Linux 实际的做法。第一份副本大约 200 ms 后发出:它不是 RTO,而是尾部丢失探测(RACK-TLP,RFC 8985)——最后一个在途报文段在大约两个往返时间加上接收方可能推迟 ACK 的时间内没有被确认,Linux 就发它。接着 RTO 到期,等待时间差不多(Linux 用测得的 RTT,下限 200 ms;RFC 6298 建议 1 s),从这以后每次等待才加倍。

第五份副本到达了。服务器程序只读到一次 "hello":重传是内核的事,两个程序都看不见,只感觉到延迟。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		serveOnce(s, ln, len("hello"))
		s.Step("The client connects to the server across the wire.", "客户端隔着线路连接服务器。")
		c, err := s.Dial(client, server, 8888)
		if err != nil {
			return err
		}
		s.Step(fmt.Sprintf("The client writes \"hello\"; the wire will lose it %d times.", retransmitLosses),
			fmt.Sprintf("客户端写入 \"hello\";线路会把它丢 %d 次。", retransmitLosses))
		if _, err := c.Write([]byte("hello")); err != nil {
			return err
		}
		// Wait for the server's ACK of the data (seq 1 + 5 bytes). The
		// rule's four losses take about 3 s of backoff; the wait is long
		// enough for a few more that --loss may add (each doubles it).
		if _, err := s.Wait(25*time.Second, func(e *timeline.Event) bool {
			p := e.Packet
			return p != nil && p.Lab.From == server && p.Flags.Has(decode.ACK) && p.Flow.RelAck >= 6
		}); err != nil {
			return err
		}
		s.Step("The data got through; the client closes.", "数据送达了;客户端关闭连接。")
		return c.Close()
	},
	Checks: []check.Check{
		check.New(fmt.Sprintf("the client sent its data %d times: the wire lost the first %d", retransmitLosses+1, retransmitLosses),
			fmt.Sprintf("客户端把数据发了 %d 次:线路丢了前 %d 次", retransmitLosses+1, retransmitLosses), func(v *check.View) (bool, i18n.Text) {
				data := v.Packets(check.From(client), check.WithPayload)
				var en, zh []string // each copy's packet number and fate
				lost := 0
				for _, p := range data {
					fate := i18n.T("delivered", "送达")
					if p.Lab.Drop != decode.Delivered {
						fate = i18n.T("lost", "丢失")
						if p.Lab.Drop != decode.DropWire {
							fate = p.Lab.Drop.Text()
						}
					}
					en, zh = append(en, fmt.Sprintf("#%d %s", p.N, fate.En)), append(zh, fmt.Sprintf("#%d %s", p.N, fate.Zh))
					if p.Lab.Drop == decode.DropWire {
						lost++
					}
				}
				ok := len(data) == retransmitLosses+1 && lost == retransmitLosses && data[len(data)-1].Lab.Drop == decode.Delivered
				return ok, i18n.T(fmt.Sprintf("%d copies, %d lost on the wire: %s", len(data), lost, strings.Join(en, ", ")),
					fmt.Sprintf("%d 份副本,%d 份在线路上丢失:%s", len(data), lost, strings.Join(zh, ",")))
			}).Clean(),
		check.New("every copy after the first is the same bytes at the same sequence number, marked a retransmission",
			"第一份之后的每份副本都是同样序号的同样字节,被标为重传", func(v *check.View) (bool, i18n.Text) {
				data := v.Packets(check.From(client), check.WithPayload)
				if len(data) < 2 {
					return false, check.Say("%d data segment(s)", "%d 个数据报文段", len(data))
				}
				marked := 0
				for _, p := range data[1:] {
					if p.Flow.RelSeq != data[0].Flow.RelSeq || string(p.Payload()) != string(data[0].Payload()) {
						return false, check.Say("packet %d: seq=%d, not %d", "第 %d 个报文:seq=%d,不是 %d", p.N, p.Flow.RelSeq, data[0].Flow.RelSeq)
					}
					if p.Flow.Expert&decode.Retransmission != 0 {
						marked++
					}
				}
				return marked == len(data)-1, check.Say("seq=%d each time; %d of %d marked retransmission", "每次 seq=%d;%d/%d 个标为重传", data[0].Flow.RelSeq, marked, len(data)-1)
			}),
		check.New("the first copy after the original waits 200 ms or more (Linux's floor)",
			"原始报文之后的第一份副本至少等了 200 ms(Linux 的下限)", func(v *check.View) (bool, i18n.Text) {
				gaps := retransmitGaps(v)
				if len(gaps) == 0 {
					return false, check.Plain("no retransmission")
				}
				return gaps[0] >= 200*time.Millisecond, check.Say("first gap %v", "第一次间隔 %v", gaps[0].Round(time.Millisecond))
			}),
		check.New("the first two waits are about the same: a tail loss probe, then the RTO",
			"前两次等待差不多长:先是尾部丢失探测,然后是 RTO", func(v *check.View) (bool, i18n.Text) {
				gaps := retransmitGaps(v)
				if len(gaps) < 2 {
					return false, check.Say("%d gap(s)", "%d 个间隔", len(gaps))
				}
				r := float64(gaps[1]) / float64(gaps[0])
				return r >= 0.6 && r <= 1.6, check.Say("gaps %s", "间隔 %s", gapList(gaps))
			}),
		check.New("from the RTO on, each wait is about twice the one before (exponential backoff)",
			"从 RTO 起,每次等待约为前一次的两倍(指数退避)", func(v *check.View) (bool, i18n.Text) {
				gaps := retransmitGaps(v)
				if len(gaps) < 3 {
					return false, check.Say("%d gap(s)", "%d 个间隔", len(gaps))
				}
				ok := true
				for i := 2; i < len(gaps); i++ {
					r := float64(gaps[i]) / float64(gaps[i-1])
					ok = ok && r >= 1.5 && r <= 3
				}
				return ok, check.Say("gaps %s", "间隔 %s", gapList(gaps))
			}),
		check.New("the server's program read \"hello\" once: 5 bytes", "服务器程序只读到一次 \"hello\":5 字节", func(v *check.View) (bool, i18n.Text) {
			n := v.Bytes(server, timeline.CallRead)
			return n == len("hello"), check.Say("server read %d bytes", "服务器读到 %d 字节", n)
		}),
	},
})

func gapList(gaps []time.Duration) string {
	parts := make([]string, len(gaps))
	for i, g := range gaps {
		parts[i] = g.Round(time.Millisecond).String()
	}
	return strings.Join(parts, ", ")
}

// retransmitGaps are the times between successive copies of the client's
// data segment.
func retransmitGaps(v *check.View) []time.Duration {
	var times []time.Time
	for _, e := range v.Events() {
		if p := e.Packet; p != nil && p.Lab.From == client && p.PayloadLen > 0 {
			times = append(times, e.Time)
		}
	}
	var gaps []time.Duration
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	return gaps
}
