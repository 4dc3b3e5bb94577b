package scenarios

// What the application scenarios (http, https, dns, browse, url) share: a
// web server and an HTTP client from net/http, a DNS server for a made-up
// zone and Go's own stub resolver, a certificate made at run time — all on
// the session's recorded sockets — and the check helpers that read what the
// app decoder found in the capture.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/netlab/netlab/lab/appdecode"
	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/session"
)

// labHosts puts the application scenarios' lanes on loopback addresses of
// their own, so the ladder shows who talks to whom: 127.0.0.53 is also where
// systemd-resolved listens on many Linux machines. The zone below gives the
// same addresses.
var labHosts = map[string]netip.Addr{
	resolver: netip.MustParseAddr("127.0.0.53"),
	server:   netip.MustParseAddr("127.0.0.80"),
}

const siteName = "shop.lab"

// serveHTTP serves h on ln with net/http until the session ends.
func serveHTTP(s *session.Session, ln *session.Listener, h http.Handler, cfg *tls.Config) *http.Server {
	srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
	l := ln.NetListener()
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	s.Go(func() error {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return srv
}

// clientOptions shape an HTTP client.
type clientOptions struct {
	close    bool                // Connection: close (no keep-alive)
	resolver *net.Resolver       // resolve host names through DNS; nil: hosts maps them
	hosts    map[string]string   // host -> IP, like /etc/hosts, used when resolver is nil
	tls      *tls.Config         // for https URLs
	onLookup func(host string)   // called before a name is looked up
	onDial   func(ip netip.Addr) // called with the address dialled
}

// newClient returns an HTTP/1.1 client whose connections are the session's
// recorded sockets from lane. Go's TCP keep-alive stays off (the session's
// sockets); HTTP keep-alive (reusing a connection) is on unless o.close.
func newClient(s *session.Session, lane session.Lane, o clientOptions) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DisableKeepAlives:     o.close,
		MaxConnsPerHost:       1,
		ExpectContinueTimeout: 2 * time.Second,
		TLSClientConfig:       o.tls,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if o.onLookup != nil && o.resolver != nil {
				o.onLookup(host)
			}
			ip, err := lookup(ctx, host, o)
			if err != nil {
				return nil, err
			}
			if o.onDial != nil {
				o.onDial(ip)
			}
			c, err := s.DialAddr(lane, net.JoinHostPort(ip.String(), port))
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, tr
}

func lookup(ctx context.Context, host string, o clientOptions) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, nil
	}
	if o.resolver == nil {
		ip, ok := o.hosts[host]
		if !ok {
			return netip.Addr{}, fmt.Errorf("no address for %s", host)
		}
		return netip.ParseAddr(ip)
	}
	// The trailing dot makes the name absolute: no search domain from
	// /etc/resolv.conf is tried, on any machine.
	ips, err := o.resolver.LookupNetIP(ctx, "ip4", dns.Fqdn(host))
	if err != nil {
		return netip.Addr{}, err
	}
	return ips[0].Unmap(), nil
}

// get fetches url and reads the whole body.
func get(cl *http.Client, method, url string, body string, hdr ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, b, fmt.Errorf("%s %s: body: %w", method, url, err)
	}
	return resp, b, nil
}

// The made-up zone the scenarios' DNS server answers for, in zone-file
// syntax (RFC 1035 §5).
const labZone = `$ORIGIN lab.
$TTL 300
@         IN SOA  ns.lab. admin.lab. 2024010101 3600 600 86400 60
@         IN NS   ns.lab.
ns        IN A    127.0.0.53
shop      IN A    127.0.0.80
www.shop  IN CNAME shop.lab.
`

// zone is an authoritative DNS zone.
type zone struct {
	origin string
	soa    dns.RR
	rrs    map[string][]dns.RR // by owner name
}

