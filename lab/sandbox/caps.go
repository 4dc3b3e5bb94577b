package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A binary given file capabilities (setcap cap_net_raw,cap_net_admin+ep) runs
// with them in the host's user namespace, whatever its environment says. Such
// a process must never change a network namespace: it could only be the
// host's (or one an unprivileged user made and already controls). These
// functions tell the cases apart from what the kernel says, never from the
// environment.

// ErrNotOurs is returned (wrapped) by everything that would change a network
// namespace netlab did not create.
var ErrNotOurs = errors.New("not a network namespace netlab created")

// InInitialUserNS reports whether this process is in the host's (initial)
// user namespace: its uid_map is the identity map of every uid.
func InInitialUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return true // no user namespaces at all: the initial one
	}
	f := strings.Fields(string(b))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

// OwnsNetns returns nil when this process's network namespace is one a run
// may change (bring lo up, set its MTU, size its TCP hash table, add
// firewall rules), and an error wrapping ErrNotOurs otherwise:
//
//   - in a user namespace of its own (rootless), the kernel lets the process
//     change only namespaces its user namespace owns: nothing of the host's;
//   - as root of the host, only a network namespace other than its parent's
//     (the front end made it for this process) and pid 1's;
//   - with capabilities from the binary's file (setcap) in the host's user
//     namespace, never: that process is an unprivileged user holding
//     capabilities over the host's network.
func OwnsNetns() error {
	if !InInitialUserNS() {
		return nil
	}
	if os.Getuid() != 0 {
		return fmt.Errorf("%w: uid %d holds capabilities from the binary's file in the host's user namespace", ErrNotOurs, os.Getuid())
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotOurs, err)
	}
	// The parent made this namespace (CLONE_NEWNET), so it is in another
	// one; pid 1's is the host's, where it can be read.
	for _, pid := range []string{strconv.Itoa(os.Getppid()), "1"} {
		other, err := os.Readlink("/proc/" + pid + "/ns/net")
		if err != nil && pid == "1" {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotOurs, err)
		}
		if self == other {
			return fmt.Errorf("%w: process %s shares this network namespace (%s)", ErrNotOurs, pid, self)
		}
	}
	return nil
}

// fileCaptureCaps is the file capability set netlab's README advises.
const fileCaptureCaps = 1<<unix.CAP_NET_RAW | 1<<unix.CAP_NET_ADMIN

// FileCaps reports whether the executable at path carries CAP_NET_RAW and
// CAP_NET_ADMIN as file capabilities (setcap), in its permitted set.
func FileCaps(path string) bool {
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, "security.capability", buf)
	if err != nil || n < 8 {
		return false
	}
	// struct vfs_cap_data: magic_etc, then {permitted, inheritable} pairs
	// of 32-bit words (low word first).
	permitted := binary.LittleEndian.Uint32(buf[4:8])
	return permitted&fileCaptureCaps == fileCaptureCaps
}

// DropCaps clears this process's capabilities except keep (a mask of
// CAP_* bits below 32) from its permitted, effective and inheritable sets,
// and its ambient set. A process running with file capabilities calls it
// with 0 before making namespaces (it needs none: the kernel refuses the
// uid_map of a user namespace made by a process that is not dumpable, which
// file capabilities make it) and then marks itself dumpable again: with no
// capabilities left there is nothing to protect.
func DropCaps(keep uint32) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	if data[0].Permitted&^keep == 0 && data[1].Permitted == 0 {
		return nil // nothing to drop
	}
	unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	data[0].Permitted &= keep
	data[0].Effective &= keep
	data[0].Inheritable = 0
	data[1] = unix.CapUserData{}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	return nil
}

// DropFileCaps gives up, in a front end started from a setcap'd binary,
// every capability the file gave it, and makes the process dumpable again
// so that it may write the uid_map of the user namespace it creates for a
// run. Root and processes in a user namespace of their own are left as they
// are.
func DropFileCaps() error {
	if os.Getuid() == 0 || !InInitialUserNS() {
		return nil
	}
	if err := DropCaps(0); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set dumpable: %w", err)
	}
	return nil
}
