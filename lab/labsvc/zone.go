package labsvc

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// labZoneText is the made-up zone the lab's DNS server is authoritative
// for, in zone-file syntax (RFC 1035 §5). It is written as Render writes it
// (a test holds them equal), so the lesson's copy reads like this one.
const labZoneText = `$ORIGIN lab.
$TTL 300
@         IN SOA  ns.lab. admin.lab. 2024010101 3600 600 86400 60
@         IN NS   ns.lab.
ns        IN A    127.0.0.53
shop      IN A    127.0.0.80
www.shop  IN CNAME shop.lab.
`

// Zone is an authoritative DNS zone: its records, in the order they were
// written, and an index by owner name. A Zone is not changed after
// ParseZone, so servers may share one.
type Zone struct {
	origin string // lower case, fully qualified
	soa    *dns.SOA
	all    []dns.RR
	rrs    map[string][]dns.RR // by lower-case owner name
}

// LabZone is the lab's zone (lab.): SOA and NS, ns.lab and shop.lab
// addresses, and www.shop.lab an alias of shop.lab. Every TTL is 300 s; the
// SOA's last field gives the negative-caching TTL, 60 s.
func LabZone() *Zone {
	z, err := ParseZone(labZoneText)
	if err != nil {
		panic("labsvc: the lab zone does not parse: " + err.Error()) // a constant, covered by tests
	}
	return z
}

// ParseZone reads a zone in zone-file syntax. It must hold one SOA record,
// whose owner is the zone's origin.
func ParseZone(text string) (*Zone, error) {
	z := &Zone{rrs: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		z.all = append(z.all, rr)
		z.rrs[name] = append(z.rrs[name], rr)
		if soa, ok := rr.(*dns.SOA); ok {
			if z.soa != nil {
				return nil, errors.New("parse zone: two SOA records")
			}
			z.soa, z.origin = soa, name
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("parse zone: %w", err)
	}
	if z.soa == nil {
		return nil, errors.New("parse zone: no SOA record")
	}
	return z, nil
}

// Origin is the zone's name, fully qualified ("lab.").
func (z *Zone) Origin() string { return z.origin }

// Records returns the zone's records in the order they were written.
func (z *Zone) Records() []dns.RR {
	out := make([]dns.RR, len(z.all))
	copy(out, z.all)
	return out
}

// Hosts maps every name with an A record to its (first) address, names
// written without the trailing dot ("shop.lab"): the zone as an /etc/hosts
// file would say it, for a client that skips DNS.
func (z *Zone) Hosts() map[string]netip.Addr {
	out := map[string]netip.Addr{}
	for _, rr := range z.all {
		a, ok := rr.(*dns.A)
		if !ok {
			continue
		}
		name := strings.TrimSuffix(strings.ToLower(a.Hdr.Name), ".")
		if _, seen := out[name]; seen {
			continue
		}
		if ip, ok := netip.AddrFromSlice(a.A); ok {
			out[name] = ip.Unmap()
		}
	}
	return out
}

// Render writes the zone in zone-file syntax, each line after indent:
// $ORIGIN and $TTL (the SOA's TTL), then every record in order, its owner
// relative to the origin ("@" for the origin itself), its TTL only where it
// differs from $TTL. Zone-file syntax is the same in every language, so a
// lesson quotes the same text in English and Chinese.
func (z *Zone) Render(indent string) string {
	ttl := z.soa.Hdr.Ttl
	owners := make([]string, len(z.all))
	width := 0
	for i, rr := range z.all {
		owners[i] = z.relative(rr.Header().Name)
		if rr.Header().Ttl != ttl {
			owners[i] += " " + strconv.FormatUint(uint64(rr.Header().Ttl), 10)
		}
		width = max(width, len(owners[i]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s$ORIGIN %s\n%s$TTL %d\n", indent, z.origin, indent, ttl)
	for i, rr := range z.all {
		h := rr.Header()
		fmt.Fprintf(&b, "%s%-*s  %s %-4s %s\n", indent, width, owners[i], dns.ClassToString[h.Class], dns.TypeToString[h.Rrtype], rdata(rr))
	}
	return b.String()
}

// relative is name as a zone file under the origin writes it.
func (z *Zone) relative(name string) string {
	name = strings.ToLower(name)
	switch {
	case name == z.origin:
		return "@"
	case strings.HasSuffix(name, "."+z.origin):
		return strings.TrimSuffix(name, "."+z.origin)
	}
	return name
}

// rdata is a record's data as the zone file writes it ("ns.lab. admin.lab.
// 2024010101 3600 600 86400 60" for the SOA).
func rdata(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// Answer is what an authoritative server for z says to q: the records of
// the asked name and type; for a CNAME, the alias and then what its target
// holds (up to 8 hops); NOERROR with no answer and the SOA in the authority
// section for a name without that type; NXDOMAIN with the SOA for a name
// that does not exist; REFUSED for a name outside the zone; FORMERR unless
// q asks exactly one question. An EDNS0 query gets an EDNS0 answer (1232
// bytes, the DNS flag day's size).
func (z *Zone) Answer(q *dns.Msg) *dns.Msg {
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
