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
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// fastRetransmitBytes is what the client sends in each act: a few dozen
// segments, so that many arrive after the lost one.
const fastRetransmitBytes = 40000

// fastRetransmitLost is the data segment the wire loses in each act.
const fastRetransmitLost = 4

// fastRetransmitDelay is the wire's one-way delay: a round trip of about
// 10 ms, far below Linux's 200 ms minimum retransmission timeout.
const fastRetransmitDelay = 5 * time.Millisecond

// FastRetransmit: one segment lost in the middle of a window is resent
// after the receiver's duplicate ACKs, long before any timeout.
var FastRetransmit = lesson.Define(lesson.Scenario{
	Name:    "fast-retransmit",
	Title:   i18n.T("Fast retransmit: duplicate ACKs, SACK, and no waiting for a timeout", "快速重传:重复 ACK、SACK,不等超时"),
	Summary: i18n.T("one segment lost in a window: the receiver's duplicate ACKs (with SACK blocks, then without SACK) make the sender resend within a round trip", "窗口中丢了一个报文段:接收方的重复 ACK(先带 SACK 块,再关掉 SACK)让发送方在一个往返时间内重发"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:   1,
		Impair: [2]wire.Impairment{{Delay: fastRetransmitDelay}, {Delay: fastRetransmitDelay}},
		Rules: []wire.Rule{
			{Name: "lose one data segment (SACK on)", Dir: wire.AtoB, Match: wire.MatchData, N: fastRetransmitLost, Conn: 1},
			{Name: "lose one data segment (SACK off)", Dir: wire.AtoB, Match: wire.MatchData, N: fastRetransmitLost, Conn: 2},
		},
	},
	Lesson: i18n.T(`The retransmit lesson lost the only segment in flight, so the sender learned of the loss from its timer alone. When more segments follow the lost one, the receiver learns first: each later segment arrives out of order, and its kernel answers each with the same acknowledgement number, "I still want byte N": a duplicate ACK. The sender does not have to wait for a timeout.

The textbook rule (RFC 5681) is to resend after three duplicate ACKs. With SACK (selective acknowledgement, RFC 2018, on by default) each duplicate ACK also lists the blocks that did arrive beyond the gap, so the sender knows exactly what is missing; Linux then uses RACK (RFC 8985, net.ipv4.tcp_recovery): a segment is lost when one sent after it has been acknowledged and a short reordering window has passed. This run shows both: the same transfer with SACK on, then with net.ipv4.tcp_sack=0 on both hosts.

The wire has 5 ms of delay each way and loses one data segment in each act.`,
		`retransmit 课丢的是唯一在途的报文段,发送方只能靠定时器发现丢失。如果丢失的报文段后面还有别的报文段,接收方会先知道:后面的每个报文段都是乱序到达的,它的内核对每一个都回复同样的确认号——"我还要第 N 个字节"——这就是重复 ACK。发送方不必等超时。

教科书的规则(RFC 5681)是收到三个重复 ACK 就重发。有了 SACK(选择性确认,RFC 2018,默认开启),每个重复 ACK 还列出缺口之后已经到达的数据块,发送方就确切知道缺了什么;Linux 这时用 RACK(RFC 8985,net.ipv4.tcp_recovery):一个在它之后发出的报文段已被确认,再过一个很短的乱序窗口,它就算丢失。本次运行两种都展示:同样的传输先开着 SACK,再在两台主机上设 net.ipv4.tcp_sack=0。

线路每个方向延迟 5 ms,每一幕丢掉一个数据报文段。`),
	Acts: []*lesson.Act{fastWithSACK, fastWithoutSACK},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(fastWithSACK)
		if err := fastTransfer(s, ln); err != nil {
			return err
		}
		s.Act(fastWithoutSACK)
		for _, l := range []session.Lane{client, server} {
			if err := s.Sysctl(l, "net.ipv4.tcp_sack", "0"); err != nil {
				return err
			}
		}
		return fastTransfer(s, ln)
	},
})

