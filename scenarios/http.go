package scenarios

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labsvc"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
)

// httpAct1 is what the client asks on its kept-alive connection: method,
// path, body, headers. Redirects add the requests the client follows.
var httpAct1 = []struct {
	method, path, body string
	hdr                []string
}{
	{"GET", "/index.html", "", []string{"Accept", "text/html"}},
	{"HEAD", "/index.html", "", []string{"Accept", "text/html"}},
	{"POST", "/orders", `{"item":"TCP/IP Illustrated","qty":1}`, []string{"Content-Type", "application/json", "Expect", "100-continue"}},
	{"PUT", "/orders/42", `{"item":"TCP/IP Illustrated","qty":2}`, []string{"Content-Type", "application/json"}},
	{"DELETE", "/orders/42", "", nil},
	{"OPTIONS", "/orders", "", nil},
	{"TRACE", "/echo", "", nil},
	{"GET", "/old-page", "", []string{"Accept", "text/html"}},
	{"GET", "/cart", "", []string{"Accept", "text/html"}},
	{"GET", "/logo.png", "", []string{"Accept", "image/png"}},
	{"GET", "/logo.png", "", []string{"Accept", "image/png", "If-None-Match", `"v1"`}},
	{"GET", "/admin", "", nil},
	{"GET", "/missing", "", nil},
	{"GET", "/crash", "", nil},
	{"GET", "/stream", "", nil},
}

