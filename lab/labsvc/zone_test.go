package labsvc

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestLabZoneText holds the zone's source and its rendering equal, so the
// text a lesson quotes reads as the zone was written.
func TestLabZoneText(t *testing.T) {
	if got := LabZone().Render(""); got != labZoneText {
		t.Errorf("Render() =\n%s\nwant the zone's source\n%s", got, labZoneText)
	}
	for _, l := range strings.SplitAfter(strings.TrimSuffix(LabZone().Render("  "), "\n"), "\n") {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("line %q lacks the indent", l)
		}
	}
}

// TestLabZoneAddresses: the zone gives the names the lab's constants give.
func TestLabZoneAddresses(t *testing.T) {
	z := LabZone()
	hosts := z.Hosts()
	resolver := netip.MustParseAddrPort(ResolverAddr).Addr()
	for name, want := range map[string]netip.Addr{SiteName: netip.MustParseAddr(WebIP), "ns.lab": resolver} {
		if hosts[name] != want {
			t.Errorf("zone: %s is %v, want %v", name, hosts[name], want)
		}
	}
	if len(hosts) != 2 {
		t.Errorf("Hosts() = %v, want 2 names", hosts)
	}
	if z.Origin() != "lab." {
		t.Errorf("Origin() = %q", z.Origin())
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name, zone, want string
	}{
		{
			name: "one TTL, names relative to the origin",
			zone: "$ORIGIN Example.\n$TTL 60\n@ IN SOA ns.example. me.example. 1 2 3 4 5\nwww IN A 192.0.2.1\n",
			want: "$ORIGIN example.\n$TTL 60\n@    IN SOA  ns.example. me.example. 1 2 3 4 5\nwww  IN A    192.0.2.1\n",
		},
		{
			name: "a TTL that is not the SOA's is written",
			zone: "$ORIGIN t.\n$TTL 300\n@ IN SOA ns.t. me.t. 1 2 3 4 5\nmail 30 IN MX 10 mx.t.\nmx IN AAAA 2001:db8::1\n",
			want: "$ORIGIN t.\n$TTL 300\n@        IN SOA  ns.t. me.t. 1 2 3 4 5\nmail 30  IN MX   10 mx.t.\nmx       IN AAAA 2001:db8::1\n",
		},
		{
			name: "a name outside the origin stays absolute",
			zone: "$ORIGIN t.\n$TTL 300\n@ IN SOA ns.t. me.t. 1 2 3 4 5\nother.example. IN TXT \"hi there\"\n",
			want: "$ORIGIN t.\n$TTL 300\n@               IN SOA  ns.t. me.t. 1 2 3 4 5\nother.example.  IN TXT  \"hi there\"\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, err := ParseZone(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			got := z.Render("")
			if got != tc.want {
				t.Errorf("Render() =\n%s\nwant\n%s", got, tc.want)
			}
			back, err := ParseZone(got)
			if err != nil {
				t.Fatalf("the rendering does not parse: %v", err)
			}
			if !slices.EqualFunc(rrStrings(back.Records()), rrStrings(z.Records()), strings.EqualFold) { // names are case-insensitive
				t.Errorf("the rendering holds %v, the zone %v", rrStrings(back.Records()), rrStrings(z.Records()))
			}
		})
	}
}

func TestParseZoneErrors(t *testing.T) {
	for _, tc := range []struct{ name, zone, want string }{
		{"no SOA", "$ORIGIN t.\n$TTL 300\nwww IN A 192.0.2.1\n", "no SOA"},
		{"two SOAs", "$ORIGIN t.\n$TTL 300\n@ IN SOA ns.t. me.t. 1 2 3 4 5\n@ IN SOA ns.t. me.t. 1 2 3 4 5\n", "two SOA"},
		{"bad record", "$ORIGIN t.\n$TTL 300\n@ IN SOA ns.t. me.t. 1 2 3 4 5\nwww IN A not-an-address\n", "parse zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseZone(tc.zone)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseZone: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestServedRecordsAreQuoted asks the running server every name of the zone
// with every type and finds each record it serves in the text a lesson
// quotes (Render). The lesson text before the zone was rendered left out
// the NS record the server serves: the same check finds that.
func TestServedRecordsAreQuoted(t *testing.T) {
	z := LabZone()
	addr := startDNS(t, z)
	served := map[string]dns.RR{}
	for _, rr := range z.Records() {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeTXT} {
			r := exchange(t, addr, rr.Header().Name, qt)
			for _, a := range append(r.Answer, r.Ns...) {
				served[a.String()] = a
			}
		}
	}
	if len(served) != len(z.Records()) {
		t.Errorf("the server serves %d records, the zone holds %d", len(served), len(z.Records()))
	}
	oldLesson := strings.Replace(labZoneText, "@         IN NS   ns.lab.\n", "", 1)
	for _, tc := range []struct {
		name, text  string
		wantMissing []string
	}{
		{"the rendered zone", z.Render("  "), nil},
		{"the lesson's text before it was rendered", oldLesson, []string{"lab.\t300\tIN\tNS\tns.lab."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := missingRecords(t, served, tc.text); !slices.Equal(got, tc.wantMissing) {
				t.Errorf("served but not in the text: %q, want %q", got, tc.wantMissing)
			}
		})
	}
}

// missingRecords lists the served records text does not hold.
func missingRecords(t *testing.T, served map[string]dns.RR, text string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	quoted, err := ParseZone(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatalf("the quoted zone does not parse: %v", err)
	}
	have := map[string]bool{}
	for _, s := range rrStrings(quoted.Records()) {
		have[s] = true
	}
	var out []string
	for s := range served {
		if !have[s] {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

// startDNS serves z on a loopback UDP socket until the test ends.
func startDNS(t testing.TB, z *Zone) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ServeDNS(pc, z) }()
	t.Cleanup(func() {
		pc.Close()
		if err := <-done; err == nil {
			t.Error("ServeDNS returned nil after its socket closed")
		}
	})
	return pc.LocalAddr().String()
}

// exchange asks addr one question over UDP.
func exchange(t testing.TB, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	r, _, err := new(dns.Client).Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}
