package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/scenarios"
)

// netlabBin is the netlab binary built once for these tests: they run it the
// way a user does.
var netlabBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "netlab-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // the rootless test runs it as another user
	netlabBin = filepath.Join(dir, "netlab")
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// -buildvcs=false: the test needs no VCS stamp, and git refuses to
	// describe a checkout another user owns (a normal user testing a clone
	// root made).
	build := exec.Command(goCmd, "build", "-buildvcs=false", "-o", netlabBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// why says why a run failed: its stderr, the checks that failed (JSON
// lines with "ok":false, or the ladder's ✗) and the JSON summary (packets
// captured, kernel drops).
func (r result) why() string {
	var b strings.Builder
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, `"ok":false`) || strings.Contains(l, "✗") || strings.Contains(l, `"type":"summary"`) {
			b.WriteString(l + "\n")
		}
	}
	return b.String() + r.stderr
}

// netlab runs the binary with args and returns what it printed and its exit code.
func netlab(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(netlabBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "LANG=C")
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run netlab %v: %v", args, err)
	}
	return r
}

// needSandbox skips a test that needs a real run where none can be made.
func needSandbox(t *testing.T, r result) {
	t.Helper()
	if r.code == exitNoCapture {
		t.Skipf("no sandbox on this machine (exit 3):\n%s", r.stderr)
	}
}

func TestList(t *testing.T) {
	r := netlab(t, "list")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, name := range []string{"echo", "handshake", "close", "time-wait"} {
		if !strings.Contains(r.stdout, name+" ") {
			t.Errorf("list lacks %s:\n%s", name, r.stdout)
		}
	}
	zh := netlab(t, "list", "--lang", "zh")
	if !strings.Contains(zh.stdout, "双方") {
		t.Errorf("--lang zh list is not in Chinese:\n%s", zh.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"unknown scenario lists the names", []string{"run", "handshak"}, []string{`unknown scenario "handshak"`, "echo", "handshake", "time-wait"}},
		{"missing name", []string{"run"}, []string{"accepts 1 arg"}},
		{"unknown flag", []string{"run", "handshake", "--nope"}, []string{"unknown flag"}},
		{"unknown command", []string{"frobnicate"}, []string{"unknown command"}},
		{"a loopback-only scenario refuses a wire", []string{"run", "dns", "--net", "wire"}, []string{"scenario dns runs on loopback only", "loopback addresses"}},
		{"a loopback-only scenario refuses impairment", []string{"run", "keepalive", "--loss", "5%"}, []string{"scenario keepalive runs on loopback only", "firewall"}},
		{"a clean-only scenario refuses impairment", []string{"run", "reset", "--delay", "5ms"}, []string{"scenario reset does not run on an impaired wire", "RST is sent once"}},
		{"pcap into a missing directory fails before the run", []string{"run", "handshake", "--pcap", "/nonexistent/dir/x.pcapng"}, []string{"--pcap", "/nonexistent/dir/x.pcapng", "no such file or directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := netlab(t, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, exitUsage, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("nothing should run, but stdout has:\n%s", r.stdout)
			}
		})
	}
}

func TestRunHandshakeText(t *testing.T) {
	r := netlab(t, "run", "handshake", "--width", "80")
	needSandbox(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "(SYN-SENT)") && !strings.Contains(r.stdout, "[SYN-SENT]") {
		t.Error("no SYN-SENT state, from the kernel or inferred")
	}
	for _, want := range []string{"[ESTABLISHED]", "✓ the handshake is SYN, SYN,ACK, ACK", fmt.Sprintf("checks: %d passed, 0 failed", len(scenarios.Handshake.Checks))} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, arrow := range []struct{ head, label string }{{"▶│", " SYN seq=0 "}, {"│◀", " SYN,ACK seq=0 ack=1 "}, {"▶│", " ACK seq=1 ack=1 "}} {
		found := false
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Contains(line, arrow.head) && strings.Contains(line, arrow.label) {
				found = true
			}
		}
		if !found {
			t.Errorf("no arrow %q with %q:\n%s", arrow.head, arrow.label, r.stdout)
		}
	}
	for i, line := range strings.Split(r.stdout, "\n") {
		if n := len([]rune(line)); n > 80 && strings.HasPrefix(line, " ") && strings.Contains(line, "│") {
			t.Errorf("ladder line %d is %d columns: %s", i+1, n, line)
		}
	}
	t.Logf("netlab run handshake took %v", r.took)
}

