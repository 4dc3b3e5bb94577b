package sandbox

import (
	"fmt"
	"net"
	"unsafe"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"
)

// Loopback is the interface every run captures on.
const Loopback = "lo"

// Setup prepares a fresh namespace: it brings the loopback interface up (a new
// network namespace starts with lo DOWN). In Host mode it changes nothing.
func Setup(mode Mode) error {
	if mode == Host {
		return nil
	}
	return LinkUp(Loopback)
}

// LinkUp sets an interface up over rtnetlink.
func LinkUp(name string) error {
	return setLink(name, "bring "+name+" up", func(m *rtnetlink.LinkMessage) {
		m.Flags, m.Change = unix.IFF_UP, unix.IFF_UP
	})
}

// SetMTU changes an interface's MTU over rtnetlink (scenarios that teach
// segmentation set the namespace's lo to an Ethernet-like 1500). Refused in
// Host mode, where it would change the host.
func SetMTU(mode Mode, name string, mtu uint32) error {
	if mode == Host {
		return fmt.Errorf("set %s mtu: not in a private namespace (host mode leaves the host untouched)", name)
	}
	return setLink(name, fmt.Sprintf("set %s mtu %d", name, mtu), func(m *rtnetlink.LinkMessage) {
		m.Attributes = &rtnetlink.LinkAttributes{MTU: mtu}
	})
}

// setLink sends one RTM_NEWLINK change for an interface, only in a network
// namespace netlab created (OwnsNetns).
func setLink(name, what string, change func(*rtnetlink.LinkMessage)) error {
	if err := OwnsNetns(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return fmt.Errorf("rtnetlink: %w", err)
	}
	defer c.Close()
	m := &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: uint32(ifi.Index)}
	change(m)
	if err := c.Link.Set(m); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// SetSegmentationOffload turns TCP segmentation offload (TSO) on an
// interface on or off, as `ethtool -K NAME tso on|off` does. Loopback
// advertises TSO, so the kernel hands it segments of up to 64 KB and a
// capture on lo shows "segments" larger than the MTU; with TSO off the kernel
// cuts them to the MSS before the capture sees them, as on a real link.
// Refused in Host mode.
func SetSegmentationOffload(mode Mode, name string, on bool) error {
	if mode == Host {
		return fmt.Errorf("set %s tso: not in a private namespace (host mode leaves the host untouched)", name)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set %s tso: %w", name, err)
	}
	defer unix.Close(fd)
	var ifr struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer
		_    [24 - unsafe.Sizeof(uintptr(0))]byte // the rest of struct ifreq's union
	}
	if err := OwnsNetns(); err != nil {
		return fmt.Errorf("set %s tso: %w", name, err)
	}
	if len(name) >= unix.IFNAMSIZ {
		return fmt.Errorf("set %s tso: name too long", name)
	}
	copy(ifr.name[:], name)
	v := struct{ cmd, data uint32 }{cmd: unix.ETHTOOL_STSO}
	if on {
		v.data = 1
	}
	ifr.data = unsafe.Pointer(&v)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return fmt.Errorf("set %s tso %v: %w", name, on, errno)
	}
	return nil
}
