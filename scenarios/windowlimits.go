package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

const (
	// windowDelay is the wire's one-way delay: a 50 ms round trip.
	windowDelay = 25 * time.Millisecond
	windowBytes = 1 << 20
	// maxUnscaled is the largest window a 16-bit field can say.
	maxUnscaled = 65535
)

// WindowLimits: the receive window caps throughput at window / round trip.
// Without window scaling a window is at most 64 KiB, so on a 50 ms wire no
// connection goes faster than about 1.3 MB/s, however fast the wire.
var WindowLimits = lesson.Define(lesson.Scenario{
	Name:    "window-limits",
	Title:   i18n.T("Window limits: throughput is at most window / round trip", "窗口限制:吞吐量最多是窗口除以往返时间"),
	Summary: i18n.T("1 MiB on a 50 ms wire, window scaling off then on: 64 KiB per round trip caps it near 1.3 MB/s, and the capture measures just under; with scaling the window grows and more than 64 KiB is in flight at once", "在 50 ms 的线路上发 1 MiB,先关闭再打开窗口缩放:每个往返 64 KiB 把吞吐量限制在约 1.3 MB/s,抓包实测略低于此;有了缩放,窗口变大,同时在途的数据超过 64 KiB"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:   1,
		Impair: [2]wire.Impairment{{Delay: windowDelay}, {Delay: windowDelay}},
	},
	Lesson: i18n.T(`A sender may have in flight no more than the receiver's advertised window. So within one round trip it sends at most one window, and its throughput is at most window / RTT, whatever the wire's bandwidth. That product, bandwidth × delay, is how much a path holds in flight (the bandwidth-delay product): to fill a path, the window must be at least that large.

TCP's window field has 16 bits: 65,535 bytes at most. On a 50 ms round trip that is 65,535 / 0.05 s ≈ 1.3 MB/s. Window scaling (RFC 7323) multiplies the field by 2^scale; each side offers its scale in its SYN, and only if both offer it does either use it. This run's server host gives its sockets a 4 MiB receive buffer, so only the field's width can limit the window.`,
		`发送方在途的数据不能超过接收方通告的窗口。所以一个往返里它最多发一个窗口,吞吐量最多是 窗口 / RTT,不论线路带宽多大。带宽 × 时延 就是一条路径上能容纳的在途数据量(带宽时延积):要把路径填满,窗口至少要这么大。

TCP 的窗口字段只有 16 位:最多 65,535 字节。往返 50 ms 时就是 65,535 / 0.05 s ≈ 1.3 MB/s。窗口缩放(RFC 7323)把字段乘以 2^scale;双方在各自的 SYN 里提出缩放因子,只有双方都提出时才会使用。这次运行中服务器所在主机给套接字 4 MiB 的接收缓冲区,所以限制窗口的只有字段宽度。`),
	Acts: []*lesson.Act{windowUnscaled, windowScaled},
	Run: func(s *session.Session) error {
		if err := roomyReceiver(s); err != nil {
			return err
		}
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		for _, a := range []struct {
			act     *lesson.Act
			scaling string
		}{{windowUnscaled, "0"}, {windowScaled, "1"}} {
			s.Act(a.act)
			if err := s.Sysctl(server, "net.ipv4.tcp_window_scaling", a.scaling); err != nil {
				return err
			}
			s.Step(fmt.Sprintf("The client sends %d MiB; the server reads it all.", windowBytes>>20), fmt.Sprintf("客户端发送 %d MiB;服务器全部读完。", windowBytes>>20))
			if err := sendBulk(s, ln, windowBytes, ""); err != nil {
				return err
			}
		}
		return nil
	},
})

// windowRun is what the capture shows of one act's transfer: the server's
// window scale (-1: none offered), its largest advertised window, the most
// bytes the client had in flight (sent, and not acknowledged by an ACK
// that had arrived), the round trip while the data flowed, and the
// throughput over the second half of the data (after slow start), from
// the arrivals at the client of the ACKs for half the bytes and for all
// (secondHalfRate).
type windowRun struct {
	scale            int8
	window, inFlight uint32
	rtt              time.Duration
	throughput       float64 // bytes per second
}

func windowMeasure(v *check.View) windowRun {
	r := windowRun{scale: -1}
	r.throughput, _ = secondHalfRate(v, client, windowBytes)
	type ackAt struct {
		at  time.Time
		ack uint32
	}
	var acks []ackAt // the server's ACKs, by arrival at the client
	type sentAt struct {
		at  time.Time
		end uint32
	}
	var sent []sentAt // the client's data, as it left
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil:
		case p.Lab.From == server && p.Flags.Has(decode.SYN|decode.ACK):
			r.scale = p.Opts.WScale
		case p.Lab.From == server && p.Flags.Has(decode.ACK) && !p.Lab.Wire.Arrived.IsZero():
			r.window = max(r.window, p.Flow.WinBytes)
			at := p.Lab.Wire.Arrived
			acks = append(acks, ackAt{at, p.Flow.RelAck})
		case p.Lab.From == client && p.PayloadLen > 0:
			sent = append(sent, sentAt{e.Time, p.Flow.RelSeq + uint32(p.PayloadLen)})
		}
	}
	// In flight at the client: what it had sent less what the ACKs that
	// had arrived there by then acknowledged.
	slices.SortStableFunc(acks, func(a, b ackAt) int { return a.at.Compare(b.at) })
	acked, high, k := uint32(1), uint32(0), 0
	for _, d := range sent {
		for ; k < len(acks) && !acks[k].at.After(d.at); k++ {
			acked = max(acked, acks[k].ack)
		}
		high = max(high, d.end)
		r.inFlight = max(r.inFlight, high-acked)
	}
	// The round trip: the median, over the second half of the data, of
	// each segment's leaving until the ACK covering it arrived (a busy
	// machine can slow the wire for a while; the handshake alone is one
	// sample).
	var rtts []time.Duration
	for _, x := range segmentRTTs(v, client) {
		if x.end > windowBytes/2 {
			rtts = append(rtts, x.rtt)
		}
	}
	r.rtt = median(rtts)
	return r
}

