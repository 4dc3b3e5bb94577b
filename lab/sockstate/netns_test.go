package sockstate

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// This file holds the test-only network namespace sandbox. It is meant to be
// replaced by the project's shared sandbox helper.

// netnsEnv marks a test binary re-executed inside a private network namespace.
const netnsEnv = "NETLAB_SOCKSTATE_IN_NETNS"

// inNetns makes the calling top-level test run in a private network
// namespace. In the parent process it re-executes the test binary for this
// test only, inside a new network namespace, reports the child's result and
// returns false: the caller must return at once. In the child it brings lo up
// and returns true.
func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		if err := loUp(); err != nil {
			t.Fatalf("bring lo up: %v", err)
		}
		return true
	}
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	run := func(attr *syscall.SysProcAttr) (out []byte, started bool, err error) {
		cmd := exec.CommandContext(ctx, os.Args[0],
			"-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		cmd.SysProcAttr = attr
		out, err = cmd.CombinedOutput()
		var exit *exec.ExitError
		return out, err == nil || errors.As(err, &exit), err
	}
	var reasons []string
	var out []byte
	var err error
	started := false
	if os.Geteuid() == 0 {
		out, started, err = run(&syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
		if !started {
			reasons = append(reasons, "CLONE_NEWNET: "+err.Error())
		}
	}
	if !started {
		out, started, err = run(&syscall.SysProcAttr{
			Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			GidMappingsEnableSetgroups: false,
		})
		if !started {
			reasons = append(reasons, "CLONE_NEWUSER|CLONE_NEWNET: "+err.Error())
		}
	}
	if !started {
		t.Skipf("cannot create a network namespace: %s", strings.Join(reasons, "; "))
	}
	if err != nil {
		t.Fatalf("test in network namespace failed: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`(?m)^--- SKIP: ` + regexp.QuoteMeta(t.Name()) + ` .*\n((?:\s+.*\n)*)`).FindSubmatch(out); m != nil {
		t.Skipf("skipped in network namespace:\n%s", m[1])
	}
	if testing.Verbose() {
		t.Logf("output of the test in its network namespace:\n%s", out)
	}
	return false
}

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
