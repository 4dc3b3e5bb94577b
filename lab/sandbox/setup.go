package sandbox

import (
	"fmt"
	"net"

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

// setLink sends one RTM_NEWLINK change for an interface.
func setLink(name, what string, change func(*rtnetlink.LinkMessage)) error {
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
