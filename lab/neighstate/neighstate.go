// Package neighstate reads a network namespace's neighbour table — the
// kernel's map from IPv4 addresses to MAC addresses that ARP fills — over
// rtnetlink, as `ip neigh` does, and reports each change: an entry that
// appears (INCOMPLETE while the kernel asks), changes state (REACHABLE,
// STALE, DELAY, PROBE, FAILED) or address, or goes.
//
// Like lab/sockstate for TCP sockets it polls: a dump every couple of
// milliseconds, diffed against the one before, so a state that lasts less
// than the interval is not seen. A neighbour dump is cheap (the table
// holds a handful of entries). The netlink socket reads the namespace of
// the thread that opens it: call Run where the table lives.
package neighstate

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/timeline"
)

// entry is an Entry with its age.
type entry struct {
	Entry
	age time.Duration
}

// Entry is one IPv4 neighbour that ARP resolves (NOARP entries, for
// addresses that need no MAC, are left out).
type Entry struct {
	Iface string
	Addr  netip.Addr
	MAC   net.HardwareAddr // nil while unknown
	State timeline.NUD
}

// Change is an entry as a dump first saw it, or its going.
type Change struct {
	// Time is when the change happened, by the kernel's own clock: the
	// entry's last update, which a dump reports as an age in clock ticks
	// (10 ms), taken at its latest (never before the change) and never
	// before the dump before this one ended; for a deletion, the end of
	// the dump that no longer saw the entry.
	Time time.Time
	Entry
	Gone bool
	age  time.Duration // the entry's age as the dump saw it (Updated)
}

// clockTick is the unit of the ages a neighbour dump reports (the
// kernel's USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// Poller polls the neighbour table of the namespace it runs in.
type Poller struct {
	Interval time.Duration // between dumps; default 2 ms
	// Tick, if set, is called after each dump with its end: every change
	// up to then has been reported.
	Tick func(time.Time)
}

type key struct {
	ifindex uint32
	addr    netip.Addr
}

// Run dumps the table until ctx is done, reporting each change to emit.
// The first dump reports every entry there is.
func (p *Poller) Run(ctx context.Context, emit func(Change)) error {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return fmt.Errorf("neighbour table: %w", err)
	}
	defer c.Close()
	interval := p.Interval
	if interval <= 0 {
		interval = 2 * time.Millisecond
	}
	names := map[uint32]string{}
	prev := map[key]entry{}
	since := time.Now() // nothing before the first dump is reported earlier than this
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		cur, err := dump(c, names)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("neighbour table: %w", err)
		}
		end := time.Now()
		for _, ch := range diff(prev, cur) {
			ch.Time = end
			if !ch.Gone {
				ch.Time = end.Add(-ch.age)
				if ch.Time.Before(since) {
					ch.Time = since
				}
			}
			emit(ch)
		}
		prev, since = cur, end
		if p.Tick != nil {
			p.Tick(end)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// dump reads the IPv4 entries of the table.
func dump(c *rtnetlink.Conn, names map[uint32]string) (map[key]entry, error) {
	msgs, err := c.Neigh.List()
	if err != nil {
		return nil, err
	}
	out := make(map[key]entry, len(msgs))
	for _, m := range msgs {
		a := m.Attributes
		if m.Family != unix.AF_INET || a == nil {
			continue
		}
		addr, ok := netip.AddrFromSlice(a.Address.To4())
		if !ok || addr.IsUnspecified() || m.State&unix.NUD_NOARP != 0 {
			continue // not ARP's: the kernel needs no MAC for it
		}
		name, ok := names[m.Index]
		if !ok {
			name = fmt.Sprint(m.Index) // an interface already gone
			if ifi, err := net.InterfaceByIndex(int(m.Index)); err == nil {
				name = ifi.Name
			}
			names[m.Index] = name
		}
		e := entry{Entry: Entry{Iface: name, Addr: addr, State: timeline.NUD(m.State)}}
		if len(a.LLAddress) > 0 {
			e.MAC = slices.Clone(a.LLAddress)
		}
		if ci := a.CacheInfo; ci != nil {
			e.age = time.Duration(ci.Updated) * clockTick
		}
		out[key{m.Index, addr}] = e
	}
	return out, nil
}

// diff lists what changed from prev to cur, in address order.
func diff(prev, cur map[key]entry) []Change {
	var out []Change
	for k, e := range cur {
		if p, ok := prev[k]; !ok || p.State != e.State || p.MAC.String() != e.MAC.String() {
			out = append(out, Change{Entry: e.Entry, age: e.age})
		}
	}
	for k, e := range prev {
		if _, ok := cur[k]; !ok {
			out = append(out, Change{Entry: e.Entry, Gone: true})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return cmpBool(a.Gone, b.Gone)
	})
	return out
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
