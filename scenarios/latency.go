package scenarios

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"
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
	// latencyDelay is the wire's one-way delay: a 50 ms round trip, like
	// a server in another country.
	latencyDelay = 25 * time.Millisecond
	// latencyRequests is how many small requests each act makes.
	latencyRequests = 3
	latencyReply    = 100 // bytes of each answer
)

var latencyRequest = []byte("GET\n")

// Latency: on a wire with a round trip of 50 ms, what each step of a small
// request costs: the handshake one round trip, each request another, and
// what reusing the connection saves.
var Latency = lesson.Define(lesson.Scenario{
	Name:    "latency",
	Title:   i18n.T("Latency: what a round trip costs a request", "时延:一次往返对请求意味着什么"),
	Summary: i18n.T("on a 50 ms round trip: the handshake costs one round trip, each request another; a kept-open connection saves one per request; the kernel's RTT next to the capture's", "往返 50 ms 时:握手要一个往返,每个请求再一个;保持连接每个请求省一个往返;内核测的 RTT 与抓包测的并列"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:   1,
		Impair: [2]wire.Impairment{{Delay: latencyDelay}, {Delay: latencyDelay}},
	},
	Lesson: i18n.T(`Bandwidth is how much a wire carries per second; latency is how long one bit takes to cross it. For small requests latency is all that matters: nothing can answer before the question has crossed the wire and the answer has crossed back, one round trip time (RTT).

This run is on a lab wire that delays every frame by 25 ms each way, so a round trip takes about 50 ms whatever is sent. The client makes three small requests, first opening a new connection for each, then reusing one connection for all three. Count the round trips: connect() waits for the SYN,ACK (one), each request waits for its answer (one more). The kernel measures the RTT itself from its ACKs (tcp_info's smoothed rtt, the basis of its retransmission timeout); the capture measures it from the SYN leaving the client to the SYN,ACK coming back. Both appear below, and they agree.

This is why HTTP keeps connections open (keep-alive), why HTTP/2 sends many requests on one connection, and why TLS 1.3 and QUIC work to cut handshake round trips.`,
		`带宽是一条线路每秒能运多少;时延是一个比特穿过它要多久。对小请求来说只有时延要紧:问题没穿过线路、回答没穿回来之前,谁也给不出答案,这就是一个往返时间(RTT)。

这次运行的实验线路在每个方向上把每一帧延迟 25 ms,所以不管发什么,一个往返都约 50 ms。客户端发三个小请求:先是每个请求新开一个连接,然后三个请求共用一个连接。数一数往返:connect() 要等 SYN,ACK(一个),每个请求要等回答(再一个)。内核自己从 ACK 中测量 RTT(tcp_info 里的平滑 rtt,也是它重传超时的依据);抓包则从 SYN 离开客户端到 SYN,ACK 回来测量。两者都列在下面,而且一致。

这就是 HTTP 保持连接(keep-alive)、HTTP/2 在一个连接上发很多请求、TLS 1.3 和 QUIC 努力减少握手往返的原因。`),
	Acts: []*lesson.Act{latencyNewConns, latencyOneConn},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Go(func() error { return latencyServe(s, ln) })
		s.Act(latencyNewConns)
		s.Step("Three requests, each on a new connection.", "三个请求,每个新开一个连接。")
		for range latencyRequests {
			c, err := s.Dial(client, server, 8888)
			if err != nil {
				return err
			}
			if err := latencyAsk(c); err != nil {
				return err
			}
			if err := c.Close(); err != nil {
				return err
			}
		}
		if err := s.Sleep(200 * time.Millisecond); err != nil {
			return err
		}
		s.Act(latencyOneConn)
		s.Step("Three requests on one connection.", "三个请求共用一个连接。")
		c, err := s.Dial(client, server, 8888)
		if err != nil {
			return err
		}
		for range latencyRequests {
			if err := latencyAsk(c); err != nil {
				return err
			}
		}
		return c.Close()
	},
})

// latencyAsk sends one request and reads its whole answer.
func latencyAsk(c *session.Conn) error {
	if _, err := c.Write(latencyRequest); err != nil {
		return err
	}
	_, err := c.ReadFull(latencyReply)
	return err
}

// latencyServe answers every request on every connection until the run
// ends.
func latencyServe(s *session.Session, ln *session.Listener) error {
	answer := bytes.Repeat([]byte("."), latencyReply)
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil // the run is over: the session closed the listener
		}
		s.Go(func() error {
			defer c.Close()
			for {
				if _, err := c.ReadFull(len(latencyRequest)); err != nil {
					return nil // EOF: the client closed
				}
				if _, err := c.Write(answer); err != nil {
					return err
				}
			}
		})
	}
}

