package scenarios

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labsvc"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

// The URL the url scenario fetches, and its parts.
const (
	lessonURL   = "http://alice:opensesame@shop.lab:8080/search/results?q=tcp+handshake&lang=zh#reviews"
	urlTarget   = "/search/results?q=tcp+handshake&lang=zh"
	urlUserInfo = "alice:opensesame"
	urlFragment = "reviews"
)

// URL: which part of a URL travels where.
var URL = lesson.Define(lesson.Scenario{
	Name:    "url",
	Title:   i18n.T("Anatomy of a URL: which part travels where", "URL 的结构:每一部分去了哪里"),
	Summary: i18n.T("scheme, user info, host, port, path, query and fragment of one fetched URL: DNS, TCP port, Host header, request line, Authorization — and the fragment nowhere", "一次请求的 URL 的协议、用户信息、主机、端口、路径、查询和片段:DNS、TCP 端口、Host 头、请求行、Authorization——片段哪里也不去"),
	Lanes:   []string{client, resolver, server},
	Hosts:   labHosts,
	Lesson: i18n.T(`A URL says what to fetch and how:

  http://alice:opensesame@shop.lab:8080/search/results?q=tcp+handshake&lang=zh#reviews
  scheme  user info        host     port path           query                  fragment

This run fetches exactly that URL with Go's HTTP client and follows every part onto the wire:
• scheme "http": which protocol to speak (HTTP over TCP, no TLS) and which port to use when none is given (80; 443 for https). It is not sent: a request to the server itself carries only the path and query ("origin form"); only a request to a proxy carries the whole URL.
• user info "alice:opensesame": the client turns it into a header, "Authorization: Basic YWxpY2U6b3BlbnNlc2FtZQ==". Base64 is an encoding, not encryption: anyone who sees the packet decodes the password. Browsers now warn about or drop user info in URLs; never put a password in one.
• host "shop.lab": first asked of DNS (A? shop.lab), then sent in the Host header, so that one server can host many sites (over https it also travels in the TLS SNI, see the https scenario).
• port "8080": the TCP destination port of the SYN. Because it is not the scheme's default, it is also written in the Host header: "shop.lab:8080".
• path and query "/search/results?q=tcp+handshake&lang=zh": the request line, "GET /search/results?q=tcp+handshake&lang=zh HTTP/1.1". In a query, "+" stands for a space, "&" separates parameters. The query is as visible as the path: on plain HTTP to anyone on the way, and to the server's logs in any case.
• fragment "#reviews": never leaves the client. It points inside the page (the browser scrolls to the element with id "reviews", or a script reads it). The last check looks for it in every captured byte.

The notebook writes a URL as scheme://host[:port#]/path/…/[?query-string][#anchor]: that leaves out the user info, and it rightly says the query is data for the server and the anchor a place inside the page — which is why the anchor does not need to travel.`,
		`URL 说明要取什么、怎么取:

  http://alice:opensesame@shop.lab:8080/search/results?q=tcp+handshake&lang=zh#reviews
  协议    用户信息          主机     端口 路径           查询                   片段

本次运行用 Go 的 HTTP 客户端请求的正是这个 URL,并把每一部分一路追到线路上:
• 协议 "http":说明讲哪种协议(TCP 上的 HTTP,没有 TLS),以及没写端口时用哪个端口(80;https 是 443)。它本身不会被发送:直接发给服务器的请求只带路径和查询("origin form");只有发给代理的请求才带完整的 URL。
• 用户信息 "alice:opensesame":客户端把它变成一个头部,"Authorization: Basic YWxpY2U6b3BlbnNlc2FtZQ=="。Base64 是编码,不是加密:任何看到这个报文的人都能解出密码。浏览器如今会对 URL 里的用户信息发出警告或干脆丢弃;永远不要把密码写进 URL。
• 主机 "shop.lab":先拿去问 DNS(A? shop.lab),再写进 Host 头,这样一台服务器可以托管很多网站(走 https 时它还会出现在 TLS 的 SNI 里,见 https 场景)。
• 端口 "8080":SYN 的 TCP 目的端口。因为它不是该协议的默认端口,所以 Host 头里也会写出来:"shop.lab:8080"。
• 路径和查询 "/search/results?q=tcp+handshake&lang=zh":就是请求行 "GET /search/results?q=tcp+handshake&lang=zh HTTP/1.1"。查询里 "+" 表示空格,"&" 分隔参数。查询和路径一样可见:走明文 HTTP 时沿途的人都能看到,服务器日志里无论如何都会记下来。
• 片段 "#reviews":从不离开客户端。它指向页面内部(浏览器滚动到 id 为 "reviews" 的元素,或者由脚本读取)。最后一项检查会在抓到的每一个字节里找它。

笔记把 URL 写成 scheme://host[:port#]/path/…/[?query-string][#anchor]:这里漏掉了用户信息;笔记说查询是发给服务器的数据、锚点是页面里的位置,这都对——也正因为锚点只是页面里的位置,它才不需要被发送。`),
	Run: func(s *session.Session) error {
		if err := serveLabSite(s, 8080, searchHandler()); err != nil {
			return err
		}
		u, err := url.Parse(lessonURL)
		if err != nil {
			return err
		}
		pw, _ := u.User.Password()
		s.Step(fmt.Sprintf("The client parses the URL: scheme %q, user %q, password %q, host %q, port %q, path %q, query %q, fragment %q.",
			u.Scheme, u.User.Username(), pw, u.Hostname(), u.Port(), u.Path, u.RawQuery, u.Fragment),
			fmt.Sprintf("客户端解析 URL:协议 %q,用户 %q,密码 %q,主机 %q,端口 %q,路径 %q,查询 %q,片段 %q。",
				u.Scheme, u.User.Username(), pw, u.Hostname(), u.Port(), u.Path, u.RawQuery, u.Fragment))
		cl, tr := newClient(s, client, labsvc.ClientOptions{Resolver: newResolver(s, client, resolver)})
		resp, body, err := get(s, cl, "GET", lessonURL, "")
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"tcp handshake"`)) {
			return fmt.Errorf("GET %s: %s %q", lessonURL, resp.Status, body)
		}
		s.Step("The page has arrived; the fragment is the client's alone. The client closes.", "页面已经到达;片段只属于客户端。客户端关闭连接。")
		tr.CloseIdleConnections()
		return s.Sleep(50 * time.Millisecond)
	},
	Checks: []check.Check{
		check.New("scheme: not sent — the request line carries only path and query, and no TLS is spoken", "协议:不发送——请求行只带路径和查询,也没有 TLS", func(v *check.View) (bool, i18n.Text) {
			r := firstRequest(v)
			if r.Packet == nil {
				return false, check.Say("no request on the wire", "线路上没有请求")
			}
			cli := v.Sent(client)
			full := bytes.Contains(cli, []byte("http://"))
			tls := len(v.AppMsgs("tls")) > 0
			return r.Get("line") == "GET "+urlTarget+" HTTP/1.1" && !full && !tls, check.Say("request line %q; \"http://\" in the client's bytes: %v; TLS records: %v", "请求行 %q;客户端的字节里有 \"http://\":%v;TLS 记录:%v", r.Get("line"), check.Bool(full), check.Bool(tls))
		}),
		check.New("host: asked of DNS first, then sent in the Host header", "主机:先问 DNS,再写进 Host 头", func(v *check.View) (bool, i18n.Text) {
			q, a := dnsPair(v, siteName+" IN A")
			r := firstRequest(v)
			if q.Packet == nil || a.Packet == nil || r.Packet == nil {
				return false, check.Say("no DNS exchange or no request", "没有 DNS 交互或没有请求")
			}
			return q.Packet.N < r.Packet.N && strings.HasPrefix(r.Get("header.host"), siteName), check.Say("DNS question %q at packet %d; Host: %s at packet %d", "DNS 问题 %q 在第 %d 个报文;Host: %s 在第 %d 个报文", q.Get("question"), q.Packet.N, r.Get("header.host"), r.Packet.N)
		}),
		check.New("port: the SYN goes to port 8080, and the Host header names it (not the default)", "端口:SYN 发往 8080 端口,Host 头里也写明了(不是默认端口)", func(v *check.View) (bool, i18n.Text) {
			ss := v.SYNs()
			r := firstRequest(v)
			if len(ss) != 1 || r.Packet == nil {
				return false, check.Say("%d SYNs, request found: %v", "%d 个 SYN,找到请求:%v", len(ss), check.Bool(r.Packet != nil))
			}
			return ss[0].Dst.Port() == 8080 && r.Get("header.host") == siteName+":8080", check.Say("SYN to %s; Host: %s", "SYN 发往 %s;Host: %s", ss[0].Dst, r.Get("header.host"))
		}),
		check.New("path and query: the request line is GET /search/results?q=tcp+handshake&lang=zh", "路径和查询:请求行是 GET /search/results?q=tcp+handshake&lang=zh", func(v *check.View) (bool, i18n.Text) {
			r := firstRequest(v)
			return r.Packet != nil && r.Get("target") == urlTarget, check.Say("request target %q", "请求目标 %q", r.Get("target"))
		}),
		check.New("user info: sent as Authorization: Basic, whose base64 anyone can decode back to alice:opensesame", "用户信息:以 Authorization: Basic 发送,谁都能把其中的 base64 解回 alice:opensesame", func(v *check.View) (bool, i18n.Text) {
			r := firstRequest(v)
			auth := r.Get("header.authorization")
			enc, ok := strings.CutPrefix(auth, "Basic ")
			dec, err := base64.StdEncoding.DecodeString(enc)
			inWire := bytes.Contains(v.Wire(), []byte(auth))
			return ok && err == nil && string(dec) == urlUserInfo && inWire, check.Say("Authorization: %s → base64 decodes to %q; in the captured bytes: %v", "Authorization: %s → base64 解码为 %q;在抓到的字节里:%v", auth, dec, check.Bool(inWire))
		}),
		check.New("fragment: \"reviews\" appears in no captured byte", "片段:\"reviews\" 不在任何抓到的字节里", func(v *check.View) (bool, i18n.Text) {
			w := v.Wire()
			n := bytes.Count(w, []byte(urlFragment))
			reqs := len(v.HTTPRequests())
			return n == 0 && reqs == 1 && len(w) > 0, check.Say("%q found %d times in %d captured bytes (%d request)", "%[1]q 在抓到的 %[3]d 字节里出现 %[2]d 次(%[4]d 个请求)", urlFragment, n, len(w), reqs)
		}),
	},
})

// searchHandler serves /search/results to alice.
func searchHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user+":"+pass != urlUserInfo {
			w.Header().Set("WWW-Authenticate", `Basic realm="shop.lab"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/search/results" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "hello %s: 3 results for %q (lang %s)\n", user, r.URL.Query().Get("q"), r.URL.Query().Get("lang"))
	})
}

// firstRequest is the first HTTP request on the wire.
func firstRequest(v *check.View) check.AppMsg {
	for _, m := range v.HTTPRequests() {
		return m
	}
	return check.AppMsg{}
}