// HTTP: HTTP/1.1 on the wire: methods, status codes, headers, keep-alive,
// chunked bodies.
var HTTP = lesson.Define(lesson.Scenario{
	Name:    "http",
	Title:   i18n.T("HTTP/1.1 on the wire: methods, status codes, headers, keep-alive", "线路上的 HTTP/1.1:请求方法、状态码、头部、长连接"),
	Summary: i18n.T("GET HEAD POST PUT DELETE OPTIONS TRACE; 100 200 204 301 302 304 403 404 500; chunked; keep-alive vs Connection: close", "GET HEAD POST PUT DELETE OPTIONS TRACE;100 200 204 301 302 304 403 404 500;分块传输;长连接与 Connection: close"),
	Lanes:   []string{client, server},
	Hosts:   labHosts,
	Lesson: i18n.T(`HTTP/1.1 is plain text written into a TCP connection. A request is a request line ("GET /index.html HTTP/1.1"), header lines ("Name: value"), an empty line, and sometimes a body. A response is a status line ("HTTP/1.1 200 OK"), headers, an empty line and usually a body. The ladder labels each segment that completes a request or response head with it; the details view shows every header as it was on the wire.`,
		`HTTP/1.1 就是写进 TCP 连接里的纯文本。请求由请求行("GET /index.html HTTP/1.1")、若干头部行("名字: 值")、一个空行,以及可能有的请求体组成。响应由状态行("HTTP/1.1 200 OK")、头部、空行和通常会有的响应体组成。梯形图上,凡是刚好凑齐一个请求头或响应头的报文段,都会标出它;详情视图里能看到线路上原样的每一个头部。`),
	Acts: []*lesson.Act{httpKeepAlive, httpClose},
	Run: func(s *session.Session) error {
		ln, err := s.Listen(server, 80)
		if err != nil {
			return err
		}
		serveHTTP(s, ln, labsvc.Shop(), nil)
		hosts := labsvc.LabZone().Hosts() // as /etc/hosts would map them: no DNS in this lesson
		s.Act(httpKeepAlive)
		cl, tr := newClient(s, client, labsvc.ClientOptions{Hosts: hosts})
		for _, r := range httpAct1 {
			s.Step(r.method+" "+r.path, r.method+" "+r.path)
			resp, _, err := get(s, cl, r.method, "http://"+siteName+r.path, r.body, r.hdr...)
			if err != nil {
				return err
			}
			if r.method == "POST" && resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("POST: status %s", resp.Status)
			}
		}
		s.Step("The client closes its idle connection.", "客户端关闭空闲的连接。")
		tr.CloseIdleConnections()
		if err := s.Sleep(50 * time.Millisecond); err != nil {
			return err
		}
		s.Act(httpClose)
		cl2, _ := newClient(s, client, labsvc.ClientOptions{Hosts: hosts, Close: true})
		for _, path := range []string{"/index.html", "/logo.png", "/about.html"} {
			s.Step("GET "+path+" with Connection: close", "GET "+path+",带 Connection: close")
			if _, _, err := get(s, cl2, "GET", "http://"+siteName+path, ""); err != nil {
				return err
			}
		}
		return s.Sleep(50 * time.Millisecond)
	},
	Checks: []check.Check{
		check.New("GET, HEAD, POST, PUT, DELETE, OPTIONS and TRACE each appear in a request line", "GET、HEAD、POST、PUT、DELETE、OPTIONS、TRACE 都出现在请求行里", func(v *check.View) (bool, i18n.Text) {
			seen := map[string]bool{}
			for _, r := range v.HTTPRequests() {
				seen[r.Get("method")] = true
			}
			ok := true
			for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE"} {
				ok = ok && seen[m]
			}
			return ok, check.Say("methods on the wire: %s", "线路上出现的方法:%s", sortedKeys(seen))
		}),
		check.New("status codes 100, 200, 201, 204, 301, 302, 304, 403, 404 and 500 each appear in a status line", "状态码 100、200、201、204、301、302、304、403、404、500 都出现在状态行里", func(v *check.View) (bool, i18n.Text) {
			seen := map[string]bool{}
			for _, r := range v.HTTPResponses() {
				seen[r.Get("status")] = true
			}
			ok := true
			for _, c := range []string{"100", "200", "201", "204", "301", "302", "304", "403", "404", "500"} {
				ok = ok && seen[c]
			}
			return ok, check.Say("status codes on the wire: %s", "线路上出现的状态码:%s", sortedKeys(seen))
		}),
		check.New("every request names the site in Host and the program in User-Agent; bodies come with Content-Type and Content-Length", "每个请求都用 Host 指明站点、用 User-Agent 指明程序;带请求体的请求都有 Content-Type 和 Content-Length", func(v *check.View) (bool, i18n.Text) {
			reqs := v.HTTPRequests()
			bad := 0
			bodies := 0
			for _, r := range reqs {
				if r.Get("header.host") != siteName || r.Get("header.user-agent") == "" {
					bad++
				}
				if r.Get("header.content-length") != "" && r.Get("header.content-length") != "0" {
					bodies++
					if r.Get("header.content-type") == "" {
						bad++
					}
				}
			}
			return len(reqs) > 0 && bad == 0 && bodies == 2, check.Say("%d requests, %d with a body, %d missing a header", "%d 个请求,其中 %d 个带请求体,%d 个缺少头部", len(reqs), bodies, bad)
		}),
		check.New("HEAD: the response announces a Content-Length but no body bytes follow", "HEAD:响应写着 Content-Length,但后面没有响应体字节", func(v *check.View) (bool, i18n.Text) {
			ms := v.Act(httpKeepAlive.ActNumber()).AppMsgs("http")
			for i, m := range ms {
				if m.Get("method") != "HEAD" {
					continue
				}
				for _, r := range ms[i+1:] {
					if r.Get("message") == "response" {
						cl := r.Get("header.content-length")
						return cl != "" && cl != "0" && r.Get("body.bytes") == "0", check.Say("HEAD answered %s with Content-Length %s and %s body bytes", "HEAD 的回答:%s,Content-Length %s,响应体 %s 字节", r.Get("status"), cl, r.Get("body.bytes"))
					}
				}
			}
			return false, check.Say("no HEAD request and response on the wire", "线路上没有 HEAD 请求和响应")
		}),
		check.New("Expect: 100-continue: the POST body leaves only after the server's 100 Continue", "Expect: 100-continue:服务器回 100 Continue 之后 POST 请求体才发出", func(v *check.View) (bool, i18n.Text) {
			return expectContinue(v.Act(httpKeepAlive.ActNumber()))
		}),
		check.New("301 and 302 carry a Location, and the client's next request asks for it", "301 和 302 带着 Location,客户端的下一个请求正是它", func(v *check.View) (bool, i18n.Text) {
			ms := v.Act(httpKeepAlive.ActNumber()).AppMsgs("http")
			followed := 0
			var detail []i18n.Text
			for i, m := range ms {
				st := m.Get("status")
				if st != "301" && st != "302" {
					continue
				}
				loc := m.Get("header.location")
				for _, r := range ms[i+1:] {
					if r.Get("message") == "request" && r.Get("method") != "" {
						if r.Get("target") == loc && loc != "" {
							followed++
						}
						detail = append(detail, check.Say("%s Location %s → next %s %s", "%s Location %s → 下一个请求 %s %s", st, loc, r.Get("method"), r.Get("target")))
						break
					}
				}
			}
			return followed == 2, check.Join(detail, i18n.T("; ", ";"))
		}),
		check.New("304: a GET with If-None-Match naming the ETag gets 304 Not Modified and no body", "304:带 If-None-Match(写着 ETag)的 GET 得到 304 Not Modified,没有响应体", func(v *check.View) (bool, i18n.Text) {
			ms := v.Act(httpKeepAlive.ActNumber()).AppMsgs("http")
			etag := ""
			for i, m := range ms {
				if e := m.Get("header.etag"); e != "" && m.Get("status") == "200" {
					etag = e
				}
				inm := m.Get("header.if-none-match")
				if inm == "" {
					continue
				}
				for _, r := range ms[i+1:] {
					if r.Get("message") == "response" {
						ok := etag != "" && inm == etag && r.Get("status") == "304" && r.Get("body.bytes") == "0"
						return ok, check.Say("ETag %s, If-None-Match %s → %s with %s body bytes", "ETag %s,If-None-Match %s → %s,响应体 %s 字节", etag, inm, r.Get("status"), r.Get("body.bytes"))
					}
				}
			}
			return false, check.Say("no request with If-None-Match on the wire", "线路上没有带 If-None-Match 的请求")
		}),
		check.New("OPTIONS is answered with an Allow header; TRACE's response body is the request as the server received it", "OPTIONS 的回答带 Allow 头;TRACE 的响应体就是服务器收到的请求", func(v *check.View) (bool, i18n.Text) {
			allow := ""
			for _, m := range v.HTTPResponses() {
				if a := m.Get("header.allow"); a != "" {
					allow = a
				}
			}
			echoed := strings.Contains(string(v.Act(httpKeepAlive.ActNumber()).Sent(server)), "TRACE /echo HTTP/1.1\r\nHost: "+siteName)
			return allow != "" && echoed, check.Say("Allow: %q; TRACE request echoed in the server's bytes: %v", "Allow: %q;服务器发出的字节里回显了 TRACE 请求:%v", allow, check.Bool(echoed))
		}),
		check.New("chunked: /stream arrives as 3 chunks in 3 segments and a last chunk of size 0, with no Content-Length", "分块:/stream 以 3 个块、3 个报文段到达,最后是长度为 0 的块,没有 Content-Length", func(v *check.View) (bool, i18n.Text) {
			return chunked(v.Act(httpKeepAlive.ActNumber()))
		}),
	},
})

