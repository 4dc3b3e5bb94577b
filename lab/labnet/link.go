package labnet

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"golang.org/x/sys/unix"
)

// MAC returns the locally administered unicast MAC address netlab gives an
// interface named name ("client", "wire:w0"): the same name, the same
// address, run after run.
func MAC(name string) net.HardwareAddr {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	mac := net.HardwareAddr{0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
	return mac
}

// newVeth creates, from inside the namespace of the calling thread, a veth
// pair: name with address mac here, and peer with peerMAC in the namespace
// peerNS. Both ends start down.
func newVeth(name string, mac net.HardwareAddr, peer string, peerMAC net.HardwareAddr, peerNS int) error {
	return withRTNL(func(c *rtnetlink.Conn) error {
		err := c.Link.New(&rtnetlink.LinkMessage{
			Family: unix.AF_UNSPEC,
			Attributes: &rtnetlink.LinkAttributes{
				Name:    name,
				Address: mac,
				Info: &rtnetlink.LinkInfo{Kind: "veth", Data: &driver.Veth{PeerInfo: &rtnetlink.LinkMessage{
					Family: unix.AF_UNSPEC,
					Attributes: &rtnetlink.LinkAttributes{
						Name:    peer,
						Address: peerMAC,
						NetNS:   rtnetlink.NetNSForFD(uint32(peerNS)),
					},
				}}},
			},
		})
		if err != nil {
			return fmt.Errorf("create veth %s <-> %s: %w", name, peer, err)
		}
		return nil
	})
}

func withRTNL(fn func(*rtnetlink.Conn) error) error {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return fmt.Errorf("rtnetlink: %w", err)
	}
	defer c.Close()
	return fn(c)
}

// linkUp sets an interface of the calling thread's namespace up.
func linkUp(c *rtnetlink.Conn, name string) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	err = c.Link.Set(&rtnetlink.LinkMessage{
		Family: unix.AF_UNSPEC, Index: uint32(ifi.Index), Flags: unix.IFF_UP, Change: unix.IFF_UP,
	})
	if err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	return nil
}

// addAddr adds prefix (the interface's address and its subnet) to an
// interface, without duplicate address detection for IPv6 (a private link
// has nobody to collide with, and DAD would hold the address back ~1 s).
func addAddr(c *rtnetlink.Conn, name string, prefix netip.Prefix) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	a := prefix.Addr()
	m := &rtnetlink.AddressMessage{
		Family:       unix.AF_INET,
		PrefixLength: uint8(prefix.Bits()),
		Index:        uint32(ifi.Index),
		Attributes:   &rtnetlink.AddressAttributes{Address: a.AsSlice(), Local: a.AsSlice()},
	}
	if a.Is6() {
		m.Family = unix.AF_INET6
		m.Flags = unix.IFA_F_NODAD
		m.Attributes.Flags = unix.IFA_F_NODAD
		m.Attributes.Local = nil
	} else {
		bc := broadcast(prefix)
		m.Attributes.Broadcast = bc.AsSlice()
	}
	if err := c.Address.New(m); err != nil {
		return fmt.Errorf("add address %s to %s: %w", prefix, name, err)
	}
	return nil
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// addNeighbor adds a permanent neighbour entry (no ARP or neighbour
// discovery needed to reach addr).
func addNeighbor(c *rtnetlink.Conn, name string, addr netip.Addr, mac net.HardwareAddr) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	fam := uint16(unix.AF_INET)
	if addr.Is6() {
		fam = unix.AF_INET6
	}
	err = c.Neigh.New(&rtnetlink.NeighMessage{
		Family: fam, Index: uint32(ifi.Index), State: unix.NUD_PERMANENT,
		Attributes: &rtnetlink.NeighAttributes{Address: addr.AsSlice(), LLAddress: mac},
	})
	if err != nil {
		return fmt.Errorf("add neighbour %s on %s: %w", addr, name, err)
	}
	return nil
}

// waitOperUp waits until the kernel reports an interface operationally up:
// until then a veth's transmit queue is the no-op one, which silently drops
// whatever is sent.
func waitOperUp(c *rtnetlink.Conn, name string, timeout time.Duration) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		m, err := c.Link.Get(uint32(ifi.Index))
		if err != nil {
			return fmt.Errorf("read %s state: %w", name, err)
		}
		if m.Attributes != nil && m.Attributes.OperationalState == rtnetlink.OperStateUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not up after %v", name, timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// offloadsOff turns off transmit checksum offload, scatter-gather and
// segmentation offloads (TSO, GSO) and GRO on an interface, as
// `ethtool -K NAME tx off sg off tso off gso off gro off` does: frames then
// leave with their checksums computed and no larger than the MTU, so a
// relay that copies them through user space forwards real packets.
func offloadsOff(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("offloads of %s: %w", name, err)
	}
	defer unix.Close(fd)
	var errs []error
	for _, cmd := range []uint32{unix.ETHTOOL_STXCSUM, unix.ETHTOOL_SSG, unix.ETHTOOL_STSO, unix.ETHTOOL_SGSO, unix.ETHTOOL_SGRO} {
		if err := ethtoolSet(fd, name, cmd, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ethtoolValue is struct ethtool_value.
type ethtoolValue struct{ cmd, data uint32 }

// ifreqData is struct ifreq with its union holding a pointer (ifr_data).
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

func ethtoolSet(fd int, name string, cmd, v uint32) error {
	return ethtoolIoctl(fd, name, &ethtoolValue{cmd: cmd, data: v})
}

// ethtoolGet reads one ethtool_value setting (ETHTOOL_GTXCSUM ...).
func ethtoolGet(name string, cmd uint32) (uint32, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	val := ethtoolValue{cmd: cmd}
	err = ethtoolIoctl(fd, name, &val)
	return val.data, err
}

func ethtoolIoctl(fd int, name string, val *ethtoolValue) error {
	if len(name) >= unix.IFNAMSIZ {
		return fmt.Errorf("ethtool %s: name too long", name)
	}
	var ifr ifreqData
	copy(ifr.name[:], name)
	ifr.data = unsafe.Pointer(val)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return fmt.Errorf("ethtool %s cmd %#x: %w", name, val.cmd, errno)
	}
	return nil
}

// sysctl writes a value under /proc/sys, which for net.* keys reads the
// namespace of the calling thread. A key the kernel lacks (no IPv6) is not
// an error.
func sysctl(key, value string) error {
	err := os.WriteFile("/proc/sys/"+key, []byte(value), 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}