// fastTransfer sends fastRetransmitBytes in one write and has the server
// read and verify them all.
func fastTransfer(s *session.Session, ln *session.Listener) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	s.Step(fmt.Sprintf("The client writes %d bytes at once; the wire loses data segment %d.", fastRetransmitBytes, fastRetransmitLost),
		fmt.Sprintf("客户端一次写入 %d 字节;线路丢掉第 %d 个数据报文段。", fastRetransmitBytes, fastRetransmitLost))
	// The server reads only once the sender is out of recovery (Open, its
	// retransmission acknowledged). A program reading while the burst
	// arrives owns the socket, and the kernel coalesces the segments
	// queued meanwhile into one (its backlog): one ACK instead of a
	// duplicate ACK per segment, in one run of 20.
	err = sendVerifiedAfter(cli, srv, fastRetransmitBytes, func() {
		awaitInfo(s, cli.Socket(), waitLong, func(t *timeline.TCPInfo) bool {
			return t.CAState == tcpstate.CAOpen && t.TotalRetrans > 0 && t.Retrans == 0
		})
	})
	if err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// fastLoss is what one act's capture shows of the loss and its repair.
type fastLoss struct {
	lost, resent *timeline.Event
	dupAcks      []*decode.Packet // the server's duplicate ACKs before the resend
	sackBlocks   int              // how many of them carry SACK blocks
}

func (f fastLoss) delay() time.Duration {
	if f.lost == nil || f.resent == nil {
		return 0
	}
	return f.resent.Time.Sub(f.lost.Time)
}

// findFastLoss finds the client's data segment the wire lost, its first
// retransmission, and the server's duplicate ACKs in between.
func findFastLoss(v *check.View) fastLoss {
	var f fastLoss
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil:
		case f.lost == nil && p.Lab.From == client && p.PayloadLen > 0 && p.Lab.Drop == decode.DropWire:
			f.lost = e
		case f.lost != nil && f.resent == nil && p.Lab.From == client && p.PayloadLen > 0 && p.Seq == f.lost.Packet.Seq:
			f.resent = e
		case f.lost != nil && f.resent == nil && p.Lab.From == server && p.Flow.Expert&decode.DupAck != 0:
			f.dupAcks = append(f.dupAcks, p)
			if p.Opts.NSACK > 0 {
				f.sackBlocks++
			}
		}
	}
	return f
}

// fastRepaired is the check both acts make: the loss was repaired by a
// retransmission well before the minimum RTO, after duplicate ACKs.
func fastRepaired(v *check.View, minDupAcks int) (bool, i18n.Text) {
	f := findFastLoss(v)
	if f.lost == nil || f.resent == nil {
		return false, check.Say("lost segment found: %v, resent: %v", "找到丢失的报文段:%v,重发:%v", check.Bool(f.lost != nil), check.Bool(f.resent != nil))
	}
	d := f.delay()
	ok := len(f.dupAcks) >= minDupAcks && d < 200*time.Millisecond && f.resent.Packet.Flow.Expert&decode.Retransmission != 0
	return ok, check.Say("resent %s ms after the original, after %d duplicate ACK(s)", "在原报文段之后 %s 毫秒重发,此前有 %d 个重复 ACK", fmtMS(d), len(f.dupAcks))
}

// fastDelivered: the server's program read every byte (the program itself
// compared them with what was sent).
func fastDelivered(v *check.View) (bool, i18n.Text) {
	n := v.Bytes(server, timeline.CallRead)
	return n == fastRetransmitBytes, check.Say("the server read %d bytes", "服务器读到 %d 字节", n)
}

var fastWithSACK = &lesson.Act{
	Title: i18n.T("with SACK (Linux's default).", "开启 SACK(Linux 默认)。"),
	Lesson: i18n.T(`with SACK. Watch the server's ACKs after the gap: the same ack number again and again, each with a SACK block that grows as the later segments arrive (sack=1 on the ladder; the block's edges are in Details). The client resends the one missing segment long before 200 ms; the server's program reads the 40,000 bytes whole and in order, never knowing.`,
		`开启 SACK。看缺口之后服务器的 ACK:确认号一遍遍相同,每个都带一个 SACK 块,随着后面的报文段到达而变大(梯形图上的 sack=1;块的边界在“详情”里)。客户端远在 200 ms 之前就重发了缺的那一个报文段;服务器程序完整、按序读到 40,000 字节,毫不知情。`),
	Checks: []check.Check{
		check.New("the server's duplicate ACKs carry SACK blocks: what arrived beyond the gap", "服务器的重复 ACK 带有 SACK 块:缺口之后已经到达的数据", func(v *check.View) (bool, i18n.Text) {
			f := findFastLoss(v)
			ok := len(f.dupAcks) > 0 && f.sackBlocks == len(f.dupAcks)
			return ok, check.Say("%d duplicate ACK(s) before the resend, %d with SACK blocks", "重发之前有 %d 个重复 ACK,其中 %d 个带 SACK 块", len(f.dupAcks), f.sackBlocks)
		}),
		check.New("the client resent the lost segment within a few round trips, long before the 200 ms minimum timeout", "客户端在几个往返时间内重发了丢失的报文段,远早于 200 毫秒的最小超时", func(v *check.View) (bool, i18n.Text) {
			return fastRepaired(v, 1)
		}),
		check.New("the client's kernel counted the retransmission and never entered Loss, a timeout's state: the ACKs repaired it (tcp_info)", "客户端内核记下了这次重传,且从未进入超时才有的 Loss 状态:是 ACK 完成了修复(tcp_info)", fastRecovery).Clean(),
		check.New("the server's program read every byte, in order", "服务器程序按顺序读到了每一个字节", fastDelivered),
	},
}

