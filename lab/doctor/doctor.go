// Package doctor checks what this machine lets netlab do — create the
// namespaces a run needs, capture with AF_PACKET, read the kernel's socket
// table, program nftables — says which sandbox a run will use and why, and
// how to fix what is missing. The in-namespace probes run where a real run
// would: in a sandboxed child (see lab/runner).
package doctor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/mattn/go-runewidth"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/sockstate"
)

// Result is one capability checked.
type Result struct {
	Name   i18n.Text
	OK     bool
	Detail i18n.Text
	Fix    i18n.Text
	// Optional: every scenario runs without it except those in For.
	Optional bool
	// For names the scenarios that need an Optional capability (none: no
	// scenario needs it).
	For []string
}

// Host returns what is known in the calling process before any sandbox:
// file capabilities on the binary, which netlab gives up (they are not
// needed and not used). Nothing when there are none.
func Host(exe string) []Result {
	if exe == "" {
		exe = "/proc/self/exe"
	}
	if !sandbox.FileCaps(exe) || os.Getuid() == 0 {
		return nil
	}
	return []Result{{
		Name: i18n.T("binary capabilities", "程序文件的能力"), OK: true, Optional: true,
		Detail: i18n.T("the binary has cap_net_raw,cap_net_admin (setcap): netlab gives them up before it makes a run's namespace; they are not needed",
			"程序文件带有 cap_net_raw,cap_net_admin（setcap）：netlab 在创建运行的命名空间之前放弃它们；并不需要"),
	}}
}

// Sandbox describes the sandbox a run will use (the mode Start chose, or
// the error it gave) and why.
func Sandbox(mode sandbox.Mode, err error) Result {
	r := Result{Name: i18n.T("sandbox", "沙箱"), OK: err == nil}
	var se *sandbox.Error
	switch {
	case err == nil && mode == sandbox.Netns:
		r.Detail = i18n.T("each run gets a fresh network namespace (netns): netlab runs as root",
			"每次运行都有一个新的网络命名空间（netns）：netlab 以 root 运行")
	case err == nil:
		r.Detail = i18n.T("each run gets a fresh user and network namespace (rootless): you are not root, and this kernel lets normal users create user namespaces",
			"每次运行都有一个新的用户和网络命名空间（rootless）：你不是 root，而这个内核允许普通用户创建用户命名空间")
	case errors.As(err, &se):
		r.Detail = i18n.T("no sandbox can be made: "+se.Err.Error(), "无法创建沙箱："+se.Err.Error())
		fix := strings.Join(se.Fix, "\n      ")
		r.Fix = i18n.T(fix, fix)
	default:
		r.Detail = i18n.T(err.Error(), err.Error())
	}
	return r
}

