package scenarios

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labsvc"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

// Browse: what happens when you open a web page, on one ladder.
var Browse = lesson.Define(lesson.Scenario{
	Name:    "browse",
	Title:   i18n.T("Opening a web page: DNS, TCP, HTTP, close", "打开一个网页:DNS、TCP、HTTP、关闭"),
	Summary: i18n.T("the \"visit a site\" journey: look up the name, connect, GET, response, close — three lanes, every step checked in order", "\"访问一个网站\"的全过程:查名字、建连接、GET、响应、关闭——三条泳道,每一步按顺序检查"),
	Lanes:   []string{client, resolver, server},
	Hosts:   labHosts,
	Lesson: i18n.T(`The interview classic: "what happens when you type a site's address and press Enter?" Here the client (a Go HTTP client standing in for the browser) opens http://shop.lab/, and the ladder has three lanes: the client, the DNS resolver (127.0.0.53) and the web server (127.0.0.80).

1. Name to address. The client asks the resolver "A? shop.lab" in one UDP datagram; the answer says 127.0.0.80. (A browser would also ask AAAA for IPv6 and keep answers in a cache for their TTL; see the dns scenario.)
2. TCP connection. SYN to 127.0.0.80 port 80 (the port the "http" scheme implies), SYN,ACK, ACK: the address is the one DNS gave.
3. HTTP request. "GET / HTTP/1.1" with "Host: shop.lab", so a server hosting many sites knows which one is meant.
4. Response. "200 OK" with the page; a browser would now parse the HTML, fetch the images, scripts and style sheets it names (often over the same connection), and draw the page.
5. Close. When the page is done the client closes the connection: FIN, and the server's FIN (often, on loopback, with the ACK riding on it: see the close scenario).

Each step is a check on this run's capture, in order: the answer arrives before the SYN leaves, the SYN goes to the answered address, the GET follows the handshake, the response follows the GET, the FIN follows the response.

The notebook's version starts with ARP: "use ARP to find the default gateway's MAC address". That is what happens on a real network when the server is elsewhere: the first packet on the wire is an ARP request for the gateway. Here every address is on this machine (127.0.0.0/8 is loopback): the kernel hands the packets to the loopback interface, which needs no neighbour's address, so the capture holds no ARP at all and its Ethernet headers carry all-zero MAC addresses. Nor does this run involve routers, a gateway or HTTPS; the https scenario adds TLS between steps 2 and 3.`,
		`面试经典题:"在浏览器里输入网址、按下回车之后发生了什么?"这里客户端(一个 Go HTTP 客户端,扮演浏览器)打开 http://shop.lab/,梯形图有三条泳道:客户端、DNS 解析服务器(127.0.0.53)和 Web 服务器(127.0.0.80)。

1. 名字变地址。客户端用一个 UDP 数据报问解析服务器 "A? shop.lab";回答是 127.0.0.80。(浏览器还会问 AAAA 要 IPv6 地址,并在 TTL 期间缓存答案;见 dns 场景。)
2. TCP 连接。SYN 发往 127.0.0.80 的 80 端口("http" 协议隐含的端口),SYN,ACK,ACK:地址正是 DNS 给出的那个。
3. HTTP 请求。"GET / HTTP/1.1",带着 "Host: shop.lab",这样托管许多网站的服务器才知道要的是哪一个。
4. 响应。"200 OK" 加上网页;浏览器接着解析 HTML,去取其中引用的图片、脚本和样式表(常常复用同一个连接),然后把网页画出来。
5. 关闭。网页加载完,客户端关闭连接:FIN,然后是服务器的 FIN(在环回接口上常常捎带着 ACK:见 close 场景)。

每一步都是对本次抓包的检查,而且按顺序:应答在 SYN 发出之前到达,SYN 发往应答给出的地址,GET 在握手之后,响应在 GET 之后,FIN 在响应之后。

笔记里的版本从 ARP 开始:"先使用 ARP 获取默认网关的 MAC 地址"。服务器在别处的真实网络上确实如此:线路上的第一个报文是询问网关地址的 ARP 请求。这里所有地址都在本机上(127.0.0.0/8 是环回地址):内核把报文交给环回接口,它不需要邻居的地址,所以抓包里根本没有 ARP,以太网头里的 MAC 地址全是零。本次运行也不涉及路由器、网关和 HTTPS;https 场景在第 2 步和第 3 步之间加上了 TLS。`),
	Run: func(s *session.Session) error {
		if err := serveLabSite(s, 80, labsvc.Shop()); err != nil {
			return err
		}
		cl, tr := newClient(s, client, labsvc.ClientOptions{
			Resolver: newResolver(s, client, resolver),
			OnLookup: func(host string) {
				s.Step("1. The browser needs "+host+"'s address: it asks the resolver.", "1. 浏览器需要 "+host+" 的地址:它去问解析服务器。")
			},
			OnDial: func(ip netip.Addr) {
				s.Step("2. The answer is "+ip.String()+": TCP three-way handshake with port 80.", "2. 答案是 "+ip.String()+":与 80 端口三次握手。")
			},
		})
		trace := &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) {
				s.Step("3. Connected: the browser sends GET / with Host: "+siteName+".", "3. 连接建立:浏览器发送 GET /,带 Host: "+siteName+"。")
			},
			GotFirstResponseByte: func() {
				s.Step("4. The server's response has arrived: status line, headers, the page.", "4. 服务器的响应已经到达:状态行、头部、网页。")
			},
		}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(s.Context(), trace), "GET", "http://"+siteName+"/", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "text/html")
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		var page bytes.Buffer
		_, err = page.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || !strings.Contains(page.String(), "Welcome to shop.lab") {
			return fmt.Errorf("GET /: %s %q", resp.Status, page.String())
		}
		s.Step("5. The page is loaded: the browser closes the connection.", "5. 网页加载完毕:浏览器关闭连接。")
		tr.CloseIdleConnections()
		return s.Sleep(50 * time.Millisecond)
	},
	Checks: []check.Check{
		check.New("1. DNS first: the A query for shop.lab is answered (127.0.0.80) before any TCP packet", "1. 先 DNS:shop.lab 的 A 查询在任何 TCP 报文之前得到应答(127.0.0.80)", func(v *check.View) (bool, i18n.Text) {
			j := journey(v)
			return j.query >= 0 && j.answer > j.query && (j.syn < 0 || j.answer < j.syn) && j.answered.IsValid(),
				check.Say("query is packet %s, answer %s (%s), first SYN %s", "查询是第 %s 个报文,应答是第 %s 个(%s),第一个 SYN 是第 %s 个", j.n(j.query), j.n(j.answer), j.answered, j.n(j.syn))
		}),
		check.New("2. TCP: the SYN goes to the address the answer gave, port 80, and the handshake completes", "2. TCP:SYN 发往应答给出的地址的 80 端口,握手完成", func(v *check.View) (bool, i18n.Text) {
			j := journey(v)
			if j.syn < 0 || j.ack < 0 {
				return false, check.Say("no complete handshake", "没有完整的握手")
			}
			dst := j.ps[j.syn].Dst
			return dst.Addr() == j.answered && dst.Port() == 80 && j.ack > j.syn, check.Say("SYN to %s (DNS said %s); handshake done at packet %s", "SYN 发往 %s(DNS 给出的是 %s);握手在第 %s 个报文完成", dst, j.answered, j.n(j.ack))
		}),
		check.New("3. HTTP: GET / with Host: shop.lab comes after the handshake", "3. HTTP:带 Host: shop.lab 的 GET / 在握手之后", func(v *check.View) (bool, i18n.Text) {
			j := journey(v)
			if j.get < 0 {
				return false, check.Say("no GET on the wire", "线路上没有 GET")
			}
			host := j.ps[j.get].App.First().Fields.Get("header.host")
			return j.get > j.ack && j.ack >= 0 && host == siteName, check.Say("GET at packet %s (handshake done at %s), Host: %s", "GET 在第 %s 个报文(握手在第 %s 个完成),Host: %s", j.n(j.get), j.n(j.ack), host)
		}),
		check.New("4. the 200 OK response with the page comes after the GET", "4. 带着网页的 200 OK 响应在 GET 之后", func(v *check.View) (bool, i18n.Text) {
			j := journey(v)
			if j.resp < 0 {
				return false, check.Say("no response on the wire", "线路上没有响应")
			}
			f := j.ps[j.resp].App.First().Fields
			return j.resp > j.get && f.Get("status") == "200" && f.Get("header.content-type") != "" && f.Get("body.bytes") == f.Get("header.content-length"),
				check.Say("%s at packet %s, %s body bytes of %s", "%s 在第 %s 个报文,响应体 %s 字节,类型 %s", f.Get("status"), j.n(j.resp), f.Get("body.bytes"), f.Get("header.content-type"))
		}),
		check.New("5. the client's FIN comes after the response, and the server closes too", "5. 客户端的 FIN 在响应之后,服务器也关闭", func(v *check.View) (bool, i18n.Text) {
			j := journey(v)
			return j.fin > j.resp && j.resp >= 0 && j.srvFin > j.fin, check.Say("client FIN at packet %s, server FIN at %s, response at %s", "客户端 FIN 在第 %s 个报文,服务器 FIN 在第 %s 个,响应在第 %s 个", j.n(j.fin), j.n(j.srvFin), j.n(j.resp))
		}),
		check.New("DNS travels between client and resolver, the web traffic between client and server", "DNS 在客户端和解析服务器之间,Web 流量在客户端和服务器之间", func(v *check.View) (bool, i18n.Text) {
			bad := 0
			udp, tcp := 0, 0
			for _, p := range v.Packets() {
				pair := p.Lab.From + "-" + p.Lab.To
				switch p.Proto {
				case decode.ProtoUDP:
					udp++
					if pair != "client-resolver" && pair != "resolver-client" {
						bad++
					}
				case decode.ProtoTCP:
					tcp++
					if pair != "client-server" && pair != "server-client" {
						bad++
					}
				default:
					bad++
				}
			}
			return bad == 0 && udp > 0 && tcp > 0, check.Say("%d UDP packets, %d TCP packets, %d between other lanes", "%d 个 UDP 报文,%d 个 TCP 报文,%d 个在其他泳道之间", udp, tcp, bad)
		}),
		check.New("no ARP: loopback needs no neighbour's address, and its Ethernet headers carry all-zero MACs", "没有 ARP:环回接口不需要邻居的地址,其以太网头里的 MAC 全是零", func(v *check.View) (bool, i18n.Text) {
			ps := v.Packets()
			nonIP, nonZero := 0, 0
			for _, p := range ps {
				if p.IPVersion == 0 {
					nonIP++
				}
				if p.Link == layers.LinkTypeEthernet && len(p.Data) >= 14 && !bytes.Equal(p.Data[:12], make([]byte, 12)) {
					nonZero++
				}
			}
			return len(ps) > 0 && nonIP == 0 && nonZero == 0, check.Say("%d packets: %d not IP (ARP would be), %d with a non-zero MAC address", "%d 个报文:%d 个不是 IP(ARP 报文就会这样),%d 个带非零 MAC 地址", len(ps), nonIP, nonZero)
		}),
	},
})

