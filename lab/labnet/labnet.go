package labnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/netlab/netlab/lab/labnet/wire"
)

// Iface is the name of every host's interface on the link.
const Iface = "eth0"

// The wire namespace's interfaces: W0 faces the first host, W1 the second.
const (
	W0 = "w0"
	W1 = "w1"
)

// The first link's subnets: RFC 5737's TEST-NET-1 and RFC 3849's
// documentation prefix, reserved for examples, so they never collide with a
// network the user is on.
var (
	Subnet4 = netip.MustParsePrefix("192.0.2.0/24")
	Subnet6 = netip.MustParsePrefix("2001:db8::/64")
)

// operUpTimeout bounds the wait for a new link's carrier.
const operUpTimeout = 5 * time.Second

// Topology is a lab network to build: hosts joined by one link.
type Topology struct {
	// Hosts, in order: the first is the wire's side A (wire.AtoB is the
	// traffic it sends), the second side B. Exactly two for now.
	Hosts []HostConfig
	// Wire, when set, joins the hosts through a relay in a namespace of its
	// own that applies this impairment; nil joins them by a plain veth pair
	// (a cable, for comparison and for clean runs).
	Wire *wire.Config
	// IPv6 gives each host an address in Subnet6 too. Off, IPv6 is disabled
	// on the hosts, so the link carries no router solicitations, MLD
	// reports or neighbour discovery the lesson did not ask for.
	IPv6 bool
	// StaticNeighbors fills each host's neighbour table with the other's
	// MAC, so the link carries no ARP (or neighbour discovery) before the
	// first packet.
	StaticNeighbors bool
}

// HostConfig is one host of a Topology.
type HostConfig struct {
	Name string // also the host name inside (uname -n)
}

// Host is a network namespace with lo up and one interface, Iface.
type Host struct {
	*NS
	Name  string
	MAC   net.HardwareAddr
	Addr  netip.Prefix // IPv4 address and subnet
	Addr6 netip.Prefix // IPv6 address and subnet; invalid without Topology.IPv6
}

func (h *Host) String() string { return h.Name }

// Sysctl sets a network sysctl in the host's namespace only, such as
// "net.ipv4.tcp_sack" to "0" (keys with dots or slashes).
func (h *Host) Sysctl(key, value string) error {
	if !strings.HasPrefix(key, "net.") && !strings.HasPrefix(key, "net/") {
		return fmt.Errorf("host %s: sysctl %s: only net.* keys belong to a host", h.Name, key)
	}
	path := strings.ReplaceAll(key, ".", "/")
	return h.Do(func() error {
		if err := os.WriteFile("/proc/sys/"+path, []byte(value), 0); err != nil {
			return fmt.Errorf("host %s: sysctl %s=%s: %w", h.Name, key, value, err)
		}
		return nil
	})
}

