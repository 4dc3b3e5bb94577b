package timeline

import (
	"net"
	"net/netip"
	"strings"
)

// Neigh is a change in a lab host's neighbour table (ARP for IPv4), read
// from the kernel over rtnetlink as `ip neigh` reads it: the host now maps
// Addr to MAC in state State, or (Gone) forgot Addr.
type Neigh struct {
	Lane  string // the lane living on the host whose table changed
	Host  string // that host ("client")
	Iface string // the interface the entry belongs to ("eth0")
	Addr  netip.Addr
	MAC   net.HardwareAddr // nil while unknown (INCOMPLETE, FAILED)
	State NUD
	Gone  bool // the entry was deleted
}

// NUD is a neighbour entry's state (Neighbour Unreachability Detection,
// RFC 4861), as the kernel's NUD_* bits say.
type NUD uint16

// The kernel's NUD states (include/uapi/linux/neighbour.h).
const (
	NUDIncomplete NUD = 0x01
	NUDReachable  NUD = 0x02
	NUDStale      NUD = 0x04
	NUDDelay      NUD = 0x08
	NUDProbe      NUD = 0x10
	NUDFailed     NUD = 0x20
	NUDNoARP      NUD = 0x40
	NUDPermanent  NUD = 0x80
)

var nudNames = [...]struct {
	s    NUD
	name string
}{{NUDIncomplete, "INCOMPLETE"}, {NUDReachable, "REACHABLE"}, {NUDStale, "STALE"}, {NUDDelay, "DELAY"},
	{NUDProbe, "PROBE"}, {NUDFailed, "FAILED"}, {NUDNoARP, "NOARP"}, {NUDPermanent, "PERMANENT"}}

// String names the state as `ip neigh` does ("REACHABLE"; several bits
// joined with a comma; "NONE" for none).
func (n NUD) String() string {
	var names []string
	for _, s := range nudNames {
		if n&s.s != 0 {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return "NONE"
	}
	return strings.Join(names, ",")
}

// ParseNUD reads a state String wrote.
func ParseNUD(s string) (NUD, bool) {
	if s == "NONE" {
		return 0, true
	}
	var n NUD
	for _, part := range strings.Split(s, ",") {
		found := false
		for _, x := range nudNames {
			if x.name == part {
				n |= x.s
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return n, true
}