// handshakeRTTs are the round trips the capture shows for the view's
// handshakes, in order: the SYN leaving the client until its SYN,ACK
// arrived back.
func handshakeRTTs(v *check.View) []time.Duration {
	syns := map[netip.AddrPort]time.Time{}
	var out []time.Duration
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil:
		case p.Lab.From == client && p.Flags == decode.SYN:
			if _, ok := syns[p.Src]; !ok {
				syns[p.Src] = e.Time
			}
		case p.Lab.From == server && p.Flags == decode.SYN|decode.ACK && !p.Lab.Wire.Arrived.IsZero():
			if sent, ok := syns[p.Dst]; ok {
				out = append(out, p.Lab.Wire.Arrived.Sub(sent))
				delete(syns, p.Dst)
			}
		}
	}
	return out
}

// requestRTTs are the round trips the capture shows for the view's
// requests, in order: the request segment leaving the client until the
// first segment of its answer arrived back.
func requestRTTs(v *check.View) []time.Duration {
	var out []time.Duration
	var sent time.Time
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil || p.PayloadLen == 0 || !check.Original(p):
		case p.Lab.From == client && sent.IsZero():
			sent = e.Time
		case p.Lab.From == server && !sent.IsZero() && !p.Lab.Wire.Arrived.IsZero():
			out = append(out, p.Lab.Wire.Arrived.Sub(sent))
			sent = time.Time{}
		}
	}
	return out
}

// captureRTT is the round trip the capture shows: the least over the
// run's handshakes (a busy machine can only make one slower).
func captureRTT(v *check.View) (time.Duration, bool) {
	var best time.Duration
	for _, d := range handshakeRTTs(v.Whole()) {
		if best == 0 || d < best {
			best = d
		}
	}
	return best, best > 0
}

// latencyCalls are the client's connect() times and request times (from
// its write to the read that completed the answer) in the view, and the
// span from its first SYN to the last answer read.
func latencyCalls(v *check.View) (connects, requests []time.Duration, first, last time.Time) {
	var wrote time.Time
	got := 0
	for _, e := range v.Events() {
		if p := e.Packet; p != nil && first.IsZero() && p.Lab.From == client && p.Flags == decode.SYN {
			first = e.Time // the first connect() began just before
		}
		a := e.App
		if a == nil || a.Lane != client || a.Blocking {
			continue
		}
		switch a.Call {
		case timeline.CallConnect:
			connects = append(connects, a.Dur)
		case timeline.CallWrite:
			wrote, got = e.Time, 0
		case timeline.CallRead:
			if got += a.Bytes; got == latencyReply && !wrote.IsZero() {
				requests = append(requests, e.Time.Sub(wrote))
				last = e.Time
			}
		}
	}
	return connects, requests, first, last
}

// roundTrips says d in round trips of rtt: "1.02".
func latRTTs(d, rtt time.Duration) string {
	if rtt <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(rtt))
}

func listRTTs(ds []time.Duration, rtt time.Duration) string {
	s := ""
	for i, d := range ds {
		if i > 0 {
			s += ", "
		}
		s += latRTTs(d, rtt)
	}
	return s
}

// latencyTimes is the check both acts make: the program waits for the
// wire. connect() returns only once its SYN,ACK has arrived, each
// request's last read only once its answer has, and no wait is shorter
// than the round trip the wire was set to (twice latencyDelay). A busy
// machine can wake the program later than its packet arrived (the
// detail shows by how much); it can never wake it sooner.
func latencyTimes(v *check.View) (bool, i18n.Text) {
	rtt, ok := captureRTT(v)
	hs, rq := handshakeRTTs(v), requestRTTs(v)
	connects, requests, _, _ := latencyCalls(v)
	waited := func(prog, wire []time.Duration) bool {
		if len(prog) != len(wire) || len(prog) == 0 {
			return false
		}
		for i := range prog {
			// 1 ms: the capture's and the program's clocks are read
			// in different places.
			if prog[i] < wire[i]-time.Millisecond || wire[i] < 2*latencyDelay {
				return false
			}
		}
		return true
	}
	ok = ok && len(requests) == latencyRequests && waited(connects, hs) && waited(requests, rq)
	return ok, check.Say("connect() took %s round trips (its handshake on the wire %s); the requests %s (their exchanges on the wire %s); one round trip is %s ms",
		"connect() 用了 %s 个往返(线路上的握手 %s 个);各请求用了 %s 个(线路上的往返 %s 个);一个往返 %s 毫秒",
		listRTTs(connects, rtt), listRTTs(hs, rtt), listRTTs(requests, rtt), listRTTs(rq, rtt), fmtMS(rtt))
}

