package scenarios

import (
	"bytes"
	"fmt"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/timeline"
)

// Echo: the classic socket example, a client sends "hello world" and the
// server sends it back.
//
// This file is the template for a new lesson: copy it, rename the variable,
// give it a Name, and add it to Catalog in scenarios.go (a test fails if you
// forget). A scenario is declared with lesson.Define and holds, in order:
//   - its lesson, in English and Chinese, in your own words;
//   - its lanes (lanes.go): Run listens on a lane and dials a lane, never an
//     address — s.Listen(server, 8888), s.Dial(client, server, 8888);
//   - Run, the program, narrated with s.Step (no error to check: an
//     interrupted run closes the sockets and the next call fails);
//   - Checks, one for every fact the lesson states, on this run's capture,
//     kernel states and calls.
//
// A lesson in several parts declares them as acts (see close.go):
//
//	var closeLate = &lesson.Act{
//		Title:  i18n.T("the server waits before closing.", "服务器等一会儿再关闭。"),
//		Lesson: i18n.T("…", "…"),       // its paragraph; Define writes "Act 2 — "
//		Checks: []check.Check{…},      // each sees only this act's events
//	}
//
// lists them in Acts: []*lesson.Act{closeAtEOF, closeLate}, and starts each
// in Run with s.Act(closeLate). Never write an act's number: Define and the
// session number them.
var Echo = lesson.Define(lesson.Scenario{
	Name:    "echo",
	Title:   i18n.T("Echo client and server", "回显客户端与服务器"),
	Summary: i18n.T("the classic socket example: connect, send \"hello world\", get it back, close", "经典套接字示例:连接、发送 \"hello world\"、收到回显、关闭"),
	Lanes:   []string{client, server},
	Lesson: i18n.T(`The smallest useful TCP program: a server that listens on port 8888 and a client that connects, sends "hello world", reads the answer and closes.

Server: socket() → bind(server:8888) → listen() → accept() → read() → write() → close().
Client: socket() → connect(server:8888) → write() → read() → close().

Watch how each call maps to the wire: connect() is the three-way handshake; write() of 11 bytes becomes one segment with len=11 (PSH tells the receiver to hand the data to the program now); read() does not send anything, the kernel has already acknowledged the data; close() sends FIN.

The server's address is 127.0.0.1 on loopback and 192.0.2.20 on a lab wire (--net wire): the run says which.

The kernel, not the program, sends every ACK. A read() returns what has arrived, which is not always what one write() sent: with 11 bytes on loopback it is, but see the coalescing scenario.`,
		`最小的实用 TCP 程序:服务器监听 8888 端口,客户端连接后发送 "hello world",读取回复,然后关闭。

服务器:socket() → bind(server:8888) → listen() → accept() → read() → write() → close()。
客户端:socket() → connect(server:8888) → write() → read() → close()。

看每个调用在线路上对应什么:connect() 就是三次握手;write() 11 个字节变成一个 len=11 的报文段(PSH 表示接收方应立即把数据交给程序);read() 不发送任何东西,内核早已确认了这些数据;close() 发送 FIN。

服务器的地址在环回接口上是 127.0.0.1,在实验线路上(--net wire)是 192.0.2.20:运行时会显示是哪一个。

所有 ACK 都是内核发的,不是程序发的。read() 返回的是已经到达的数据,不一定正好是一次 write() 的内容:这里 11 个字节在环回接口上恰好是一次,另见 coalescing(粘包)场景。`),
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Go(func() error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			buf := make([]byte, 1024)
			n, err := c.Read(buf)
			if err != nil {
				return err
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return err
			}
			// Wait for the client's FIN before closing, as the classic server does.
			c.Read(buf)
			return c.Close()
		})
		at := s.AddrPort(server, 8888).String()
		s.Step("The client connects to "+at+".", "客户端连接 "+at+"。")
		c, err := s.Dial(client, server, 8888)
		if err != nil {
			return err
		}
		s.Step("The client sends \"hello world\" and the server echoes it.", "客户端发送 \"hello world\",服务器原样发回。")
		if _, err := c.Write([]byte("hello world")); err != nil {
			return err
		}
		got, err := c.ReadFull(len("hello world"))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, []byte("hello world")) {
			return fmt.Errorf("echo: got %q", got)
		}
		s.Step("The client closes; the server sees EOF and closes too.", "客户端关闭;服务器读到 EOF 后也关闭。")
		return c.Close()
	},
	Checks: []check.Check{
		check.New("the connection opens with SYN, SYN,ACK, ACK", "连接以 SYN、SYN,ACK、ACK 建立", func(v *check.View) (bool, i18n.Text) {
			ps := v.Packets(check.TCP)
			if len(ps) < 3 {
				return false, check.Say("only %d segments", "只有 %d 个报文段", len(ps))
			}
			got := check.Flags(ps[:3])
			return got == "SYN SYN,ACK ACK", check.Plain(got)
		}).Clean(),
		check.New("\"hello world\" crosses the wire once in each direction, 11 bytes each", "\"hello world\" 在两个方向上各传输一次,各 11 字节", func(v *check.View) (bool, i18n.Text) {
			up := v.Packets(check.From(client), check.WithPayload)
			down := v.Packets(check.From(server), check.WithPayload)
			ok := len(up) == 1 && len(down) == 1 &&
				string(up[0].Payload()) == "hello world" && string(down[0].Payload()) == "hello world"
			return ok, check.Say("client→server %d segment(s), server→client %d segment(s)", "客户端→服务器 %d 个报文段,服务器→客户端 %d 个报文段", len(up), len(down))
		}).Clean(),
		check.New("the server's kernel acknowledges the data before the server program reads it", "服务器内核在程序读取之前就确认了数据", func(v *check.View) (bool, i18n.Text) {
			data := first(v.Packets(check.From(client), check.WithPayload))
			if data == nil {
				return false, check.Say("no data segment", "没有数据报文段")
			}
			var ackAt, readAt int
			for _, e := range v.Events() {
				if ackAt == 0 && e.Packet != nil && e.Packet.Lab.From == server && e.Packet.Flags.Has(decode.ACK) && e.Packet.Ack == data.Seq+uint32(data.PayloadLen) {
					ackAt = e.ID
				}
				if readAt == 0 && e.App != nil && e.App.Lane == server && e.App.Call == timeline.CallRead && e.App.Bytes > 0 {
					readAt = e.ID
				}
			}
			return ackAt != 0 && readAt != 0 && ackAt < readAt, check.Say("ACK is event %d, read() returns at event %d", "ACK 是第 %d 个事件,read() 在第 %d 个事件返回", ackAt, readAt)
		}),
		check.New("each data segment carries PSH: hand the data to the program now", "每个数据报文段都带 PSH:立即把数据交给程序", func(v *check.View) (bool, i18n.Text) {
			data := v.Packets(check.TCP, check.WithPayload)
			push := v.Packets(check.TCP, check.WithPayload, check.HasFlags(decode.PSH))
			return len(data) > 0 && len(push) == len(data), check.Say("%d data segments, %d with PSH", "%d 个数据报文段,%d 个带 PSH", len(data), len(push))
		}),
		check.New("both sides send FIN", "双方都发送了 FIN", func(v *check.View) (bool, i18n.Text) {
			c := v.Packets(check.From(client), check.HasFlags(decode.FIN), check.Original)
			s := v.Packets(check.From(server), check.HasFlags(decode.FIN), check.Original)
			return len(c) == 1 && len(s) == 1, check.Say("client FIN %d, server FIN %d", "客户端 FIN %d 个,服务器 FIN %d 个", len(c), len(s))
		}),
		check.New("the program's reads return exactly what was sent", "程序读到的正是对方发送的内容", func(v *check.View) (bool, i18n.Text) {
			sr, cr := v.Bytes(server, timeline.CallRead), v.Bytes(client, timeline.CallRead)
			return sr == 11 && cr == 11, check.Say("server read %d bytes, client read %d bytes", "服务器读到 %d 字节,客户端读到 %d 字节", sr, cr)
		}),
	},
})
