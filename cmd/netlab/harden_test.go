package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

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

// runTo runs netlab with stdout going to the file at path (or /dev/null)
// and returns its stderr and exit code.
func runTo(t *testing.T, stdout string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(netlabBin, args...)
	if stdout != "" {
		f, err := os.OpenFile(stdout, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdout = f
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.Env = append(append(os.Environ(), "LANG=C"), env...)
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return errb.String(), cmd.ProcessState.ExitCode()
}

// TestWriteErrorsAreErrors: an output that cannot be written (here
// /dev/full: "no space left on device") exits with code 4 and says which
// output failed; before, --json >/dev/full exited 0 and --pcap /dev/full 1,
// the code of a failed check.
func TestWriteErrorsAreErrors(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	tests := []struct {
		name   string
		stdout string
		args   []string
		want   string
	}{
		{"ladder", "/dev/full", []string{"run", "echo"}, "writing the ladder to standard output"},
		{"json", "/dev/full", []string{"run", "echo", "--json"}, "writing JSON lines to standard output"},
		{"pcap", "/dev/null", []string{"run", "echo", "--pcap", "/dev/full"}, "write pcapng"},
		{"pcap to stdout", "/dev/full", []string{"run", "echo", "--pcap", "-"}, "writing the pcapng to standard output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stderr, code := runTo(t, tc.stdout, nil, tc.args...)
			needSandbox(t, result{code: code, stderr: stderr})
			if code != exitOutput || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "no space left on device") {
				t.Fatalf("exit %d, want %d, with %q:\n%s", code, exitOutput, tc.want, stderr)
			}
		})
	}
}

// TestPcapToStdout: --pcap - writes pcapng to standard output (tshark reads
// it from a pipe) and the ladder to standard error, as tcpdump -w - does.
func TestPcapToStdout(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (.ci/run installs it)")
	}
	cmd := exec.Command(netlabBin, "run", "echo", "--pcap", "-")
	cmd.Env = append(os.Environ(), "LANG=C")
	var ladder bytes.Buffer
	cmd.Stderr = &ladder
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ts := exec.Command(tshark, "-r", "-", "-T", "fields", "-e", "frame.number")
	ts.Stdin = pipe
	var tsOut, tsErr bytes.Buffer
	ts.Stdout, ts.Stderr = &tsOut, &tsErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ts.Wait()
	needSandbox(t, result{code: cmd.ProcessState.ExitCode(), stderr: ladder.String()})
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s", code, ladder.String())
	}
	frames := strings.Fields(tsOut.String())
	if !strings.Contains(ladder.String(), "checks:") || !strings.Contains(ladder.String(), fmt.Sprintf("%d packets captured", len(frames))) {
		t.Fatalf("tshark read %d frames (%s); the ladder on stderr says:\n%s", len(frames), tsErr.String(), ladder.String())
	}
	if len(frames) < 6 {
		t.Fatalf("tshark read %d frames: %s", len(frames), tsErr.String())
	}
}

// TestPcapFIFO: --pcap FIFO opens it write-only: a reader gets the whole
// pcapng (before: netlab opened it read-write, the reader got EOF and
// nothing), and a reader that never reads cannot make netlab deaf to
// SIGTERM.
func TestPcapFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		var b bytes.Buffer
		b.ReadFrom(f)
		got <- b.Bytes()
	}()
	r := netlab(t, "run", "echo", "--pcap", fifo)
	needSandbox(t, r)
	var data []byte
	select {
	case data = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got no EOF")
	}
	if r.code != 0 || len(data) < 4 || !bytes.Equal(data[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Fatalf("exit %d; the reader got %d bytes (%.8x)\n%s", r.code, len(data), data, r.stderr)
	}

	// A reader that opens the FIFO and never reads: the pcapng of a bigger
	// run fills the pipe and the write blocks; SIGTERM still ends netlab.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		f, err := os.Open(fifo)
		if err == nil {
			<-stop
			f.Close()
		}
	}()
	cmd := exec.Command(netlabBin, "run", "flow-control", "--pcap", fifo) // ~80 KB of pcapng: more than a pipe holds
	cmd.Env = append(os.Environ(), "LANG=C")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(out.String(), "packets captured") {
		select {
		case <-done:
			t.Fatalf("netlab ended before its pcapng write blocked (exit %d):\n%s", cmd.ProcessState.ExitCode(), out.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("the run did not finish")
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond) // the write is blocked now
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("netlab ignored SIGTERM while its pcapng write was blocked")
	}
	took := time.Since(sent)
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || took > time.Second {
		t.Fatalf("exit %d after %v, want %d within 1 s", code, took, exitInterrupted)
	}
	t.Logf("blocked write: exit %d %v after SIGTERM", exitInterrupted, took.Round(time.Millisecond))
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWidthClamped: --width and $COLUMNS are clamped to 1000 columns, and
// stderr says so (before: --width 2147483647 died out of memory and
// COLUMNS=1000000 printed 53 MB).
func TestWidthClamped(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"run", "echo", "--width", "2147483647"}, "", "--width 2147483647 is wider than 1000 columns"},
		{[]string{"run", "echo"}, "COLUMNS=1000000", "$COLUMNS 1000000 is wider than 1000 columns"},
	} {
		cmd := exec.Command(netlabBin, tc.args...)
		cmd.Env = append(os.Environ(), "LANG=C", tc.env)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		needSandbox(t, result{code: cmd.ProcessState.ExitCode(), stderr: errb.String()})
		if cmd.ProcessState.ExitCode() != 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v %s: exit %d, stderr %q", tc.args, tc.env, cmd.ProcessState.ExitCode(), errb.String())
		}
		widest := 0
		for _, l := range strings.Split(out.String(), "\n") {
			widest = max(widest, utf8.RuneCountInString(l))
		}
		if widest > 1000 || out.Len() > 1<<20 {
			t.Errorf("%v %s: %d bytes, widest line %d columns", tc.args, tc.env, out.Len(), widest)
		}
	}
}

// TestDashboardSignalExits130: the dashboard ended by SIGTERM or SIGINT
// exits 130, as a headless run does (q exits 0: TestDashboardInTmux).
// Before, a signal gave 0.
func TestDashboardSignalExits130(t *testing.T) {
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	if r := netlab(t, "run", "echo"); r.code == exitNoCapture {
		t.Skipf("no sandbox: %s", r.stderr)
	}
	tm := &tmux{t: t, path: tmuxPath, sock: "netlab-sig-" + strconv.Itoa(os.Getpid())}
	t.Cleanup(func() { exec.Command(tm.path, "-L", tm.sock, "kill-server").Run() })
	if out, err := tm.run("new-session", "-d", "-s", "keep", "sleep", "3600"); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		s := tm.open(t, "sig"+strconv.Itoa(int(sig)), netlabBin, "ui", "handshake")
		s.waitFor("step 1")
		sent := time.Now()
		syscall.Kill(s.pid, sig)
		screen := s.waitFor("netlab exited with status")
		if !strings.Contains(screen, "netlab exited with status 130") {
			t.Errorf("%v: want status 130:\n%s", sig, screen)
		}
		t.Logf("%v: exited %v after the signal", sig, time.Since(sent).Round(time.Millisecond))
	}
}
