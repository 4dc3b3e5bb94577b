package session

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// availableCongestion lists the congestion control algorithms this kernel
// has: built in or loaded as modules. The list is the machine's, the same
// in every namespace.
const availableCongestion = "/proc/sys/net/ipv4/tcp_available_congestion_control"

// CongestionAlgorithms are the congestion control algorithms the kernel
// offers ("reno", "cubic", "bbr"), as it lists them.
func CongestionAlgorithms() ([]string, error) {
	b, err := os.ReadFile(availableCongestion)
	if err != nil {
		return nil, fmt.Errorf("congestion control algorithms: %w", err)
	}
	return strings.Fields(string(b)), nil
}

// Congestion sets the socket's congestion control algorithm (TCP_CONGESTION)
// before it listens or connects; a connection accepted from a listener
// inherits it. An algorithm the kernel does not have is an error that
// names the ones it has and how to load it.
func Congestion(algorithm string) Option {
	return func(o *sockOpts) {
		o.controls = append(o.controls, func(fd int) error { return setCongestion(fd, algorithm) })
		o.details = append(o.details, "TCP_CONGESTION="+algorithm)
	}
}

func setCongestion(fd int, algorithm string) error {
	err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, algorithm)
	if err == nil {
		return nil
	}
	have, lerr := CongestionAlgorithms()
	switch {
	case lerr == nil && !slices.Contains(have, algorithm):
		return fmt.Errorf("setsockopt TCP_CONGESTION=%s: this kernel has %s; load it first: sudo modprobe tcp_%s: %w",
			algorithm, strings.Join(have, ", "), algorithm, err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("setsockopt TCP_CONGESTION=%s: not in net.ipv4.tcp_allowed_congestion_control, and the lab lacks CAP_NET_ADMIN: %w", algorithm, err)
	}
	return fmt.Errorf("setsockopt TCP_CONGESTION=%s: %w", algorithm, err)
}

// Congestion reads the connection's congestion control algorithm back from
// the kernel (getsockopt TCP_CONGESTION) and records it: the algorithm the
// socket really uses, whatever the program asked for or the machine
// defaults to.
func (c *Conn) Congestion() (string, error) {
	a := timeline.App{Lane: c.lane, Call: timeline.CallGetsockopt, Proto: decode.ProtoTCP, Socket: c.sock, Detail: "TCP_CONGESTION"}
	call := c.s.begin(a)
	var name string
	rc, err := c.c.SyscallConn()
	if err == nil {
		if cerr := rc.Control(func(fd uintptr) { name, err = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION) }); cerr != nil {
			err = cerr
		}
	}
	name = strings.TrimRight(name, "\x00")
	if err == nil {
		a.Detail = "TCP_CONGESTION=" + name
	}
	a.Err = errText(err)
	call.done(a)
	if err != nil {
		return "", fmt.Errorf("getsockopt TCP_CONGESTION: %w", err)
	}
	return name, nil
}