func mbps(bytesPerSec float64) string { return fmt.Sprintf("%.2f", bytesPerSec/1e6) }

var windowUnscaled = &lesson.Act{
	Title: i18n.T("window scaling off: at most 64 KiB per round trip.", "关闭窗口缩放:每个往返最多 64 KiB。"),
	Lesson: i18n.T(`window scaling off on the server's host (net.ipv4.tcp_window_scaling=0): its SYN,ACK offers no scale, so neither side scales. Once its congestion window has grown past it (slow start, or bbr's startup), the client has a whole receive window in flight and waits: one window per round trip.`,
		`服务器所在主机关闭窗口缩放(net.ipv4.tcp_window_scaling=0):它的 SYN,ACK 不提出缩放因子,于是双方都不缩放。一旦拥塞窗口超过它(慢启动,或 bbr 的 startup 阶段),客户端把整个接收窗口发出去就得等:每个往返一个窗口。`),
	Checks: []check.Check{
		check.New("the server's SYN,ACK offers no window scale, and no window it advertises exceeds 65,535 bytes", "服务器的 SYN,ACK 没有提出窗口缩放,它通告的窗口都不超过 65,535 字节", func(v *check.View) (bool, i18n.Text) {
			r := windowMeasure(v)
			return r.scale < 0 && r.window > 0 && r.window <= maxUnscaled, check.Say("window scale offered: %v; largest window %d bytes", "提出的窗口缩放:%v;最大窗口 %d 字节", check.Bool(r.scale >= 0), r.window)
		}).Clean(),
		check.New("the client never has more in flight than the window", "客户端在途的数据从不超过窗口", func(v *check.View) (bool, i18n.Text) {
			r := windowMeasure(v)
			return r.inFlight > 0 && r.inFlight <= r.window, check.Say("most in flight %d bytes, window %d", "最多在途 %d 字节,窗口 %d", r.inFlight, r.window)
		}).Clean(),
		check.New("throughput is about window / round trip, never more", "吞吐量约等于 窗口 / 往返时间,从不超过", func(v *check.View) (bool, i18n.Text) {
			r := windowMeasure(v)
			limit := 0.0
			if r.rtt > 0 {
				limit = float64(r.window) / r.rtt.Seconds()
			}
			ratio := r.throughput / max(limit, 1)
			return limit > 0 && ratio >= 0.6 && ratio <= 1.15, check.Say("%s MB/s measured; window %d bytes / round trip %s ms = %s MB/s (%.0f%%)", "实测 %s MB/s;窗口 %d 字节 / 往返 %s 毫秒 = %s MB/s(%.0f%%)",
				mbps(r.throughput), r.window, fmtMS(r.rtt), mbps(limit), 100*ratio)
		}).Clean(),
	},
}

var windowScaled = &lesson.Act{
	Title: i18n.T("window scaling on: the window outgrows 64 KiB.", "打开窗口缩放:窗口超过 64 KiB。"),
	Lesson: i18n.T(`window scaling back on: the SYN,ACK offers a scale, the advertised window grows past 64 KiB as the receiver's buffer allows, and the sender's own congestion control is the only brake left.`,
		`重新打开窗口缩放:SYN,ACK 提出缩放因子,通告窗口随接收缓冲区增长,超过 64 KiB;剩下的唯一限制是发送方自己的拥塞控制。`),
	Checks: []check.Check{
		check.New("the server's SYN,ACK offers a window scale, and the window grows past 65,535 bytes", "服务器的 SYN,ACK 提出了窗口缩放,窗口增长到超过 65,535 字节", func(v *check.View) (bool, i18n.Text) {
			r := windowMeasure(v)
			return r.scale >= 0 && r.window > maxUnscaled, check.Say("window scale %d; largest window %d bytes", "窗口缩放因子 %d;最大窗口 %d 字节", r.scale, r.window)
		}).Clean(),
		check.New("with scaling the client has more than 65,535 bytes in flight at once: the window no longer caps it (the throughput of both acts is shown; how much faster depends on the machine)", "有了缩放,客户端同时在途的数据超过 65,535 字节:窗口不再是上限(两幕的吞吐量都列出;快多少取决于机器)", func(v *check.View) (bool, i18n.Text) {
			off, on := windowMeasure(v.Whole().Act(windowUnscaled.ActNumber())), windowMeasure(v)
			return on.inFlight > maxUnscaled, check.Say("most in flight %d bytes; %s MB/s without scaling, %s MB/s with", "最多在途 %d 字节;不缩放 %s MB/s,缩放 %s MB/s", on.inFlight, mbps(off.throughput), mbps(on.throughput))
		}).Clean(),
	},
}
