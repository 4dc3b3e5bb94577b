package check_test

import (
	"fmt"
	"net/netip"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

// A check is a function over a View of the run: it asks for packets, states
// and program calls, and answers with a verdict and its evidence in both
// languages. Declared in a scenario's act (lesson.Act.Checks), it gets the
// view already narrowed to that act.
func ExampleView() {
	cli, srv := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:8888")
	tl := timeline.New(timeline.Meta{Scenario: "example"})
	for _, p := range []decode.Packet{
		{Proto: decode.ProtoTCP, Src: cli, Dst: srv, Lab: decode.LabNotes{From: "client", To: "server"}, Flags: decode.SYN},
		{Proto: decode.ProtoTCP, Src: srv, Dst: cli, Lab: decode.LabNotes{From: "server", To: "client"}, Flags: decode.SYN | decode.ACK, Ack: 1},
		{Proto: decode.ProtoTCP, Src: cli, Dst: srv, Lab: decode.LabNotes{From: "client", To: "server"}, Flags: decode.ACK, Seq: 1, Ack: 1},
	} {
		tl.Append(timeline.Event{Kind: timeline.KindPacket, Packet: &p})
	}

	handshake := check.New("the connection opens with SYN, SYN,ACK, ACK", "连接以 SYN、SYN,ACK、ACK 建立",
		func(v *check.View) (bool, i18n.Text) {
			got := check.Flags(v.Packets(check.TCP))
			return got == "SYN SYN,ACK ACK", check.Plain(got)
		})
	fromClient := check.New("the client sends two segments", "客户端发出两个报文段",
		func(v *check.View) (bool, i18n.Text) {
			n := len(v.Packets(check.From("client")))
			return n == 2, check.Say("%d segment(s) from the client", "客户端发出 %d 个报文段", n)
		})
	for _, res := range check.Evaluate(tl, []check.Check{handshake, fromClient}) {
		fmt.Printf("%v %s — %s / %s\n", res.OK, res.Name.En, res.Detail.In(i18n.En), res.Detail.In(i18n.Zh))
	}
	// Output:
	// true the connection opens with SYN, SYN,ACK, ACK — SYN SYN,ACK ACK / SYN SYN,ACK ACK
	// true the client sends two segments — 2 segment(s) from the client / 客户端发出 2 个报文段
}
