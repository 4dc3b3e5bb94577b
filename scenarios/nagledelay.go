package scenarios

import (
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

// The request of the nagle-delay scenario: a header and a body, written
// separately (write-write-read) or together.
var (
	nagleHeader = []byte("PUT /k HTTP/1.1\r\nContent-Length: 5\r\n\r\n")
	nagleBody   = []byte("hello")
	nagleReply  = []byte("HTTP/1.1 204 No Content\r\n\r\n")
)

// nagleStallMin is the least time the delayed-ACK timer holds an ACK on
// Linux (TCP_DELACK_MIN is 40 ms) minus a margin for a busy machine's timers.
const nagleStallMin = 30 * time.Millisecond

// NagleDelay: write-write-read with Nagle's algorithm and delayed ACKs.
var NagleDelay = lesson.Define(lesson.Scenario{
	Name:    "nagle-delay",
	Title:   i18n.T("Nagle meets delayed ACK: the 40 ms stall", "Nagle 遇上延迟确认:40 毫秒的停顿"),
	Summary: i18n.T("write-write-read stalls ~40 ms with Nagle on; TCP_NODELAY or one write removes the stall", "开启 Nagle 时“写-写-读”会停顿约 40 毫秒;TCP_NODELAY 或合并为一次写入即可消除"),
	Lanes:   []string{client, server},
	Lesson: i18n.T(`Two reasonable optimisations, one on each side, that together make a request wait for nothing.

Nagle's algorithm (sender): while some sent data is unacknowledged, do not send another small segment; wait for the ACK and send what has piled up in one go.
Delayed ACK (receiver): do not acknowledge at once; wait (40 ms or more on Linux) in the hope of sending the ACK together with a reply.`,
		`两个各自合理的优化,一边一个,合在一起却让请求白白等待。

Nagle 算法(发送方):只要还有已发送的数据没被确认,就不再发送新的小报文段;等 ACK 回来,把攒下的数据一次发出。
延迟确认(接收方):不立刻确认;等一会儿(Linux 上至少 40 毫秒),希望 ACK 能和回复一起发送。`),
	Acts: []*lesson.Act{nagleOn, nagleNoDelay, nagleOneWrite},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		acts := []struct {
			act      *lesson.Act
			noDelay  bool
			oneWrite bool
		}{
			{nagleOn, false, false},
			{nagleNoDelay, true, false},
			{nagleOneWrite, false, true},
		}
		for _, a := range acts {
			s.Act(a.act)
			if err := nagleRequest(s, ln, a.noDelay, a.oneWrite); err != nil {
				return err
			}
		}
		return nil
	},
	Checks: []check.Check{
		check.New("the request takes 30 ms or more longer with write-write-read under Nagle than with TCP_NODELAY", "在 Nagle 下“写-写-读”比设置 TCP_NODELAY 时至少慢 30 毫秒", func(v *check.View) (bool, i18n.Text) {
			a, b := measureRequest(v.Act(nagleOn.ActNumber())), measureRequest(v.Act(nagleNoDelay.ActNumber()))
			ok := a.ok && b.ok && a.reply-b.reply >= nagleStallMin
			return ok, check.Say("reply after %.1f ms with Nagle, %.1f ms with TCP_NODELAY", "开启 Nagle 时 %.1f 毫秒后收到回复,设置 TCP_NODELAY 时 %.1f 毫秒", ms(a.reply), ms(b.reply))
		}).Clean(),
	},
})