// expectContinue checks the order: POST head (with Expect: 100-continue,
// no body yet), 100 Continue, the POST body, the final status.
func expectContinue(v *check.View) (bool, i18n.Text) {
	ms := v.AppMsgs("http")
	step := 0
	var order []i18n.Text
	line := ""
	for _, m := range ms {
		switch {
		case step == 0 && m.Get("method") == "POST" && strings.EqualFold(m.Get("header.expect"), "100-continue"):
			if m.Get("body.bytes") != "" {
				return false, check.Say("the POST body travelled with its head", "POST 请求体和头部一起发出了")
			}
			step, line = 1, m.Get("line")
			order = append(order, i18n.T("POST head", "POST 头部"))
		case step == 1 && m.Get("message") == "request":
			return false, check.Join(append(order, check.Say("client sent %s before 100 Continue", "客户端在 100 Continue 之前发出了 %s", m.Packet.App.Summary())), arrow)
		case step == 1 && m.Get("status") == "100":
			step++
			order = append(order, check.Plain("100 Continue"))
		case step == 2 && m.Get("message") == "request":
			if m.Get("of") != line || m.Get("part") != "end" {
				return false, check.Join(append(order, check.Say("next client message: %s", "客户端的下一条消息:%s", m.Packet.App.Summary())), arrow)
			}
			step++
			order = append(order, check.Say("POST body %s B", "POST 请求体 %s 字节", m.Get("body.bytes")))
		case step == 3 && m.Get("status") != "":
			step++
			order = append(order, check.Plain(m.Get("status")+" "+m.Get("reason")))
		}
	}
	return step == 4, check.Join(order, arrow)
}

