package sessionrun

import (
	"net/netip"
	"sync"

	"github.com/netlab/netlab/lab/timeline"
)

// Lanes maps socket addresses to lane names ("client", "server", ...). It is
// filled as the scenario opens sockets and read by the engine to label
// packets and kernel states. Safe for concurrent use.
type Lanes struct {
	mu    sync.RWMutex
	exact map[netip.AddrPort]string
	// wild maps the port of a listener on an unspecified address (0.0.0.0:80).
	wild map[uint16]string
	// pending dials: a connect under way whose local port is not known yet.
	pending map[netip.AddrPort][]string
}

// NewLanes returns an empty map.
func NewLanes() *Lanes {
	return &Lanes{
		exact:   make(map[netip.AddrPort]string),
		wild:    make(map[uint16]string),
		pending: make(map[netip.AddrPort][]string),
	}
}

// Set names an address. A listener on an unspecified address names its port
// on every address.
func (l *Lanes) Set(ap netip.AddrPort, lane string) {
	ap = timeline.Unmap(ap)
	l.mu.Lock()
	defer l.mu.Unlock()
	if ap.Addr().IsUnspecified() {
		l.wild[ap.Port()] = lane
		return
	}
	l.exact[ap] = lane
}

// Dialing records that lane is connecting to remote from a port not known yet.
func (l *Lanes) Dialing(remote netip.AddrPort, lane string) {
	remote = timeline.Unmap(remote)
	l.mu.Lock()
	l.pending[remote] = append(l.pending[remote], lane)
	l.mu.Unlock()
}

// Dialed replaces a pending dial by the local address it got.
func (l *Lanes) Dialed(remote, local netip.AddrPort, lane string) {
	remote, local = timeline.Unmap(remote), timeline.Unmap(local)
	l.mu.Lock()
	defer l.mu.Unlock()
	if local.IsValid() {
		l.exact[local] = lane
	}
	p := l.pending[remote]
	for i, n := range p {
		if n == lane {
			l.pending[remote] = append(p[:i:i], p[i+1:]...)
			break
		}
	}
	if len(l.pending[remote]) == 0 {
		delete(l.pending, remote)
	}
}

// Lookup returns the lane of an address, or "".
func (l *Lanes) Lookup(ap netip.AddrPort) string {
	ap = timeline.Unmap(ap)
	l.mu.RLock()
	defer l.mu.RUnlock()
	if n, ok := l.exact[ap]; ok {
		return n
	}
	if n, ok := l.wild[ap.Port()]; ok && ap.Port() != 0 {
		return n
	}
	return ""
}

// Resolve names both ends of a packet. An unknown source talking to an
// address someone is dialing right now is that dialer (the SYN is captured
// before connect returns its local port).
func (l *Lanes) Resolve(src, dst netip.AddrPort) (from, to string) {
	from, to = l.Lookup(src), l.Lookup(dst)
	l.mu.RLock()
	defer l.mu.RUnlock()
	if from == "" {
		if p := l.pending[timeline.Unmap(dst)]; len(p) > 0 {
			from = p[0]
		}
	}
	if to == "" {
		if p := l.pending[timeline.Unmap(src)]; len(p) > 0 {
			to = p[0]
		}
	}
	return from, to
}
