package scenarios

import (
	"bytes"
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
)

// The login both acts send: the password is the secret the capture either
// shows or does not.
const (
	loginPath     = "/login"
	loginPassword = "opensesame-42"
	loginBody     = "user=alice&password=" + loginPassword
)

// labsvc.CertOrg is in the certificate's subject; on a TLS 1.3 wire it never
// shows, because the certificate travels encrypted.

// HTTPS: the same request over HTTP and over TLS 1.3.
var HTTPS = lesson.Define(lesson.Scenario{
	Name:    "https",
	Title:   i18n.T("HTTP vs HTTPS: the same login in clear and over TLS 1.3", "HTTP 与 HTTPS:同一次登录,明文与 TLS 1.3"),
	Summary: i18n.T("a password readable in the HTTP capture and absent from the HTTPS one; the TLS 1.3 handshake; one extra round trip", "HTTP 抓包里能读到密码,HTTPS 抓包里没有;TLS 1.3 握手;多一个往返"),
	Lanes:   []string{client, server},
	Hosts:   labHosts,
	Lesson: i18n.T(`HTTPS is HTTP carried inside TLS. This run sends the same login twice — "POST /login" with "password=opensesame-42" in the body — first over plain HTTP (port 80), then over HTTPS (port 443), and looks for the password in every byte the capture holds.`,
		`HTTPS 就是放在 TLS 里面传输的 HTTP。本次运行把同一次登录——"POST /login",请求体里带着 "password=opensesame-42"——发送两遍:先走明文 HTTP(80 端口),再走 HTTPS(443 端口),然后在抓到的每一个字节里寻找这个密码。`),
	After: i18n.T(`What HTTPS still shows: the addresses and ports, the server name in SNI, the sizes and timing of the records. What it hides: the method, the path, the headers, cookies and the body.

The notebook says HTTPS "needs a certificate from a CA, which costs money": browsers trust certificates signed by a CA they know (free ones exist, e.g. Let's Encrypt); the protocol itself only needs a certificate the client trusts, as this run shows. It also says "SSL": today's protocol is TLS; SSL 3.0 is obsolete and forbidden (RFC 7568).`,
		`HTTPS 仍然暴露的:地址和端口、SNI 里的服务器名、记录的大小和时间。它隐藏的:请求方法、路径、头部、Cookie 和请求体。

笔记里说 HTTPS "需要到 CA 申请证书,需要一定费用":浏览器信任由它认识的 CA 签发的证书(也有免费的,例如 Let's Encrypt);协议本身只需要一张客户端信任的证书,本次运行就是例子。笔记里还说 "SSL":如今的协议是 TLS,SSL 3.0 已经过时并被禁止使用(RFC 7568)。`),
	Acts: []*lesson.Act{httpsPlain, httpsTLS},
	Run: func(s *session.Session) error {
		keys, err := labsvc.NewTLS(siteName)
		if err != nil {
			return err
		}
		ln80, err := s.Listen(server, 80)
		if err != nil {
			return err
		}
		ln443, err := s.Listen(server, 443)
		if err != nil {
			return err
		}
		serveHTTP(s, ln80, loginHandler(), nil)
		serveHTTP(s, ln443, loginHandler(), keys.ServerConfig(s.TLSKeyLog()))
		hosts := labsvc.LabZone().Hosts() // as /etc/hosts would map them: no DNS in this lesson
		for _, a := range []struct {
			act    *lesson.Act
			scheme string
		}{{httpsPlain, "http"}, {httpsTLS, "https"}} {
			scheme := a.scheme
			s.Act(a.act)
			cl, tr := newClient(s, client, labsvc.ClientOptions{Hosts: hosts, TLS: keys.ClientConfig(s.TLSKeyLog())})
			s.Step("POST "+loginPath+" with the password in the body.", "POST "+loginPath+",请求体里带着密码。")
			resp, body, err := get(s, cl, "POST", scheme+"://"+siteName+loginPath, loginBody, "Content-Type", "application/x-www-form-urlencoded")
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte("welcome")) {
				return fmt.Errorf("%s login: %s %q", scheme, resp.Status, body)
			}
			s.Step("The client closes the connection.", "客户端关闭连接。")
			tr.CloseIdleConnections()
			if err := s.Sleep(50 * time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	},
	Checks: []check.Check{
		check.New("the first byte of the answer comes after 2 round trips over HTTP and 3 over HTTPS", "拿到回答的第一个字节:HTTP 用了 2 个往返,HTTPS 用了 3 个", func(v *check.View) (bool, i18n.Text) {
			h, okH := roundTrips(v.Act(httpsPlain.ActNumber()), func(p *decode.Packet) bool { return p.App != nil && p.App.First().Fields.Get("status") != "" })
			s, okS := roundTrips(v.Act(httpsTLS.ActNumber()), func(p *decode.Packet) bool {
				return p.App != nil && strings.HasPrefix(p.App.First().Fields.Get("decrypted"), `"HTTP/1.1 `)
			})
			return okH && okS && h == 2 && s == 3, check.Say("HTTP: response in the server's turn %d; HTTPS: in its turn %d (found: %v, %v)", "HTTP:响应在服务器的第 %d 轮;HTTPS:在第 %d 轮(找到:%v,%v)", h, s, check.Bool(okH), check.Bool(okS))
		}),
	},
})

// loginHandler answers POST /login.
func loginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != loginPath {
			http.NotFound(w, r)
			return
		}
		if r.PostFormValue("password") != loginPassword {
			http.Error(w, "wrong password", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "welcome %s\n", r.PostFormValue("user"))
	})
}

