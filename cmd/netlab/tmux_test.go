package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/scenarios"
)

// TestDashboardInTmux runs the real netlab binary in tmux at 100x35 the way
// a person would: pick handshake with the keys and run it, step through it
// and check the ladder; open it again with `netlab ui handshake`; step
// through time-wait and watch the kernel's TIME-WAIT countdown go down;
// quit with q and check the process is gone and the terminal restored.
func TestDashboardInTmux(t *testing.T) {
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install tmux): the dashboard's end-to-end test needs a terminal multiplexer")
	}
	bin := netlabBin
	// Runs need a sandbox; a headless run says with exit code 3 when there is none.
	if out, err := exec.Command(bin, "run", "echo").CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == exitNoCapture {
			t.Skipf("no sandbox on this machine, so no live dashboard: %s", out)
		}
		t.Fatalf("netlab run echo: %v\n%s", err, out)
	}
	tm := &tmux{t: t, path: tmuxPath, sock: "netlab-e2e-" + strconv.Itoa(os.Getpid())}
	t.Cleanup(func() { exec.Command(tm.path, "-L", tm.sock, "kill-server").Run() })
	// A session that outlives the others keeps the server up between them.
	if out, err := tm.run("new-session", "-d", "-s", "keep", "sleep", "3600"); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}

	t.Run("select handshake with keys", func(t *testing.T) {
		s := tm.open(t, "keys", bin)
		s.waitFor("Scenarios", "no run")
		s.send("Down")
		s.waitFor("handshake · TCP three-way handshake")
		s.send("Enter")
		stepThrough(s, 3)
		checkHandshake(s)
		s.quit()
	})
	t.Run("netlab ui handshake", func(t *testing.T) {
		s := tm.open(t, "ui", bin, "ui", "handshake")
		stepThrough(s, 3)
		checkHandshake(s)
		s.quit()
	})
	// An exercise by keyboard alone at 80x24: a prediction not in the
	// answer's form is refused and said, a good one starts the run, and
	// the verdict comes when it ends; in English and in Chinese. The
	// progress goes to a temporary state folder.
	for _, tc := range []struct {
		lang, answer, bad, refused, step1, verdict string
	}{
		{"en", "2", "two", "is not a number", "step 1", "✓ right: this run shows 2 segments"},
		{"zh", "3", "三", "不是一个数", "第 1 步", "✗ 你的答案是 3 segments;本次运行显示 2 segments"},
	} {
		t.Run("exercise by keyboard, "+tc.lang, func(t *testing.T) {
			state := t.TempDir()
			s := tm.openSized(t, "ex-"+tc.lang, 80, 24, []string{"XDG_STATE_HOME=" + state}, bin, "--lang", tc.lang, "exercise", "handshake-syns")
			s.waitFor("handshake-syns")
			s.send(tc.bad, "Enter")
			s.waitFor(tc.refused)
			s.send("C-u", tc.answer, "Enter")
			s.waitFor(tc.step1)
			s.send("c")
			s.waitFor(tc.verdict)
			s.quit()
			b, err := os.ReadFile(filepath.Join(state, "netlab", "progress.json"))
			if err != nil || !strings.Contains(string(b), `"handshake-syns"`) || !strings.Contains(string(b), `"attempts": 1`) {
				t.Errorf("progress after the dashboard: %v\n%s", err, b)
			}
		})
	}
	t.Run("time-wait countdown", func(t *testing.T) {
		s := tm.open(t, "tw", bin, "ui", "time-wait")
		s.waitFor("step 1")
		s.send("Space")
		s.waitFor("step 2")
		s.send("Space")
		s.waitFor("step 3", "watch the kernel's countdown")
		left := regexp.MustCompile(`⏱ (\d+\.\d) s left`)
		read := func() float64 {
			m := left.FindStringSubmatch(s.waitFor("s left"))
			if m == nil {
				t.Fatalf("no countdown on screen:\n%s", s.capture())
			}
			v, _ := strconv.ParseFloat(m[1], 64)
			return v
		}
		first := read()
		time.Sleep(1500 * time.Millisecond)
		second := read()
		if !(second < first && first <= 60 && second > 50) {
			t.Errorf("TIME-WAIT countdown did not go down: %.1f s, then %.1f s 1.5 s later\n%s", first, second, s.capture())
		}
		s.quit()
	})
}

// stepThrough presses space at each of n steps and waits for the run's end.
func stepThrough(s *session, n int) {
	s.waitFor("step 1")
	for i := 2; i <= n; i++ {
		s.send("Space")
		s.waitFor("step " + strconv.Itoa(i))
	}
	s.send("Space")
	s.waitFor("■ done")
}

