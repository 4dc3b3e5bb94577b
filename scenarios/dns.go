package scenarios

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labsvc"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

// hostsFile is where the resolver looks before asking DNS.
const hostsFile = "/etc/hosts"

// DNS: a DNS server for a made-up zone, Go's stub resolver asking it, and
// a name resolved from the hosts file without any packet.
var DNS = lesson.Define(lesson.Scenario{
	Name:    "dns",
	Title:   i18n.T("DNS: names to addresses over UDP", "DNS:通过 UDP 把名字变成地址"),
	Summary: i18n.T("query and answer (id, question, answers, TTL); AAAA with no records; CNAME; NXDOMAIN; a hosts-file name with no packet", "查询与应答(id、问题、答案、TTL);没有记录的 AAAA;CNAME;NXDOMAIN;来自 hosts 文件、不发任何报文的名字"),
	Lanes:   []string{client, resolver},
	Hosts:   labHosts,
	Lesson: i18n.T(`DNS turns a name into addresses. The client here is Go's own stub resolver, the code any Go program runs for net.LookupHost: it first reads /etc/hosts (as /etc/nsswitch.conf says: "hosts: files dns"), then asks the name server. This run points it at a DNS server on 127.0.0.53 port 53 — the address where systemd-resolved listens on many Linux machines — which is authoritative for a made-up zone, written in zone-file syntax:

`+strings.TrimSuffix(labsvc.LabZone().Render("  "), "\n"),
		`DNS 把名字变成地址。这里的客户端是 Go 自带的存根解析器,也就是任何 Go 程序调用 net.LookupHost 时运行的代码:它先读 /etc/hosts(按 /etc/nsswitch.conf 的规定:"hosts: files dns"),然后才去问域名服务器。本次运行让它去问 127.0.0.53 的 53 端口上的 DNS 服务器——在很多 Linux 机器上这正是 systemd-resolved 监听的地址——这个服务器对一个虚构的区域具有权威,区域文件写成:

`+strings.TrimSuffix(labsvc.LabZone().Render("  "), "\n")),
	Acts: []*lesson.Act{dnsName, dnsAlias, dnsNXDomain, dnsHostsFile},
	Run: func(s *session.Session) error {
		if err := serveLabZone(s); err != nil {
			return err
		}
		res := newResolver(s, client, resolver)
		web := s.Addr(server).String()
		for _, q := range []struct {
			act  *lesson.Act
			name string
			want string // an address in the answer; "" for no such host
		}{
			{dnsName, "shop.lab.", web},
			{dnsAlias, "www.shop.lab.", web},
			{dnsNXDomain, "nope.lab.", ""},
		} {
			s.Act(q.act)
			ips, err := res.LookupNetIP(s.Context(), "ip", q.name)
			if err := lookupResult(s, q.name, ips, err, q.want); err != nil {
				return err
			}
		}
		s.Act(dnsHostsFile)
		name, line, err := hostsEntry()
		if err != nil {
			return err
		}
		s.Note(hostsFile+": "+line, hostsFile+":"+line)
		ips, err := res.LookupNetIP(s.Context(), "ip", name)
		return lookupResult(s, name, ips, err, strings.Fields(line)[0])
	},
	Checks: []check.Check{
		check.New("every query is one UDP datagram to port 53 and every answer one datagram back: no TCP, no session", "每个查询都是发往 53 端口的一个 UDP 数据报,每个应答都是发回的一个数据报:没有 TCP,没有会话", func(v *check.View) (bool, i18n.Text) {
			queries, answers, other := 0, 0, 0
			for _, p := range v.Packets() {
				switch {
				case p.Proto == decode.ProtoUDP && p.App != nil && p.App.First().Fields.Get("message") == "query" && p.Dst.Port() == 53:
					queries++
				case p.Proto == decode.ProtoUDP && p.App != nil && p.App.First().Fields.Get("message") == "response" && p.Src.Port() == 53:
					answers++
				default:
					other++
				}
			}
			return queries >= 6 && answers == queries && other == 0, check.Say("%d queries, %d answers, %d other packets", "%d 个查询,%d 个应答,%d 个其他报文", queries, answers, other)
		}),
	},
})