// steps are the positions of the journey's packets in capture order (-1:
// not seen).
type steps struct {
	ps                                              []*decode.Packet
	query, answer, syn, ack, get, resp, fin, srvFin int
	answered                                        netip.Addr
}

func (j steps) n(i int) i18n.Text {
	if i < 0 {
		return i18n.T("none", "无")
	}
	return check.Plain(strconv.Itoa(j.ps[i].N))
}

// journey finds the first packet of each step.
func journey(v *check.View) steps {
	j := steps{ps: v.Packets(), query: -1, answer: -1, syn: -1, ack: -1, get: -1, resp: -1, fin: -1, srvFin: -1}
	for i, p := range j.ps {
		f := p.App.First().Fields
		switch {
		case j.query < 0 && p.Proto == decode.ProtoUDP && f.Get("message") == "query" && f.Get("question") == siteName+" IN A":
			j.query = i
		case j.answer < 0 && j.query >= 0 && f.Get("message") == "response" && f.Get("id") == j.ps[j.query].App.First().Fields.Get("id"):
			j.answer = i
			if a := strings.Fields(f.Get("answers")); len(a) == 5 {
				j.answered, _ = netip.ParseAddr(a[4])
			}
		case j.syn < 0 && p.Proto == decode.ProtoTCP && p.Flags == decode.SYN:
			j.syn = i
		case j.syn >= 0 && j.ack < 0 && p.Lab.From == client && p.Flags == decode.ACK:
			j.ack = i
		case j.get < 0 && f.Get("method") == "GET":
			j.get = i
		case j.resp < 0 && j.get >= 0 && f.Get("status") != "":
			j.resp = i
		case j.fin < 0 && p.Lab.From == client && p.Flags.Has(decode.FIN):
			j.fin = i
		case j.srvFin < 0 && p.Lab.From == server && p.Flags.Has(decode.FIN):
			j.srvFin = i
		}
	}
	return j
}
