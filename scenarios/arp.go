package scenarios

import (
	"net/netip"
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

// The client host's neighbour settings for the lesson (each read back and
// noted on the timeline by Sysctl). Linux's defaults are 30 s, 1 s, 3 and
// 5 s: the run would take minutes.
const (
	// arpReachable is base_reachable_time_ms: an entry stays REACHABLE a
	// random ½ to 1½ times this after its last confirmation.
	arpReachable = 2 * time.Second
	// arpRetrans is retrans_time_ms: the wait between two requests for an
	// address that does not answer.
	arpRetrans = 200 * time.Millisecond
	// arpSolicit is mcast_solicit: how many broadcast requests before the
	// kernel gives up.
	arpSolicit = 3
	// arpDelayProbe is delay_first_probe_time, in seconds: how long a
	// STALE entry used again waits (DELAY) for a confirmation before it
	// probes.
	arpDelayProbe = 1
	// arpWire is the wire's delay each way: the kernel's wait for the
	// reply (INCOMPLETE) lasts a round trip, long enough for the 2 ms
	// poller to see it even on a busy machine (5 ms was not, under CI's
	// parallel tests).
	arpWire = 20 * time.Millisecond
)

// arpNobody is an address on the lab's link that no host has.
var arpNobody = netip.MustParseAddr("192.0.2.99")

// ARP: the first packet to a neighbour waits for ARP; the entry ages, is
// used stale, and is confirmed; an address nobody has fails.
var ARP = lesson.Define(lesson.Scenario{
	Name:    "arp",
	Title:   i18n.T("ARP: finding the MAC address behind an IP address", "ARP:找到 IP 地址背后的 MAC 地址"),
	Summary: i18n.T("the first packet waits for a broadcast request and a unicast reply; the kernel's neighbour entry goes INCOMPLETE → REACHABLE → STALE → DELAY; an address nobody has fails", "第一个报文要等一个广播请求和一个单播应答;内核的邻居表项经历 INCOMPLETE → REACHABLE → STALE → DELAY;没人用的地址会失败"),
	Lanes:   []string{client, server},
	Wire: &wire.Config{
		Seed:   1,
		Impair: [2]wire.Impairment{{Delay: arpWire}, {Delay: arpWire}},
	},
	ARP: true,
	Lesson: i18n.T(`An IP packet names the host it is for, but an Ethernet frame must name a network card: a MAC address, six bytes burnt into (or made up for) the interface. Before a host can send its first packet to a neighbour on the same link, it must learn the neighbour's MAC. That is ARP, the Address Resolution Protocol (RFC 826): the host broadcasts "who has 192.0.2.20? tell 192.0.2.10" to every card on the link (destination ff:ff:ff:ff:ff:ff), and the one host that has the address answers to the asker alone: "192.0.2.20 is at 02:…".

The kernel keeps what it learns in its neighbour table (ip neigh shows it), and this run reads that table from each host's kernel every 2 ms. Every entry has a state (Neighbour Unreachability Detection, RFC 4861): INCOMPLETE while a request is out, REACHABLE once answered, STALE when it has not been confirmed for a while (it is still used), DELAY and PROBE while the kernel makes sure again, FAILED when nobody answered.

The two hosts here are joined by a lab wire with 20 ms each way (so that the kernel's wait for a reply lasts long enough to be seen), and the client's host is set to age its entries in seconds instead of minutes (each setting is on the timeline as the kernel reads it back).`,
		`IP 报文写的是目标主机,而以太网帧必须写明一块网卡:MAC 地址,网卡上烧录(或为它生成)的六个字节。一台主机向同一链路上的邻居发第一个报文之前,必须先知道邻居的 MAC。这就是 ARP,地址解析协议(RFC 826):主机向链路上的每块网卡广播"谁有 192.0.2.20?请告诉 192.0.2.10"(目的地址 ff:ff:ff:ff:ff:ff),拥有这个地址的那台主机只回答提问者:"192.0.2.20 在 02:…"。

内核把学到的东西存在邻居表里(ip neigh 可以看到),这次运行每 2 ms 从每台主机的内核读一次这张表。每个表项都有状态(邻居不可达检测,RFC 4861):请求发出未答时是 INCOMPLETE,得到回答是 REACHABLE,一段时间没有确认就变成 STALE(仍然会被使用),内核再次确认时是 DELAY 和 PROBE,没人回答则是 FAILED。

这里的两台主机由一条每个方向 20 ms 的实验线路相连(这样内核等待应答的时间足够长,能被看到),客户端主机被设置为以秒而不是分钟来老化表项(每项设置都按内核读回的值记在时间线上)。`),
	Acts: []*lesson.Act{arpFirst, arpStale, arpFails},
	Run: func(s *session.Session) error {
		if err := arpSettings(s, [][2]string{
			{"base_reachable_time_ms", strconv.Itoa(int(arpReachable / time.Millisecond))},
			{"delay_first_probe_time", strconv.Itoa(arpDelayProbe)},
		}); err != nil {
			return err
		}
		ln, err := s.Listen(server, 8888)
		if err != nil {
			return err
		}
		s.Go(func() error { return arpEcho(ln) })

		s.Act(arpFirst)
		s.Step("The client connects to "+s.Addr(server).String()+". Its kernel has no entry for that address yet.",
			"客户端连接 "+s.Addr(server).String()+"。它的内核里还没有这个地址的表项。")
		c, err := s.Dial(client, server, 8888)
		if err != nil {
			return err
		}

		s.Act(arpStale)
		s.Step("Nothing is sent for a while; left unconfirmed, the client's entry for the server goes STALE (on a slow read, it may already have).",
			"一段时间什么也不发;得不到确认,客户端关于服务器的表项就会变成 STALE(读得慢的话,可能已经变了)。")
		srv := s.Addr(server)
		if _, err := s.Wait(3*arpReachable, neighIn(client, srv, timeline.NUDStale, time.Time{})); err != nil {
			return err
		}
		s.Step("The client writes 2 bytes: the stale entry is used at once, and the kernel checks it again.",
			"客户端写 2 个字节:过期的表项立刻被使用,内核随后再次确认它。")
		wrote := time.Now()
		if _, err := c.Write([]byte("hi")); err != nil {
			return err
		}
		if _, err := c.ReadFull(2); err != nil {
			return err
		}
		// DELAY lasts delay_first_probe_time; then REACHABLE (confirmed)
		// or PROBE and, answered, REACHABLE. The checks read which.
		if _, err := s.Wait(arpDelayProbe*time.Second+2*time.Second, neighIn(client, srv, timeline.NUDReachable, wrote)); err != nil {
			return err
		}

		s.Act(arpFails)
		// Only now does the client give up fast: act 1's first request
		// keeps Linux's 1 s, which a busy machine's wire may need.
		if err := arpSettings(s, [][2]string{
			{"retrans_time_ms", strconv.Itoa(int(arpRetrans / time.Millisecond))},
			{"mcast_solicit", strconv.Itoa(arpSolicit)},
		}); err != nil {
			return err
		}
		s.Step("The client connects to "+arpNobody.String()+": an address on the link that no host has.",
			"客户端连接 "+arpNobody.String()+":链路上没有任何主机拥有的地址。")
		if bad, err := s.DialAddr(client, netip.AddrPortFrom(arpNobody, 8888).String()); err == nil {
			bad.Close()
		}
		return c.Close()
	},
})

// arpSettings sets the client host's neighbour sysctls for eth0 (each read
// back and noted on the timeline).
func arpSettings(s *session.Session, kv [][2]string) error {
	for _, set := range kv {
		if err := s.Sysctl(client, "net.ipv4.neigh.eth0."+set[0], set[1]); err != nil {
			return err
		}
	}
	return nil
}

// arpEcho answers each connection's bytes with the same bytes.
func arpEcho(ln *session.Listener) error {
	c, err := ln.Accept()
	if err != nil {
		return nil // the run is over
	}
	defer c.Close()
	b := make([]byte, 64)
	for {
		n, err := c.Read(b)
		if n > 0 {
			if _, err := c.Write(b[:n]); err != nil {
				return nil
			}
		}
		if err != nil {
			return nil // EOF
		}
	}
}

// neighIn matches the kernel reporting, after after, lane's entry for
// addr in state.
func neighIn(lane string, addr netip.Addr, state timeline.NUD, after time.Time) func(*timeline.Event) bool {
	return func(e *timeline.Event) bool {
		n := e.Neigh
		return n != nil && n.Lane == lane && n.Addr == addr && n.State&state != 0 && !n.Gone && e.Time.After(after)
	}
}

// arps are the ARP messages lane's host sent in the view.
func arps(v *check.View, lane string, op uint16) []*decode.Packet {
	return v.Packets(check.From(lane), func(p *decode.Packet) bool { return p.Proto == decode.ProtoARP && p.ARP.Op == op })
}

// neighPath is the states the kernel reported for lane's entry for addr,
// in order, each once.
func neighPath(v *check.View, lane string, addr netip.Addr) (states []timeline.NUD, last *timeline.Neigh) {
	for _, n := range v.Neighs(lane) {
		if n.Addr != addr || n.Gone {
			continue
		}
		if len(states) == 0 || states[len(states)-1] != n.State {
			states = append(states, n.State)
		}
		last = n
	}
	return states, last
}

func nudPath(states []timeline.NUD) string {
	var names []string
	for _, s := range states {
		names = append(names, s.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " → ")
}

// hasInOrder reports whether want appear in states in this order.
func hasInOrder(states []timeline.NUD, want ...timeline.NUD) bool {
	i := 0
	for _, s := range states {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

// serverAddr is the address the client's SYN went to (the capture's, not
// the lesson's idea of it).
func serverAddr(v *check.View) (netip.Addr, bool) {
	syn := first(v.Whole().Packets(check.From(client), check.HasFlags(decode.SYN)))
	if syn == nil {
		return netip.Addr{}, false
	}
	return syn.Dst.Addr(), true
}

var arpFirst = &lesson.Act{
	Title: i18n.T("the first packet to a neighbour.", "发给邻居的第一个报文。"),
	Lesson: i18n.T(`the first packet to a neighbour. connect() makes the kernel build a SYN, but the SYN cannot leave without the server's MAC: the kernel makes an INCOMPLETE entry, holds the SYN, and broadcasts a request. The server's kernel answers with a reply sent to the client's card alone, and on the way learns the client's MAC from the request itself (so it never needs to ask back). Then the held SYN leaves.`,
		`发给邻居的第一个报文。connect() 让内核构造了一个 SYN,但没有服务器的 MAC,SYN 出不去:内核建一个 INCOMPLETE 表项,扣下 SYN,广播一个请求。服务器的内核只向客户端的网卡发回应答,并顺便从请求本身学到客户端的 MAC(所以它不必反过来再问)。然后被扣下的 SYN 才发出。`),
	Checks: []check.Check{
		check.New("the client's first frame is an ARP request for the server's address, broadcast to ff:ff:ff:ff:ff:ff", "客户端的第一帧是询问服务器地址的 ARP 请求,广播到 ff:ff:ff:ff:ff:ff", func(v *check.View) (bool, i18n.Text) {
			srv, ok := serverAddr(v)
			f := first(v.Packets(check.From(client)))
			if !ok || f == nil {
				return false, check.Say("no SYN or no frame from the client", "没有 SYN 或没有来自客户端的帧")
			}
			ok = f.Proto == decode.ProtoARP && f.ARP.Op == decode.ARPRequest && f.ARP.Broadcast() && f.Dst.Addr() == srv
			return ok, check.Say("first frame #%d: %s, to %s", "第一帧 #%d:%s,发往 %s", f.N, f.Label(), decode.MACString(f.ARP.EthDst))
		}),
		check.New("the server replies to the client's MAC alone (unicast) with its own MAC, and that is the MAC the client's kernel stores", "服务器只向客户端的 MAC 应答(单播),给出自己的 MAC,客户端内核存下的正是这个 MAC", func(v *check.View) (bool, i18n.Text) {
			req, rep := first(arps(v, client, decode.ARPRequest)), first(arps(v, server, decode.ARPReply))
			srv, _ := serverAddr(v)
			_, entry := neighPath(v, client, srv)
			if req == nil || rep == nil || entry == nil || entry.MAC == nil {
				return false, check.Say("request %v, reply %v, client's entry %v", "请求 %v,应答 %v,客户端表项 %v", check.Bool(req != nil), check.Bool(rep != nil), check.Bool(entry != nil && entry.MAC != nil))
			}
			stored := entry.MAC.String()
			ok := !rep.ARP.Broadcast() && rep.ARP.EthDst == req.ARP.SenderMAC && decode.MACString(rep.ARP.SenderMAC) == stored
			return ok, check.Say("reply #%d to %s (the request came from %s): %s; the client's kernel stored %s", "应答 #%d 发往 %s(请求来自 %s):%s;客户端内核存下 %s",
				rep.N, decode.MACString(rep.ARP.EthDst), decode.MACString(req.ARP.SenderMAC), rep.Label(), stored)
		}),
		check.New("the SYN leaves only after the reply has arrived", "SYN 在应答到达之后才发出", func(v *check.View) (bool, i18n.Text) {
			rep := first(arps(v, server, decode.ARPReply))
			syn := first(v.Packets(check.From(client), check.HasFlags(decode.SYN)))
			if rep == nil || syn == nil || rep.Lab.Wire.Arrived.IsZero() {
				return false, check.Say("no reply or no SYN", "没有应答或没有 SYN")
			}
			sent := v.TimeOf(syn)
			us := sent.Sub(rep.Lab.Wire.Arrived).Microseconds()
			return sent.After(rep.Lab.Wire.Arrived), check.Say("reply #%d reached the client %d µs before SYN #%d left", "应答 #%d 到达客户端 %d µs 后,SYN #%d 才发出",
				rep.N, us, syn.N)
		}),
		check.New("the client's kernel shows the entry INCOMPLETE while it asked, then REACHABLE", "客户端内核显示表项在询问期间是 INCOMPLETE,然后是 REACHABLE", func(v *check.View) (bool, i18n.Text) {
			srv, _ := serverAddr(v)
			path, _ := neighPath(v, client, srv)
			return hasInOrder(path, timeline.NUDIncomplete, timeline.NUDReachable), check.Say("client's entry for %s: %s", "客户端关于 %s 的表项:%s", srv, nudPath(path))
		}),
		check.New("the server learned the client's MAC from the request: it never asked, and its kernel stores the request's sender MAC", "服务器从请求中学到了客户端的 MAC:它从未询问,内核存下的是请求的发送方 MAC", func(v *check.View) (bool, i18n.Text) {
			req := first(arps(v, client, decode.ARPRequest))
			asked := len(arps(v, server, decode.ARPRequest))
			if req == nil {
				return false, check.Say("no request from the client", "没有来自客户端的请求")
			}
			_, entry := neighPath(v, server, req.Src.Addr())
			stored := "none"
			if entry != nil && entry.MAC != nil {
				stored = entry.MAC.String()
			}
			ok := asked == 0 && stored == decode.MACString(req.ARP.SenderMAC)
			return ok, check.Say("requests from the server: %d; its entry for %s: %s (the request said %s)", "服务器发出的请求:%d 个;它关于 %s 的表项:%s(请求里是 %s)",
				asked, req.Src.Addr(), stored, decode.MACString(req.ARP.SenderMAC))
		}),
	},
}

var arpStale = &lesson.Act{
	Title: i18n.T("an entry goes stale, and is used anyway.", "表项过期了,照样使用。"),
	Lesson: i18n.T(`an entry goes stale, and is used anyway. A REACHABLE entry that nothing confirms turns STALE after a random ½ to 1½ times base_reachable_time (2 s here). STALE does not mean unusable: when the client writes, its segment leaves at once with the stored MAC, no ARP first, and the entry goes to DELAY. If in the next delay_first_probe_time (1 s here) something confirms the server is there — TCP counts an acknowledgement of new data as proof — the entry is REACHABLE again without a single ARP frame; otherwise the kernel asks the stored MAC directly (PROBE, a unicast request), and broadcasts only if that fails too.`,
		`表项过期了,照样使用。没有得到确认的 REACHABLE 表项,在 base_reachable_time(这里 2 s)的 ½ 到 1½ 倍之间的随机时间后变成 STALE。STALE 并不表示不能用:客户端写数据时,报文段立刻用存下的 MAC 发出,事先不做 ARP,表项转入 DELAY。如果在接下来的 delay_first_probe_time(这里 1 s)内有东西证明服务器还在——TCP 把对新数据的确认当作证明——表项不发一个 ARP 帧就重新成为 REACHABLE;否则内核直接向存下的 MAC 询问(PROBE,单播请求),这也失败了才广播。`),
	Checks: []check.Check{
		check.New("with nothing sent, the client's entry went REACHABLE → STALE within ½ to 1½ × base_reachable_time", "什么都没发时,客户端的表项在 base_reachable_time 的 ½ 到 1½ 倍之内从 REACHABLE 变成 STALE", func(v *check.View) (bool, i18n.Text) {
			srv, _ := serverAddr(v)
			var reachable, stale time.Time
			for _, e := range v.Whole().Events() {
				if n := e.Neigh; n != nil && n.Lane == client && n.Addr == srv {
					switch {
					case n.State == timeline.NUDReachable && stale.IsZero():
						reachable = e.Time
					case n.State == timeline.NUDStale && stale.IsZero() && !reachable.IsZero():
						stale = e.Time
					}
				}
			}
			if reachable.IsZero() || stale.IsZero() {
				return false, check.Say("REACHABLE seen %v, STALE seen %v", "看到 REACHABLE:%v,看到 STALE:%v", check.Bool(!reachable.IsZero()), check.Bool(!stale.IsZero()))
			}
			d := stale.Sub(reachable)
			// The kernel's timers run on jiffies and its work queue: allow
			// a little past 1½.
			ok := d >= arpReachable/2-50*time.Millisecond && d <= arpReachable*3/2+250*time.Millisecond
			return ok, check.Say("STALE %s ms after REACHABLE (base_reachable_time %s ms)", "REACHABLE 之后 %s ms 变成 STALE(base_reachable_time 为 %s ms)", fmtMS(d), fmtMS(arpReachable))
		}),
		check.New("the stale entry is used at once: the client's data leaves with no ARP before it, and the entry goes DELAY", "过期的表项立刻被使用:客户端的数据发出前没有 ARP,表项转入 DELAY", func(v *check.View) (bool, i18n.Text) {
			// The connection, and so its segments, belong to act 1.
			data := first(v.Onward().Packets(check.From(client), check.WithPayload))
			srv, _ := serverAddr(v)
			path, _ := neighPath(v, client, srv)
			if data == nil {
				return false, check.Say("no data segment from the client", "客户端没有发数据报文段")
			}
			before := 0
			for _, p := range arps(v, client, decode.ARPRequest) {
				if v.TimeOf(p).Before(v.TimeOf(data)) {
					before++
				}
			}
			ok := before == 0 && hasInOrder(path, timeline.NUDDelay)
			return ok, check.Say("ARP requests before data segment #%d: %d; the entry: %s", "数据报文段 #%d 之前的 ARP 请求:%d 个;表项:%s", data.N, before, nudPath(path))
		}),
		check.New("the entry is REACHABLE again without a broadcast: confirmed by TCP, or by a unicast probe to the stored MAC", "表项重新成为 REACHABLE,没有广播:由 TCP 确认,或者由发往已存 MAC 的单播探测确认", func(v *check.View) (bool, i18n.Text) {
			srv, _ := serverAddr(v)
			path, _ := neighPath(v, client, srv)
			probes, bcast := arps(v, client, decode.ARPRequest), 0
			for _, p := range probes {
				if p.ARP.Broadcast() {
					bcast++
				}
			}
			how := i18n.T("confirmed by TCP: no ARP frame", "由 TCP 确认:没有 ARP 帧")
			if len(probes) > 0 {
				how = check.Say("%d unicast probe(s)", "%d 个单播探测", len(probes)-bcast)
			}
			ok := bcast == 0 && hasInOrder(path, timeline.NUDDelay, timeline.NUDReachable)
			return ok, i18n.T("the entry: "+nudPath(path)+"; "+how.En+"; broadcasts "+strconv.Itoa(bcast),
				"表项:"+nudPath(path)+";"+how.Zh+";广播 "+strconv.Itoa(bcast)+" 个")
		}),
	},
}

var arpFails = &lesson.Act{
	Title: i18n.T("an address nobody has.", "一个没人拥有的地址。"),
	Lesson: i18n.T(`an address nobody has. The client's kernel broadcasts its request mcast_solicit times (3 here), retrans_time apart (200 ms here). The server's card receives each one — a broadcast reaches every host on the link: they are one broadcast domain — and ignores it, because the address is not its own. Then the entry is FAILED, the SYN that waited for it is thrown away without ever reaching the wire, and connect() fails: "no route to host" (EHOSTUNREACH), the error a program gets when nobody on the link answers.`,
		`一个没人拥有的地址。客户端内核把请求广播 mcast_solicit 次(这里 3 次),每次间隔 retrans_time(这里 200 ms)。服务器的网卡每次都收到——广播会到达链路上的每台主机:它们同属一个广播域——但不理会,因为那不是它的地址。于是表项变成 FAILED,等着它的 SYN 被丢弃,从没上过线路,connect() 失败:"no route to host"(EHOSTUNREACH),链路上没人应答时程序得到的就是这个错误。`),
	Checks: []check.Check{
		check.New("the client broadcast mcast_solicit (3) requests for the address, about retrans_time (200 ms) apart", "客户端为这个地址广播了 mcast_solicit(3)个请求,间隔约 retrans_time(200 ms)", func(v *check.View) (bool, i18n.Text) {
			var reqs []*decode.Packet
			for _, p := range arps(v, client, decode.ARPRequest) {
				if p.Dst.Addr() == arpNobody {
					reqs = append(reqs, p)
				}
			}
			ok := len(reqs) == arpSolicit
			var gaps []string
			for i, p := range reqs {
				ok = ok && p.ARP.Broadcast()
				if i > 0 {
					g := v.TimeOf(p).Sub(v.TimeOf(reqs[i-1]))
					ok = ok && g >= arpRetrans*3/4 && g <= arpRetrans*3/2
					gaps = append(gaps, fmtMS(g))
				}
			}
			return ok, check.Say("%d requests for %s, gaps %s ms", "%d 个询问 %s 的请求,间隔 %s ms", len(reqs), arpNobody, strings.Join(gaps, ", "))
		}),
		check.New("the server's card received every request and answered none", "服务器的网卡收到了每一个请求,一个也没回答", func(v *check.View) (bool, i18n.Text) {
			got := 0
			for _, p := range arps(v, client, decode.ARPRequest) {
				if p.Dst.Addr() == arpNobody && !p.Lab.Wire.Arrived.IsZero() {
					got++
				}
			}
			replies := len(arps(v, server, decode.ARPReply))
			return got == arpSolicit && replies == 0, check.Say("requests captured arriving at the server: %d; its replies: %d", "在服务器上抓到到达的请求:%d 个;它的应答:%d 个", got, replies)
		}),
		check.New("the client's kernel shows the entry INCOMPLETE, then FAILED", "客户端内核显示表项先是 INCOMPLETE,然后 FAILED", func(v *check.View) (bool, i18n.Text) {
			path, _ := neighPath(v, client, arpNobody)
			return hasInOrder(path, timeline.NUDIncomplete, timeline.NUDFailed), check.Say("client's entry for %s: %s", "客户端关于 %s 的表项:%s", arpNobody, nudPath(path))
		}),
		check.New("connect() fails with \"no route to host\", and no SYN for the address ever reached the wire", "connect() 以 \"no route to host\" 失败,发往这个地址的 SYN 从没上过线路", func(v *check.View) (bool, i18n.Text) {
			errText := ""
			for _, a := range v.Calls(client, timeline.CallConnect) {
				if a.Err != "" && !a.Blocking {
					errText = a.Err
				}
			}
			syns := len(v.Packets(func(p *decode.Packet) bool { return p.Proto == decode.ProtoTCP && p.Dst.Addr() == arpNobody }))
			ok := strings.Contains(errText, "no route to host") && syns == 0
			return ok, check.Say("connect() → %q; TCP segments to %s captured: %d", "connect() → %q;抓到发往 %s 的 TCP 报文段:%d 个", errText, arpNobody, syns)
		}),
	},
}