// jsonLines parses --json output.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

func TestRunJSON(t *testing.T) {
	r := netlab(t, "run", "close", "--json")
	needSandbox(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.why())
	}
	lines := jsonLines(t, r.stdout)
	if lines[0]["type"] != "run" || lines[len(lines)-1]["type"] != "summary" {
		t.Fatalf("first line %v, last line %v", lines[0], lines[len(lines)-1])
	}
	last := lines[len(lines)-1]
	if last["checks_failed"].(float64) != 0 || last["checks_passed"].(float64) == 0 {
		t.Errorf("summary %v", last)
	}
	prevT := -1.0
	types := map[string]int{}
	for _, l := range lines[1 : len(lines)-1] {
		types[l["type"].(string)]++
		if tt := l["t"].(float64); tt < prevT && l["type"] != "check" {
			t.Errorf("events out of time order: %v after t=%v", l, prevT)
		} else {
			prevT = tt
		}
	}
	for _, typ := range []string{"packet", "state", "app", "note", "check"} {
		if types[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
}

// TestTsharkAgrees: a real peer reads the pcapng and sees exactly the TCP
// segments and flags the JSON reports: nothing duplicated, nothing lost.
func TestTsharkAgrees(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (.ci/run installs it): cannot compare with a real peer")
	}
	for _, sc := range scenarioNames(t) {
		t.Run(sc, func(t *testing.T) {
			pcap := filepath.Join(t.TempDir(), sc+".pcapng")
			r := netlab(t, "run", sc, "--json", "--pcap", pcap)
			needSandbox(t, r)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.why())
			}
			var jsonFlags []string
			packets := 0
			for _, l := range jsonLines(t, r.stdout) {
				if l["type"] == "packet" {
					packets++
				}
				if l["type"] == "packet" && l["proto"] == "tcp" {
					var fs []string
					for _, f := range l["flags"].([]any) {
						fs = append(fs, f.(string))
					}
					jsonFlags = append(jsonFlags, flagKey(fs))
				}
			}
			// On a lab network the file also holds each copy as it arrived
			// (TestTsharkAgreesOnWire reads those): the JSON has one line
			// per packet sent. A copy's own comment starts "netlab #N
			// arriving at" (a check's detail may say "arriving at" too).
			sentOnly := `!(frame.comment matches "^netlab #[0-9]+ arriving at ")`
			out, err := exec.Command(tshark, "-r", pcap, "-Y", "tcp && "+sentOnly, "-T", "fields", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.flags.fin", "-e", "tcp.flags.reset", "-e", "tcp.flags.push").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			var tsharkFlags []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Fields(line)
				var fs []string
				for i, name := range []string{"SYN", "ACK", "FIN", "RST", "PSH"} {
					if i < len(f) && (f[i] == "1" || f[i] == "True") {
						fs = append(fs, name)
					}
				}
				tsharkFlags = append(tsharkFlags, flagKey(fs))
			}
			if len(jsonFlags) == 0 {
				tsharkFlags = nil // tshark prints one empty line for no match
			}
			if strings.Join(jsonFlags, " ") != strings.Join(tsharkFlags, " ") {
				t.Fatalf("tshark and --json disagree:\ntshark: %v\njson:   %v", tsharkFlags, jsonFlags)
			}
			all, err := exec.Command(tshark, "-r", pcap, "-Y", sentOnly, "-T", "fields", "-e", "frame.number").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			if n := len(strings.Fields(string(all))); n != packets {
				t.Fatalf("tshark reads %d packets, --json reports %d", n, packets)
			}
			t.Logf("%d packets, %d TCP segments: tshark and --json agree", packets, len(jsonFlags))
		})
	}
}