// ReadSysctl reads a network sysctl in the host's namespace.
func (h *Host) ReadSysctl(key string) (string, error) {
	var v []byte
	err := h.Do(func() (err error) {
		v, err = os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("host %s: read sysctl %s: %w", h.Name, key, err)
	}
	return strings.TrimSpace(string(v)), nil
}

// Net is a built Topology. Close it to make it disappear.
type Net struct {
	hosts []*Host
	wire  *NS
	relay *wire.Relay
}

// New builds a topology inside the calling process's namespaces (the run's
// sandbox): it needs CAP_NET_ADMIN and CAP_SYS_ADMIN over the current
// network namespace (root, or root of a user namespace) and CAP_NET_RAW for
// the relay. Nothing appears in the caller's namespace: every interface is
// created inside the namespaces it belongs to.
func New(t Topology) (_ *Net, err error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	n := &Net{}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	for i, hc := range t.Hosts {
		ns, err := newNS(hc.Name)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", hc.Name, err)
		}
		h := &Host{NS: ns, Name: hc.Name, MAC: MAC(hc.Name), Addr: hostAddr(Subnet4, i)}
		if t.IPv6 {
			h.Addr6 = hostAddr(Subnet6, i)
		}
		n.hosts = append(n.hosts, h)
		if err := h.Do(func() error { return prepareNS(t.IPv6) }); err != nil {
			return nil, fmt.Errorf("host %s: %w", hc.Name, err)
		}
	}
	a, b := n.hosts[0], n.hosts[1]
	if t.Wire == nil {
		// A cable: b's eth0 is created straight in b's namespace.
		if err := a.Do(func() error { return newVeth(Iface, a.MAC, Iface, b.MAC, b.Fd()) }); err != nil {
			return nil, fmt.Errorf("host %s: %w", a.Name, err)
		}
	} else {
		if n.wire, err = newNS("wire"); err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
		if err := n.wire.Do(func() error { return prepareNS(false) }); err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
		for i, h := range n.hosts {
			w := []string{W0, W1}[i]
			if err := h.Do(func() error { return newVeth(Iface, h.MAC, w, MAC("wire:"+w), n.wire.Fd()) }); err != nil {
				return nil, fmt.Errorf("host %s: %w", h.Name, err)
			}
		}
		if err := n.wire.Do(func() error { return upAll(W0, W1) }); err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
	}
	for i, h := range n.hosts {
		peer := n.hosts[1-i]
		if err := h.Do(func() error { return configureHost(h, peer, t.StaticNeighbors) }); err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	if t.Wire != nil {
		var pa, pb *wire.Port
		err := n.wire.Do(func() error {
			if err := waitUp(W0, W1); err != nil {
				return err
			}
			var err error
			if pa, err = wire.OpenPort(W0); err != nil {
				return err
			}
			if pb, err = wire.OpenPort(W1); err != nil {
				pa.Close()
				return err
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
		if n.relay, err = wire.Start(*t.Wire, pa, pb); err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
	}
	for _, h := range n.hosts {
		if err := h.Do(func() error { return waitUp(Iface) }); err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	return n, nil
}

func (t *Topology) validate() error {
	if len(t.Hosts) != 2 {
		return fmt.Errorf("labnet: a topology has two hosts for now, not %d", len(t.Hosts))
	}
	seen := map[string]bool{"wire": true}
	for _, h := range t.Hosts {
		if h.Name == "" || len(h.Name) > 64 {
			return fmt.Errorf("labnet: host name %q: empty or longer than 64 bytes", h.Name)
		}
		if seen[h.Name] {
			return fmt.Errorf("labnet: host name %q is taken", h.Name)
		}
		seen[h.Name] = true
	}
	if t.Wire != nil {
		return t.Wire.Validate()
	}
	return nil
}

// hostAddr is the i-th host's address in a subnet: .10, .20, ... (::10,
// ::20, ... in IPv6, read as hex like every IPv6 address).
func hostAddr(subnet netip.Prefix, i int) netip.Prefix {
	b := subnet.Addr().AsSlice()
	b[len(b)-1] = byte(10 * (i + 1))
	if len(b) == 16 {
		b[len(b)-1] = byte(0x10 * (i + 1))
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, subnet.Bits())
}

// prepareNS brings lo up in a fresh namespace and, unless ipv6, disables
// IPv6 on interfaces created from now on.
func prepareNS(ipv6 bool) error {
	if !ipv6 {
		for _, k := range []string{"all", "default"} {
			if err := sysctl("net/ipv6/conf/"+k+"/disable_ipv6", "1"); err != nil {
				return err
			}
		}
	}
	return upAll("lo")
}

func upAll(names ...string) error {
	return withRTNL(func(c *rtnetlink.Conn) error {
		for _, name := range names {
			if err := offloadsOffUnlessLo(name); err != nil {
				return err
			}
			if err := linkUp(c, name); err != nil {
				return err
			}
		}
		return nil
	})
}

func offloadsOffUnlessLo(name string) error {
	if name == "lo" {
		return nil
	}
	return offloadsOff(name)
}

func waitUp(names ...string) error {
	return withRTNL(func(c *rtnetlink.Conn) error {
		for _, name := range names {
			if err := waitOperUp(c, name, operUpTimeout); err != nil {
				return err
			}
		}
		return nil
	})
}

// configureHost sets a host's interface up with its addresses (and its
// peer as a permanent neighbour).
func configureHost(h, peer *Host, static bool) error {
	if err := upAll(Iface); err != nil {
		return err
	}
	return withRTNL(func(c *rtnetlink.Conn) error {
		for _, p := range []netip.Prefix{h.Addr, h.Addr6} {
			if p.IsValid() {
				if err := addAddr(c, Iface, p); err != nil {
					return err
				}
			}
		}
		if !static {
			return nil
		}
		for _, p := range []netip.Prefix{peer.Addr, peer.Addr6} {
			if p.IsValid() {
				if err := addNeighbor(c, Iface, p.Addr(), peer.MAC); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Hosts returns the hosts in the topology's order.
func (n *Net) Hosts() []*Host { return n.hosts }

// Host returns the named host, or nil.
func (n *Net) Host(name string) *Host {
	for _, h := range n.hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Direction is the wire direction of the traffic a host sends.
func (n *Net) Direction(from string) (wire.Direction, bool) {
	for i, h := range n.hosts {
		if h.Name == from {
			return wire.Direction(i), true
		}
	}
	return 0, false
}

// Relay is the wire's relay, nil for a cable.
func (n *Net) Relay() *wire.Relay { return n.relay }

// Wire is the wire's namespace (w0, w1 and the relay's sockets), nil for a
// cable.
func (n *Net) Wire() *NS { return n.wire }

// Close stops the relay and releases every namespace: with them go their
// interfaces (unless sockets the caller created inside are still open). The
// relay's verdict channel is closed.
func (n *Net) Close() error {
	var errs []error
	if n.relay != nil {
		errs = append(errs, n.relay.Close())
	}
	if n.wire != nil {
		errs = append(errs, n.wire.Close())
	}
	for _, h := range n.hosts {
		errs = append(errs, h.NS.Close())
	}
	return errors.Join(errs...)
}
