// Package doctor checks what this machine lets netlab do — run as root,
// create user and network namespaces, capture with AF_PACKET, read the
// kernel's socket table, program nftables, open TUN — and says how to fix
// what is missing. The in-namespace probes run where a real run would: in a
// sandboxed child (see lab/runner).
package doctor

import (
	"fmt"
	"os"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/sockstate"
)

// Result is one capability checked.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
	// Optional: netlab runs without it (some scenarios may not).
	Optional bool `json:"optional,omitempty"`
}

// Host returns the checks made in the calling process, before any sandbox.
func Host() []Result {
	uid := os.Geteuid()
	root := Result{Name: "root", OK: uid == 0, Optional: true, Detail: fmt.Sprintf("effective uid %d", uid)}
	if uid != 0 {
		root.Detail += ": netlab will use a user namespace instead"
		root.Fix = "sudo netlab ... (not needed where user namespaces work)"
	}
	caps := Result{Name: "capture capabilities", OK: sandbox.HasCaptureCaps(), Optional: true,
		Detail: "CAP_NET_RAW and CAP_NET_ADMIN in this process"}
	if !caps.OK {
		caps.Detail = "no CAP_NET_RAW/CAP_NET_ADMIN here (fine: the sandbox has its own)"
	}
	return []Result{root, caps}
}

// Probe runs the checks that need the sandbox; call it inside one.
func Probe(mode sandbox.Mode) []Result {
	var out []Result
	out = append(out, Result{Name: "network namespace", OK: true, Detail: "running in a fresh " + string(mode) + " sandbox"})

	lo := Result{Name: "loopback up"}
	if err := sandbox.Setup(mode); err != nil {
		lo.Detail = err.Error()
		lo.Fix = "the namespace refused to bring lo up: see the AF_PACKET fix"
	} else {
		lo.OK, lo.Detail = true, "lo is up in the namespace"
	}
	out = append(out, lo)

	pk := Result{Name: "AF_PACKET capture"}
	if src, err := capture.OpenLive(sandbox.Loopback); err != nil {
		pk.Detail = err.Error()
		pk.Fix = "sudo netlab ..., or allow unprivileged user namespaces (see below)"
	} else {
		pk.OK, pk.Detail = true, fmt.Sprintf("TPACKET_V3 ring on lo, link type %s", src.LinkType())
		src.Close()
	}
	out = append(out, pk)

	sd := Result{Name: "sock_diag (kernel socket states)"}
	if c, err := sockstate.Open(); err != nil {
		sd.Detail = err.Error()
		sd.Fix = "the kernel lacks inet_diag/tcp_diag: load it with sudo modprobe tcp_diag"
	} else if socks, err := c.DumpTCP(nil); err != nil {
		sd.Detail = err.Error()
		sd.Fix = "sudo modprobe tcp_diag"
		c.Close()
	} else {
		sd.OK, sd.Detail = true, fmt.Sprintf("INET_DIAG dump works (%d TCP sockets in the namespace)", len(socks))
		c.Close()
	}
	out = append(out, sd)

	nf := Result{Name: "nftables", Optional: true}
	if c, err := nftables.New(); err != nil {
		nf.Detail = err.Error()
	} else if tables, err := c.ListTables(); err != nil {
		nf.Detail = err.Error()
		nf.Fix = "needed only by impairment scenarios (loss, dropped peers): sudo modprobe nf_tables"
	} else {
		nf.OK, nf.Detail = true, fmt.Sprintf("netlink nftables works (%d tables)", len(tables))
	}
	out = append(out, nf)

	tun := Result{Name: "TUN (/dev/net/tun)", Optional: true}
	if fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
		tun.Detail = "/dev/net/tun: " + err.Error()
		tun.Fix = "needed only for the TUN relay; rootless runs use veth instead, or run with sudo"
	} else {
		unix.Close(fd)
		tun.OK, tun.Detail = true, "/dev/net/tun opens"
	}
	out = append(out, tun)
	return out
}