// fastRecovery: the sender's tcp_info readings count the retransmission
// and never show Loss, the state a timeout gives: the ACKs repaired it.
// (Recovery itself lasts about a round trip; the poller may or may not
// catch it, and the detail says whether it did.)
func fastRecovery(v *check.View) (bool, i18n.Text) {
	var seq []string
	retrans := uint32(0)
	for _, t := range v.TCPInfos(client) {
		if st := t.CAState.String(); len(seq) == 0 || seq[len(seq)-1] != st {
			seq = append(seq, st)
		}
		retrans = max(retrans, t.TotalRetrans)
	}
	path := strings.Join(seq, " → ")
	ok := retrans >= 1 && len(seq) > 0 && seq[len(seq)-1] == "Open" && !strings.Contains(path, "Loss")
	return ok, check.Say("total_retrans %d; ca_state %s", "total_retrans %d;ca_state %s", retrans, path)
}

var fastWithoutSACK = &lesson.Act{
	Title: i18n.T("without SACK (net.ipv4.tcp_sack=0).", "关闭 SACK(net.ipv4.tcp_sack=0)。"),
	Lesson: i18n.T(`without SACK, on both hosts. The handshake no longer offers SACK-permitted, and the duplicate ACKs say only "I still want byte N". The sender falls back to counting them, the textbook's rule: it resends once it has counted three duplicate ACKs (more may be on their way by then), still long before the timeout. Compare the two resend times on this run: RACK's reordering window can make SACK's resend a little later, not earlier.`,
		`两台主机都关闭 SACK。握手里不再有 SACK-permitted,重复 ACK 只说"我还要第 N 个字节"。发送方退回到数重复 ACK 的办法,也就是教科书的规则:数到三个重复 ACK 就重发(这时可能还有更多的正在路上),仍然远早于超时。比较本次运行两幕的重发时间:RACK 的乱序窗口可能让开着 SACK 时的重发稍晚一点,而不是更早。`),
	Checks: []check.Check{
		check.New("the host's kernel has SACK off: no SACK-permitted in the handshake, no SACK block in any ACK", "主机内核关闭了 SACK:握手中没有 SACK-permitted,任何 ACK 都不带 SACK 块", func(v *check.View) (bool, i18n.Text) {
			perm, blocks := 0, 0
			for _, p := range v.Packets(check.TCP) {
				if p.Opts.SACKPerm {
					perm++
				}
				if p.Opts.NSACK > 0 {
					blocks++
				}
			}
			set := 0
			for _, e := range v.Whole().Events() {
				if n := e.Note; n != nil && strings.HasSuffix(n.Text.En, "sysctl net.ipv4.tcp_sack = 0") {
					set++
				}
			}
			return perm == 0 && blocks == 0 && set == 2, check.Say("tcp_sack read back 0 on %d host(s); %d segment(s) with SACK-permitted, %d with SACK blocks", "%d 台主机读回 tcp_sack = 0;%d 个报文段带 SACK-permitted,%d 个带 SACK 块", set, perm, blocks)
		}),
		check.New("the client resent the lost segment after three duplicate ACKs, long before the 200 ms minimum timeout", "客户端在三个重复 ACK 之后重发了丢失的报文段,远早于 200 毫秒的最小超时", func(v *check.View) (bool, i18n.Text) {
			return fastRepaired(v, 3)
		}),
		check.New("the client's kernel counted the retransmission and never entered Loss, a timeout's state: the ACKs repaired it (tcp_info)", "客户端内核记下了这次重传,且从未进入超时才有的 Loss 状态:是 ACK 完成了修复(tcp_info)", fastRecovery).Clean(),
		check.New("the server's program read every byte, in order", "服务器程序按顺序读到了每一个字节", fastDelivered),
	},
}
