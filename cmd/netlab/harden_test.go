package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

// hostState is what a worker could change in the network namespace it runs in.
type hostState struct {
	mtu    int
	flags  net.Flags
	ehash  string
	tables int
}

func readHostState(t *testing.T) hostState {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	eh, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_child_ehash_entries")
	return hostState{mtu: lo.MTU, flags: lo.Flags, ehash: strings.TrimSpace(string(eh)), tables: nftTables(t)}
}

func nftTables(t *testing.T) int {
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	return len(tables)
}

// TestForgedWorkerChangesNothing: a normal user running the setcap'd binary
// (the README's own advice) with a worker's environment forged by hand must
// change nothing in the namespace it runs in: not lo's MTU, not the TCP hash
// table size of later namespaces, not the firewall. The test runs in a
// throwaway network namespace standing in for the host.
func TestForgedWorkerChangesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to setcap a copy of netlab and to make the stand-in host namespace")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no unprivileged user: %v", err)
	}
	if !sandboxtest.InNetns(t) {
		return
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	bin, err := setcapCopy(t)
	if err != nil {
		t.Skip(err)
	}
	dir := filepath.Dir(bin)
	// The front end's own path: with file capabilities the run gets a
	// sandbox (rootless), not the host's loopback.
	front := exec.Command(bin, "run", "handshake", "--json")
	front.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	front.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, _ := front.Output()
	if !bytes.Contains(out, []byte(`"sandbox":"rootless"`)) && !bytes.Contains(out, []byte(`"sandbox":"netns"`)) {
		t.Errorf("the setcap'd binary run by %s does not use a sandbox:\n%.300s", u.Username, out)
	}

	before := readHostState(t)
	for _, sc := range []string{"coalescing", "keepalive"} {
		for _, mode := range []string{"netns", "rootless", "host"} {
			for _, fd3 := range []string{"file", "socketpair"} {
				name := sc + "/" + mode + "/" + fd3
				cmd := exec.Command(bin)
				cmd.Args = []string{"netlab-worker", sc}
				cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C",
					`NETLAB_WORKER={"Scenario":"` + sc + `","Lang":"en"}`, "NETLAB_SANDBOX=" + mode}
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				var keep *os.File
				switch fd3 {
				case "file":
					f, err := os.CreateTemp(dir, "events")
					if err != nil {
						t.Fatal(err)
					}
					cmd.ExtraFiles = []*os.File{f}
					keep = f
				case "socketpair":
					// Made by the process that starts the worker, as the
					// real front end does: only the kernel's view of the
					// namespace can stop this one.
					fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					keep = os.NewFile(uintptr(fds[0]), "front")
					w := os.NewFile(uintptr(fds[1]), "worker")
					cmd.ExtraFiles = []*os.File{w}
					defer w.Close()
					go func(r *os.File) {
						var b [4096]byte
						for {
							if _, err := r.Read(b[:]); err != nil {
								return
							}
						}
					}(keep)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				sawTable := false
				deadline := time.After(20 * time.Second)
			poll:
				for {
					select {
					case <-done:
						break poll
					case <-deadline:
						cmd.Process.Kill()
						<-done
						break poll
					case <-time.After(5 * time.Millisecond):
						if nftTables(t) != before.tables {
							sawTable = true
							cmd.Process.Kill() // as in the issue: a killed worker
						}
					}
				}
				keep.Close()
				after := readHostState(t)
				if sawTable {
					t.Errorf("%s: the forged worker added an nftables table to the host's firewall", name)
				}
				if after != before {
					t.Errorf("%s: the forged worker changed the host: before %+v, after %+v\n%s", name, before, after, stderr.String())
				}
				if !strings.Contains(stderr.String(), "refus") && !strings.Contains(stderr.String(), "not a network namespace netlab created") && cmd.ProcessState.ExitCode() == 0 {
					t.Errorf("%s: the forged worker ran (exit 0):\n%s", name, stderr.String())
				}
				t.Logf("%s: exit %d: %s", name, cmd.ProcessState.ExitCode(), strings.TrimSpace(stderr.String()))
			}
		}
	}
}

// setcapCopy copies the netlab binary into a directory every user may
// enter, with cap_net_raw,cap_net_admin+ep as the README once advised.
func setcapCopy(t *testing.T) (string, error) {
	t.Helper()
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		return "", fmt.Errorf("setcap is not installed")
	}
	dir, err := os.MkdirTemp("", "netlab-setcap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "netlab")
	data, err := os.ReadFile(netlabBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(setcap, "cap_net_raw,cap_net_admin+ep", bin).CombinedOutput(); err != nil {
		return "", fmt.Errorf("setcap: %v: %s", err, out)
	}
	return bin, nil
}