// arrow joins steps in order.
var arrow = check.Plain(" → ")

// chunked checks the /stream response: chunked, no Content-Length, three
// chunks each completed in its own segment, then the zero-size chunk.
func chunked(v *check.View) (bool, i18n.Text) {
	ms := v.AppMsgs("http")
	var of string
	segs := 0
	for _, m := range ms {
		switch {
		case of == "" && m.Get("status") != "" && m.Get("header.transfer-encoding") == "chunked":
			if m.Get("header.content-length") != "" {
				return false, check.Say("chunked response with a Content-Length", "分块响应却带着 Content-Length")
			}
			of = m.Get("line")
		case of != "" && m.Get("of") == of && m.Get("part") == "chunks":
			segs++
		case of != "" && m.Get("of") == of && m.Get("part") == "end":
			return m.Get("chunks") == "3" && segs == 3, check.Say("%s chunks, %s body bytes; segments that completed a chunk: %d; then the last chunk", "%s 个块,响应体 %s 字节;补全一个块的报文段:%d 个;然后是最后一个块", m.Get("chunks"), m.Get("body.bytes"), segs)
		}
	}
	return false, check.Say("no complete chunked response on the wire", "线路上没有完整的分块响应")
}

// httpKeepAlive: one kept-alive connection carries every request
var httpKeepAlive = &lesson.Act{
	Title: i18n.T("one kept-alive connection carries every request.", "一个长连接承载所有请求。"),
	Lesson: i18n.T(`one connection, many requests. HTTP/1.1 keeps the connection open after a response (keep-alive), so the client sends its next request on the same connection without a new handshake. Methods:
• GET fetches a resource; HEAD asks for the same headers without the body: its response announces a Content-Length, yet no body bytes follow.
• POST sends data for the server to process. This client adds "Expect: 100-continue": it sends only the head and waits; the server answers "100 Continue" (an interim response) and only then does the body leave. The final answer here is 201 Created.
• PUT replaces a resource, DELETE removes it (204 No Content: success with no body), OPTIONS asks what is allowed (the answer's Allow header), TRACE makes the server send back the request it received (for finding what proxies change; most public servers switch it off).
Status codes come in classes by their first digit: 1xx interim, 2xx success, 3xx go elsewhere (301 Moved Permanently and 302 Found carry a Location that the client requests next; 304 Not Modified tells a client whose copy is still current — it sent the copy's ETag in If-None-Match — to keep using it, with no body), 4xx the client's fault (403 Forbidden: understood and refused; 404 Not Found), 5xx the server's fault (500 Internal Server Error).

How does a client know where a response ends, if the connection stays open? From Content-Length; or from chunked transfer encoding — the server did not know the length in advance and sends the body as chunks, each preceded by its size in hex, ending with a chunk of size 0 (the /stream response: three chunks 20 ms apart, each in its own segment); or from the rule that responses to HEAD and 1xx, 204 and 304 responses never have a body.`,
		`一个连接,多个请求。HTTP/1.1 在响应之后保持连接不断开(长连接,keep-alive),客户端在同一个连接上直接发下一个请求,不用再握手。请求方法:
• GET 获取资源;HEAD 只要和 GET 一样的头部,不要响应体:它的响应里写着 Content-Length,后面却没有任何响应体字节。
• POST 把数据交给服务器处理。这个客户端加了 "Expect: 100-continue":它只发请求头,然后等待;服务器回一个 "100 Continue"(临时响应),请求体这才发出去。这里最终的回答是 201 Created。
• PUT 替换资源,DELETE 删除资源(204 No Content:成功,但没有响应体),OPTIONS 询问允许哪些操作(答案在 Allow 头里),TRACE 让服务器把收到的请求原样发回(用来查看代理改动了什么;大多数公网服务器都关掉了它)。
状态码按第一位数字分类:1xx 临时响应,2xx 成功,3xx 去别处(301 永久移动和 302 找到 都带着 Location,客户端接着请求它;304 未修改:客户端在 If-None-Match 里带上自己副本的 ETag,服务器告诉它副本仍然有效、继续用,不带响应体),4xx 客户端的错(403 禁止:听懂了但拒绝;404 未找到),5xx 服务器的错(500 服务器内部错误)。

连接一直不断,客户端怎么知道一个响应在哪里结束?看 Content-Length;或者看分块传输编码——服务器事先不知道长度,就把响应体分成若干块发送,每块前面写上十六进制的长度,最后发一个长度为 0 的块(/stream 响应:三个块,间隔 20 毫秒,各占一个报文段);再或者靠规则:对 HEAD 的响应,以及 1xx、204、304 响应,永远没有响应体。`),
	Checks: []check.Check{
		check.New("one TCP connection (one SYN) carries every request: keep-alive", "一个 TCP 连接(一个 SYN)承载了所有请求:长连接", func(v *check.View) (bool, i18n.Text) {
			n, reqs := len(v.SYNs()), len(v.HTTPRequests())
			want := len(httpAct1) + 2 // and the two redirects followed
			return n == 1 && reqs == want, check.Say("%d SYN, %d requests on the wire (want 1 and %d)", "线路上 %d 个 SYN、%d 个请求(应为 1 个和 %d 个)", n, reqs, want)
		}),
		check.New("the client closes the kept-alive connection first, and the client, not the server, sits in TIME-WAIT", "客户端先关闭长连接,停在 TIME-WAIT 的是客户端而不是服务器", func(v *check.View) (bool, i18n.Text) {
			c := activeClosers(v)
			return c.conns == 1 && c.first[client] == 1 && c.crossed == 0 && c.waitsRight, c.detail()
		}),
	},
}

