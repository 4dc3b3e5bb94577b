package labsvc

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestServeDNS asks the lab zone's server, on a loopback socket, what the
// dns lesson asks and what it does not.
func TestServeDNS(t *testing.T) {
	addr := startDNS(t, LabZone())
	const soa = "lab.\t300\tIN\tSOA\tns.lab. admin.lab. 2024010101 3600 600 86400 60"
	for _, tc := range []struct {
		name      string
		qtype     uint16
		rcode     int
		aa        bool
		answer    []string
		authority []string
	}{
		{"shop.lab.", dns.TypeA, dns.RcodeSuccess, true, []string{"shop.lab.\t300\tIN\tA\t127.0.0.80"}, nil},
		{"SHOP.Lab.", dns.TypeA, dns.RcodeSuccess, true, []string{"shop.lab.\t300\tIN\tA\t127.0.0.80"}, nil},
		{"shop.lab.", dns.TypeAAAA, dns.RcodeSuccess, true, nil, []string{soa}},
		{"www.shop.lab.", dns.TypeA, dns.RcodeSuccess, true, []string{"www.shop.lab.\t300\tIN\tCNAME\tshop.lab.", "shop.lab.\t300\tIN\tA\t127.0.0.80"}, nil},
		{"www.shop.lab.", dns.TypeCNAME, dns.RcodeSuccess, true, []string{"www.shop.lab.\t300\tIN\tCNAME\tshop.lab."}, nil},
		{"lab.", dns.TypeNS, dns.RcodeSuccess, true, []string{"lab.\t300\tIN\tNS\tns.lab."}, nil},
		{"ns.lab.", dns.TypeA, dns.RcodeSuccess, true, []string{"ns.lab.\t300\tIN\tA\t127.0.0.53"}, nil},
		{"nope.lab.", dns.TypeA, dns.RcodeNameError, true, nil, []string{soa}},
		{"example.com.", dns.TypeA, dns.RcodeRefused, false, nil, nil},
	} {
		t.Run(tc.name+" "+dns.TypeToString[tc.qtype], func(t *testing.T) {
			r := exchange(t, addr, tc.name, tc.qtype)
			if r.Rcode != tc.rcode || r.Authoritative != tc.aa {
				t.Errorf("rcode %s aa %v, want %s aa %v", dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tc.rcode], tc.aa)
			}
			if got := rrStrings(r.Answer); strings.Join(got, "\n") != strings.Join(tc.answer, "\n") {
				t.Errorf("answer %q, want %q", got, tc.answer)
			}
			if got := rrStrings(r.Ns); strings.Join(got, "\n") != strings.Join(tc.authority, "\n") {
				t.Errorf("authority %q, want %q", got, tc.authority)
			}
		})
	}
}

// TestServeDNSOddMessages: a datagram that is not DNS gets no answer (and
// the server keeps serving), two questions get FORMERR, EDNS0 gets EDNS0.
func TestServeDNSOddMessages(t *testing.T) {
	addr := startDNS(t, LabZone())
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("not dns")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if n, err := c.Read(make([]byte, 512)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("a non-DNS datagram got %d bytes back (%v), want no answer", n, err)
	}

	two := new(dns.Msg)
	two.SetQuestion("shop.lab.", dns.TypeA)
	two.Question = append(two.Question, dns.Question{Name: "ns.lab.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if r, _, err := new(dns.Client).Exchange(two, addr); err != nil || r.Rcode != dns.RcodeFormatError {
		t.Errorf("two questions: %v %v, want FORMERR", r, err)
	}

	e := new(dns.Msg)
	e.SetQuestion("shop.lab.", dns.TypeA)
	e.SetEdns0(4096, false)
	r, _, err := new(dns.Client).Exchange(e, addr)
	if err != nil {
		t.Fatal(err)
	}
	if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != 1232 {
		t.Errorf("EDNS0 query: answer's OPT %v, want a 1232-byte EDNS0", opt)
	}
	if r := exchange(t, addr, "shop.lab.", dns.TypeA); r.IsEdns0() != nil {
		t.Error("a query without EDNS0 got an OPT record")
	}
}

// TestResolver: Go's stub resolver, dialled to the lab's server, finds what
// the zone says, over UDP.
func TestResolver(t *testing.T) {
	addr := startDNS(t, LabZone())
	var mu sync.Mutex
	var dials []string
	var d net.Dialer
	res := NewResolver(addr, func(ctx context.Context, network, a string) (net.Conn, error) {
		mu.Lock()
		dials = append(dials, network+" "+a)
		mu.Unlock()
		return d.DialContext(ctx, network, a)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		want string // "": no such host
	}{
		{"shop.lab.", "127.0.0.80"},
		{"www.shop.lab.", "127.0.0.80"},
		{"ns.lab.", "127.0.0.53"},
		{"nope.lab.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ips, err := res.LookupNetIP(ctx, "ip4", tc.name)
			if tc.want == "" {
				var de *net.DNSError
				if !errors.As(err, &de) || !de.IsNotFound {
					t.Errorf("got %v %v, want no such host", ips, err)
				}
				return
			}
			if err != nil || len(ips) != 1 || ips[0].Unmap() != netip.MustParseAddr(tc.want) {
				t.Errorf("got %v %v, want %s", ips, err, tc.want)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dials) == 0 {
		t.Fatal("the resolver never dialled")
	}
	for _, d := range dials {
		if d != "udp "+addr {
			t.Errorf("dialled %q, want udp %s", d, addr)
		}
	}
}
