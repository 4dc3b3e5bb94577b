package scenarios

import (
	"errors"
	"fmt"
	"os"
	"strconv"
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

const (
	// reliabilityCount messages of reliabilitySize bytes each ("msg 001\n").
	reliabilityCount = 100
	reliabilitySize  = len("msg 001\n")
	reliabilityPort  = 9998
)

// reliabilityWire is the same misbehaving wire for both directions.
var reliabilityWire = wire.Impairment{Loss: 0.10, Duplicate: 0.04, Reorder: 0.04, ReorderGap: 20 * time.Millisecond}

// reliabilityMessage is message i (1-based): "msg 007\n".
func reliabilityMessage(i int) []byte { return fmt.Appendf(nil, "msg %03d\n", i) }

// Reliability: 100 numbered messages over UDP and then over TCP through the
// same lossy, duplicating, reordering wire.
var Reliability = lesson.Define(lesson.Scenario{
	Name:    "reliability",
	Title:   i18n.T("Why TCP is reliable and UDP is not: the same 100 messages on the same bad wire", "为什么 TCP 可靠而 UDP 不可靠:同样 100 条消息走同一条糟糕的线路"),
	Summary: i18n.T("a wire loses, duplicates and reorders: UDP's reader gets gaps, twins and disorder; TCP's reader gets all 100, in order, once", "线路丢包、重复、乱序:UDP 的接收方读到缺口、重复和乱序;TCP 的接收方读到全部 100 条,按顺序,各一次"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:   reliabilitySeed,
		Impair: [2]wire.Impairment{reliabilityWire, reliabilityWire},
	},
	Lesson: i18n.T(`Why is TCP reliable and UDP not? Not because TCP's packets travel a better road: in this lesson both go through the same wire, which loses about one frame in ten, sends a few twice and holds a few back so that later ones overtake them.

The two programs have the same shape: the client sends 100 numbered messages, one call each; the server reads until there is no more. The difference is in the kernel. TCP numbers every byte (sequence numbers), the receiver acknowledges what it has, the sender keeps a copy of every byte until it is acknowledged and sends it again when it is not (retransmission), the receiver holds bytes that arrive early until the gap before them is filled (a reordering buffer) and throws away bytes it already has (duplicate discard). UDP does none of that: it delivers what arrives, as it arrives, once per copy.`,
		`为什么 TCP 可靠而 UDP 不可靠?不是因为 TCP 的报文走了更好的路:本课里两者走同一条线路,它大约每十帧丢一帧,把少数几帧发两次,再扣住少数几帧让后面的帧超过去。

两个程序的写法一样:客户端发送 100 条编号的消息,每条一次调用;服务器一直读到没有为止。区别在内核里。TCP 给每个字节编号(序号),接收方确认收到的部分,发送方为每个字节保留副本直到被确认,没被确认就再发一次(重传);提前到达的字节,接收方先存着,等前面的缺口补上(乱序缓冲);已经有的字节,接收方直接丢弃(去重)。UDP 这些都不做:到了什么就交付什么,按到达的顺序,每份副本交付一次。`),
	Acts: []*lesson.Act{reliabilityUDP, reliabilityTCP},
	Run: func(s *session.Session) error {
		s.Act(reliabilityUDP)
		if err := reliabilityDatagrams(s); err != nil {
			return err
		}
		s.Act(reliabilityTCP)
		return reliabilityStream(s)
	},
})

// reliabilitySeed makes the wire lose, duplicate and reorder at least one
// of the UDP act's datagrams each, run after run.
const reliabilitySeed = 1

var reliabilityUDP = &lesson.Act{
	Title: i18n.T("100 datagrams over UDP.", "100 个数据报走 UDP。"),
	Lesson: i18n.T(`UDP. The client sends the 100 messages as 100 datagrams, 1 ms apart. The server receives until none has come for half a second. What it gets is what the wire delivered: some numbers missing (lost, and nobody sends them again), some twice (the wire duplicated them, and UDP passes both copies up), some out of order (a held-back datagram arrives after the ones behind it).`,
		`UDP。客户端把 100 条消息作为 100 个数据报发出,间隔 1 ms。服务器一直接收,直到半秒内再没有数据报到来。它得到的就是线路交付的东西:有些编号缺了(丢了,也没人重发),有些出现两次(线路复制了它们,UDP 把两份都交上去),有些顺序乱了(被扣住的数据报晚于后面的数据报到达)。`),
	Checks: []check.Check{
		check.New("the server read exactly the datagrams that arrived, and the client sent each once: nothing resent",
			"服务器读到的正是到达的数据报,客户端每个只发一次:没有重发", func(v *check.View) (bool, i18n.Text) {
				sent := v.Packets(check.UDP, check.From(client))
				arrived := 0
				for _, p := range sent {
					arrived += udpDelivered(p)
				}
				reads := len(reliabilityReadNumbers(v))
				sends := len(v.Calls(client, timeline.CallSend))
				ok := sends == reliabilityCount && len(sent) == sends && reads == arrived
				return ok, check.Say("%d sends, %d datagrams on the wire, %d copies arrived intact, %d read",
					"send %d 次,线路上 %d 个数据报,完好到达 %d 份,读到 %d 个", sends, len(sent), arrived, reads)
			}),
		check.New("the wire lost, duplicated and reordered datagrams; the reader got 100-lost+duplicated, some twice, some out of order",
			"线路丢失、复制、打乱了数据报;接收方读到 100-丢失+重复 条,有的两次,有的乱序", func(v *check.View) (bool, i18n.Text) {
				lost, dup, reord := 0, 0, 0
				for _, p := range v.Packets(check.UDP, check.From(client)) {
					a := p.Lab.Wire.Action
					if p.Lab.Drop == decode.DropWire || a&decode.WireDropped != 0 {
						lost++
					}
					if a&decode.WireDuplicated != 0 {
						dup++
					}
					if a&decode.WireReordered != 0 {
						reord++
					}
				}
				nums := reliabilityReadNumbers(v)
				seen := map[int]int{}
				twice, disorder, last := 0, 0, 0
				for _, n := range nums {
					seen[n]++
					if seen[n] == 2 {
						twice++
					}
					if n < last {
						disorder++
					}
					last = max(last, n)
				}
				ok := lost > 0 && dup > 0 && reord > 0 && len(nums) == reliabilityCount-lost+dup && twice == dup && disorder > 0
				var none, noneZh []string
				for _, k := range []struct {
					n      int
					en, zh string
				}{{lost, "lost", "丢失"}, {dup, "duplicated", "复制"}, {reord, "reordered", "打乱"}} {
					if k.n == 0 {
						none, noneZh = append(none, k.en), append(noneZh, k.zh)
					}
				}
				detail := check.Say("the wire lost %d, duplicated %d, reordered %d; the reader got %d messages (100-%d+%d = %d), %d twice, %d read after a higher number",
					"线路丢失 %d 个,复制 %d 个,打乱 %d 个;接收方读到 %d 条(100-%d+%d = %d),%d 条两次,%d 条在更大的编号之后读到",
					lost, dup, reord, len(nums), lost, dup, reliabilityCount-lost+dup, twice, disorder)
				if len(none) > 0 {
					counts := reliabilityCounts(lost, dup, reord, len(nums))
					detail = i18n.T(fmt.Sprintf("the wire %s nothing in this run (another --seed?); %s", strings.Join(none, " nothing, "), counts),
						fmt.Sprintf("本次运行中线路没有%s任何数据报(换了 --seed?);%s", strings.Join(noneZh, "、"), counts))
				}
				return ok, detail
			}).Clean(),
	},
}

func reliabilityCounts(lost, dup, reord, read int) string {
	return fmt.Sprintf("lost=%d dup=%d reorder=%d read=%d", lost, dup, reord, read)
}

var reliabilityTCP = &lesson.Act{
	Title: i18n.T("the same 100 messages over TCP.", "同样 100 条消息走 TCP。"),
	Lesson: i18n.T(`TCP. The same 100 messages, one write each, through the same wire, then the client closes; the server reads until the end of the stream. The wire loses, duplicates and reorders TCP's segments too, and the client's kernel sends the lost bytes again. The server's program never sees any of it: it reads 800 bytes, msg 001 to msg 100, in order, each once.`,
		`TCP。同样 100 条消息,每条一次 write,走同一条线路,然后客户端关闭;服务器一直读到流结束。线路同样丢失、复制、打乱 TCP 的报文段,客户端内核把丢失的字节再发一次。服务器程序对此一无所知:它读到 800 字节,从 msg 001 到 msg 100,按顺序,各一次。`),
	Checks: []check.Check{
		check.New("the server's program read all 100 messages, 800 bytes, as many as the client wrote",
			"服务器程序读到全部 100 条消息,800 字节,和客户端写的一样多", func(v *check.View) (bool, i18n.Text) {
				r := v.Bytes(server, timeline.CallRead)
				w := v.Bytes(client, timeline.CallWrite)
				ok := r == reliabilityCount*reliabilitySize && w == r
				return ok, check.Say("client wrote %d bytes, server read %d", "客户端写了 %d 字节,服务器读到 %d 字节", w, r)
			}),
		check.New("the wire lost some of TCP's segments too, and the client's kernel retransmitted them",
			"线路也丢了 TCP 的一些报文段,客户端内核重传了它们", func(v *check.View) (bool, i18n.Text) {
				lost, retrans := 0, 0
				for _, p := range v.Packets(check.TCP) {
					if p.Lab.Drop == decode.DropWire {
						lost++
					}
					if p.Lab.From == client && p.Flow.Expert&decode.Retransmission != 0 {
						retrans++
					}
				}
				return lost > 0 && retrans > 0, check.Say("%d TCP segments lost on the wire, %d retransmissions by the client",
					"%d 个 TCP 报文段在线路上丢失,客户端重传 %d 次", lost, retrans)
			}).Clean(),
	},
}

// reliabilityReadNumbers are the message numbers the server's UDP reads
// returned, in the order read.
func reliabilityReadNumbers(v *check.View) []int {
	var nums []int
	for _, a := range v.Calls(server, timeline.CallRecvfrom) {
		if a.Err != "" {
			continue
		}
		s, err := strconv.Unquote(a.Detail)
		if err != nil {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(s, "msg %d\n", &n); err == nil {
			nums = append(nums, n)
		}
	}
	return nums
}

// reliabilityDatagrams sends the messages as datagrams 1 ms apart; the
// server receives until none has come for 500 ms.
func reliabilityDatagrams(s *session.Session) error {
	us, err := s.ListenUDP(server, reliabilityPort)
	if err != nil {
		return err
	}
	uc, err := s.DialUDP(client, server, reliabilityPort)
	if err != nil {
		return err
	}
	s.Step("The client sends 100 datagrams, 1 ms apart.", "客户端发送 100 个数据报,间隔 1 ms。")
	done := make(chan error, 1)
	go func() { done <- reliabilityReceive(s, us) }()
	if err := reliabilitySend(s, uc.Write); err != nil {
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	if err := uc.Close(); err != nil {
		return err
	}
	return us.Close()
}

// reliabilityReceive reads datagrams until none has come for 500 ms (the
// first may take up to waitLong).
func reliabilityReceive(s *session.Session, us *session.UDPConn) error {
	buf := make([]byte, 100)
	got := 0
	for {
		wait := 500 * time.Millisecond
		if got == 0 {
			wait = waitLong
		}
		us.UDP().SetReadDeadline(time.Now().Add(wait))
		if _, _, err := us.ReadFrom(buf); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return err
			}
			s.Note(fmt.Sprintf("No datagram for 500 ms: the server read %d; a lost datagram never comes, nobody sends it again.", got),
				fmt.Sprintf("500 ms 内没有数据报:服务器读到 %d 个;丢失的数据报永远不会来,也没人重发。", got))
			return nil
		}
		got++
	}
}

// reliabilityStream writes the messages over TCP, one write each, and
// closes; the server reads to EOF and checks the stream it got.
func reliabilityStream(s *session.Session) error {
	ln, err := s.Listen(server, 8888)
	if err != nil {
		return err
	}
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		b, err := srv.ReadAll()
		if err != nil {
			done <- err
			return
		}
		var want []byte
		for i := 1; i <= reliabilityCount; i++ {
			want = append(want, reliabilityMessage(i)...)
		}
		if string(b) != string(want) {
			done <- fmt.Errorf("reliability: the TCP stream read is not msg 001..%03d in order (%d bytes)", reliabilityCount, len(b))
			return
		}
		s.Note(fmt.Sprintf("The server read %d bytes: msg 001 to msg %03d, in order, each once.", len(b), reliabilityCount),
			fmt.Sprintf("服务器读到 %d 字节:msg 001 到 msg %03d,按顺序,各一次。", len(b), reliabilityCount))
		done <- srv.Close()
	}()
	s.Step("The client writes the same 100 messages, one write each, and closes.", "客户端写入同样 100 条消息,每条一次 write,然后关闭。")
	if err := reliabilitySend(s, cli.Write); err != nil {
		return err
	}
	if err := cli.Close(); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-s.Context().Done(): // the run's own time limit
		return s.Context().Err()
	}
}

// reliabilitySend writes the 100 messages, one call each, 1 ms apart: the
// same code for a UDP socket and a TCP connection.
func reliabilitySend(s *session.Session, write func([]byte) (int, error)) error {
	msgs := make([][]byte, reliabilityCount)
	for i := range msgs {
		msgs[i] = reliabilityMessage(i + 1)
	}
	return writeSpaced(s, write, msgs)
}
