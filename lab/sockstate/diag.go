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
	inetDiagInfo = 2 // INET_DIAG_INFO: struct tcp_info

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
	slab []Info
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
	r := &c.req
	*r = [sizeofReq]byte{}
	r[0] = family                                   // sdiag_family
	r[1] = unix.IPPROTO_TCP                         // sdiag_protocol
	r[2] = 1 << (inetDiagInfo - 1)                  // idiag_ext
	binary.NativeEndian.PutUint32(r[4:], allStates) // idiag_states
	// The inet_diag_sockid is left zero; its cookie must say "no cookie".
	binary.NativeEndian.PutUint32(r[48:], ^uint32(0))
	binary.NativeEndian.PutUint32(r[52:], ^uint32(0))

	req, err := c.nl.Send(netlink.Message{
		Header: netlink.Header{
			Type:  unix.SOCK_DIAG_BY_FAMILY,
			Flags: netlink.Request | netlink.Dump,
		},
		Data: r[:],
	})
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

func familyName(f uint8) string {
	if f == unix.AF_INET6 {
		return "AF_INET6"
	}
	return "AF_INET"
}

// newInfo returns a zeroed Info from the current slab.
func (c *Conn) newInfo() *Info {
	if len(c.slab) == cap(c.slab) {
		c.slab = make([]Info, 0, 16)
	}
	c.slab = c.slab[:len(c.slab)+1]
	return &c.slab[len(c.slab)-1]
}

var errShortMsg = errors.New("inet_diag_msg too short")

// parseMsg decodes one struct inet_diag_msg and its attributes into s. If the
// message carries a tcp_info, s.Info points to an Info from c's slab.
func (c *Conn) parseMsg(b []byte, s *Socket) error {
	var info Info
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
// attributes. s.Info is left alone; the tcp_info, if any, goes to info and
// hasInfo reports its presence.
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
func parseMsg(b []byte, s *Socket, info *Info) (hasInfo bool, err error) {
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
	ad, err := netlink.NewAttributeDecoder(b[sizeofMsg:])
	if err != nil {
		return false, fmt.Errorf("inet_diag_msg attributes: %w", err)
	}
	for ad.Next() {
		if ad.Type() == inetDiagInfo {
			ad.Do(func(d []byte) error {
				parseInfo(d, info)
				hasInfo = true
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		return false, fmt.Errorf("inet_diag_msg attributes: %w", err)
	}
	return hasInfo, nil
}

// Offsets into struct tcp_info (linux/tcp.h). The struct has only ever grown
// at the end, so a field is present iff the attribute is long enough.
const (
	tiRetransmits   = 2  // __u8
	tiProbes        = 3  // __u8
	tiBackoff       = 4  // __u8
	tiOptions       = 5  // __u8
	tiWscale        = 6  // __u8 tcpi_snd_wscale:4, tcpi_rcv_wscale:4
	tiSndMSS        = 16 // __u32
	tiRcvMSS        = 20
	tiUnacked       = 24
	tiLost          = 32
	tiRTT           = 68 // µs
	tiRTTVar        = 72 // µs
	tiSndCwnd       = 80
	tiRcvSpace      = 96
	tiTotalRetrans  = 100
	tiBytesAcked    = 120 // __u64
	tiBytesReceived = 128 // __u64
	tiDataSegsIn    = 152
	tiDataSegsOut   = 156
	tiSndWnd        = 228
	tiRcvWnd        = 232
)

// parseInfo decodes the fields of struct tcp_info that fit in b.
func parseInfo(b []byte, in *Info) {
	ne := binary.NativeEndian
	u8 := func(off int) uint8 {
		if len(b) > off {
			return b[off]
		}
		return 0
	}
	u32 := func(off int) uint32 {
		if len(b) >= off+4 {
			return ne.Uint32(b[off:])
		}
		return 0
	}
	u64 := func(off int) uint64 {
		if len(b) >= off+8 {
			return ne.Uint64(b[off:])
		}
		return 0
	}
	ws := u8(tiWscale)
	snd, rcv := ws&0x0f, ws>>4
	if isBigEndian() { // C compilers fill bitfields from the most significant bit there
		snd, rcv = ws>>4, ws&0x0f
	}
	*in = Info{
		RTT:           time.Duration(u32(tiRTT)) * time.Microsecond,
		RTTVar:        time.Duration(u32(tiRTTVar)) * time.Microsecond,
		SndCwnd:       u32(tiSndCwnd),
		SndMSS:        u32(tiSndMSS),
		RcvMSS:        u32(tiRcvMSS),
		Unacked:       u32(tiUnacked),
		Retransmits:   uint32(u8(tiRetransmits)),
		Probes:        uint32(u8(tiProbes)),
		Backoff:       uint32(u8(tiBackoff)),
		TotalRetrans:  u32(tiTotalRetrans),
		Lost:          u32(tiLost),
		SndWscale:     uint32(snd),
		RcvWscale:     uint32(rcv),
		RcvSpace:      u32(tiRcvSpace),
		SndWnd:        u32(tiSndWnd),
		RcvWnd:        u32(tiRcvWnd),
		Options:       u8(tiOptions),
		BytesAcked:    u64(tiBytesAcked),
		BytesReceived: u64(tiBytesReceived),
		DataSegsOut:   u32(tiDataSegsOut),
		DataSegsIn:    u32(tiDataSegsIn),
	}
}

func isBigEndian() bool {
	return binary.NativeEndian.Uint16([]byte{0, 1}) == 1
}
