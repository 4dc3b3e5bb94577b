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
	"github.com/netlab/netlab/lab/timeline"
)

// reorderBytes is what the client sends: enough segments for the wire to
// hold a few back.
const reorderBytes = 200000

// Reorder: a wire that loses nothing but delivers some segments late.
var Reorder = lesson.Define(lesson.Scenario{
	Name:    "reorder",
	Title:   i18n.T("Reordering: nothing lost, and still duplicate ACKs and a retransmission", "乱序:什么都没丢,却有重复 ACK 和重传"),
	Summary: i18n.T("a wire that holds a few segments back: duplicate ACKs, a spurious retransmission, a D-SACK, and the kernel learning the reordering", "一条把少数报文段扣住晚送的线路:重复 ACK、伪重传、D-SACK,以及内核学会容忍乱序"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed: 3,
		Impair: [2]wire.Impairment{
			{Delay: 5 * time.Millisecond, Reorder: 0.02, ReorderGap: 15 * time.Millisecond},
			{Delay: 5 * time.Millisecond},
		},
	},
	Lesson: i18n.T(`A receiver cannot tell a lost segment from a late one: both leave a gap. This wire loses nothing, but holds about one segment in fifty back by 15 ms while the others overtake it. The receiver answers every segment after the gap with a duplicate ACK and a SACK block, exactly as for a loss. The sender waits a little (RACK's reordering window, a fraction of the round trip) and, when the gap is still open, resends: a spurious retransmission of data that was never lost.

Then the late original arrives, and after it the copy. The receiver has the bytes twice and says so with a D-SACK (RFC 2883): a SACK block for data below its cumulative acknowledgement, "this I got twice". From it the sender learns that it was wrong: its tcp_info counts the duplicates reported (dsack_dups) and the reorderings it detected (reord_seen), and it may widen the reordering it tolerates before calling a gap a loss (reordering; in some runs it does, in others RACK's adaptive window is enough).`,
		`接收方分不清报文段是丢了还是晚到:两者都留下一个缺口。这条线路什么都不丢,但大约每五十个报文段扣住一个,晚 15 ms 才送,让后面的先到。接收方对缺口之后的每个报文段都回复重复 ACK 和 SACK 块,和丢包时一模一样。发送方稍等一会儿(RACK 的乱序窗口,往返时间的一小部分),缺口还在就重发:这是对从未丢失的数据的伪重传。

然后晚到的原报文段到了,副本紧随其后。接收方把这些字节收了两次,并用 D-SACK(RFC 2883)说出来:一个低于累计确认号的 SACK 块,意思是"这段我收到两次"。发送方由此知道自己错了:它的 tcp_info 记下了被报告的重复(dsack_dups)和它检测到的乱序(reord_seen),它还可能放宽把缺口判为丢失之前所容忍的乱序程度(reordering;有的运行里会,有的运行里 RACK 的自适应窗口就够了)。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		cli, srv, err := connectPair(s, ln)
		if err != nil {
			return err
		}
		s.Step(fmt.Sprintf("The client writes %d bytes; the wire delivers a few segments late.", reorderBytes), fmt.Sprintf("客户端写入 %d 字节;线路让少数报文段晚到。", reorderBytes))
		// The server reads once the sender has learned of the reordering
		// (what the checks read, before the run ends): a program reading
		// while segments arrive has the kernel coalesce them in its
		// backlog, and fewer duplicate ACKs go back (see fast-retransmit).
		err = sendVerifiedAfter(cli, srv, reorderBytes, func() {
			awaitInfo(s, cli.Socket(), time.Second, func(t *timeline.TCPInfo) bool { return t.DSACKDups > 0 })
		})
		if err != nil {
			return err
		}
		return closeBoth(cli, srv)
	},
	Checks: []check.Check{
		check.New("the wire lost nothing, and delivered some of the client's segments late", "线路什么都没丢,只是让客户端的一些报文段晚到", func(v *check.View) (bool, i18n.Text) {
			lost, late := 0, 0
			for _, p := range v.Packets(check.TCP) {
				if p.Lab.Drop != decode.Delivered {
					lost++
				}
				if p.Lab.From == client && p.Lab.Wire.Action&decode.WireReordered != 0 {
					late++
				}
			}
			return lost == 0 && late > 0, check.Say("%d lost, %d held back", "丢失 %d 个,扣住 %d 个", lost, late)
		}).Clean(),
		check.New("the server's kernel sent duplicate ACKs anyway", "服务器内核照样发出了重复 ACK", func(v *check.View) (bool, i18n.Text) {
			n := len(v.Packets(check.From(server), func(p *decode.Packet) bool { return p.Flow.Expert&decode.DupAck != 0 }))
			return n > 0, check.Say("%d duplicate ACK(s)", "%d 个重复 ACK", n)
		}).Clean(),
		check.New("the client resent a segment that was never lost: a spurious retransmission", "客户端重发了一个从未丢失的报文段:伪重传", func(v *check.View) (bool, i18n.Text) {
			delivered := map[uint32]bool{}
			spurious := 0
			for _, p := range v.Packets(check.From(client), check.WithPayload) {
				if !check.Original(p) && delivered[p.Seq] {
					spurious++
				}
				if p.Lab.Drop == decode.Delivered {
					delivered[p.Seq] = true
				}
			}
			return spurious > 0, check.Say("%d retransmission(s) of delivered segments", "%d 次重传的是已经送达的报文段", spurious)
		}).Clean(),
		check.New("the server reported the duplicate with a D-SACK: a SACK block below its acknowledgement", "服务器用 D-SACK 报告了重复:一个低于确认号的 SACK 块", func(v *check.View) (bool, i18n.Text) {
			n := len(v.Packets(check.From(server), func(p *decode.Packet) bool {
				return p.Opts.NSACK > 0 && int32(p.Ack-p.Opts.SACK[0][1]) >= 0
			}))
			return n > 0, check.Say("%d ACK(s) with a D-SACK block", "%d 个带 D-SACK 块的 ACK", n)
		}).Clean(),
		check.New("the client's kernel learned its retransmission was needless: tcp_info counts the duplicates the D-SACKs reported", "客户端内核知道了它的重传是多余的:tcp_info 记下了 D-SACK 报告的重复", func(v *check.View) (bool, i18n.Text) {
			var dups, seen, most uint32
			for _, t := range v.TCPInfos(client) {
				dups, seen, most = max(dups, t.DSACKDups), max(seen, t.ReordSeen), max(most, t.Reordering)
			}
			return dups > 0, check.Say("dsack_dups %d, reord_seen %d; reordering tolerated up to %d segments (3 at first)", "dsack_dups %d,reord_seen %d;容忍的乱序最多 %d 个报文段(起初为 3)", dups, seen, most)
		}).Clean(),
		check.New("the server's program read every byte, in order", "服务器程序按顺序读到了每一个字节", func(v *check.View) (bool, i18n.Text) {
			n := v.Bytes(server, timeline.CallRead)
			return n == reorderBytes, check.Say("the server read %d bytes", "服务器读到 %d 字节", n)
		}),
	},
})
