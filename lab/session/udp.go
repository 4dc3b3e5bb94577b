package session

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// UDPConn is a UDP socket: unconnected (ListenUDP: sendto/recvfrom) or
// connected (DialUDP: send/recv, and ICMP errors come back as errors).
type UDPConn struct {
	s         *Session
	c         *net.UDPConn
	lane      string
	local     netip.AddrPort
	remote    netip.AddrPort // set for a connected socket
	connected bool
}

// ListenUDP opens an unconnected UDP socket for lane bound to port (0: one
// the kernel chooses) at the lane's address.
func (s *Session) ListenUDP(lane Lane, port uint16) (*UDPConn, error) {
	ap := s.AddrPort(lane, port)
	if err := s.over(); err != nil {
		return nil, fmt.Errorf("bind %s: %w", ap, err)
	}
	a := timeline.App{Lane: string(lane), Call: timeline.CallBind, Proto: decode.ProtoUDP, Socket: timeline.Socket{Local: ap}}
	call := s.begin(a)
	var c *net.UDPConn
	err := s.in(lane, func() (err error) { c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap)); return err })
	if err != nil {
		a.Err = errText(err)
		call.done(a)
		return nil, fmt.Errorf("bind udp %s: %w", ap, err)
	}
	u := &UDPConn{s: s, c: c, lane: string(lane), local: addrPort(c.LocalAddr())}
	s.cfg.Lanes.Set(u.local, string(lane))
	a.Socket = timeline.Socket{Local: u.local}
	call.done(a)
	s.track(u)
	return u, nil
}

// DialUDP opens a connected UDP socket from lane to port on lane to.
// connect() on UDP sends nothing: it only fixes the peer address (and lets
// ICMP errors reach the program as ECONNREFUSED).
func (s *Session) DialUDP(from, to Lane, port uint16) (*UDPConn, error) {
	return s.DialUDPAddr(from, s.AddrPort(to, port).String())
}

// DialUDPAddr is DialUDP to an address, for library code that has one (Go's
// resolver dialling its name server).
func (s *Session) DialUDPAddr(lane Lane, addr string) (*UDPConn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("connect udp %s: %w", addr, err)
	}
	if err := s.over(); err != nil {
		return nil, fmt.Errorf("connect udp %s: %w", addr, err)
	}
	a := timeline.App{Lane: string(lane), Call: timeline.CallConnect, Proto: decode.ProtoUDP, Socket: timeline.Socket{Remote: ap}, Detail: "no packet: UDP has no handshake"}
	call := s.begin(a)
	var c *net.UDPConn
	err = s.in(Lane(lane), func() (err error) { c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap)); return err })
	if err != nil {
		a.Err = errText(err)
		call.done(a)
		return nil, fmt.Errorf("connect udp %s: %w", addr, err)
	}
	u := &UDPConn{s: s, c: c, lane: string(lane), local: addrPort(c.LocalAddr()), remote: ap, connected: true}
	s.cfg.Lanes.Set(u.local, string(lane))
	a.Socket = u.Socket()
	call.done(a)
	s.track(u)
	return u, nil
}

// Socket is the socket's address pair (remote unset when unconnected).
func (u *UDPConn) Socket() timeline.Socket { return timeline.Socket{Local: u.local, Remote: u.remote} }

// UDP is the underlying socket, for what the session does not wrap.
func (u *UDPConn) UDP() *net.UDPConn { return u.c }

// Write sends one datagram on a connected socket.
func (u *UDPConn) Write(b []byte) (int, error) {
	a := timeline.App{Lane: u.lane, Call: timeline.CallSend, Proto: decode.ProtoUDP, Socket: u.Socket(), Detail: preview(b)}
	call := u.s.begin(a)
	n, err := u.c.Write(b)
	a.Bytes, a.Detail, a.Err = n, preview(b[:n]), errText(err)
	call.done(a)
	return n, err
}

// Read receives one datagram on a connected socket (or the pending ICMP error).
func (u *UDPConn) Read(b []byte) (int, error) {
	start := now()
	n, err := u.c.Read(b)
	if err != nil && u.s.ctx.Err() != nil {
		return n, errSessionClosed
	}
	u.s.returned(timeline.App{Lane: u.lane, Call: timeline.CallRecv, Proto: decode.ProtoUDP, Bytes: n, Socket: u.Socket(), Detail: preview(b[:n]), Err: errText(err), Dur: now().Sub(start)})
	return n, err
}

// WriteTo sends one datagram to addr.
func (u *UDPConn) WriteTo(b []byte, addr string) (int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0, fmt.Errorf("sendto %s: %w", addr, err)
	}
	a := timeline.App{Lane: u.lane, Call: timeline.CallSendto, Proto: decode.ProtoUDP, Socket: timeline.Socket{Local: u.local, Remote: ap}, Detail: preview(b)}
	call := u.s.begin(a)
	n, err := u.c.WriteToUDPAddrPort(b, ap)
	a.Bytes, a.Detail, a.Err = n, preview(b[:n]), errText(err)
	call.done(a)
	return n, err
}

// SendTo sends one datagram to port on lane to.
func (u *UDPConn) SendTo(b []byte, to Lane, port uint16) (int, error) {
	return u.WriteTo(b, u.s.AddrPort(to, port).String())
}

// ReadFrom receives one datagram and says who sent it.
func (u *UDPConn) ReadFrom(b []byte) (int, netip.AddrPort, error) {
	start := now()
	n, from, err := u.c.ReadFromUDPAddrPort(b)
	if err != nil && u.s.ctx.Err() != nil {
		return n, from, errSessionClosed
	}
	from = timeline.Unmap(from)
	u.s.returned(timeline.App{Lane: u.lane, Call: timeline.CallRecvfrom, Proto: decode.ProtoUDP, Bytes: n, Socket: timeline.Socket{Local: u.local, Remote: from}, Detail: preview(b[:n]), Err: errText(err), Dur: now().Sub(start)})
	return n, from, err
}

// Close closes the socket (nothing is sent: UDP has no close handshake).
func (u *UDPConn) Close() error {
	a := timeline.App{Lane: u.lane, Call: timeline.CallClose, Proto: decode.ProtoUDP, Socket: u.Socket(), Detail: "no packet"}
	call := u.s.begin(a)
	err := u.c.Close()
	if errors.Is(err, net.ErrClosed) {
		u.s.cfg.Clock.End(call.id)
		return nil
	}
	a.Err = errText(err)
	call.done(a)
	return err
}
