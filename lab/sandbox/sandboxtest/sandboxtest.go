// Package sandboxtest runs a single test in a private network namespace, the
// way netlab runs scenarios: the test binary re-executes itself for just that
// test (lab/sandbox decides the namespace kind: a network namespace as root,
// a user+network namespace otherwise) and the child brings lo up. Tests that
// capture or read the kernel's socket table use it so that only their own
// traffic and sockets are there.
package sandboxtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/sandbox"
)

// envChild marks the re-executed test binary.
const envChild = "NETLAB_SANDBOXTEST_CHILD"

// InNetns makes the calling top-level test run in a fresh network namespace
// with lo up. In the parent it re-executes the test binary for this test
// only, reports the child's outcome (its log with -v; its skip as a skip; its
// failure as a failure) and returns false: the caller must return at once. In
// the child it returns true. Where no namespace can be made, the test is
// skipped with the reason.
func InNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envChild) == "1" {
		mode, _ := sandbox.Inside()
		if err := sandbox.Setup(mode); err != nil {
			t.Fatalf("bring lo up: %v", err)
		}
		return true
	}
	if strings.Contains(t.Name(), "/") {
		t.Fatalf("InNetns needs a top-level test, not %s", t.Name())
	}
	var out bytes.Buffer
	cmd, _, err := sandbox.Start(func() *exec.Cmd {
		out.Reset()
		c := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
		c.Env = append(os.Environ(), envChild+"=1")
		c.Stdout, c.Stderr = &out, &out
		return c
	})
	if err != nil {
		t.Skipf("cannot create a network namespace for this test: %v", err)
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil && strings.Contains(out.String(), "--- SKIP: "+t.Name()):
		t.Skipf("skipped in its network namespace:\n%s", out.String())
	case err == nil:
		if testing.Verbose() {
			t.Logf("output of the test in its network namespace:\n%s", out.String())
		}
	case errors.As(err, &exitErr):
		t.Fatalf("test failed in its network namespace (%v):\n%s", err, out.String())
	default:
		t.Fatalf("test in its network namespace: %v\n%s", err, out.String())
	}
	return false
}
