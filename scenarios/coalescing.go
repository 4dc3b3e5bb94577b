package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labsvc/framing"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/session"
)

const (
	smallWrites    = 20 // act 1 and 2: 20 writes of 5 bytes
	smallWriteSize = 5
	slowWrites     = 10 // act 3: 10 writes the reader lets pile up
	bigWrite       = 10000
	ethernetMTU    = 1500
	// framingReadPause: act 5's reader pauses before each read, so its reads
	// cut the stream in other places than the writes.
	framingReadPause = 3 * time.Millisecond
)

// framedMessages is what act 5 sends, framed two ways.
var framedMessages = []string{"hello", "粘包 means sticky packets", "a", "length prefix or delimiter: the receiver must know where a message ends", "bye"}

// Coalescing: TCP is a byte stream; write() boundaries are not message
// boundaries (粘包, "sticky packets").
var Coalescing = lesson.Define(lesson.Scenario{
	Name:      "coalescing",
	Title:     i18n.T("Sticky packets: TCP keeps no message boundaries", "粘包:TCP 不保留消息边界"),
	Summary:   i18n.T("writes, segments and reads each cut the byte stream in their own places; framing recovers the messages", "写入、报文段、读取各自切分字节流;分帧才能还原消息"),
	Lanes:     []string{client, server},
	ShowBytes: true,
	Lesson: i18n.T(`TCP carries a stream of bytes, not messages. Three parties cut that stream, each in its own places: the sending program (one cut per write()), the sending kernel (one cut per segment) and the receiving program (one cut per read()). Nothing makes the three agree. "Sticky packets" (粘包) is the name people give to the surprise: two writes come out of one read, or one write comes out of two.`,
		`TCP 传输的是字节流,而不是消息。有三方在切分这个字节流,各切各的:发送程序(每次 write() 一刀)、发送方内核(每个报文段一刀)、接收程序(每次 read() 一刀)。没有任何机制让三者一致。"粘包"就是人们对这种意外的叫法:两次写入被一次读出,或者一次写入被分两次读出。`),
	After: i18n.T("Turning Nagle off does not fix sticky packets (the slow reader shows it), and turning it on does not create them: the byte stream never had message boundaries to lose.",
		"关闭 Nagle 解决不了粘包(读得慢的接收方就是例子),打开 Nagle 也不是粘包的根源:字节流本来就没有可以丢失的消息边界。"),
	Acts: []*lesson.Act{coalesceNagle, coalesceNoDelay, coalesceSlowReader, coalesceMSS, coalesceFraming},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Act(coalesceNagle)
		if err := smallWritesAct(s, ln, false); err != nil {
			return err
		}
		s.Act(coalesceNoDelay)
		if err := smallWritesAct(s, ln, true); err != nil {
			return err
		}
		s.Act(coalesceSlowReader)
		if err := slowReaderAct(s, ln); err != nil {
			return err
		}
		s.Act(coalesceMSS)
		if err := bigWriteAct(s, ln); err != nil {
			return err
		}
		s.Act(coalesceFraming)
		return framingAct(s, ln)
	},
	Checks: []check.Check{},
})

// errSuffix is a parse error after a count, or nothing.
func errSuffix(err error) i18n.Text {
	if err == nil {
		return i18n.Text{}
	}
	return check.Say(" (%v)", "(%v)", err)
}

// sizes describes a stream's writes, segments and reads.
func sizes(st *check.Stream) i18n.Text {
	return check.Say("%d writes %v, %d segments %v, %d reads %v", "写入 %d 次 %v,报文段 %d 个 %v,读取 %d 次 %v",
		len(st.Writes), st.Writes, len(st.Segments), st.Segments, len(st.Reads), st.Reads)
}

// wholeSegments reports whether every read ends where a segment ends (the
// reads are runs of whole segments) and how many reads took more than one.
func wholeSegments(reads, segments []int) (whole bool, merged int) {
	ends := map[int]bool{}
	at := 0
	for _, n := range segments {
		at += n
		ends[at] = true
	}
	got, total := 0, at
	for _, n := range reads {
		before := got
		got += n
		if !ends[got] {
			return false, merged
		}
		taken := 0
		for end := range ends {
			if end > before && end <= got {
				taken++
			}
		}
		if taken > 1 {
			merged++
		}
	}
	return got == total, merged
}

// nagleWaited checks that the client's second data segment left after the
// server's ACK of the first, and at least nagleStallMin after the first.
func nagleWaited(v *check.View) (bool, i18n.Text) {
	r := measureRequest(v)
	return r.segments >= 2 && r.bodyAfterAck && r.stall >= nagleStallMin, r.detail()
}