// flagKey renders a flag set in a fixed order.
func flagKey(fs []string) string {
	var out []string
	for _, name := range []string{"SYN", "ACK", "FIN", "RST", "PSH"} {
		for _, f := range fs {
			if f == name {
				out = append(out, name)
			}
		}
	}
	return strings.Join(out, "+")
}

// TestInterrupt: Ctrl-C mid-run exits 130 and leaves no process (and so no
// network namespace: they die with their last process).
func TestInterrupt(t *testing.T) {
	cmd := exec.Command(netlabBin, "run", "time-wait")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the run has begun (the header is printed with the first event).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Act 1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "Act 1") {
		cmd.Process.Kill()
		cmd.Wait()
		if strings.Contains(errb.String(), "cannot capture") {
			t.Skipf("no sandbox: %s", errb.String())
		}
		t.Fatalf("run did not start:\n%s\n%s", out.String(), errb.String())
	}
	workers := descendants(cmd.Process.Pid)
	if len(workers) == 0 {
		t.Fatal("no worker process found under netlab")
	}
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d\n%s\n%s", err, exitInterrupted, out.String(), errb.String())
	}
	t.Logf("stopped %v after SIGINT", time.Since(start))
	if !strings.Contains(out.String(), "(interrupted)") {
		t.Errorf("summary does not say the run was interrupted:\n%s", out.String())
	}
	for _, pid := range workers {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("worker process %d is still there", pid)
		}
	}
}

// descendants lists the pids below pid (the sandboxed workers).
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 {
			pp, _ := strconv.Atoi(fields[1])
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// TestRootless runs netlab as an unprivileged user: it works in a user
// namespace, or exits 3 naming the fix where the kernel forbids that.
func TestRootless(t *testing.T) {
	if os.Geteuid() != 0 {
		// Already unprivileged: the other tests ran rootless.
		t.Skip("not root: every other test here already ran netlab rootless")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no unprivileged user to run as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd := exec.Command(netlabBin, "run", "handshake")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	switch code {
	case 0:
		if !strings.Contains(out.String(), "sandbox rootless") {
			t.Errorf("ran, but not in a rootless sandbox:\n%s", out.String())
		}
		t.Logf("ran as %s in a rootless sandbox", u.Username)
	case exitNoCapture:
		if !strings.Contains(errb.String(), "fix") || !strings.Contains(errb.String(), "sudo") {
			t.Errorf("exit 3 without a fix:\n%s", errb.String())
		}
		t.Logf("user namespaces are off here; netlab said:\n%s", errb.String())
	default:
		t.Fatalf("as %s: exit %d\n%s\n%s", u.Username, code, out.String(), errb.String())
	}
}

func TestDoctor(t *testing.T) {
	r := netlab(t, "doctor")
	for _, want := range []string{"sandbox", "AF_PACKET capture", "sock_diag", "nftables", "TUN", "checked inside a fresh"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 && r.code != exitNoCapture {
		t.Fatalf("exit %d", r.code)
	}
	if r.code == 0 && strings.Contains(r.stdout, "missing  AF_PACKET") {
		t.Errorf("exit 0 although capture is missing:\n%s", r.stdout)
	}
	zh := netlab(t, "doctor", "--lang", "zh")
	for _, want := range []string{"沙箱", "AF_PACKET 抓包"} {
		if !strings.Contains(zh.stdout, want) {
			t.Errorf("doctor --lang zh lacks %q:\n%s", want, zh.stdout)
		}
	}
	if strings.Contains(zh.stdout, "ok ") || strings.Contains(zh.stdout, "missing") {
		t.Errorf("doctor --lang zh speaks English:\n%s", zh.stdout)
	}
}

// TestDoctorAsNormalUser: run by a normal user where user namespaces work
// (also from a setcap'd copy), doctor says the run is rootless and why, and
// prints nothing as missing that a rootless run does not need.
func TestDoctorAsNormalUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run netlab as another user")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no unprivileged user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	bins := []string{netlabBin}
	if capped, err := setcapCopy(t); err == nil {
		bins = append(bins, capped)
	}
	for _, bin := range bins {
		cmd := exec.Command(bin, "doctor")
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		out, err := cmd.Output()
		if err != nil {
			if strings.Contains(string(out), "no sandbox can be made") {
				t.Skipf("user namespaces are off here:\n%s", out)
			}
			t.Fatalf("%s doctor as %s: %v\n%s", bin, u.Username, err, out)
		}
		for _, want := range []string{"(rootless): you are not root", "checked inside a fresh rootless sandbox", "can run every scenario here."} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: doctor lacks %q:\n%s", bin, want, out)
			}
		}
		if strings.Contains(string(out), "missing") {
			t.Errorf("%s: doctor prints missing for what a rootless run does not need:\n%s", bin, out)
		}
	}
}

