package labsvc

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// ServeDNS answers the DNS queries that arrive on pc for z, one datagram
// back to each asker, until reading fails (pc closed): it returns that
// error. A datagram that is not a DNS message is dropped, as a real server
// drops it.
func ServeDNS(pc net.PacketConn, z *Zone) error {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		var q dns.Msg
		if q.Unpack(buf[:n]) != nil {
			continue
		}
		out, err := z.Answer(&q).Pack()
		if err != nil {
			return fmt.Errorf("dns answer to %s: %w", from, err)
		}
		if _, err := pc.WriteTo(out, from); err != nil {
			return err
		}
	}
}

// NewResolver is Go's own stub resolver (the one a Go program uses with
// CGO_ENABLED=0) sending its queries to server ("127.0.0.53:53") over
// connections from dial, whatever name server /etc/resolv.conf names. It
// still reads /etc/hosts first, as /etc/nsswitch.conf says ("hosts: files
// dns").
//
// dial is called with network "udp" or "tcp" and addr server. Go's resolver
// frames messages as over UDP (one per datagram) only when the conn it gets
// is also a net.PacketConn; for any other conn it frames them as over TCP.
func NewResolver(server string, dial DialFunc) *net.Resolver {
	return &net.Resolver{PreferGo: true, StrictErrors: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial(ctx, network, server)
		}}
}

// lookup resolves host to one IPv4 address: an address literal is itself;
// with no resolver, hosts says; else the resolver asks DNS.
func lookup(ctx context.Context, host string, res *net.Resolver, hosts map[string]netip.Addr) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, nil
	}
	if res == nil {
		ip, ok := hosts[strings.ToLower(host)]
		if !ok {
			return netip.Addr{}, fmt.Errorf("no address for %s", host)
		}
		return ip, nil
	}
	// The trailing dot makes the name absolute: no search domain from
	// /etc/resolv.conf is tried, on any machine.
	ips, err := res.LookupNetIP(ctx, "ip4", dns.Fqdn(host))
	if err != nil {
		return netip.Addr{}, err
	}
	return ips[0].Unmap(), nil
}
