package capture

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Ring and timing parameters of a live source.
const (
	// A V3 packet must fit in one block (lo's GSO packets reach 64 KiB),
	// and the kernel retires a block after liveBlockTimeout however
	// little it holds: the ring rides out a reader stall of about
	// liveNumBlocks × liveBlockTimeout. 32 blocks of 1 MiB dropped frames
	// when a loaded 2-core machine stalled the reader for 32 ms; 256
	// blocks of 128 KiB are the same 32 MiB and ride out 256 ms.
	liveBlockSize    = 128 << 10
	liveNumBlocks    = 256
	liveFrameSize    = 4096 // TPACKET_V3 ignores it beyond ring geometry checks
	liveBlockTimeout = time.Millisecond
	livePollTimeout  = 5 * time.Millisecond
	// liveSnapLen is what the filter accepts per packet (libpcap's maximum).
	liveSnapLen = 262144
	// drainQuiet is how long the ring must have been closed to new packets
	// before it is known empty (see OpenLive): a few block timeouts, far
	// longer than a packet takes from the filter to the ring.
	drainQuiet = 3 * liveBlockTimeout
)

// Live is a live packet source on one network interface. It implements
// Source. ReadFrame may be called from one goroutine while Close and Stats
// are called from others: Close waits for an in-flight ReadFrame to finish
// its current poll (at most a few milliseconds), after which ReadFrame returns
// ErrClosed.
type Live struct {
	iface    string
	ifindex  int
	linkType layers.LinkType

	closed  atomic.Bool
	packets atomic.Uint64

	// readMu is held by ReadFrame for the duration of one poll. Close takes it
	// before unmapping the ring, so the ring is never freed under a reader.
	readMu sync.Mutex
	slab   slab // guarded by readMu

	// mu guards tp's lifetime for Stats and the last drop count. tp is only
	// replaced (by Close) while both readMu and mu are held, so ReadFrame may
	// use it under readMu alone.
	mu    sync.Mutex
	tp    *afpacket.TPacket
	drops uint64
}

var _ Source = (*Live)(nil)

// OpenLive opens a live capture on the named interface: TPACKET_V3 with a
// 1 ms block timeout, 32 blocks of 1 MiB, and on loopback devices a BPF
// filter that rejects the outgoing copy of each packet. It needs CAP_NET_RAW;
// without it the error wraps unix.EPERM. The interface is looked up in the
// network namespace of the calling thread.
func OpenLive(iface string) (*Live, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("open live capture on %q: %w", iface, err)
	}
	hwType, err := arphrdType(iface)
	if err != nil {
		return nil, fmt.Errorf("open live capture on %s: %w", iface, err)
	}
	lt, err := linkTypeForARPHRD(hwType)
	if err != nil {
		return nil, fmt.Errorf("open live capture on %s: %w", iface, err)
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(liveFrameSize),
		afpacket.OptBlockSize(liveBlockSize),
		afpacket.OptNumBlocks(liveNumBlocks),
		afpacket.OptBlockTimeout(liveBlockTimeout),
		afpacket.OptPollTimeout(livePollTimeout),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("open live capture on %s: %w (capturing needs CAP_NET_RAW: run as root, "+
				"or inside a user+network namespace)", iface, err)
		}
		return nil, fmt.Errorf("open live capture on %s: %w", iface, err)
	}
	l := &Live{iface: iface, ifindex: ifi.Index, linkType: lt, tp: tp}
	if hwType == unix.ARPHRD_LOOPBACK {
		if err := dedupLoopback(tp); err != nil {
			tp.Close()
			return nil, fmt.Errorf("open live capture on %s: %w", iface, err)
		}
	}
	return l, nil
}

