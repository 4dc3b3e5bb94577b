package appdecode

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// dnsMessage names one DNS message (a UDP datagram's payload, or one
// message of a TCP stream): "A? shop.lab id=0x1a2b" for a query,
// "A shop.lab = 127.0.0.80 ttl=300 id=0x1a2b" for an answer,
// "NXDOMAIN nope.lab id=..." when the name does not exist.
func dnsMessage(b []byte) item {
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		return item{proto: "dns", summary: "malformed DNS message (" + strconv.Itoa(len(b)) + " B)",
			fields: map[string]string{"error": err.Error()}}
	}
	id := fmt.Sprintf("0x%04x", m.Id)
	f := map[string]string{
		"id":     id,
		"opcode": dns.OpcodeToString[m.Opcode],
		"flags":  dnsFlags(&m),
	}
	var qs []string
	var qnames []string
	for _, q := range m.Question {
		qs = append(qs, strings.TrimSuffix(q.Name, ".")+" "+dns.ClassToString[q.Qclass]+" "+dns.TypeToString[q.Qtype])
		qnames = append(qnames, dns.TypeToString[q.Qtype]+"? "+strings.TrimSuffix(q.Name, "."))
	}
	f["question"] = strings.Join(qs, "\n")
	if opt := m.IsEdns0(); opt != nil {
		f["edns"] = "version " + strconv.Itoa(int(opt.Version())) + ", UDP payload " + strconv.Itoa(int(opt.UDPSize())) + " B"
	}
	if !m.Response {
		f["message"] = "query"
		return item{proto: "dns", summary: strings.Join(qnames, ", ") + " id=" + id, fields: f}
	}
	f["message"] = "response"
	f["rcode"] = dns.RcodeToString[m.Rcode]
	if len(m.Answer) > 0 {
		f["answers"] = rrText(m.Answer)
		f["ttl"] = strconv.FormatUint(uint64(m.Answer[0].Header().Ttl), 10)
	}
	if len(m.Ns) > 0 {
		f["authority"] = rrText(m.Ns)
		for _, rr := range m.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				// How long a resolver may remember the negative answer (RFC 2308 §5).
				f["negative_ttl"] = strconv.FormatUint(uint64(min(soa.Hdr.Ttl, soa.Minttl)), 10)
			}
		}
	}
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	if len(extra) > 0 {
		f["additional"] = rrText(extra)
	}
	qname := ""
	if len(m.Question) > 0 {
		qname = strings.TrimSuffix(m.Question[0].Name, ".")
	}
	var s string
	switch {
	case m.Rcode != dns.RcodeSuccess:
		s = dns.RcodeToString[m.Rcode] + " " + qname
	case len(m.Answer) == 0:
		t := ""
		if len(m.Question) > 0 {
			t = dns.TypeToString[m.Question[0].Qtype] + " "
		}
		s = t + qname + ": no records"
	default:
		var parts []string
		for i, rr := range m.Answer {
			if i == 3 {
				parts = append(parts, "+"+strconv.Itoa(len(m.Answer)-3)+" more")
				break
			}
			parts = append(parts, answerText(rr))
		}
		s = strings.Join(parts, ", ")
	}
	return item{proto: "dns", summary: s + " id=" + id, fields: f}
}

// answerText is "A shop.lab = 127.0.0.80 ttl=300".
func answerText(rr dns.RR) string {
	h := rr.Header()
	data := strings.TrimPrefix(rr.String(), h.String())
	return dns.TypeToString[h.Rrtype] + " " + strings.TrimSuffix(h.Name, ".") + " = " +
		strings.TrimSuffix(strings.TrimSpace(data), ".") + " ttl=" + strconv.FormatUint(uint64(h.Ttl), 10)
}

func rrText(rrs []dns.RR) string {
	lines := make([]string, len(rrs))
	for i, rr := range rrs {
		lines[i] = strings.Join(strings.Fields(rr.String()), " ")
	}
	return strings.Join(lines, "\n")
}

func dnsFlags(m *dns.Msg) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, " ")
}

// dnsStream decodes DNS over TCP: each message after a two-byte length.
type dnsStream struct {
	buf  []byte
	lost bool
	part bool
}

func (d *dnsStream) feed(b []byte, e *emitter) {
	if d.lost {
		return
	}
	d.buf = append(d.buf, b...)
	for len(d.buf) >= 2 {
		n := int(d.buf[0])<<8 | int(d.buf[1])
		if len(d.buf) < 2+n {
			break
		}
		it := dnsMessage(d.buf[2 : 2+n])
		it.partial = d.part
		e.add(it)
		d.buf = d.buf[2+n:]
	}
	if len(d.buf) == 0 {
		d.buf = nil
	}
}

func (d *dnsStream) gap(n int, e *emitter) {
	d.part = true
	if !d.lost {
		d.lost = true
		e.add(item{proto: "dns", summary: "bytes not captured: stopped decoding this direction", partial: true})
	}
	d.buf = nil
}

func (d *dnsStream) end(e *emitter) {
	if !d.lost && len(d.buf) > 0 {
		e.add(item{proto: "dns", summary: "connection ended inside a message", partial: true})
	}
	d.buf = nil
}
