package session

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"
)

// NetListener returns the listener as a net.Listener, so a real server
// (net/http, crypto/tls) can serve on it while every accept, read, write and
// close is recorded. Accept returns *Conn values.
func (l *Listener) NetListener() net.Listener { return netListener{l} }

type netListener struct{ l *Listener }

func (n netListener) Accept() (net.Conn, error) {
	c, err := n.l.Accept()
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (n netListener) Close() error   { return n.l.Close() }
func (n netListener) Addr() net.Addr { return net.TCPAddrFromAddrPort(n.l.addr) }

// NetConn returns the socket as a net.Conn that is also a net.PacketConn,
// for library code that takes those. Go's DNS resolver, given a connection
// that is a net.PacketConn, speaks DNS over UDP (one message per datagram);
// given any other net.Conn it would frame messages as over TCP.
func (u *UDPConn) NetConn() *PacketConn { return &PacketConn{u} }

// PacketConn is a UDPConn seen as a net.Conn and a net.PacketConn; its
// calls are recorded as the UDPConn's are.
type PacketConn struct{ u *UDPConn }

var (
	_ net.Conn       = (*PacketConn)(nil)
	_ net.PacketConn = (*PacketConn)(nil)
)

func (p *PacketConn) Read(b []byte) (int, error)  { return p.u.Read(b) }
func (p *PacketConn) Write(b []byte) (int, error) { return p.u.Write(b) }
func (p *PacketConn) Close() error                { return p.u.Close() }

// ReadFrom receives one datagram (recorded as recvfrom).
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := p.u.ReadFrom(b)
	if !from.IsValid() {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), err
}

// WriteTo sends one datagram to addr (recorded as sendto).
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return 0, &net.OpError{Op: "sendto", Net: "udp", Addr: addr, Err: err}
	}
	return p.u.WriteTo(b, ap.String())
}

func (p *PacketConn) LocalAddr() net.Addr { return p.u.c.LocalAddr() }

// RemoteAddr is the connected peer, or nil for an unconnected socket.
func (p *PacketConn) RemoteAddr() net.Addr {
	if !p.u.connected {
		return nil
	}
	return net.UDPAddrFromAddrPort(p.u.remote)
}

func (p *PacketConn) SetDeadline(t time.Time) error      { return p.u.c.SetDeadline(t) }
func (p *PacketConn) SetReadDeadline(t time.Time) error  { return p.u.c.SetReadDeadline(t) }
func (p *PacketConn) SetWriteDeadline(t time.Time) error { return p.u.c.SetWriteDeadline(t) }

// Dialer returns a dial function for library code that opens its own
// connections (an HTTP client, a DNS resolver): it connects from lane over
// the session's recorded sockets, TCP for "tcp*" networks and a connected
// UDP socket otherwise. Its shape is the one net.Resolver.Dial and
// http.Transport.DialContext take. A UDP connection it returns is also a
// net.PacketConn, so Go's resolver speaks DNS over UDP on it.
func (s *Session) Dialer(lane Lane) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(_ context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(network, "tcp") {
			c, err := s.DialAddr(lane, addr)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return c, nil
		}
		u, err := s.DialUDPAddr(lane, addr)
		if err != nil {
			return nil, err
		}
		return u.NetConn(), nil
	}
}
