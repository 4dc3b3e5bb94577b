package sockstate

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// loUp sets IFF_UP on the loopback interface of the current network namespace.
func loUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// threadNetns moves the calling goroutine's OS thread into a new network
// namespace with lo up, for benchmarks, which cannot be re-executed like
// tests. The thread stays locked and is discarded by the runtime when the
// goroutine exits. Only sockets created on this goroutine live in the new
// namespace.
//
// If ehashBuckets is non-zero, the namespace gets a private TCP established
// hash table of that size (net.ipv4.tcp_child_ehash_entries, Linux 6.1+),
// set in an intermediate namespace so the host is not touched; otherwise it
// shares the host's table, which every dump walks in full.
func threadNetns(tb testing.TB, ehashBuckets int) {
	tb.Helper()
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		tb.Skipf("cannot create a network namespace for this thread: unshare(CLONE_NEWNET): %v", err)
	}
	if ehashBuckets != 0 {
		// Network sysctls act on the namespace of the thread that opens
		// them, here the intermediate one.
		const knob = "/proc/sys/net/ipv4/tcp_child_ehash_entries"
		if err := os.WriteFile(knob, []byte(strconv.Itoa(ehashBuckets)), 0); err != nil {
			tb.Skipf("cannot size the namespace's TCP hash table: %v", err)
		}
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			tb.Fatalf("unshare(CLONE_NEWNET): %v", err)
		}
	}
	if err := loUp(); err != nil {
		tb.Fatalf("bring lo up: %v", err)
	}
}