// tlsHandshake checks the order of the TLS 1.3 handshake messages.
func tlsHandshake(v *check.View) (bool, i18n.Text) {
	want := []struct{ from, text string }{
		{client, "ClientHello"}, {server, "ServerHello TLS 1.3"}, {server, "{EncryptedExtensions"},
		{server, "Certificate"}, {server, "CertificateVerify"}, {server, "Finished}"}, {client, "{Finished}"},
	}
	i := 0
	var seen []i18n.Text
	for _, m := range v.AppMsgs("tls") {
		s := m.Packet.App.Summary()
		seen = append(seen, check.Say("%s: %s", "%s:%s", lane(m.Packet.Lab.From), s))
		for i < len(want) && m.Packet.Lab.From == want[i].from && strings.Contains(s, want[i].text) {
			s = s[strings.Index(s, want[i].text)+len(want[i].text):]
			i++
		}
	}
	return i == len(want), check.Join(seen, check.Plain(" | "))
}

// roundTrips counts the server's turns on the wire — runs of packets that
// carry a SYN or data, from the server, between the client's — up to the
// one holding the first packet isResp accepts.
func roundTrips(v *check.View, isResp func(*decode.Packet) bool) (int, bool) {
	turns := 0
	last := ""
	for _, p := range v.Packets(check.TCP) {
		if !p.Flags.Has(decode.SYN) && p.PayloadLen == 0 {
			continue
		}
		if p.Lab.From != last {
			last = p.Lab.From
			if p.Lab.From == server {
				turns++
			}
		}
		if p.Lab.From == server && isResp(p) {
			return turns, true
		}
	}
	return turns, false
}

// httpsPlain: the login over plain HTTP.
var httpsPlain = &lesson.Act{
	Title: i18n.T("the login over plain HTTP (port 80).", "通过明文 HTTP 登录(80 端口)。"),
	Lesson: i18n.T(`over HTTP, the request is plain text on the wire; anyone who can capture the traffic (on the same Wi-Fi, at the ISP, at any router on the way) reads the path, the headers and the password.`,
		"走 HTTP:请求在线路上是明文;任何能抓到流量的人(同一个 Wi-Fi 下的人、运营商、沿途任何一台路由器)都能读到路径、头部和密码。"),
	Checks: []check.Check{
		check.New("over HTTP, the password is readable in the captured bytes", "走 HTTP:抓到的字节里能读到密码", func(v *check.View) (bool, i18n.Text) {
			w := v.Wire()
			ok := bytes.Contains(w, []byte("password="+loginPassword)) && bytes.Contains(w, []byte("POST "+loginPath))
			return ok, check.Say("%q and %q found in %d captured bytes: %v", "在抓到的 %[3]d 字节里找到 %[1]q 和 %[2]q:%[4]v", "POST "+loginPath, "password="+loginPassword, len(w), check.Bool(ok))
		}),
	},
}