// dedupLoopback makes every frame the ring will hand out pass the filter
// that rejects loopback's outgoing copies. The socket captures from the
// moment its ring exists, before any filter can be attached, so the ring may
// hold both copies of a packet. Guessing which frames came before the filter
// from their timestamps let a duplicate through now and then (two CPUs write
// one ring). Exactly: close the ring to new packets with a filter that
// rejects everything, drain it until it has been empty for drainQuiet, and
// only then attach the real filter: whatever arrives after was filtered.
// (Packets sent during those few milliseconds are not captured; a run
// starts its scenario only once its capture is open.)
func dedupLoopback(tp *afpacket.TPacket) error {
	if err := tp.SetBPF(rejectAllFilter()); err != nil {
		return fmt.Errorf("attach BPF filter: %w", err)
	}
	quietFrom := time.Now()
	for {
		_, _, err := tp.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			quietFrom = time.Now() // written before the filter: discard
		case errors.Is(err, afpacket.ErrTimeout):
			if time.Since(quietFrom) >= drainQuiet {
				if err := tp.SetBPF(noOutgoingFilter()); err != nil {
					return fmt.Errorf("attach BPF filter: %w", err)
				}
				return nil
			}
		default:
			return fmt.Errorf("drain the ring: %w", err)
		}
	}
}

// rejectAllFilter is "ret #0": no packet enters the ring.
func rejectAllFilter() []bpf.RawInstruction {
	return []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}
}

// noOutgoingFilter returns the classic BPF program
//
//	ld  #type            ; skb->pkt_type (SKF_AD_PKTTYPE)
//	jeq #4, drop         ; PACKET_OUTGOING
//	ret #262144
//	drop: ret #0
func noOutgoingFilter() []bpf.RawInstruction {
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 1},
		bpf.RetConstant{Val: liveSnapLen},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		// The program is a constant; failing to assemble it is a bug.
		panic(fmt.Sprintf("capture: assemble BPF filter: %v", err))
	}
	return prog
}

// arphrdType returns the interface's hardware type (ARPHRD_*), read with
// SIOCGIFHWADDR in the calling thread's network namespace. (sysfs is not used:
// /sys/class/net shows the namespace sysfs was mounted in.)
func arphrdType(iface string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socket for SIOCGIFHWADDR: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("SIOCGIFHWADDR: %w", err)
	}
	// ifr_hwaddr is a struct sockaddr; its sa_family is the ARPHRD type.
	return ifr.Uint16(), nil
}

func linkTypeForARPHRD(t uint16) (layers.LinkType, error) {
	switch t {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet, nil
	case unix.ARPHRD_NONE:
		return layers.LinkTypeRaw, nil
	default:
		return 0, fmt.Errorf("%w: ARPHRD type %d", ErrUnsupportedLinkType, t)
	}
}

// LinkType returns the link type derived from the interface's ARPHRD type.
func (l *Live) LinkType() layers.LinkType { return l.linkType }

// Interface returns the name of the captured interface.
func (l *Live) Interface() string { return l.iface }

// ReadFrame returns the next captured packet, copied into memory owned by the
// Frame. It returns ErrTimeout when no packet arrived within the poll interval
// (a few milliseconds) and ErrClosed once Close has been called.
func (l *Live) ReadFrame() (Frame, error) {
	if l.closed.Load() {
		return Frame{}, ErrClosed
	}
	l.readMu.Lock()
	defer l.readMu.Unlock()
	for {
		if l.closed.Load() {
			return Frame{}, ErrClosed
		}
		data, ci, err := l.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) {
				if l.closed.Load() {
					return Frame{}, ErrClosed
				}
				return Frame{}, ErrTimeout
			}
			return Frame{}, fmt.Errorf("read %s: %w", l.iface, err)
		}
		l.packets.Add(1)
		return Frame{
			Data:   l.slab.copy(data),
			Time:   ci.Timestamp,
			Length: ci.Length,
			Iface:  ci.InterfaceIndex,
		}, nil
	}
}

// Stats returns the number of frames returned so far and the kernel's
// accumulated drop counter. After Close it returns the final values.
func (l *Live) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refreshDropsLocked()
	return Stats{Packets: l.packets.Load(), Drops: l.drops}
}

func (l *Live) refreshDropsLocked() {
	if l.tp == nil {
		return
	}
	// PACKET_STATISTICS resets the kernel counters on read; afpacket
	// accumulates them.
	if _, v3, err := l.tp.SocketStats(); err == nil {
		l.drops = uint64(v3.Drops())
	}
}

// Close stops the capture and releases the socket and ring. It is safe to
// call from another goroutine while ReadFrame is blocked: it waits for the
// current poll to end (at most a few milliseconds), after which ReadFrame
// returns ErrClosed. Calling Close more than once is harmless.
func (l *Live) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	l.readMu.Lock()
	defer l.readMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refreshDropsLocked()
	l.tp.Close()
	l.tp = nil
	return nil
}
