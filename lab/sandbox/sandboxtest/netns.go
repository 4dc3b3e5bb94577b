// Package sandboxtest helps tests that need a network namespace of their own.
package sandboxtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/netlab/netlab/lab/sandbox"
)

// netnsChildEnv marks a test binary re-executed inside a fresh network
// namespace by InFreshNetns.
const netnsChildEnv = "NETLAB_TEST_NETNS_CHILD"

// InFreshNetns lets a top-level test run in a network namespace of its own
// (only lo, up), for tests that change the network (firewall rules, MTU). In
// the test process it re-executes the test binary for just this test with
// CLONE_NEWNET (and CLONE_NEWUSER when not root), reports the child's
// outcome and returns false: the caller must return. In the child it brings
// lo up and returns true. Where no namespace can be made, the test is
// skipped with the reason.
func InFreshNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsChildEnv) == "1" {
		if err := sandbox.LinkUp(sandbox.Loopback); err != nil {
			t.Fatalf("bring lo up: %v", err)
		}
		return true
	}
	if strings.Contains(t.Name(), "/") {
		t.Fatalf("InFreshNetns needs a top-level test, not %s", t.Name())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
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
		t.Skipf("cannot create a network namespace for this test: %v", err)
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