// httpClose: Connection: close — a new connection for every request
var httpClose = &lesson.Act{
	Title: i18n.T("Connection: close — a new connection for every request.", "Connection: close——每个请求一个新连接。"),
	Lesson: i18n.T(`"Connection: close". The client asks the server to close after each response, so each request costs its own three-way handshake and close. Compare the number of SYNs in the two acts. Both ends close as soon as the response is complete: the server after writing it, the client after reading it. Whichever FIN leaves first makes that end the active closer, the one that sits in TIME-WAIT: usually the server, but on loopback the client sometimes wins the race, and the check counts who did on each connection.

The notebook lists 304 and 307 together as "use the cache": only 304 is about the cache; 307 Temporary Redirect is a redirect like 302 that forbids the client to change the method.`,
		`"Connection: close"。客户端要求服务器每次响应后关闭连接,于是每个请求都要付出一次三次握手和一次关闭的代价。比较两幕里 SYN 的数量。响应一完整,两端都会关闭:服务器写完就关,客户端读完就关。谁的 FIN 先发出,谁就是主动关闭方,停在 TIME-WAIT:通常是服务器,但在环回接口上客户端有时会抢先,检查会逐个连接数出是谁。

笔记里把 304 和 307 放在一起说成"使用缓存":只有 304 和缓存有关;307 临时重定向和 302 一样是重定向,但不允许客户端改变请求方法。`),
	Checks: []check.Check{
		check.New("with Connection: close every request opens its own connection", "带 Connection: close 时,每个请求都新开一个连接", func(v *check.View) (bool, i18n.Text) {
			reqs := v.HTTPRequests()
			closing := 0
			for _, r := range reqs {
				if strings.EqualFold(r.Get("header.connection"), "close") {
					closing++
				}
			}
			n := len(v.SYNs())
			return n == 3 && len(reqs) == 3 && closing == 3, check.Say("%d SYNs, %d requests, %d with Connection: close", "%d 个 SYN,%d 个请求,其中 %d 个带 Connection: close", n, len(reqs), closing)
		}),
		check.New("with Connection: close both ends close after each response; on every connection the end whose FIN left first sits in TIME-WAIT (both, if the FINs crossed)", "带 Connection: close 时,每个响应之后两端都关闭;每个连接上 FIN 先发出的一端停在 TIME-WAIT(FIN 交错时两端都是)", func(v *check.View) (bool, i18n.Text) {
			c := activeClosers(v)
			return c.conns == 3 && c.waitsRight, c.detail()
		}),
	},
}