func checkHandshake(s *session) {
	s.t.Helper()
	// Back to the start of the run, so the handshake is on screen whatever the height.
	s.send("Home")
	screen := s.waitFor("event 1/")
	for _, want := range []string{"SYN seq=0", "SYN,ACK seq=0 ack=1", "ACK seq=1 ack=1", "▶│", "│◀", "ESTABLISHED"} {
		if !strings.Contains(screen, want) {
			s.t.Errorf("%q not on screen:\n%s", want, screen)
		}
	}
	s.send("End")
	s.waitFor("✓" + strconv.Itoa(len(scenarios.Handshake.Checks)) + " ✗0")
}

// tmux drives a private tmux server.
type tmux struct {
	t    *testing.T
	path string
	sock string
}

func (tm *tmux) run(args ...string) (string, error) {
	out, err := exec.Command(tm.path, append([]string{"-L", tm.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

// session is one tmux session running netlab.
type session struct {
	t    *testing.T
	tm   *tmux
	name string
	pid  int // netlab's
}

// open starts argv in a new 100x35 session, under a shell that says how it
// exited and stays, so the screen after exit can be read.
func (tm *tmux) open(t *testing.T, name string, argv ...string) *session {
	t.Helper()
	return tm.openSized(t, name, 100, 35, nil, argv...)
}

// openSized is open at w×h with more environment (NAME=value).
func (tm *tmux) openSized(t *testing.T, name string, w, h int, env []string, argv ...string) *session {
	t.Helper()
	args := []string{"new-session", "-d", "-s", name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "-e", "LC_ALL=C.UTF-8", "-e", "TERM=xterm-256color"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "sh", "-c", `"$0" "$@"; echo "netlab exited with status $?"; exec sleep 3600`)
	if out, err := tm.run(append(args, argv...)...); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	s := &session{t: t, tm: tm, name: name}
	t.Cleanup(func() { tm.run("kill-session", "-t", name) })
	out, err := tm.run("display-message", "-p", "-t", name, "#{pane_pid}")
	if err != nil {
		t.Fatalf("tmux display-message: %v\n%s", err, out)
	}
	shell, _ := strconv.Atoi(strings.TrimSpace(out))
	for deadline := time.Now().Add(10 * time.Second); s.pid == 0; time.Sleep(20 * time.Millisecond) {
		s.pid = childOf(shell, "netlab")
		if time.Now().After(deadline) {
			t.Fatalf("no netlab process under the session's shell %d:\n%s", shell, s.capture())
		}
	}
	return s
}

// childOf finds the child of ppid named comm, or 0.
func childOf(ppid int, comm string) int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := strings.LastIndexByte(string(st), ')')
		j := strings.IndexByte(string(st), '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(string(st)[i+1:])
		if len(f) > 1 && string(st)[j+1:i] == comm && f[1] == strconv.Itoa(ppid) {
			return pid
		}
	}
	return 0
}

func (s *session) send(keys ...string) {
	if out, err := s.tm.run(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

func (s *session) capture() string {
	out, err := s.tm.run("capture-pane", "-p", "-t", s.name)
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return out
}

// waitFor waits until every text is on screen and returns the screen.
func (s *session) waitFor(texts ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		screen := s.capture()
		ok := true
		for _, t := range texts {
			ok = ok && strings.Contains(screen, t)
		}
		if ok {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%q not on screen after 20 s:\n%s", texts, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quit presses q and checks netlab exited with status 0, its process is
// gone and the terminal left the dashboard's screen.
func (s *session) quit() {
	s.t.Helper()
	s.send("q")
	deadline := time.Now().Add(15 * time.Second)
	for {
		screen := s.capture()
		if strings.Contains(screen, "netlab exited with status") {
			if !strings.Contains(screen, "netlab exited with status 0") {
				s.t.Errorf("netlab did not exit cleanly:\n%s", screen)
			}
			if strings.Contains(screen, "Enter run") {
				s.t.Errorf("the dashboard is still on screen after exit: terminal not restored\n%s", screen)
			}
			break
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("netlab still running 15 s after q (%s):\n%s", procState(s.pid), screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(s.pid, 0); !errors.Is(err, syscall.ESRCH) {
		s.t.Errorf("process %d still exists after q (kill 0: %v; %s)", s.pid, err, procState(s.pid))
	}
}

// procState describes a process for a failure message: its state, where
// it waits in the kernel, and its threads'.
func procState(pid int) string {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "gone: " + err.Error()
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(string(st)))
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		w, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/wchan")
		b.WriteString("; thread " + task.Name() + " waits in " + string(w))
	}
	return b.String()
}
