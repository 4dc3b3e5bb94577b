package sockstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/tcpstate"
)

// Constants from linux/inet_diag.h that golang.org/x/sys/unix does not define.
const (
	inetDiagInfo      = 2  // INET_DIAG_INFO: struct tcp_info
	inetDiagVegasInfo = 3  // INET_DIAG_VEGASINFO: struct tcpvegas_info; its bit also asks for BBR's
	inetDiagCong      = 4  // INET_DIAG_CONG: the congestion-control algorithm's name
	inetDiagBBRInfo   = 16 // INET_DIAG_BBRINFO: struct tcp_bbr_info (no request bit of its own)

	// requestExt asks for tcp_info, the algorithm's name and its own info
	// (BBR and DCTCP answer the VEGASINFO bit too), as ss -i does.
	requestExt = 1<<(inetDiagInfo-1) | 1<<(inetDiagVegasInfo-1) | 1<<(inetDiagCong-1)

	sizeofReq = 56 // struct inet_diag_req_v2
	sizeofMsg = 72 // struct inet_diag_msg

	// allStates selects TCP_ESTABLISHED (1) through TCP_NEW_SYN_RECV (12).
	// Request sockets (connections in SYN-RECEIVED) are in state
	// TCP_NEW_SYN_RECV. Current kernels add that bit themselves when
	// TCP_SYN_RECV is asked for (so vishvananda/netlink's 0xfff sees them
	// too), but asking for it explicitly does not depend on that.
	// TCP_BOUND_INACTIVE (13, bound but neither listening nor connecting) is
	// not a TCP state and is left out.
	allStates = 1<<13 - 1 - 1

	// recvBufferSize bounds one netlink datagram. The kernel caps dump
	// datagrams at 32 KiB; the margin is cheap.
	recvBufferSize = 64 << 10
)

// Conn is a netlink sock_diag socket that can be used for any number of
// dumps. It lives in the network namespace of the thread that opened it. A
// Conn must not be used by several goroutines at once.
type Conn struct {
	nl  *netlink.Conn
	req [sizeofReq]byte
	// slab hands out Info values a chunk at a time. Slabs are never reused:
	// Sockets returned by DumpTCP keep their Info valid for as long as the
	// caller holds them.
	slab []TCPInfo
}

// Open opens a sock_diag netlink socket in the network namespace of the
// calling thread.
func Open() (*Conn, error) {
	nl, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, &netlink.Config{MessageBufferSize: recvBufferSize})
	if err != nil {
		return nil, fmt.Errorf("sockstate: open sock_diag netlink socket: %w", err)
	}
	return &Conn{nl: nl}, nil
}

// Close closes the netlink socket.
func (c *Conn) Close() error {
	if err := c.nl.Close(); err != nil {
		return fmt.Errorf("sockstate: close: %w", err)
	}
	return nil
}

