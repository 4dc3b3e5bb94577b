// Package sandbox puts every netlab run in a network namespace of its own, so
// the capture on its loopback holds only the scenario's traffic and the host
// is left untouched.
//
// A network namespace belongs to a thread in Linux and Go moves goroutines
// between threads, so a running Go program cannot unshare safely (and
// unshare(CLONE_NEWUSER) fails with EINVAL once it has threads). Instead the
// binary re-executes itself into the new namespaces:
//
//   - as root: a new network namespace (CLONE_NEWNET);
//   - as a normal user: a new user and network namespace
//     (CLONE_NEWUSER|CLONE_NEWNET) in which the process is root of its own
//     namespace and may capture on its own loopback;
//   - otherwise: an *Error whose message names the fix (exit code 3).
//
// The child learns its mode from the environment (Inside), checks it against
// the kernel (Enter) and brings its loopback up (Setup). The namespace dies
// with the child: there is nothing to clean up after a run, even after
// kill -9.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// Mode is where a run happens.
type Mode string

// Sandbox modes.
const (
	// Netns: a fresh network namespace created as root.
	Netns Mode = "netns"
	// Rootless: a fresh user+network namespace created by a normal user.
	Rootless Mode = "rootless"
	// Host: the host's own loopback. No longer made: it captured every
	// user's loopback traffic. Kept so that files and JSON lines naming it
	// still parse; a worker told to run in it refuses (Enter).
	Host Mode = "host"
)

// EnvMode is set in a sandboxed child to its Mode.
const EnvMode = "NETLAB_SANDBOX"

// Inside reports the mode this process runs in, if it is a sandboxed child.
func Inside() (Mode, bool) {
	m := Mode(os.Getenv(EnvMode))
	switch m {
	case Netns, Rootless, Host:
		return m, true
	}
	return "", false
}

// Enter is the first thing a sandboxed child does with the mode its
// environment claims (Inside): it checks the claim against what the kernel
// shows, so that a process started with a forged environment changes
// nothing. A child must be in a network namespace netlab created
// (OwnsNetns). Host mode is refused: no run captures on the host's loopback
// any more (it would see every user's loopback traffic); a child that claims
// it, or claims a namespace it is not in, gives up every capability before it
// reports the refusal.
func Enter(mode Mode) error {
	switch mode {
	case Netns, Rootless:
		if err := OwnsNetns(); err != nil {
			if cerr := DropCaps(0); cerr != nil {
				return cerr
			}
			return fmt.Errorf("started as a %s sandbox, but this is %w", mode, err)
		}
		return nil
	case Host:
		if err := DropCaps(0); err != nil {
			return err
		}
		return errors.New("host mode: netlab runs only in namespaces it creates, never on the host's loopback")
	}
	return fmt.Errorf("unknown sandbox mode %q", mode)
}

// Choose picks the mode for a new run: Netns as root, Rootless otherwise.
// (Whether user namespaces are allowed is only known by trying: Start
// returns an *Error naming the fix.)
func Choose() Mode {
	if os.Geteuid() == 0 {
		return Netns
	}
	return Rootless
}

// Prepare sets up cmd to start in a sandbox of the given mode. The child gets
// EnvMode in its environment, dies if the parent dies (Pdeathsig), and runs in
// its own process group, so a terminal's Ctrl-C reaches only the parent, which
// stops the child in order.
func Prepare(cmd *exec.Cmd, mode Mode) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	switch mode {
	case Netns:
		attr.Cloneflags = syscall.CLONE_NEWNET
	case Rootless:
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		// Mapped to uid 0, the child holds every capability inside its own
		// namespaces once it execs: enough for AF_PACKET and netlink there.
	}
	cmd.SysProcAttr = attr
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, EnvMode+"="+string(mode))
}

// Start starts cmd in a sandbox of Choose's mode. It returns the mode used,
// or an *Error naming the fix.
//
// A front end started from a setcap'd binary first gives up the file's
// capabilities (DropFileCaps): then the kernel lets it make the user
// namespace, and the run gets a sandbox of its own. There is no fallback to
// the host's loopback: a capture there holds every user's loopback traffic.
func Start(newCmd func() *exec.Cmd) (*exec.Cmd, Mode, error) {
	if err := DropFileCaps(); err != nil {
		return nil, "", err
	}
	mode := Choose()
	cmd := newCmd()
	Prepare(cmd, mode)
	err := cmd.Start()
	if err == nil {
		return cmd, mode, nil
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return nil, mode, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return nil, mode, Explain(fmt.Errorf("create a %s namespace: %w", mode, err))
}

// Error is a run that cannot capture here, with what to do about it.
// Commands exit with code 3 on it.
type Error struct {
	Err error
	Fix []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "netlab cannot capture packets here: %v\n", e.Err)
	if len(e.Fix) > 0 {
		b.WriteString("fix (any one):\n")
		for _, f := range e.Fix {
			b.WriteString("  ")
			b.WriteString(f)
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (e *Error) Unwrap() error { return e.Err }

// Explain wraps err (from creating namespaces, opening AF_PACKET or netlink)
// in an *Error with the fixes that apply to this machine, reading the kernel
// settings that forbid user namespaces.
func Explain(err error) *Error {
	var fixes []string
	self := "netlab"
	if exe, e := os.Executable(); e == nil {
		self = exe
	}
	if os.Geteuid() != 0 {
		fixes = append(fixes, "sudo "+self+" ...            # run as root: a private network namespace per run")
		if readInt("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1 {
			fixes = append(fixes, "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   # AppArmor forbids unprivileged user namespaces")
		}
		if readInt("/proc/sys/kernel/unprivileged_userns_clone") == 0 {
			fixes = append(fixes, "sudo sysctl -w kernel.unprivileged_userns_clone=1   # user namespaces are off")
		}
		if readInt("/proc/sys/user/max_user_namespaces") == 0 {
			fixes = append(fixes, "sudo sysctl -w user.max_user_namespaces=15000   # user namespaces are limited to 0")
		}
	}
	return &Error{Err: err, Fix: fixes}
}

// readInt reads a one-number /proc file; -1 if absent or unreadable.
func readInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	var n int
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		return -1
	}
	return n
}