// nagleRequest runs one request on a new connection: the server delays its
// ACKs, reads the whole request and replies.
func nagleRequest(s *session.Session, ln *session.Listener, noDelay, oneWrite bool) error {
	cli, srv, err := naglePair(s, ln, noDelay)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	s.Go(func() error {
		_, err := srv.ReadFull(len(nagleHeader) + len(nagleBody))
		if err == nil {
			_, err = srv.Write(nagleReply)
		}
		done <- err
		return err
	})
	if oneWrite {
		if _, err := cli.Write(append(append([]byte(nil), nagleHeader...), nagleBody...)); err != nil {
			return err
		}
	} else {
		if _, err := cli.Write(nagleHeader); err != nil {
			return err
		}
		if _, err := cli.Write(nagleBody); err != nil {
			return err
		}
	}
	if _, err := cli.ReadFull(len(nagleReply)); err != nil {
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// request is what one act's capture shows of the request and its reply.
type request struct {
	ok           bool
	segments     int           // data segments from the client
	stall        time.Duration // first data segment to the second
	reply        time.Duration // first data segment to the reply
	bodyAfterAck bool          // the second segment left after the ACK of the first
}

// detail is what a check shows of the request.
func (r request) detail() i18n.Text {
	if !r.ok && r.segments < 2 {
		return check.Say("request or reply missing from the capture", "抓包中缺少请求或回复")
	}
	if r.segments == 1 {
		return check.Say("1 request segment; reply %.1f ms after it", "请求只有 1 个报文段;回复在其后 %.1f 毫秒", ms(r.reply))
	}
	after := i18n.T("before", "之前")
	if r.bodyAfterAck {
		after = i18n.T("after", "之后")
	}
	out := check.Say("%d data segments; the second left %.1f ms after the first, %s the first was acknowledged", "%d 个数据报文段;第二个在第一个之后 %.1f 毫秒发出,在第一个被确认%s", r.segments, ms(r.stall), after)
	if r.ok {
		out = check.Say("%s; reply %.1f ms after the first", "%s;回复在第一个之后 %.1f 毫秒", out, ms(r.reply))
	}
	return out
}

// measureRequest reads the client's data segments, the server's ACKs and its
// reply from a view's capture.
func measureRequest(v *check.View) request {
	var r request
	var firstT, ackT, secondT, replyT time.Time
	var firstEnd uint32
	for _, e := range v.Events() {
		p := e.Packet
		if p == nil || p.Proto != decode.ProtoTCP || !check.Original(p) {
			continue
		}
		switch {
		case p.Lab.From == client && p.PayloadLen > 0:
			r.segments++
			if firstT.IsZero() {
				firstT, firstEnd = e.Time, p.Seq+uint32(p.PayloadLen)
			} else if secondT.IsZero() {
				secondT = e.Time
			}
		case p.Lab.From == server && p.PayloadLen > 0 && replyT.IsZero():
			replyT = e.Time
		case p.Lab.From == server && !firstT.IsZero() && ackT.IsZero() && p.Flags.Has(decode.ACK) && p.Ack == firstEnd:
			ackT = e.Time
		}
	}
	if firstT.IsZero() {
		return r
	}
	if !replyT.IsZero() {
		r.ok = true
		r.reply = replyT.Sub(firstT)
	}
	if !secondT.IsZero() {
		r.stall = secondT.Sub(firstT)
		r.bodyAfterAck = !ackT.IsZero() && !secondT.Before(ackT)
	}
	return r
}

// nagleOn: Nagle on: write the header, write the body, read the reply
var nagleOn = &lesson.Act{
	Title: i18n.T("Nagle on: write the header, write the body, read the reply.", "开启 Nagle:写请求头,写请求体,读回复。"),
	Lesson: i18n.T(`the client writes a request header, then its body (write-write-read), with Nagle on. The header leaves at once. The body is small and the header is not yet acknowledged, so Nagle holds it back. The server has only half a request, so it has no reply to carry an ACK: its kernel waits for the delayed-ACK timer. Only when that ACK arrives does the body leave, and only then can the server answer. The stall you see between the two segments is the delayed-ACK timer, measured on this run's capture.`,
		`客户端先写请求头,再写请求体(写-写-读),开启 Nagle。请求头立即发出。请求体很小,而请求头还没被确认,于是 Nagle 把它扣住。服务器只收到半个请求,没有回复可以捎带 ACK:它的内核等待延迟确认定时器。ACK 到达后请求体才发出,服务器这才能回复。两个报文段之间的停顿就是延迟确认定时器,从本次运行的抓包中测得。`),
	Checks: []check.Check{
		check.New("with Nagle the body waits for the header's delayed ACK (stall of 30 ms or more)", "开启 Nagle 时请求体要等请求头的延迟 ACK(停顿 30 毫秒以上)", func(v *check.View) (bool, i18n.Text) {
			r := measureRequest(v)
			ok := r.ok && r.segments == 2 && r.bodyAfterAck && r.stall >= nagleStallMin
			return ok, r.detail()
		}).Clean(),
	},
}

// nagleNoDelay: TCP_NODELAY: the same two writes
var nagleNoDelay = &lesson.Act{
	Title: i18n.T("TCP_NODELAY: the same two writes.", "设置 TCP_NODELAY:同样的两次写入。"),
	Lesson: i18n.T(`the same with TCP_NODELAY: the body leaves right after the header, before any ACK, and the reply comes back with no timer to wait for (the check allows 30 ms; on loopback it is usually well under a millisecond). This is why Go, like many runtimes, sets TCP_NODELAY on every socket (this lab turns Nagle back on where it teaches it).`,
		`同样的过程,但设置 TCP_NODELAY:请求体紧跟请求头发出,不等任何 ACK,回复不必等任何定时器就返回(检查允许 30 毫秒;在环回接口上通常远不到一毫秒)。这就是为什么 Go 和许多运行时一样,默认对每个套接字设置 TCP_NODELAY(本实验在讲 Nagle 的地方会重新打开它)。`),
	Checks: []check.Check{
		check.New("with TCP_NODELAY the body leaves before any ACK and there is no stall (under 30 ms)", "设置 TCP_NODELAY 后请求体不等 ACK 就发出,没有停顿(不到 30 毫秒)", func(v *check.View) (bool, i18n.Text) {
			r := measureRequest(v)
			ok := r.ok && r.segments == 2 && !r.bodyAfterAck && r.reply < nagleStallMin
			return ok, r.detail()
		}).Clean(),
	},
}

// nagleOneWrite: Nagle on, header and body in one write
var nagleOneWrite = &lesson.Act{
	Title: i18n.T("Nagle on, header and body in one write.", "开启 Nagle,请求头和请求体一次写入。"),
	Lesson: i18n.T(`the better fix keeps Nagle on and writes the header and body together (one write, or a buffered writer flushed once). One segment, nothing to hold back, no stall.

To make the receiver delay its ACKs on loopback the server sets TCP_QUICKACK to 0 right after accept; a fresh Linux connection otherwise acknowledges its first segments at once ("quick ACK" mode).`,
		`更好的办法是保留 Nagle,把请求头和请求体合在一起写(一次 write,或者用缓冲写入器只 flush 一次)。只有一个报文段,没什么可扣住的,也就没有停顿。

为了在环回接口上让接收方延迟 ACK,服务器在 accept 之后立即把 TCP_QUICKACK 设为 0;否则一个新建的 Linux 连接会立即确认最初的几个报文段("快速确认"模式)。`),
	Checks: []check.Check{
		check.New("one write is one segment and the reply comes without a stall (under 30 ms)", "一次写入就是一个报文段,回复没有停顿(不到 30 毫秒)", func(v *check.View) (bool, i18n.Text) {
			r := measureRequest(v)
			ok := r.ok && r.segments == 1 && r.reply < nagleStallMin
			return ok, r.detail()
		}).Clean(),
	},
}