// median is the middle of ds (0 for none).
func median[T cmp.Ordered](xs []T) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	c := slices.Clone(xs)
	slices.Sort(c)
	return c[len(c)/2]
}

var latencyNewConns = &lesson.Act{
	Title: i18n.T("a new connection for each request.", "每个请求新开一个连接。"),
	Lesson: i18n.T(`a new connection for each request, as HTTP/1.0 did. Each request costs two round trips: the handshake, then the request and its answer. (The close costs the program nothing: close() returns at once and the FINs cross while the next connection opens.)`,
		`每个请求新开一个连接,就像 HTTP/1.0 那样。每个请求要两个往返:先握手,再请求和回答。(关闭对程序没有代价:close() 立刻返回,FIN 在下一个连接建立时才在路上。)`),
	Checks: []check.Check{
		check.New("the program waits for the wire: connect() returns only after its SYN,ACK arrived, each request only after its answer arrived, none sooner than the 50 ms round trip", "程序在等线路:connect() 在 SYN,ACK 到达之后才返回,每个请求在回答到达之后才完成,没有一个比 50 ms 的往返更快", latencyTimes).Clean(),
		check.New("the kernel's smoothed RTT (tcp_info) lies among the round trips the capture measured from each segment to its ACK", "内核的平滑 RTT(tcp_info)落在抓包测得的往返(每个报文段到它的 ACK)之间", func(v *check.View) (bool, i18n.Text) {
			// The kernel smooths its samples (RFC 6298: 7/8 old, 1/8 new),
			// so its reading lies among the round trips the capture saw.
			var rtts []time.Duration
			for _, r := range segmentRTTs(v, client) {
				rtts = append(rtts, r.rtt)
			}
			least, most := slices.Min(append(rtts, 0)), slices.Max(append(rtts, 0))
			if len(rtts) > 0 {
				least = slices.Min(rtts)
			}
			var kernel time.Duration
			for _, t := range v.TCPInfos(client) {
				if t.RTT > 0 {
					kernel = t.RTT
				}
			}
			ok := len(rtts) > 0 && kernel >= least-2*time.Millisecond && kernel <= most+2*time.Millisecond
			rtt := median(rtts)
			return ok, check.Say("the capture's round trips %s–%s ms (median %s), the kernel's smoothed RTT %s ms", "抓包测得的往返 %s–%s 毫秒(中位数 %s),内核的平滑 RTT %s 毫秒", fmtMS(least), fmtMS(most), fmtMS(rtt), fmtMS(kernel))
		}).Clean(),
	},
}

var latencyOneConn = &lesson.Act{
	Title: i18n.T("one connection for all requests.", "所有请求共用一个连接。"),
	Lesson: i18n.T(`one connection for all three requests (HTTP/1.1's keep-alive). One handshake, then one round trip per request: four round trips instead of six.`,
		`三个请求共用一个连接(HTTP/1.1 的 keep-alive)。一次握手,然后每个请求一个往返:四个往返,而不是六个。`),
	Checks: []check.Check{
		check.New("the program waits for the wire: connect() returns only after its SYN,ACK arrived, each request only after its answer arrived, none sooner than the 50 ms round trip", "程序在等线路:connect() 在 SYN,ACK 到达之后才返回,每个请求在回答到达之后才完成,没有一个比 50 ms 的往返更快", latencyTimes).Clean(),
		check.New("reusing the connection saves a round trip per request: on new connections each request waited for two exchanges on the wire, on the kept-open one for one", "复用连接每个请求省一个往返:新连接上每个请求要等线路上的两次往返,保持的连接上只要一次", func(v *check.View) (bool, i18n.Text) {
			first := v.Whole().Act(latencyNewConns.ActNumber())
			h1, r1 := len(handshakeRTTs(first)), len(requestRTTs(first))
			h2, r2 := len(handshakeRTTs(v)), len(requestRTTs(v))
			rtt, _ := captureRTT(v)
			_, _, f1, l1 := latencyCalls(first)
			_, _, f2, l2 := latencyCalls(v)
			ok := h1 == latencyRequests && r1 == latencyRequests && h2 == 1 && r2 == latencyRequests
			return ok, check.Say("new connections: %d handshakes + %d requests, %s round trips in all; one connection: %d + %d, %s round trips",
				"新连接:%d 次握手 + %d 个请求,总共 %s 个往返;一个连接:%d + %d,%s 个往返",
				h1, r1, latRTTs(l1.Sub(f1), rtt), h2, r2, latRTTs(l2.Sub(f2), rtt))
		}).Clean(),
	},
}
