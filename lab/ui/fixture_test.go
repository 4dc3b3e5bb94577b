package ui

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// The fixture is a complete, deterministic run: handshake, three writes
// carried by two segments and read at once, a close, two kernel readings
// of the client's TIME-WAIT timer, and the checks. Its packets are real
// frames, decoded and annotated by lab/decode and lab/flow.

var (
	fxStart  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fxClient = netip.MustParseAddrPort("127.0.0.1:40312")
	fxServer = netip.MustParseAddrPort("127.0.0.1:8888")
	fxCli    = timeline.Socket{Local: fxClient, Remote: fxServer}
	fxSrv    = timeline.Socket{Local: fxServer, Remote: fxClient}
	fxLsn    = timeline.Socket{Local: fxServer}
)

var fxScenario = &lesson.Scenario{
	Name:    "fixture",
	Title:   i18n.T("Fixture: handshake, writes, close", "测试:握手、写入、关闭"),
	Summary: i18n.T("a made-up run for the dashboard's tests", "仪表盘测试用的虚构运行"),
	Lesson: i18n.T("First paragraph of the lesson.\n\nSecond paragraph: [not a tag] and more.",
		"课程第一段。\n\n第二段:[不是标签] 以及更多内容。"),
	Lanes: []string{"client", "server"},
	Checks: []check.Check{
		check.New("first segment is SYN", "第一个报文段是 SYN", nil),
		check.New("three writes, two segments", "三次写入,两个报文段", nil),
		check.New("something that fails", "一个失败的检查", nil),
	},
}

// fxBuilder assembles the fixture's events.
type fxBuilder struct {
	evs  []timeline.Event
	t    time.Duration
	dec  *decode.Decoder
	flow *flow.Tracker
	seq  map[netip.AddrPort]uint32
	ack  map[netip.AddrPort]uint32
}

func newFxBuilder() *fxBuilder {
	dec, _ := decode.NewDecoder(layers.LinkTypeEthernet)
	return &fxBuilder{dec: dec, flow: flow.NewTracker(),
		seq: map[netip.AddrPort]uint32{fxClient: 1000, fxServer: 5000},
		ack: map[netip.AddrPort]uint32{}}
}

func (b *fxBuilder) at(us int) time.Time {
	b.t = time.Duration(us) * time.Microsecond
	return fxStart.Add(b.t)
}

func (b *fxBuilder) add(us int, e timeline.Event) {
	e.Time = b.at(us)
	b.evs = append(b.evs, e)
}

func (b *fxBuilder) app(us int, lane string, call timeline.Call, sock timeline.Socket, n int, detail string) {
	b.add(us, timeline.Event{Kind: timeline.KindApp, App: &timeline.App{Lane: lane, Call: call, Proto: decode.ProtoTCP, Bytes: n, Socket: sock, Detail: detail}})
}

func (b *fxBuilder) state(us int, lane string, sock timeline.Socket, from, to tcpstate.State, src timeline.Source, mod func(*timeline.State)) {
	s := &timeline.State{Lane: lane, Socket: sock, From: from, To: to, Source: src}
	if mod != nil {
		mod(s)
	}
	b.add(us, timeline.Event{Kind: timeline.KindState, State: s})
}

func (b *fxBuilder) note(us int, en, zh string, step bool) {
	b.add(us, timeline.Event{Kind: timeline.KindNote, Note: &timeline.Note{Text: i18n.T(en, zh), Step: step}})
}

// packet builds, decodes and annotates a real frame.
func (b *fxBuilder) packet(us int, from netip.AddrPort, flags decode.Flags, payload string) {
	to := fxServer
	fromLane, toLane := "client", "server"
	if from == fxServer {
		to, fromLane, toLane = fxClient, "server", "client"
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
		SrcIP: from.Addr().AsSlice(), DstIP: to.Addr().AsSlice(), Id: uint16(len(b.evs))}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(from.Port()), DstPort: layers.TCPPort(to.Port()),
		Seq: b.seq[from], Ack: b.ack[from], Window: 512,
		SYN: flags.Has(decode.SYN), ACK: flags.Has(decode.ACK), FIN: flags.Has(decode.FIN), PSH: flags.Has(decode.PSH)}
	if flags.Has(decode.SYN) {
		tcp.Window = 65495
		tcp.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0xff, 0xd7}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	data := append([]byte(nil), buf.Bytes()...)
	p := new(decode.Packet)
	if err := b.dec.Decode(data, len(data), p); err != nil {
		panic(err)
	}
	b.flow.Add(p)
	p.Lab.From, p.Lab.To = fromLane, toLane
	n := uint32(len(payload))
	if flags.Has(decode.SYN) || flags.Has(decode.FIN) {
		n++
	}
	b.seq[from] += n
	b.ack[to] = b.seq[from]
	b.add(us, timeline.Event{Kind: timeline.KindPacket, Packet: p})
}