// httpsTLS: the same login over HTTPS.
var httpsTLS = &lesson.Act{
	Title: i18n.T("the same login over HTTPS: TLS 1.3 (port 443).", "同样的登录走 HTTPS:TLS 1.3(443 端口)。"),
	Lesson: i18n.T(`HTTPS with TLS 1.3. After the same TCP handshake:
• ClientHello (client → server): a random number, the cipher suites and TLS versions it supports, its half of an elliptic-curve Diffie-Hellman key exchange (key_share), and the server's name (SNI, "shop.lab") — in clear text, so the server knows which certificate to send.
• ServerHello (server → client): TLS 1.3, the suite it chose and its own key share. Each side can now compute the same secret keys; nobody watching can. From here on every record is encrypted.
• ChangeCipherSpec: a leftover sent only so that old middleboxes that expect TLS 1.2 let the connection through; it carries nothing.
• Then, encrypted: EncryptedExtensions; Certificate (the server's identity — made for this run, ECDSA P-256, and trusted by this client only because it was told to: a browser would refuse it); CertificateVerify (a signature proving the server holds the certificate's private key); Finished (a check over the whole handshake). The client answers with its own Finished and sends the request right behind it.
On the wire all of these are records labelled "Application Data". netlab can name them because the run's own TLS stack writes its session keys to a key log — what browsers do with SSLKEYLOGFILE for Wireshark — and the decoder opens the records; the ladder shows what was inside in braces {…}. The capture's bytes stay encrypted: the certificate's organisation name "netlab lesson" appears nowhere in them. A pcapng saved from the run (--pcap, or s in the dashboard) leaves the keys out, so Wireshark shows only encrypted records, as an eavesdropper would see them; --pcap-secrets (S in the dashboard) puts the keys in the file (a Decryption Secrets Block) and Wireshark then decrypts the login, password included.

Round trips before the first byte of the answer: HTTP needs two (TCP handshake, then request → response); TLS 1.3 adds one (ClientHello → ServerHello…Finished). TLS 1.2 added two, and sent the certificate in clear.

How the connection ends: the client sends its close_notify alert ("I am done") and closes the socket at once; the server answers with a close_notify of its own. When that alert reaches the client's socket after the socket has closed (its FIN has left) — the usual case — a closed socket cannot hand data to anyone, so the client's kernel answers it with RST (as in the reset scenario): the RST at the end of this act. When the alert arrives while the client's socket is still open, the client reads it, closes with an ordinary FIN, and there is no RST.`,
		`使用 TLS 1.3 的 HTTPS。在同样的 TCP 三次握手之后:
• ClientHello(客户端 → 服务器):一个随机数、它支持的密码套件和 TLS 版本、它那一半的椭圆曲线 Diffie-Hellman 密钥交换参数(key_share),以及服务器的名字(SNI,"shop.lab")——明文,好让服务器知道该发哪张证书。
• ServerHello(服务器 → 客户端):TLS 1.3、它选中的套件和它自己的 key_share。此刻双方都能算出同一套密钥,旁观者算不出来。从这里开始每一条记录都是加密的。
• ChangeCipherSpec:一个遗留物,只是为了让那些还以为是 TLS 1.2 的老旧中间设备放行,不携带任何内容。
• 接下来全部加密:EncryptedExtensions;Certificate(服务器的身份——为本次运行现场生成的 ECDSA P-256 证书,客户端之所以信任它,只是因为我们告诉它要信任:浏览器会拒绝);CertificateVerify(一个签名,证明服务器持有证书的私钥);Finished(对整个握手过程的校验)。客户端回一个自己的 Finished,紧接着发出请求。
在线路上,这些统统是标着 "Application Data" 的记录。netlab 之所以能说出里面是什么,是因为本次运行自己的 TLS 协议栈把会话密钥写进了密钥日志——就像浏览器配合 Wireshark 使用 SSLKEYLOGFILE 那样——解码器用它打开记录,梯形图用花括号 {…} 标出里面的内容。抓到的字节本身依然是密文:证书里的组织名 "netlab lesson" 在其中一次也没有出现。从运行中保存的 pcapng(--pcap,或仪表盘里的 s)不带密钥,Wireshark 只能看到加密的记录,和窃听者看到的一样;--pcap-secrets(仪表盘里的 S)把密钥写进文件(Decryption Secrets Block),Wireshark 就能解密登录请求,连同密码。

拿到回答的第一个字节之前要几个往返:HTTP 要两个(TCP 握手,然后请求 → 响应);TLS 1.3 多一个(ClientHello → ServerHello…Finished)。TLS 1.2 要多出两个,而且证书是明文发送的。

连接如何结束:客户端发出自己的 close_notify 告警("我说完了"),随即关闭套接字;服务器回一个自己的 close_notify。这个告警在客户端套接字已经关闭(FIN 已发出)之后才到达时(通常如此),已关闭的套接字无法把数据交给任何人,客户端内核就以 RST 回应(和 reset 场景里一样):这就是这一幕末尾的 RST。告警到达时客户端套接字还开着,客户端就会读到它,再以普通的 FIN 关闭,不会有 RST。`),
	Checks: []check.Check{
		check.New("over HTTPS, neither the password nor the path appears in any captured byte", "走 HTTPS:抓到的任何字节里都没有密码,也没有路径", func(v *check.View) (bool, i18n.Text) {
			w := v.Wire()
			pw, path := bytes.Contains(w, []byte(loginPassword)), bytes.Contains(w, []byte(loginPath))
			return len(w) > 0 && !pw && !path, check.Say("%d captured bytes; password found: %v, path found: %v", "抓到 %d 字节;找到密码:%v,找到路径:%v", len(w), check.Bool(pw), check.Bool(path))
		}),
		check.New("an RST ends the connection exactly when the server's close_notify reaches a client socket already closed", "恰好在服务器的 close_notify 到达已关闭的客户端套接字时,连接以 RST 结束", func(v *check.View) (bool, i18n.Text) {
			return rstAfterClose(v)
		}),
		check.New("the server's name still travels in clear, in the ClientHello's SNI", "服务器名仍以明文出现在 ClientHello 的 SNI 里", func(v *check.View) (bool, i18n.Text) {
			sni := lastTLSField(v, "sni")
			inBytes := bytes.Contains(v.Wire(), []byte(siteName))
			return sni == siteName && inBytes, check.Say("ClientHello SNI %q; %q in the captured bytes: %v", "ClientHello SNI %q;抓到的字节里有 %q:%v", sni, siteName, check.Bool(inBytes))
		}),
		check.New("the handshake is ClientHello → ServerHello (TLS 1.3) → encrypted Certificate … Finished → client Finished", "握手依次是 ClientHello → ServerHello(TLS 1.3)→ 加密的 Certificate … Finished → 客户端 Finished", func(v *check.View) (bool, i18n.Text) {
			return tlsHandshake(v)
		}),
		check.New("the certificate travels encrypted: its organisation name is in no captured byte", "证书是加密传输的:抓到的字节里没有它的组织名", func(v *check.View) (bool, i18n.Text) {
			subject := lastTLSField(v, "cert_subject")
			clear := bytes.Contains(v.Wire(), []byte(labsvc.CertOrg))
			return strings.Contains(subject, labsvc.CertOrg) && !clear, check.Say("certificate subject %q (opened with the key log); %q in the captured bytes: %v", "证书主体 %q(用密钥日志解密得到);抓到的字节里有 %q:%v", subject, labsvc.CertOrg, check.Bool(clear))
		}),
	},
}