// TestKilledFrontEndTakesWorkersAlong: even kill -9 of netlab leaves no
// worker (and so no namespace) behind: the workers die with their parent.
func TestKilledFrontEndTakesWorkersAlong(t *testing.T) {
	cmd := exec.Command(netlabBin, "run", "time-wait")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var workers []int
	for time.Now().Before(deadline) {
		if workers = descendants(cmd.Process.Pid); len(workers) >= 2 && strings.Contains(out.String(), "Act 1") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(workers) == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		if strings.Contains(out.String(), "cannot capture") {
			t.Skipf("no sandbox: %s", out.String())
		}
		t.Fatalf("no worker started:\n%s", out.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	gone := time.Now().Add(3 * time.Second)
	for _, pid := range workers {
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil || strings.Contains(string(b), ") Z ") {
				break // gone (or a zombie awaiting its reaper)
			}
			if time.Now().After(gone) {
				t.Fatalf("worker %d outlived the killed front end", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("%d worker processes died with the front end", len(workers))
}

// scenarioNames asks the binary for its scenarios, as a user would.
func scenarioNames(t *testing.T) []string {
	t.Helper()
	r := netlab(t, "list")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// TestPcapTLSSecretsOnlyOnRequest: the https run's pcapng carries no TLS
// secrets by default, so tshark decrypts nothing on port 443 (the lesson says
// the bytes stay encrypted); with --pcap-secrets it embeds them and tshark
// shows the login form sent over TLS. (The plain-HTTP act on port 80 is in
// clear either way: that is its lesson.)
func TestPcapTLSSecretsOnlyOnRequest(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (.ci/run installs it)")
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, ""},
		{[]string{"--pcap-secrets"}, "POST\t/login\talice,opensesame-42"},
	} {
		pcap := filepath.Join(t.TempDir(), "https.pcapng")
		r := netlab(t, append([]string{"run", "https", "--pcap", pcap}, tc.flags...)...)
		needSandbox(t, r)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.flags, r.code, r.why())
		}
		out, err := exec.Command(tshark, "-r", pcap, "-Y", "tcp.port == 443 && (http.request || urlencoded-form)",
			"-T", "fields", "-e", "http.request.method", "-e", "http.request.uri", "-e", "urlencoded-form.value").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		got := strings.TrimSpace(string(out))
		if got != tc.want {
			t.Errorf("%v: tshark decrypted %q on port 443, want %q", tc.flags, got, tc.want)
		}
	}
	if r := netlab(t, "run", "https", "--pcap-secrets"); r.code != exitUsage || !strings.Contains(r.stderr, "--pcap-secrets needs --pcap") {
		t.Errorf("--pcap-secrets without --pcap: exit %d\n%s", r.code, r.stderr)
	}
}