// lookupResult checks a lookup's outcome (the run fails if it is not what
// the zone says) and narrates it.
func lookupResult(s *session.Session, name string, ips []netip.Addr, err error, want string) error {
	if want == "" {
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			return fmt.Errorf("lookup %s: want no such host, got %v %v", name, ips, err)
		}
		s.Note("The resolver reports: no such host "+name, "解析器报告:没有这个主机 "+name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("lookup %s: %w", name, err)
	}
	var got []string
	found := false
	for _, ip := range ips {
		ip = ip.Unmap() // Go returns hosts-file IPv4 addresses in IPv6 form
		got = append(got, ip.String())
		found = found || ip.String() == want
	}
	if !found {
		return fmt.Errorf("lookup %s: got %v, want %s", name, got, want)
	}
	s.Note("The resolver returns "+name+" → "+strings.Join(got, ", "), "解析器返回 "+name+" → "+strings.Join(got, ", "))
	return nil
}

// hostsEntry picks the name to resolve from the hosts file: localhost if
// it is there, else the first name listed.
func hostsEntry() (name, line string, err error) {
	f, err := os.Open(hostsFile)
	if err != nil {
		return "", "", fmt.Errorf("the hosts-file act needs %s: %w", hostsFile, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(strings.SplitN(sc.Text(), "#", 2)[0])
		fs := strings.Fields(l)
		if len(fs) < 2 {
			continue
		}
		if _, err := netip.ParseAddr(fs[0]); err != nil {
			continue
		}
		for _, n := range fs[1:] {
			if n == "localhost" {
				return n, l, nil
			}
		}
		if name == "" {
			name, line = fs[1], l
		}
	}
	if name == "" {
		return "", "", fmt.Errorf("no entry in %s to resolve", hostsFile)
	}
	return name, line, nil
}

// dnsPair finds the first query with question q ("shop.lab IN A") and the
// answer with its id.
func dnsPair(v *check.View, q string) (query, answer check.AppMsg) {
	for _, m := range v.AppMsgs("dns") {
		if m.Get("question") != q {
			continue
		}
		switch {
		case m.Get("message") == "query" && query.Packet == nil:
			query = m
		case m.Get("message") == "response" && query.Packet != nil && m.Get("id") == query.Get("id") && answer.Packet == nil:
			answer = m
		}
	}
	return query, answer
}

// dnsName: the client looks up shop.lab
var dnsName = &lesson.Act{
	Title: i18n.T("the client looks up shop.lab.", "客户端查询 shop.lab。"),
	Lesson: i18n.T(`"shop.lab.". A query is one UDP datagram to port 53, the answer one datagram back: no connection, no handshake. The query holds a 16-bit id, flags (rd: "recursion desired") and the question — a name and a type: A (an IPv4 address), AAAA (IPv6), CNAME (an alias), MX, NS ... The answer repeats the id and the question and adds records, each with a TTL: how many seconds anyone may keep it in a cache (300 here). Go asks for both A and AAAA, each from its own socket (its own source port). shop.lab has an IPv4 address but no IPv6 one: the AAAA answer is NOERROR with no records ("the name exists, not with that type"), along with the zone's SOA record.
The trailing dot in "shop.lab." says the name is complete; without it a resolver may first try the search domains of /etc/resolv.conf.`,
		`"shop.lab."。一个查询就是发往 53 端口的一个 UDP 数据报,应答就是发回来的一个数据报:没有连接,没有握手。查询里有一个 16 位的 id、若干标志(rd:"期望递归")和问题——一个名字加一个类型:A(IPv4 地址)、AAAA(IPv6)、CNAME(别名)、MX、NS……应答重复 id 和问题,再附上记录,每条记录都有 TTL:任何人可以把它缓存多少秒(这里是 300)。Go 既查询 A 也查询 AAAA,各用一个套接字(各有自己的源端口)。shop.lab 有 IPv4 地址但没有 IPv6 地址:AAAA 的应答是 NOERROR、零条记录("名字存在,但没有这种类型"),并附上区域的 SOA 记录。
"shop.lab." 末尾的点表示名字已经完整;没有这个点,解析器可能会先尝试 /etc/resolv.conf 里的搜索域。`),
	Checks: []check.Check{
		check.New("the authoritative answer (aa) to \"A? shop.lab\" comes back to the asking port with the same id: 127.0.0.80, TTL 300", "\"A? shop.lab\" 的权威应答(aa)回到发问的端口,id 相同:127.0.0.80,TTL 300", func(v *check.View) (bool, i18n.Text) {
			q, a := dnsPair(v, "shop.lab IN A")
			if q.Packet == nil || a.Packet == nil {
				return false, check.Say("no A query and answer for shop.lab", "没有 shop.lab 的 A 查询和应答")
			}
			ok := q.Get("id") == a.Get("id") && a.Packet.Dst == q.Packet.Src && a.Packet.Src == q.Packet.Dst && q.Packet.Dst.Port() == 53 &&
				a.Get("answers") == "shop.lab. 300 IN A 127.0.0.80" && a.Get("ttl") == "300" && strings.Contains(a.Get("flags"), "aa")
			return ok, check.Say("query id %s %s → %s; answer id %s %s → %s, flags %s: %s", "查询 id %s %s → %s;应答 id %s %s → %s,标志 %s:%s", q.Get("id"), q.Packet.Src, q.Packet.Dst, a.Get("id"), a.Packet.Src, a.Packet.Dst, a.Get("flags"), a.Get("answers"))
		}),
		check.New("the client also asks AAAA, from another port; shop.lab has none: NOERROR with no records", "客户端还从另一个端口问了 AAAA;shop.lab 没有:NOERROR,零条记录", func(v *check.View) (bool, i18n.Text) {
			q4, _ := dnsPair(v, "shop.lab IN A")
			q, a := dnsPair(v, "shop.lab IN AAAA")
			if q.Packet == nil || a.Packet == nil || q4.Packet == nil {
				return false, check.Say("no A and AAAA queries and AAAA answer for shop.lab", "没有 shop.lab 的 A 和 AAAA 查询以及 AAAA 应答")
			}
			ok := q.Packet.Src != q4.Packet.Src && a.Get("rcode") == "NOERROR" && a.Get("answers") == "" && strings.Contains(a.Get("authority"), "SOA")
			return ok, check.Say("A asked from %s, AAAA from %s; AAAA answer: %s, %d answer records, authority %q", "A 从 %s 发问,AAAA 从 %s;AAAA 应答:%s,%d 条应答记录,授权部分 %q", q4.Packet.Src, q.Packet.Src, a.Get("rcode"), len(strings.Fields(a.Get("answers"))), a.Get("authority"))
		}),
	},
}

// dnsAlias: www.shop.lab is an alias (CNAME)
var dnsAlias = &lesson.Act{
	Title: i18n.T("www.shop.lab is an alias (CNAME).", "www.shop.lab 是别名(CNAME)。"),
	Lesson: i18n.T(`"www.shop.lab." is an alias. The answer holds the CNAME record (www.shop.lab is shop.lab) and then shop.lab's address. CDNs work this way: a site's name is a CNAME for a name the CDN answers with a server near you.`,
		`"www.shop.lab." 是一个别名。应答里先是 CNAME 记录(www.shop.lab 就是 shop.lab),然后是 shop.lab 的地址。CDN 就是这样工作的:网站的名字是 CDN 某个名字的 CNAME,CDN 再用离你近的服务器地址来回答。`),
	Checks: []check.Check{
		check.New("one answer holds the CNAME and the address it leads to", "一个应答里同时有 CNAME 和它指向的地址", func(v *check.View) (bool, i18n.Text) {
			_, a := dnsPair(v, "www.shop.lab IN A")
			if a.Packet == nil {
				return false, check.Say("no A answer for www.shop.lab", "没有 www.shop.lab 的 A 应答")
			}
			want := "www.shop.lab. 300 IN CNAME shop.lab.\nshop.lab. 300 IN A 127.0.0.80"
			return a.Get("answers") == want, check.Say("answer records: %q", "应答记录:%q", a.Get("answers"))
		}),
	},
}

// dnsNXDomain: a name that does not exist
var dnsNXDomain = &lesson.Act{
	Title: i18n.T("a name that does not exist.", "一个不存在的名字。"),
	Lesson: i18n.T(`"nope.lab." does not exist: the answer's status is NXDOMAIN, and it carries the zone's SOA record, whose last number (60) says how long the "no such name" may be cached.`,
		`"nope.lab." 不存在:应答状态是 NXDOMAIN,并带着区域的 SOA 记录,其中最后一个数字(60)规定"查无此名"可以缓存多久。`),
	Checks: []check.Check{
		check.New("nope.lab gets NXDOMAIN with the zone's SOA (negative TTL 60 s)", "nope.lab 得到 NXDOMAIN,附带区域的 SOA(否定缓存 60 秒)", func(v *check.View) (bool, i18n.Text) {
			_, a := dnsPair(v, "nope.lab IN A")
			if a.Packet == nil {
				return false, check.Say("no A answer for nope.lab", "没有 nope.lab 的 A 应答")
			}
			ok := a.Get("rcode") == "NXDOMAIN" && strings.HasPrefix(a.Get("authority"), "lab. 300 IN SOA") && a.Get("negative_ttl") == "60"
			return ok, check.Say("%s, authority %q, negative TTL %s s", "%s,授权部分 %q,否定缓存 TTL %s 秒", a.Get("rcode"), a.Get("authority"), a.Get("negative_ttl"))
		}),
	},
}

// dnsHostsFile: a name from the hosts file: no packet at all
var dnsHostsFile = &lesson.Act{
	Title: i18n.T("a name from the hosts file: no packet at all.", "来自 hosts 文件的名字:一个报文也没有。"),
	Lesson: i18n.T(`"localhost" is in /etc/hosts, so the resolver answers from the file and not one packet leaves: the capture of this act is empty.

The notebook's OSI table puts DNS in the session layer. The capture shows a DNS message sitting directly in a UDP datagram, with no session set up before it: DNS is an application protocol, carried by UDP (or TCP for large answers), and the TCP/IP stack has no separate session layer. The notebook's "visit baidu" story also has the DNS server look the name up: a real resolver asks a root server, then the top-level domain's, then the domain's own; the server here is that last one, authoritative for lab. (the aa flag).`,
		`"localhost" 在 /etc/hosts 里,解析器直接从文件得到答案,一个报文也不发:这一幕的抓包是空的。

笔记里的 OSI 表把 DNS 放在会话层。抓包显示 DNS 消息直接装在 UDP 数据报里,之前没有建立任何会话:DNS 是应用层协议,由 UDP(应答太大时用 TCP)承载,TCP/IP 协议栈里也没有单独的会话层。笔记里"访问百度"的过程说 DNS 服务器查询出地址:真实的递归解析器会依次询问根服务器、顶级域服务器、该域名自己的服务器;这里的服务器就是最后那一个,对 lab. 具有权威(aa 标志)。`),
	Checks: []check.Check{
		check.New("the hosts-file name is resolved without a single packet", "hosts 文件里的名字解析时没有发出任何报文", func(v *check.View) (bool, i18n.Text) {
			n := len(v.Packets())
			notes := 0
			for _, e := range v.Events() {
				if e.Note != nil && strings.HasPrefix(e.Note.Text.En, hostsFile) {
					notes++
				}
			}
			return n == 0 && notes == 1, check.Say("%d packets captured during the lookup", "解析期间抓到 %d 个报文", n)
		}),
	},
}