// fixtureEvents returns the fixture run's events and summary.
func fixtureEvents() ([]timeline.Event, timeline.Summary) {
	b := newFxBuilder()
	K, I := timeline.Kernel, timeline.Inferred
	b.app(100, "server", timeline.CallListen, fxLsn, 0, "backlog=128")
	b.state(150, "server", fxLsn, tcpstate.Closed, tcpstate.Listen, K, func(s *timeline.State) { s.SendQ = 128 })
	b.note(200, "The client calls connect(): the kernel sends SYN.", "客户端调用 connect():内核发出 SYN。", true)
	b.app(300, "client", timeline.CallConnect, fxCli, 0, "to 127.0.0.1:8888")
	b.state(350, "client", fxCli, tcpstate.Closed, tcpstate.SynSent, I, func(s *timeline.State) { s.Packet = 1 })
	b.packet(350, fxClient, decode.SYN, "")
	b.state(370, "server", fxSrv, tcpstate.Listen, tcpstate.SynReceived, I, func(s *timeline.State) { s.Packet = 2 })
	b.packet(370, fxServer, decode.SYN|decode.ACK, "")
	b.state(390, "client", fxCli, tcpstate.SynSent, tcpstate.Established, I, nil)
	b.packet(390, fxClient, decode.ACK, "")
	b.state(400, "server", fxSrv, tcpstate.SynReceived, tcpstate.Established, I, nil)
	b.app(450, "server", timeline.CallAccept, fxSrv, 0, "from 127.0.0.1:40312")
	b.state(2000, "client", fxCli, tcpstate.Established, tcpstate.Established, K, nil)
	b.note(2100, "The client writes three times; watch the segments.", "客户端写三次:看报文段。", true)
	b.app(2200, "client", timeline.CallWrite, fxCli, 2, `"he"`)
	b.packet(2210, fxClient, decode.PSH|decode.ACK, "he")
	b.app(2220, "client", timeline.CallWrite, fxCli, 3, `"llo"`)
	b.app(2230, "client", timeline.CallWrite, fxCli, 5, `"[red]"`)
	b.packet(2240, fxClient, decode.PSH|decode.ACK, "llo[red]")
	b.packet(2250, fxServer, decode.ACK, "")
	b.app(2300, "server", timeline.CallRead, fxSrv, 10, `"hello[red]"`)
	b.note(3000, "The client closes first.", "客户端先关闭。", true)
	b.app(3100, "client", timeline.CallClose, fxCli, 0, "")
	b.state(3110, "client", fxCli, tcpstate.Established, tcpstate.FinWait1, I, nil)
	b.packet(3110, fxClient, decode.FIN|decode.ACK, "")
	b.state(3120, "server", fxSrv, tcpstate.Established, tcpstate.CloseWait, I, nil)
	b.packet(3120, fxServer, decode.ACK, "")
	b.state(3125, "client", fxCli, tcpstate.FinWait1, tcpstate.FinWait2, I, nil)
	b.app(3200, "server", timeline.CallClose, fxSrv, 0, "")
	b.state(3210, "server", fxSrv, tcpstate.CloseWait, tcpstate.LastAck, I, nil)
	b.packet(3210, fxServer, decode.FIN|decode.ACK, "")
	b.state(3215, "client", fxCli, tcpstate.FinWait2, tcpstate.TimeWait, I, nil)
	b.packet(3220, fxClient, decode.ACK, "")
	b.state(4000, "server", fxSrv, tcpstate.LastAck, tcpstate.Closed, K, func(s *timeline.State) { s.Gone = true })
	b.state(4000, "client", fxCli, tcpstate.TimeWait, tcpstate.TimeWait, K, func(s *timeline.State) {
		s.Timer, s.Expires = tcpstate.TimerTimeWait, 60*time.Second
	})
	b.state(1004000, "client", fxCli, tcpstate.TimeWait, tcpstate.TimeWait, K, func(s *timeline.State) {
		s.Timer, s.Expires = tcpstate.TimerTimeWait, 59*time.Second
	})
	for i, c := range fxScenario.Checks {
		b.add(1004000, timeline.Event{Kind: timeline.KindCheck, Check: &timeline.Check{Name: c.Name, OK: i < 2, Detail: []i18n.Text{i18n.T("SYN", ""), i18n.T("writes 3, segments 2", "写入 3 次,报文段 2 个"), i18n.T("on purpose", "故意的")}[i]}})
	}
	return b.evs, timeline.Summary{Packets: 10, ChecksPassed: 2, ChecksFailed: 1}
}

// fixtureTimeline is the whole fixture run, closed.
func fixtureTimeline() *timeline.Timeline {
	evs, sum := fixtureEvents()
	tl := timeline.New(fxMeta())
	tl.Append(evs...)
	tl.Close(sum)
	return tl
}

func fxMeta() timeline.Meta {
	return timeline.Meta{Scenario: fxScenario.Name, Title: fxScenario.Title, Lanes: fxScenario.Lanes,
		Sandbox: timeline.SandboxNetns, Iface: "lo", Start: fxStart, Link: int(layers.LinkTypeEthernet)}
}

// fakeRun plays the fixture like a worker in step mode: it appends events up
// to each step note and waits for Continue.
type fakeRun struct {
	mu   sync.Mutex
	tl   *timeline.Timeline
	evs  []timeline.Event
	sum  timeline.Summary
	pos  int
	done chan struct{}
}

func fakeStarter(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error) {
	evs, sum := fixtureEvents()
	r := &fakeRun{tl: timeline.New(fxMeta()), evs: evs, sum: sum, done: make(chan struct{})}
	r.Continue()
	return r, nil
}

func (r *fakeRun) Timeline() *timeline.Timeline { return r.tl }
func (r *fakeRun) Done() <-chan struct{}        { return r.done }
func (r *fakeRun) Stop()                        { r.finish(true) }

// Continue appends the events up to and including the next step note.
func (r *fakeRun) Continue() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos >= len(r.evs) {
		return
	}
	end := r.pos
	for end < len(r.evs) {
		e := r.evs[end]
		end++
		if e.Kind == timeline.KindNote && e.Note.Step && end-1 > r.pos {
			break
		}
	}
	r.tl.Append(r.evs[r.pos:end]...)
	r.pos = end
	if r.pos == len(r.evs) {
		r.tl.Close(r.sum)
		close(r.done)
	}
}

func (r *fakeRun) finish(interrupted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos < len(r.evs) {
		r.pos = len(r.evs)
		s := r.sum
		s.Interrupted = interrupted
		r.tl.Close(s)
		close(r.done)
	}
}

func (r *fakeRun) Drops() uint64 { return 0 }