// lastTLSField is the last value the TLS decoder gave field in the view.
func lastTLSField(v *check.View, field string) string {
	val := ""
	for _, m := range v.AppMsgs("tls") {
		if s := m.Get(field); s != "" {
			val = s
		}
	}
	return val
}

// rstAfterClose checks the end of a TLS connection: the client's kernel
// sends RST if and only if the server's close_notify arrived after the
// client's socket was closed — after its FIN left, or with no FIN at all
// (close() with unread data sends RST instead) — and then after that alert.
func rstAfterClose(v *check.View) (bool, i18n.Text) {
	finAt, alertAt, rstAt := -1, -1, -1
	for i, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil:
		case p.Lab.From == client && p.Flags.Has(decode.FIN) && finAt < 0:
			finAt = i
		case p.Lab.From == server && p.App != nil && strings.Contains(p.App.Summary(), "close_notify"):
			alertAt = i
		case p.Lab.From == client && p.Flags.Has(decode.RST) && rstAt < 0:
			rstAt = i
		}
	}
	if alertAt < 0 {
		return false, check.Say("no close_notify from the server", "服务器没有发出 close_notify")
	}
	closed := finAt < 0 || finAt < alertAt
	ok := closed == (rstAt >= 0) && (rstAt < 0 || rstAt > alertAt)
	return ok, check.Say("the client's socket was closed (FIN sent: %v) before the server's close_notify arrived: %v; client RST: %v", "服务器的 close_notify 到达之前客户端套接字已关闭(已发 FIN:%v):%v;客户端发出 RST:%v", check.Bool(finAt >= 0), check.Bool(closed), check.Bool(rstAt >= 0))
}
