package sockstate

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/tcpstate"
)

// fixtureMsg builds a struct inet_diag_msg followed by the given attributes,
// as the kernel would send it on this machine.
type fixtureMsg struct {
	family         uint8
	state          tcpstate.State
	timer          tcpstate.Timer
	retrans        uint8
	src, dst       netip.AddrPort
	cookie         uint64
	expiresMS      uint32
	rq, wq         uint32
	uid, inode     uint32
	attrs          []fixtureAttr
	v4MappedIn6    bool // put IPv4 addresses in an AF_INET6 message as ::ffff:a.b.c.d
	overrideLength int  // if non-zero, truncate the result to this length
}

type fixtureAttr struct {
	typ  uint16
	data []byte
}

func (f fixtureMsg) bytes() []byte {
	ne := binary.NativeEndian
	b := make([]byte, sizeofMsg)
	b[0], b[1], b[2], b[3] = f.family, uint8(f.state), uint8(f.timer), f.retrans
	binary.BigEndian.PutUint16(b[4:], f.src.Port())
	binary.BigEndian.PutUint16(b[6:], f.dst.Port())
	put := func(off int, a netip.Addr) {
		if a.Is4() && !f.v4MappedIn6 {
			a4 := a.As4()
			copy(b[off:], a4[:])
			return
		}
		a16 := a.As16()
		copy(b[off:], a16[:])
	}
	put(8, f.src.Addr())
	put(24, f.dst.Addr())
	ne.PutUint32(b[44:], uint32(f.cookie))
	ne.PutUint32(b[48:], uint32(f.cookie>>32))
	ne.PutUint32(b[52:], f.expiresMS)
	ne.PutUint32(b[56:], f.rq)
	ne.PutUint32(b[60:], f.wq)
	ne.PutUint32(b[64:], f.uid)
	ne.PutUint32(b[68:], f.inode)
	for _, a := range f.attrs {
		hdr := make([]byte, 4)
		ne.PutUint16(hdr[0:], uint16(4+len(a.data)))
		ne.PutUint16(hdr[2:], a.typ)
		b = append(b, hdr...)
		b = append(b, a.data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	if f.overrideLength != 0 {
		b = b[:f.overrideLength]
	}
	return b
}

// fixtureInfo builds a struct tcp_info of length n, placing the values at
// the offsets golang.org/x/sys/unix.TCPInfo has, so that the offsets used by
// the parser are checked against an independent definition.
func fixtureInfo(n int) []byte {
	var ti unix.TCPInfo
	b := make([]byte, max(n, int(unsafe.Sizeof(ti))))
	ne := binary.NativeEndian
	p32 := func(off uintptr, v uint32) { ne.PutUint32(b[off:], v) }
	p64 := func(off uintptr, v uint64) { ne.PutUint64(b[off:], v) }
	b[unsafe.Offsetof(ti.State)] = uint8(tcpstate.Established)
	b[unsafe.Offsetof(ti.Retransmits)] = 3
	b[unsafe.Offsetof(ti.Probes)] = 4
	b[unsafe.Offsetof(ti.Backoff)] = 5
	b[unsafe.Offsetof(ti.Options)] = 0x07
	b[unsafe.Offsetof(ti.Options)+1] = 7 | 9<<4 // snd_wscale:4, rcv_wscale:4 (little endian)
	p32(unsafe.Offsetof(ti.Snd_mss), 1448)
	p32(unsafe.Offsetof(ti.Rcv_mss), 536)
	p32(unsafe.Offsetof(ti.Unacked), 2)
	p32(unsafe.Offsetof(ti.Lost), 1)
	p32(unsafe.Offsetof(ti.Rtt), 12345)
	p32(unsafe.Offsetof(ti.Rttvar), 678)
	p32(unsafe.Offsetof(ti.Snd_cwnd), 10)
	p32(unsafe.Offsetof(ti.Rcv_space), 14480)
	p32(unsafe.Offsetof(ti.Total_retrans), 6)
	p64(unsafe.Offsetof(ti.Bytes_acked), 1<<33+1)
	p64(unsafe.Offsetof(ti.Bytes_received), 1<<34+2)
	p32(unsafe.Offsetof(ti.Data_segs_in), 11)
	p32(unsafe.Offsetof(ti.Data_segs_out), 12)
	p32(unsafe.Offsetof(ti.Snd_wnd), 65535)
	p32(unsafe.Offsetof(ti.Rcv_wnd), 65483)
	return b[:n]
}

func TestParseMsg(t *testing.T) {
	if isBigEndian() {
		t.Skip("fixture bitfield layout is little-endian")
	}
	fullInfo := TCPInfo{
		Size: int(unsafe.Sizeof(unix.TCPInfo{})),
		RTT:  12345 * time.Microsecond, RTTVar: 678 * time.Microsecond,
		SndCwnd: 10, SndMSS: 1448, RcvMSS: 536, Unacked: 2, Retransmits: 3,
		Probes: 4, Backoff: 5, TotalRetrans: 6, Lost: 1, SndWscale: 7, RcvWscale: 9,
		RcvSpace: 14480, SndWnd: 65535, RcvWnd: 65483, Options: 7,
		BytesAcked: 1<<33 + 1, BytesReceived: 1<<34 + 2, DataSegsOut: 12, DataSegsIn: 11,
	}
	// tcp_info as Linux 4.1 sent it: up to tcpi_bytes_received.
	oldInfo := fullInfo
	oldInfo.DataSegsOut, oldInfo.DataSegsIn, oldInfo.SndWnd, oldInfo.RcvWnd = 0, 0, 0, 0
	oldInfo.Size = TCPInfoSize4_1

	established := fixtureMsg{
		family: unix.AF_INET, state: tcpstate.Established, timer: tcpstate.TimerKeepalive, retrans: 0,
		src:    netip.MustParseAddrPort("10.0.0.1:40000"),
		dst:    netip.MustParseAddrPort("10.0.0.2:80"),
		cookie: 0x1122334455667788, expiresMS: 14999, rq: 3, wq: 7, uid: 1000, inode: 4242,
		attrs: []fixtureAttr{
			{typ: 8, data: []byte{0}}, // INET_DIAG_SHUTDOWN, ignored
			{typ: inetDiagInfo, data: fixtureInfo(int(unsafe.Sizeof(unix.TCPInfo{})))},
		},
	}
	establishedWant := Socket{
		Local: established.src, Remote: established.dst, State: tcpstate.Established,
		Timer: tcpstate.TimerKeepalive, Expires: 14999 * time.Millisecond, RecvQ: 3, SendQ: 7,
		UID: 1000, Inode: 4242, Cookie: 0x1122334455667788, Info: &fullInfo,
	}

	withOld := established
	withOld.attrs = []fixtureAttr{{typ: inetDiagInfo, data: fixtureInfo(136)}}
	withOldWant := establishedWant
	withOldWant.Info = &oldInfo

	mapped := established
	mapped.family = unix.AF_INET6
	mapped.v4MappedIn6 = true

	v6 := fixtureMsg{
		family: unix.AF_INET6, state: tcpstate.Listen,
		src: netip.MustParseAddrPort("[::]:443"), dst: netip.MustParseAddrPort("[::]:0"),
		cookie: 9, rq: 0, wq: 4096, inode: 77,
	}
	timewait := fixtureMsg{
		family: unix.AF_INET, state: tcpstate.TimeWait, timer: tcpstate.TimerTimeWait, expiresMS: 59876,
		src: netip.MustParseAddrPort("127.0.0.1:50000"), dst: netip.MustParseAddrPort("127.0.0.1:80"),
		cookie: 5,
	}
	noTimer := timewait
	noTimer.timer, noTimer.state = tcpstate.TimerNone, tcpstate.CloseWait

	tests := []struct {
		name    string
		msg     fixtureMsg
		want    Socket
		wantErr bool
	}{
		{name: "established v4 with full tcp_info", msg: established, want: establishedWant},
		{name: "short tcp_info of an old kernel", msg: withOld, want: withOldWant},
		{name: "v4-mapped addresses in AF_INET6", msg: mapped, want: establishedWant},
		{name: "v6 listener without attributes", msg: v6, want: Socket{
			Local: netip.MustParseAddrPort("[::]:443"), Remote: netip.MustParseAddrPort("[::]:0"),
			State: tcpstate.Listen, SendQ: 4096, Inode: 77, Cookie: 9,
		}},
		{name: "timewait", msg: timewait, want: Socket{
			Local: timewait.src, Remote: timewait.dst, State: tcpstate.TimeWait,
			Timer: tcpstate.TimerTimeWait, Expires: 59876 * time.Millisecond, Cookie: 5,
		}},
		{name: "no timer, no expiry", msg: noTimer, want: Socket{
			Local: timewait.src, Remote: timewait.dst, State: tcpstate.CloseWait, Cookie: 5,
		}},
		{name: "truncated message", msg: fixtureMsg{family: unix.AF_INET, overrideLength: 71}, wantErr: true},
		{name: "unknown family", msg: fixtureMsg{family: unix.AF_UNIX}, wantErr: true},
		{name: "truncated attribute", msg: func() fixtureMsg {
			m := established
			m.overrideLength = sizeofMsg + 2
			return m
		}(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			var got Socket
			err := c.parseMsg(tt.msg.bytes(), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseMsg succeeded with %+v, want error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseMsg: %v", err)
			}
			if (got.Info == nil) != (tt.want.Info == nil) {
				t.Fatalf("Info = %+v, want %+v", got.Info, tt.want.Info)
			}
			if got.Info != nil && *got.Info != *tt.want.Info {
				t.Errorf("Info =\n%+v, want\n%+v", *got.Info, *tt.want.Info)
			}
			gi, wi := got, tt.want
			gi.Info, wi.Info = nil, nil
			if gi != wi {
				t.Errorf("Socket =\n%+v, want\n%+v", gi, wi)
			}
			if got.Local.Addr().Is4In6() || got.Remote.Addr().Is4In6() {
				t.Errorf("addresses %v %v not unmapped", got.Local, got.Remote)
			}
		})
	}
}

func TestParseShortMsgError(t *testing.T) {
	var s Socket
	_, err := parseMsg(make([]byte, 10), &s, new(TCPInfo))
	if !errors.Is(err, errShortMsg) {
		t.Fatalf("err = %v, want errShortMsg", err)
	}
}