// DumpTCP appends every TCP socket (IPv4 and IPv6, all states including
// SYN-RECEIVED request sockets) of the Conn's network namespace to dst and
// returns the extended slice, in the kernel's order. The rows are not sorted.
// The kernel walks its hash tables without a global lock, so a dump is not an
// atomic snapshot: a socket that changes during the dump may be missed or,
// rarely, listed twice.
func (c *Conn) DumpTCP(dst []Socket) ([]Socket, error) {
	for _, family := range [...]uint8{unix.AF_INET, unix.AF_INET6} {
		var err error
		dst, err = c.dump(dst, family)
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (c *Conn) dump(dst []Socket, family uint8) ([]Socket, error) {
	req, err := c.nl.Send(dumpRequest(&c.req, family))
	if err != nil {
		return dst, fmt.Errorf("sockstate: send %s dump request: %w", familyName(family), err)
	}
	var perr error
	for m, err := range c.nl.ReceiveIter() {
		if err != nil {
			return dst, fmt.Errorf("sockstate: receive %s dump: %w", familyName(family), err)
		}
		if m.Header.Sequence != req.Header.Sequence {
			// Only a previous dump that failed half-way leaves replies behind.
			return dst, fmt.Errorf("sockstate: %s dump: reply for sequence %d, want %d",
				familyName(family), m.Header.Sequence, req.Header.Sequence)
		}
		if m.Header.Type != unix.SOCK_DIAG_BY_FAMILY {
			continue
		}
		dst = append(dst, Socket{})
		s := &dst[len(dst)-1]
		if err := c.parseMsg(m.Data, s); err != nil {
			// Stop here; the netlink package drains the rest of the dump.
			perr = fmt.Errorf("sockstate: %s dump: %w", familyName(family), err)
			dst = dst[:len(dst)-1]
			break
		}
	}
	return dst, perr
}

// dumpRequest fills r with the dump request for one address family.
func dumpRequest(r *[sizeofReq]byte, family uint8) netlink.Message {
	*r = [sizeofReq]byte{}
	r[0] = family                                   // sdiag_family
	r[1] = unix.IPPROTO_TCP                         // sdiag_protocol
	r[2] = requestExt                               // idiag_ext
	binary.NativeEndian.PutUint32(r[4:], allStates) // idiag_states
	// The inet_diag_sockid is left zero; its cookie must say "no cookie".
	binary.NativeEndian.PutUint32(r[48:], ^uint32(0))
	binary.NativeEndian.PutUint32(r[52:], ^uint32(0))
	return netlink.Message{
		Header: netlink.Header{
			Type:  unix.SOCK_DIAG_BY_FAMILY,
			Flags: netlink.Request | netlink.Dump,
		},
		Data: r[:],
	}
}

func familyName(f uint8) string {
	if f == unix.AF_INET6 {
		return "AF_INET6"
	}
	return "AF_INET"
}

// newInfo returns a zeroed TCPInfo from the current slab.
func (c *Conn) newInfo() *TCPInfo {
	if len(c.slab) == cap(c.slab) {
		c.slab = make([]TCPInfo, 0, 16)
	}
	c.slab = c.slab[:len(c.slab)+1]
	return &c.slab[len(c.slab)-1]
}

var errShortMsg = errors.New("inet_diag_msg too short")

// parseMsg decodes one struct inet_diag_msg and its attributes into s. If the
// message carries a tcp_info, s.Info points to an Info from c's slab.
func (c *Conn) parseMsg(b []byte, s *Socket) error {
	var info TCPInfo
	hasInfo, err := parseMsg(b, s, &info)
	if err != nil {
		return err
	}
	if hasInfo {
		p := c.newInfo()
		*p = info
		s.Info = p
	}
	return nil
}

// parseMsg decodes one struct inet_diag_msg (linux/inet_diag.h) and its
// attributes. s.Info is left alone; the tcp_info, if any, goes to info with
// the congestion-control attributes, and hasInfo reports its presence.
//
//	struct inet_diag_msg {
//		__u8 idiag_family, idiag_state, idiag_timer, idiag_retrans;  //  0
//		struct inet_diag_sockid {
//			__be16 idiag_sport, idiag_dport;                     //  4
//			__be32 idiag_src[4], idiag_dst[4];                   //  8, 24
//			__u32  idiag_if;                                     // 40
//			__u32  idiag_cookie[2];                              // 44
//		} id;
//		__u32 idiag_expires, idiag_rqueue, idiag_wqueue;             // 52
//		__u32 idiag_uid, idiag_inode;                                // 64
//	};                                                                   // 72
func parseMsg(b []byte, s *Socket, info *TCPInfo) (hasInfo bool, err error) {
	if len(b) < sizeofMsg {
		return false, fmt.Errorf("%w: %d bytes, want at least %d", errShortMsg, len(b), sizeofMsg)
	}
	ne := binary.NativeEndian
	var src, dst netip.Addr
	switch b[0] {
	case unix.AF_INET:
		src = netip.AddrFrom4([4]byte(b[8:12]))
		dst = netip.AddrFrom4([4]byte(b[24:28]))
	case unix.AF_INET6:
		src = netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		dst = netip.AddrFrom16([16]byte(b[24:40])).Unmap()
	default:
		return false, fmt.Errorf("inet_diag_msg: unexpected address family %d", b[0])
	}
	*s = Socket{
		Local:   netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[4:6])),
		Remote:  netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[6:8])),
		State:   tcpstate.State(b[1]),
		Timer:   tcpstate.Timer(b[2]),
		Retrans: b[3],
		Cookie:  uint64(ne.Uint32(b[44:48])) | uint64(ne.Uint32(b[48:52]))<<32,
		Expires: time.Duration(ne.Uint32(b[52:56])) * time.Millisecond,
		RecvQ:   ne.Uint32(b[56:60]),
		SendQ:   ne.Uint32(b[60:64]),
		UID:     ne.Uint32(b[64:68]),
		Inode:   ne.Uint32(b[68:72]),
	}
	if s.Timer == tcpstate.TimerNone {
		s.Expires = 0
	}
	if len(b) == sizeofMsg {
		return false, nil
	}
	hasInfo, err = parseAttrs(b[sizeofMsg:], info)
	if err != nil {
		return false, fmt.Errorf("inet_diag_msg attributes: %w", err)
	}
	return hasInfo, nil
}

func isBigEndian() bool {
	return binary.NativeEndian.Uint16([]byte{0, 1}) == 1
}
