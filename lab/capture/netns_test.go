package capture

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// netnsChildEnv marks a test binary re-executed inside a fresh network
// namespace.
const netnsChildEnv = "NETLAB_CAPTURE_NETNS_CHILD"

// inFreshNetns arranges for the calling top-level test to run in a fresh
// network namespace with only lo, up. In the parent it re-executes the test
// binary for just this test with CLONE_NEWNET (plus CLONE_NEWUSER when not
// root), reports the child's outcome and returns false: the caller must
// return. In the child it brings lo up and returns true.
func inFreshNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsChildEnv) == "1" {
		bringUpLoopback(t)
		return true
	}
	if strings.Contains(t.Name(), "/") {
		t.Fatalf("inFreshNetns needs a top-level test, not %s", t.Name())
	}
	cmd := exec.Command(os.Args[0],
		"-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), netnsChildEnv+"=1")
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if uid := os.Getuid(); uid != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot create a network namespace for the live test (clone flags %#x): %v", attr.Cloneflags, err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil && strings.Contains(out.String(), "--- SKIP: "+t.Name()):
		t.Skipf("child skipped:\n%s", out.String())
	case err == nil:
		t.Logf("child output (in a fresh network namespace):\n%s", out.String())
	case errors.As(err, &exitErr):
		t.Fatalf("child test failed (%v):\n%s", err, out.String())
	default:
		t.Fatalf("child test: %v\n%s", err, out.String())
	}
	return false
}

// bringUpLoopback sets IFF_UP on lo in the current network namespace.
func bringUpLoopback(t *testing.T) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatalf("SIOCGIFFLAGS lo: %v", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("SIOCSIFFLAGS lo up: %v", err)
	}
}
