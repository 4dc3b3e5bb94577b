package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// interruptGoal is how soon after SIGINT netlab should have exited on a
// machine doing nothing else: the soak (NETLAB_SOAK=1, run alone by
// .ci/run) holds every run to it.
const interruptGoal = 500 * time.Millisecond

// interruptHang is the bound when other test packages share the CPUs
// (go test ./... runs them in parallel): there every step of the exit
// waits for a core (measured on 2 cores: 60–400 ms, once 800 ms), so
// only a run that hangs fails.
const interruptHang = 2 * time.Second

// TestInterruptEverywhere: SIGINT at several points of several scenarios
// exits 130 within interruptGoal (alone) or interruptHang (under load),
// and the summary counts exactly the packets that were printed.
// NETLAB_SOAK=1 tries every scenario at 10 points.
func TestInterruptEverywhere(t *testing.T) {
	names := []string{"close", "time-wait", "close-wait", "backlog", "flow-control", "keepalive", "retransmit"}
	points := []time.Duration{30 * time.Millisecond, 400 * time.Millisecond}
	limit := interruptHang
	if os.Getenv("NETLAB_SOAK") == "1" {
		names = scenarioNames(t)
		points = nil
		for i := 0; i < 10; i++ {
			points = append(points, time.Duration(i)*350*time.Millisecond)
		}
		limit = interruptGoal
	} else if testing.Short() {
		points = points[:1]
	}
	tried := 0
	var slowest time.Duration
	for _, name := range names {
		for _, at := range points {
			ok, took := interruptAt(t, name, at)
			if !ok {
				continue
			}
			tried++
			slowest = max(slowest, took)
			if took > limit {
				t.Errorf("%s interrupted %v after its first event: exit took %v (limit %v)", name, at, took.Round(time.Millisecond), limit)
			}
		}
	}
	if tried < 5 {
		t.Fatalf("only %d runs were still going when interrupted", tried)
	}
	t.Logf("%d interrupted runs; the slowest exit took %v (goal %v)", tried, slowest.Round(time.Millisecond), interruptGoal)
}

// interruptAt runs name with --json, sends SIGINT at after its first line,
// and checks the exit code and the summary's packet count. It returns false
// when the run ended before the signal.
// raceWindow: a run that exits 0, uninterrupted, this soon after the
// signal had finished before it.
const raceWindow = 20 * time.Millisecond

func interruptAt(t *testing.T, name string, at time.Duration) (bool, time.Duration) {
	t.Helper()
	cmd := exec.Command(netlabBin, "run", name, "--json")
	cmd.Env = append(os.Environ(), "LANG=C")
	var errb syncBuffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	first, ok := <-lines
	if !ok {
		cmd.Wait()
		needSandbox(t, result{code: cmd.ProcessState.ExitCode(), stderr: errb.String()})
		t.Fatalf("%s: no output: %s", name, errb.String())
	}
	got = append(got, first)
	timer := time.After(at)
	var sent time.Time
	ended := false
collect:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break collect
			}
			got = append(got, l)
			if sent.IsZero() && strings.Contains(l, `"type":"summary"`) {
				ended = true // finished before the signal
			}
		case <-timer:
			if !ended {
				sent = time.Now()
				cmd.Process.Signal(os.Interrupt)
			}
		}
	}
	cmd.Wait()
	took := time.Since(sent)
	if sent.IsZero() || ended {
		return false, 0
	}
	code := cmd.ProcessState.ExitCode()
	if code == 0 && took < raceWindow && !strings.Contains(got[len(got)-1], `"interrupted":true`) {
		// The run was writing its summary as the signal came: it had
		// ended. (A front end that ignored SIGINT would go on running
		// for longer than this.)
		return false, 0
	}
	printed, summary := 0, -1
	for _, l := range got {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			t.Errorf("%s: not JSON: %q", name, l)
			continue
		}
		switch m["type"] {
		case "packet":
			printed++
		case "summary":
			if p, ok := m["packets"].(float64); ok {
				summary = int(p)
			}
		}
	}
	if code != exitInterrupted {
		t.Errorf("%s at %v: exit %d, want %d\n%s", name, at, code, exitInterrupted, errb.String())
	}
	if summary != printed {
		t.Errorf("%s at %v: summary says %d packets, %d were printed", name, at, summary, printed)
	}
	t.Logf("%s at %v: exit %d after %v, %d packets", name, at, code, took.Round(time.Millisecond), printed)
	return true, took
}
