package scenarios

// What the application scenarios (http, https, dns, browse, url) share: the
// lab's services (lab/labsvc: the DNS zone and server, the web site, the
// HTTP client, TLS material) started on the session's recorded sockets, and
// where today's run puts their lanes.

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"

	"github.com/netlab/netlab/lab/labsvc"
	"github.com/netlab/netlab/lab/session"
)

// labHosts puts the application scenarios' lanes on the loopback addresses
// the lab zone gives them (ns.lab and shop.lab), so the ladder shows who
// talks to whom: 127.0.0.53 is also where systemd-resolved listens on many
// Linux machines.
var labHosts = map[string]netip.Addr{
	resolver: netip.MustParseAddrPort(labsvc.ResolverAddr).Addr(),
	server:   netip.MustParseAddr(labsvc.WebIP),
}

const siteName = labsvc.SiteName

// serveHTTP serves h on ln (over TLS if cfg is set) until the session ends.
func serveHTTP(s *session.Session, ln *session.Listener, h http.Handler, cfg *tls.Config) {
	s.Go(func() error { return labsvc.Serve(ln.NetListener(), h, cfg) })
}

// newClient is the lab's HTTP client, connecting from lane.
func newClient(s *session.Session, lane session.Lane, o labsvc.ClientOptions) (*http.Client, *http.Transport) {
	return labsvc.NewClient(s.Dialer(lane), o)
}

// newResolver is Go's own stub resolver asking port 53 of lane to, from
// lane's sockets.
func newResolver(s *session.Session, lane, to session.Lane) *net.Resolver {
	return labsvc.NewResolver(s.AddrPort(to, 53).String(), s.Dialer(lane))
}

// get makes one request and reads the whole answer, until the run ends.
func get(s *session.Session, cl *http.Client, method, url, body string, hdr ...string) (*http.Response, []byte, error) {
	return labsvc.Fetch(s.Context(), cl, method, url, body, hdr...)
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

// serveLabZone starts the resolver lane's DNS server for the lab zone.
func serveLabZone(s *session.Session) error {
	u, err := s.ListenUDP(resolver, 53)
	if err != nil {
		return err
	}
	s.Go(func() error { return labsvc.ServeDNS(u.NetConn(), labsvc.LabZone()) })
	return nil
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
