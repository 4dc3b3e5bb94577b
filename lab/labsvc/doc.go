// Package labsvc holds the services the application lessons run on the
// lab's sockets: an authoritative DNS server for a made-up zone (lab.) and
// Go's own stub resolver pointed at it, TLS material made at run time, the
// lab's web site (shop.lab) and an HTTP/1.1 client.
//
// Nothing here knows about sessions or timelines: every service is written
// against the standard library's interfaces. The DNS server reads and writes
// a net.PacketConn, the web server accepts on a net.Listener, the HTTP
// client and the resolver open their connections with a DialFunc, and the
// TLS configurations write their secrets to a key-log io.Writer. A lesson
// passes the session's recorded sockets (which satisfy those interfaces),
// so every call the services make appears on the run's timeline; a test
// passes plain loopback sockets.
//
// The zone exists once (LabZone); the text a lesson quotes is rendered from
// it (Zone.Render), so the lesson lists exactly the records the server
// serves.
package labsvc

import (
	"context"
	"net"
)

// The lab's addresses. Each role has its own loopback address so a ladder
// shows who talks to whom: 127.0.0.53 is also where systemd-resolved listens
// on many Linux machines. The zone (LabZone) maps the names to these
// addresses; a test holds the two together.
const (
	// ResolverAddr is where the lab's DNS server listens.
	ResolverAddr = "127.0.0.53:53"
	// WebIP is the web server's address, shop.lab's A record.
	WebIP = "127.0.0.80"
	// SiteName is the web site's name.
	SiteName = "shop.lab"
)

// DialFunc opens a connection as net.Dialer.DialContext does. A lesson
// passes one that opens its recorded sockets; for "udp" it must return a
// conn that is also a net.PacketConn (see NewResolver).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)