func parseZone(text string) (*zone, error) {
	z := &zone{rrs: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		z.rrs[name] = append(z.rrs[name], rr)
		if soa, ok := rr.(*dns.SOA); ok {
			z.soa, z.origin = soa, name
		}
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	if z.soa == nil {
		return nil, errors.New("zone without SOA")
	}
	return z, nil
}

// answer is what an authoritative server says to q.
func (z *zone) answer(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	if opt := q.IsEdns0(); opt != nil {
		r.SetEdns0(1232, false)
	}
	if len(q.Question) != 1 {
		r.Rcode = dns.RcodeFormatError
		return r
	}
	qq := q.Question[0]
	name := strings.ToLower(qq.Name)
	if !dns.IsSubDomain(z.origin, name) {
		r.Rcode = dns.RcodeRefused
		return r
	}
	r.Authoritative = true
	for hops := 0; hops < 8; hops++ {
		rrs, exists := z.rrs[name]
		if !exists {
			if len(r.Answer) == 0 {
				r.Rcode = dns.RcodeNameError
			}
			r.Ns = []dns.RR{z.soa}
			return r
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if rr.Header().Rrtype == qq.Qtype {
				r.Answer = append(r.Answer, rr)
				found = true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil || qq.Qtype == dns.TypeCNAME {
			if !found {
				r.Ns = []dns.RR{z.soa} // the name exists, not with this type
			}
			return r
		}
		r.Answer = append(r.Answer, cname)
		name = strings.ToLower(cname.Target)
	}
	return r
}

// serveDNS answers queries for z over UDP on lane's port 53 until the
// session ends.
func serveDNS(s *session.Session, lane session.Lane, z *zone) error {
	u, err := s.ListenUDP(lane, 53)
	if err != nil {
		return err
	}
	s.Go(func() error {
		buf := make([]byte, 1500)
		for {
			n, from, err := u.ReadFrom(buf)
			if err != nil {
				return err
			}
			var q dns.Msg
			if q.Unpack(buf[:n]) != nil {
				continue // not DNS: a real server drops it too
			}
			out, err := z.answer(&q).Pack()
			if err != nil {
				return err
			}
			if _, err := u.WriteTo(out, from.String()); err != nil {
				return err
			}
		}
	})
	return nil
}

// newResolver is Go's own stub resolver (the one a Go program uses with
// CGO_ENABLED=0) sending its queries to port 53 of lane to from lane's
// sockets. It still reads /etc/hosts first, as /etc/nsswitch.conf says
// ("hosts: files dns").
func newResolver(s *session.Session, lane, to session.Lane) *net.Resolver {
	server := s.AddrPort(to, 53).String()
	return &net.Resolver{PreferGo: true, StrictErrors: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			if strings.HasPrefix(network, "tcp") {
				c, err := s.DialAddr(lane, server)
				if err != nil {
					return nil, err
				}
				return c, nil
			}
			u, err := s.DialUDPAddr(lane, server)
			if err != nil {
				return nil, err
			}
			return u.NetConn(), nil
		}}
}

// newCert makes a self-signed ECDSA P-256 certificate for host, valid for
// an hour, and the pool a client needs to trust it.
func newCert(host string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"netlab lesson"}},
		DNSNames:              []string{host},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool, nil
}

// appMsg is one application message the decoder named in the capture.
type appMsg struct {
	p      *decode.Packet
	i      int // position among the packet's messages, from 1
	fields map[string]string
}

func (m appMsg) get(k string) string { return m.fields[k] }

// appMsgs lists the messages of proto ("http", "tls", "dns") in capture
// order, one per message even where a packet carries several.
func appMsgs(v *check.View, proto string) []appMsg {
	var out []appMsg
	for _, p := range v.Packets() {
		if p.App == nil || p.App.Proto != proto {
			continue
		}
		for i, f := range appdecode.Messages(p.App) {
			out = append(out, appMsg{p: p, i: i + 1, fields: f})
		}
	}
	return out
}

// httpKind keeps the HTTP messages of one kind ("request" or "response").
func httpKind(ms []appMsg, kind string) []appMsg {
	var out []appMsg
	for _, m := range ms {
		if m.get("message") == kind && (m.get("method") != "" || m.get("status") != "") {
			out = append(out, m)
		}
	}
	return out
}

// wire is every byte the packets of v carried, frames whole (headers
// included), in capture order: what an eavesdropper on the link records.
func wire(v *check.View) []byte {
	var b bytes.Buffer
	for _, p := range v.Packets() {
		b.Write(p.Data)
	}
	return b.Bytes()
}

// stream is the payload one side sent on TCP connections in v, in order
// (retransmissions left out), so text split across segments is found too.
func stream(v *check.View, from string) []byte {
	var b bytes.Buffer
	for _, p := range v.Packets(check.TCP, check.From(from), check.WithPayload) {
		if p.Expert&decode.Retransmission == 0 {
			b.Write(p.Payload())
		}
	}
	return b.Bytes()
}

// syns counts connection attempts (SYN without ACK).
func syns(v *check.View) []*decode.Packet {
	var out []*decode.Packet
	for _, p := range v.Packets(check.TCP, check.HasFlags(decode.SYN)) {
		if !p.Flags.Has(decode.ACK) {
			out = append(out, p)
		}
	}
	return out
}

// sortedKeys lists a set's members in order, for check details.
func sortedKeys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// serveLabZone starts the resolver lane's DNS server for the made-up lab. zone.
func serveLabZone(s *session.Session) error {
	z, err := parseZone(labZone)
	if err != nil {
		return err
	}
	return serveDNS(s, resolver, z)
}

// serveLabSite starts the lab zone's resolver and the server lane's web
// server on port.
func serveLabSite(s *session.Session, port uint16, h http.Handler) error {
	if err := serveLabZone(s); err != nil {
		return err
	}
	ln, err := s.Listen(server, port)
	if err != nil {
		return err
	}
	serveHTTP(s, ln, h, nil)
	return nil
}