// clientBytes reassembles, from the capture, the bytes the client sent on
// each connection of the view, in the order the connections appeared.
func clientBytes(v *check.View) [][]byte {
	var order []int
	streams := map[int][]byte{}
	for _, p := range v.Packets(check.TCP, check.From(client), check.WithPayload) {
		if _, ok := streams[p.Flow.Conv]; !ok {
			order = append(order, p.Flow.Conv)
		}
		b := streams[p.Flow.Conv]
		off := int(p.Flow.RelSeq) - 1
		if off < 0 || off > len(b) {
			continue // a gap: leave it to the parser to fail
		}
		end := off + p.PayloadLen
		if end > len(b) {
			b = append(b, make([]byte, end-len(b))...)
		}
		copy(b[off:], p.Payload())
		streams[p.Flow.Conv] = b
	}
	out := make([][]byte, len(order))
	for i, f := range order {
		out[i] = streams[f]
	}
	return out
}

// ends is the running total of sizes: where each piece ends.
func ends(sizes []int) []int {
	out := make([]int, len(sizes))
	off := 0
	for i, s := range sizes {
		off += s
		out[i] = off
	}
	return out
}

// smallWritesAct: the client writes 20 × 5 bytes, 1 ms apart, to a server
// that delays its ACKs and reads as data comes.
func smallWritesAct(s *session.Session, ln *session.Listener, noDelay bool) error {
	cli, srv, err := naglePair(s, ln, noDelay)
	if err != nil {
		return err
	}
	got := make(chan error, 1)
	s.Go(func() error {
		_, err := srv.ReadFull(smallWrites * smallWriteSize)
		got <- err
		return err
	})
	msg := []byte("abcde")
	for i := 0; i < smallWrites; i++ {
		if _, err := cli.Write(msg); err != nil {
			return err
		}
		if err := s.Sleep(time.Millisecond); err != nil {
			return err
		}
	}
	if err := <-got; err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// slowReaderAct: the server reads only once everything has arrived.
func slowReaderAct(s *session.Session, ln *session.Listener) error {
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	for i := 0; i < slowWrites; i++ {
		if _, err := cli.Write([]byte(fmt.Sprintf("msg%d;", i))); err != nil {
			return err
		}
		if err := s.Sleep(time.Millisecond); err != nil {
			return err
		}
	}
	s.Step("Every message has arrived in the server's receive buffer; now the server reads.", "所有消息都已进入服务器的接收缓冲区;现在服务器才读。")
	if err := s.Sleep(30 * time.Millisecond); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	if _, err := srv.Read(buf); err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// bigWriteAct: one write larger than the MSS, on a 1500-byte MTU.
func bigWriteAct(s *session.Session, ln *session.Listener) error {
	if err := sandbox.SetMTU(s.Mode(), "lo", ethernetMTU); err != nil {
		return err
	}
	// Without this the kernel hands lo 64 KB "segments" and leaves the
	// cutting to the (virtual) hardware, after the capture point.
	if err := sandbox.SetSegmentationOffload(s.Mode(), "lo", false); err != nil {
		return err
	}
	s.Note("lo's MTU is now 1500 and its segmentation offload is off (ethtool -K lo tso off): the kernel itself cuts segments to the MSS, as on a real link.",
		"lo 的 MTU 现在是 1500,并关闭了分段卸载(ethtool -K lo tso off):由内核自己按 MSS 切分报文段,和真实链路上一样。")
	cli, srv, err := connectPair(s, ln)
	if err != nil {
		return err
	}
	if err := transferBulk(s, cli, srv, bigWrite); err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// framingAct sends framedMessages with a length prefix, then with a newline
// delimiter, in odd-sized writes; the server parses them back.
func framingAct(s *session.Session, ln *session.Listener) error {
	prefixed, err := framing.Encode(framing.Prefix16, framedMessages)
	if err != nil {
		return err
	}
	delimited, err := framing.Encode(framing.Newline, framedMessages)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		en, zh string
		wire   []byte
		parse  func(*session.Conn) ([]string, error)
	}{
		{"Length prefix: 2 bytes of length before each message.", "长度前缀:每条消息前有 2 字节的长度。", prefixed, func(c *session.Conn) ([]string, error) { return framing.ReadAll(slowReader{c}, framing.Prefix16, 16) }},
		{"Delimiter: a newline after each message.", "分隔符:每条消息后有一个换行符。", delimited, func(c *session.Conn) ([]string, error) { return framing.ReadAll(slowReader{c}, framing.Newline, 16) }},
	} {
		s.Step(f.en, f.zh)
		cli, srv, err := connectPair(s, ln)
		if err != nil {
			return err
		}
		got := make(chan []string, 1)
		s.Go(func() error {
			msgs, err := f.parse(srv)
			got <- msgs
			return err
		})
		// Odd-sized pieces that straddle message boundaries.
		for i, rest := 0, f.wire; len(rest) > 0; i++ {
			n := min([]int{3, 11, 7, 1, 17}[i%5], len(rest))
			if _, err := cli.Write(rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
			if err := s.Sleep(time.Millisecond); err != nil {
				return err
			}
		}
		if err := cli.CloseWrite(); err != nil {
			return err
		}
		msgs := <-got
		if !slices.Equal(msgs, framedMessages) {
			return fmt.Errorf("framing: received %q, sent %q", msgs, framedMessages)
		}
		s.Note(fmt.Sprintf("The server recovered %d messages: %s", len(msgs), quoteAll(msgs)),
			fmt.Sprintf("服务器还原出 %d 条消息:%s", len(msgs), quoteAll(msgs)))
		if err := srv.Close(); err != nil {
			return err
		}
		if err := cli.Close(); err != nil {
			return err
		}
	}
	return nil
}

// slowReader reads the way act 5's server does: after a pause each time.
type slowReader struct{ c *session.Conn }

func (r slowReader) Read(b []byte) (int, error) { return slowRead(r.c, b) }

// slowRead reads after a pause, so that several writes have piled up.
func slowRead(c *session.Conn, buf []byte) (int, error) {
	time.Sleep(framingReadPause)
	return c.Read(buf)
}

func quoteAll(msgs []string) string {
	q := make([]string, len(msgs))
	for i, m := range msgs {
		q[i] = fmt.Sprintf("%q", m)
	}
	return strings.Join(q, " ")
}

// coalesceNagle: 20 writes of 5 bytes, Nagle on, the receiver delays its ACKs
var coalesceNagle = &lesson.Act{
	Title: i18n.T("20 writes of 5 bytes, Nagle on, the receiver delays its ACKs.", "20 次 5 字节的写入,开启 Nagle,接收方延迟 ACK。"),
	Lesson: i18n.T(`20 writes of 5 bytes with Nagle's algorithm on, to a receiver that delays its ACKs. Nagle's rule: while sent data is still unacknowledged, hold back small segments and send them together when the ACK comes. The first 5 bytes leave at once; the receiver's kernel sits on its ACK (the delayed-ACK timer, 40 ms or more), so every later write is queued and leaves together in one larger segment when the ACK finally comes. Go turns Nagle off on every socket (TCP_NODELAY); the client turns it back on here. On plain loopback, where ACKs return within microseconds, Nagle rarely has anything to wait for: the receiver sets TCP_QUICKACK=0 to delay its ACKs, as a busy real receiver would.`,
		`开启 Nagle 算法,写 20 次、每次 5 字节,接收方延迟发送 ACK。Nagle 的规则是:只要已发送的数据还没被确认,就先攒着小报文段,等 ACK 回来再一起发。最先的 5 字节立即发出;接收方内核压着 ACK 不发(延迟确认定时器,至少 40 毫秒),于是之后的写入都排着队,等 ACK 终于到来时合成一个较大的报文段发出。Go 默认对每个套接字关闭 Nagle(TCP_NODELAY),这里客户端重新打开它。在普通的环回接口上 ACK 几微秒就回来,Nagle 几乎没什么可等的:所以接收方设置 TCP_QUICKACK=0 来延迟 ACK,就像一个繁忙的真实接收方那样。`),
	Checks: []check.Check{
		check.New("with Nagle on and delayed ACKs, fewer segments than writes", "开启 Nagle 且延迟 ACK 时,报文段比写入少", func(v *check.View) (bool, i18n.Text) {
			st := v.StreamFrom(client)
			if st == nil {
				return false, check.Say("no data from the client", "客户端没有发出数据")
			}
			return len(st.Writes) == smallWrites && len(st.Segments) < len(st.Writes), sizes(st)
		}),
		check.New("the held-back bytes leave only when the delayed ACK arrives, 30 ms or more after the first segment", "攒下的字节要等延迟的 ACK 到达才发出,距第一个报文段 30 毫秒以上", func(v *check.View) (bool, i18n.Text) {
			return nagleWaited(v)
		}).Clean(),
	},
}

// coalesceNoDelay: the same writes with TCP_NODELAY (Nagle off)
var coalesceNoDelay = &lesson.Act{
	Title: i18n.T("the same writes with TCP_NODELAY (Nagle off).", "同样的写入,设置 TCP_NODELAY(关闭 Nagle)。"),
	Lesson: i18n.T(`the same writes with TCP_NODELAY: each write is its own segment on the wire. The reader reads as data comes, and each read() returns whatever whole segments have arrived by then: usually one, but when the reader wakes a moment late, two (a read of 10 bytes). The writes' boundaries survive on the wire, not in the reads: when two segments arrive before a read, nothing in the byte stream tells them apart.`,
		"同样的写入,但设置 TCP_NODELAY:每次写入在线路上都是单独的报文段。接收方数据一来就读,每次 read() 返回此刻已经到达的若干个完整报文段:通常是一个,但接收方醒得稍晚时就是两个(一次读到 10 字节)。写入的边界保留在线路上,却不在读取里:两个报文段在一次读取之前到达时,字节流里没有任何东西能把它们分开。"),
	Checks: []check.Check{
		check.New("with TCP_NODELAY every write is its own segment", "设置 TCP_NODELAY 后每次写入各成一个报文段", func(v *check.View) (bool, i18n.Text) {
			st := v.StreamFrom(client)
			if st == nil {
				return false, check.Say("no data from the client", "客户端没有发出数据")
			}
			return len(st.Writes) == smallWrites && slices.Equal(st.Segments, st.Writes), sizes(st)
		}).Clean(),
		check.New("each read returns one or more whole segments: the reads' sizes are not the writes' but the segments that had arrived", "每次读取返回一个或多个完整的报文段:读取的大小不是写入的大小,而是当时已到达的报文段", func(v *check.View) (bool, i18n.Text) {
			st := v.StreamFrom(client)
			if st == nil {
				return false, check.Say("no data from the client", "客户端没有发出数据")
			}
			whole, merged := wholeSegments(st.Reads, st.Segments)
			return whole, check.Say("%d segments, %d reads; reads that took two or more segments: %d; every read ends on a segment boundary: %v", "%d 个报文段,%d 次读取;一次拿到两个及以上报文段的读取:%d 次;每次读取都在报文段边界结束:%v",
				len(st.Segments), len(st.Reads), merged, check.Bool(whole))
		}),
	},
}

// coalesceSlowReader: a slow reader: 10 writes arrive, then one read
var coalesceSlowReader = &lesson.Act{
	Title: i18n.T("a slow reader: 10 writes arrive, then one read.", "读得慢的接收方:10 次写入都到达后才读一次。"),
	Lesson: i18n.T(`a slow reader. Nagle is off and every write is its own segment, but the server reads only after all of them have arrived: one read() returns every byte. The receiver's kernel coalesces too; the receive buffer does not remember where one segment ended.`,
		"读得慢的接收方。Nagle 关闭,每次写入各是一个报文段,但服务器等所有报文段都到了才读:一次 read() 就拿到了全部字节。接收方内核同样会合并:接收缓冲区不记得一个报文段在哪里结束。"),
	Checks: []check.Check{
		check.New("a slow reader gets several writes in one read (fewer reads than writes)", "读得慢时一次读取拿到多次写入的数据(读取比写入少)", func(v *check.View) (bool, i18n.Text) {
			st := v.StreamFrom(client)
			if st == nil {
				return false, check.Say("no data from the client", "客户端没有发出数据")
			}
			ok := len(st.Writes) == slowWrites && len(st.Segments) == slowWrites && len(st.Reads) < len(st.Writes) && check.Sum(st.Reads) == check.Sum(st.Writes)
			return ok, sizes(st)
		}).Clean(),
	},
}

// coalesceMSS: one write of 10000 bytes with lo's MTU set to 1500
var coalesceMSS = &lesson.Act{
	Title: i18n.T("one write of 10000 bytes with lo's MTU set to 1500.", "lo 的 MTU 设为 1500,一次写入 10000 字节。"),
	Lesson: i18n.T(`one large write. The namespace's lo gets an Ethernet-like MTU of 1500, so the MSS becomes 1460 bytes, minus 12 bytes of timestamp option in every segment: the kernel cuts one 10000-byte write into segments of at most 1448 bytes.`,
		`一次大写入。把命名空间的 lo 的 MTU 设为以太网的 1500,MSS 就变成 1460 字节,再减去每个报文段里 12 字节的时间戳选项:内核把一次 10000 字节的写入切成最多 1448 字节的报文段。`),
	Checks: []check.Check{
		check.New("one 10000-byte write leaves as segments of at most MSS − 12 bytes (1448: timestamps take 12)", "一次 10000 字节的写入以不超过 MSS − 12 字节(1448,时间戳占 12 字节)的报文段发出", func(v *check.View) (bool, i18n.Text) {
			syn := first(v.Packets(check.From(client), check.HasFlags(decode.SYN)))
			st := v.StreamFrom(client)
			if syn == nil || st == nil {
				return false, check.Say("SYN or data missing", "缺少 SYN 或数据")
			}
			limit := int(syn.Opts.MSS)
			if syn.Opts.TS {
				limit -= 12 // every segment carries the timestamp option
			}
			want := (bigWrite + limit - 1) / limit
			ok := syn.Opts.MSS == ethernetMTU-40 && len(st.Writes) == 1 && len(st.Segments) == want && slices.Max(st.Segments) <= limit && check.Sum(st.Segments) == bigWrite
			return ok, check.Say("SYN mss=%d; %s", "SYN mss=%d;%s", syn.Opts.MSS, sizes(st))
		}),
	},
}

// coalesceFraming: framing: length prefix, then newline delimiter
var coalesceFraming = &lesson.Act{
	Title: i18n.T("framing: length prefix, then newline delimiter.", "分帧:先用长度前缀,再用换行分隔符。"),
	Lesson: i18n.T(`the fix is in the application protocol, not in TCP options: framing. With a length prefix (2 bytes giving the message length, then the message) or a delimiter (a newline after each message), the receiver recovers exactly the messages that were sent, however the stream was written, segmented and read. Here the sender deliberately writes the framed bytes in odd-sized pieces that straddle message boundaries and the receiver reads into a 16-byte buffer.`,
		`解决办法在应用层协议里,而不在 TCP 选项里:分帧。使用长度前缀(先用 2 字节写明消息长度,再写消息)或分隔符(每条消息后跟一个换行符),无论字节流怎样被写入、分段和读取,接收方都能准确还原发送的消息。这里发送方故意把分帧后的字节按奇怪的大小分块写出,跨越消息边界,接收方用 16 字节的缓冲区读取。`),
	Checks: []check.Check{
		check.New("the messages parsed from the captured bytes (length prefix, then newline) are exactly the messages sent", "从抓到的字节中按长度前缀和换行解析出的消息,与发送的消息完全一致", func(v *check.View) (bool, i18n.Text) {
			streams := clientBytes(v)
			if len(streams) != 2 {
				return false, check.Say("%d client streams in act %s, want 2", "第%[2]s幕中客户端有 %[1]d 条字节流,应为 2 条", len(streams), v.ActNumber())
			}
			p, perr := framing.Decode(framing.Prefix16, streams[0])
			d, derr := framing.Decode(framing.Newline, streams[1])
			ok := perr == nil && derr == nil && slices.Equal(p, framedMessages) && slices.Equal(d, framedMessages)
			return ok, check.Say("sent %d messages; length prefix recovered %d%s, delimiter recovered %d%s", "发送了 %d 条消息;按长度前缀还原出 %d 条%s,按分隔符还原出 %d 条%s", len(framedMessages), len(p), errSuffix(perr), len(d), errSuffix(derr))
		}),
		check.New("the server's reads cut across message boundaries, and it still read every byte", "服务器的读取跨越了消息边界,但仍读到了全部字节", func(v *check.View) (bool, i18n.Text) {
			var detail []i18n.Text
			ok := true
			for i, st := range v.Streams() {
				if st.From != client {
					continue
				}
				msgEnds, _ := framing.Ends([]framing.Framing{framing.Prefix16, framing.Newline}[i], framedMessages)
				readEnds := ends(st.Reads)
				inside := 0
				for _, e := range msgEnds {
					if !slices.Contains(readEnds, e) {
						inside++
					}
				}
				ok = ok && inside > 0 && check.Sum(st.Reads) == check.Sum(st.Writes)
				detail = append(detail, check.Say("%d of %d message ends fell inside a read; read %d of %d bytes", "%d 个消息结尾(共 %d 个)落在一次读取的中间;读到 %d 字节(共 %d 字节)", inside, len(msgEnds), check.Sum(st.Reads), check.Sum(st.Writes)))
			}
			return ok && len(detail) == 2, check.Join(detail, i18n.T("; ", ";"))
		}),
	},
}