// closers is who closed the connections of a view first (activeClosers).
type closers struct {
	conns, crossed int
	first          map[string]int // lane -> connections it closed first
	waitsRight     bool           // TIME-WAIT on exactly the expected ends
}

// activeClosers looks at every connection of the view: which end's FIN
// left first (the active closer), whether the FINs crossed (the other end
// sent its FIN before it had received the first: a simultaneous close), and
// whether the kernel put exactly the ends it should in TIME-WAIT — the
// active closer, and the other end too when the FINs crossed.
func activeClosers(v *check.View) closers {
	type conn struct{ fins []*decode.Packet }
	conns := map[uint16]*conn{} // by the client's port
	clientPort := func(from string, src, dst uint16) uint16 {
		if from == client {
			return src
		}
		return dst
	}
	for _, p := range v.Packets(check.HasFlags(decode.FIN)) {
		k := clientPort(p.Lab.From, p.Src.Port(), p.Dst.Port())
		if conns[k] == nil {
			conns[k] = &conn{}
		}
		conns[k].fins = append(conns[k].fins, p)
	}
	waits := map[uint16]map[string]bool{}
	for _, l := range []string{client, server} {
		for _, st := range v.KernelStates(l) {
			if st.To == tcpstate.TimeWait {
				k := clientPort(l, st.Socket.Local.Port(), st.Socket.Remote.Port())
				if waits[k] == nil {
					waits[k] = map[string]bool{}
				}
				waits[k][l] = true
			}
		}
	}
	out := closers{first: map[string]int{}, waitsRight: true}
	for k, c := range conns {
		out.conns++
		first := c.fins[0]
		out.first[first.Lab.From]++
		crossed := false
		for _, f := range c.fins[1:] {
			if f.Lab.From != first.Lab.From {
				crossed = f.Ack != first.Seq+uint32(first.PayloadLen)+1
				break
			}
		}
		if crossed {
			out.crossed++
		}
		other := server
		if first.Lab.From == server {
			other = client
		}
		if !waits[k][first.Lab.From] || waits[k][other] != crossed {
			out.waitsRight = false
		}
	}
	return out
}

// detail says who closed first and whether TIME-WAIT followed.
func (c closers) detail() i18n.Text {
	return check.Say("%d connection(s): the client's FIN first on %d, the server's on %d, FINs crossed on %d; TIME-WAIT on exactly the active closers: %v",
		"%d 个连接:客户端的 FIN 先发出的 %d 个,服务器的 %d 个,FIN 交错的 %d 个;TIME-WAIT 恰好落在主动关闭方:%v",
		c.conns, c.first[client], c.first[server], c.crossed, check.Bool(c.waitsRight))
}