// Probe runs the checks that need the sandbox; call it inside one.
func Probe(mode sandbox.Mode) []Result {
	var out []Result
	lo := Result{Name: i18n.T("loopback up", "回环接口启用")}
	if err := sandbox.Setup(mode); err != nil {
		lo.Detail = i18n.T(err.Error(), err.Error())
		lo.Fix = i18n.T("the namespace refused to bring lo up: see the AF_PACKET fix", "命名空间拒绝启用 lo：见 AF_PACKET 的修复")
	} else {
		lo.OK, lo.Detail = true, i18n.T("lo is up in the namespace", "命名空间里的 lo 已启用")
	}
	out = append(out, lo)

	pk := Result{Name: i18n.T("AF_PACKET capture", "AF_PACKET 抓包")}
	if src, err := capture.OpenLive(sandbox.Loopback); err != nil {
		pk.Detail = i18n.T(err.Error(), err.Error())
		pk.Fix = i18n.T("sudo netlab ..., or allow unprivileged user namespaces (see the sandbox fix)", "sudo netlab ...，或允许非特权用户命名空间（见沙箱的修复）")
	} else {
		pk.OK = true
		pk.Detail = i18n.T(fmt.Sprintf("TPACKET_V3 ring on lo, link type %s", src.LinkType()), fmt.Sprintf("lo 上的 TPACKET_V3 环形缓冲区，链路类型 %s", src.LinkType()))
		src.Close()
	}
	out = append(out, pk)

	sd := Result{Name: i18n.T("sock_diag (kernel socket states)", "sock_diag（内核套接字状态）")}
	fix := i18n.T("the kernel lacks inet_diag/tcp_diag: sudo modprobe tcp_diag", "内核缺少 inet_diag/tcp_diag：sudo modprobe tcp_diag")
	if c, err := sockstate.Open(); err != nil {
		sd.Detail, sd.Fix = i18n.T(err.Error(), err.Error()), fix
	} else if socks, err := c.DumpTCP(nil); err != nil {
		sd.Detail, sd.Fix = i18n.T(err.Error(), err.Error()), fix
		c.Close()
	} else {
		sd.OK = true
		sd.Detail = i18n.T(fmt.Sprintf("INET_DIAG dump works (%d TCP sockets in the namespace)", len(socks)), fmt.Sprintf("INET_DIAG 转储可用（命名空间里有 %d 个 TCP 套接字）", len(socks)))
		c.Close()
	}
	out = append(out, sd)

	// lab/impair's firewall: the keepalive scenario drops a vanished peer's
	// packets with it.
	nf := Result{Name: i18n.T("nftables", "nftables"), Optional: true, For: []string{"keepalive"}}
	if c, err := nftables.New(); err != nil {
		nf.Detail = i18n.T(err.Error(), err.Error())
	} else if tables, err := c.ListTables(); err != nil {
		nf.Detail = i18n.T(err.Error(), err.Error())
		nf.Fix = i18n.T("sudo modprobe nf_tables", "sudo modprobe nf_tables")
	} else {
		nf.OK = true
		nf.Detail = i18n.T(fmt.Sprintf("netlink nftables works (%d tables)", len(tables)), fmt.Sprintf("netlink nftables 可用（%d 个表）", len(tables)))
	}
	out = append(out, nf)

	// No scenario uses TUN (rootless wires would use veth): reported, not required.
	tun := Result{Name: i18n.T("TUN (/dev/net/tun)", "TUN（/dev/net/tun）"), Optional: true}
	if fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
		tun.Detail = i18n.T("/dev/net/tun: "+err.Error()+" (no scenario needs it)", "/dev/net/tun："+err.Error()+"（没有场景需要它）")
	} else {
		unix.Close(fd)
		tun.OK, tun.Detail = true, i18n.T("/dev/net/tun opens (no scenario needs it)", "/dev/net/tun 可以打开（没有场景需要它）")
	}
	out = append(out, tun)
	return out
}

// Report prints the results in lang: those made before the sandbox, the
// sandbox itself, then what was checked inside it (in a sandbox of mode).
// It returns false when some scenario cannot run.
func Report(w io.Writer, lang i18n.Lang, host []Result, sb Result, mode sandbox.Mode, probe []Result) bool {
	ok := true
	var without []string // scenarios that cannot run
	line := func(r Result) {
		mark := i18n.T("ok", "可用")
		switch {
		case !r.OK && r.Optional && len(r.For) == 0:
			mark = i18n.T("unused", "不需要")
		case !r.OK && r.Optional:
			mark = i18n.T("missing", "缺少")
			without = append(without, r.For...)
		case !r.OK:
			mark = i18n.T("missing", "缺少")
			ok = false
		}
		fmt.Fprintf(w, "%s %s %s\n", pad(mark.In(lang), 8), pad(r.Name.In(lang), 34), r.Detail.In(lang))
		if !r.OK && !r.Fix.IsZero() && (!r.Optional || len(r.For) > 0) {
			fmt.Fprintf(w, "         %s %s\n", i18n.T("fix:", "修复：").In(lang), r.Fix.In(lang))
		}
	}
	for _, r := range host {
		line(r)
	}
	line(sb)
	if sb.OK && len(probe) > 0 {
		fmt.Fprintln(w, i18n.T(
			fmt.Sprintf("checked inside a fresh %s sandbox, as a run would be:", mode),
			fmt.Sprintf("在一个新的 %s 沙箱里检查（与运行时相同）：", mode)).In(lang))
		for _, r := range probe {
			line(r)
		}
	}
	fmt.Fprintln(w)
	switch {
	case !ok:
		fmt.Fprintln(w, i18n.T("netlab cannot run scenarios here until the fixes above are applied.",
			"应用上面的修复之前，netlab 无法在这里运行场景。").In(lang))
	case len(without) > 0:
		names := strings.Join(without, ", ")
		fmt.Fprintln(w, i18n.T("netlab can run every scenario here except "+names+".",
			"除了 "+names+"，netlab 可以在这里运行每个场景。").In(lang))
	default:
		fmt.Fprintln(w, i18n.T("netlab can run every scenario here.", "netlab 可以在这里运行每个场景。").In(lang))
	}
	return ok
}

// pad pads s with spaces to n terminal cells.
func pad(s string, n int) string {
	if w := runewidth.StringWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}
