package runner_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
	"github.com/netlab/netlab/scenarios"
)

// TestMain runs the tests or, in a worker this test binary started, the
// requested scenario with a goroutine leak check once the run is over.
func TestMain(m *testing.M) {
	if runner.IsWorker() {
		before := goleak.IgnoreCurrent()
		os.Exit(runner.WorkerMainWith(scenarios.Catalog(), runner.WorkerOptions{AfterRun: func() error {
			// The worker's own event flusher and signal handler run until
			// it exits; everything the run started must be gone.
			return goleak.Find(before,
				goleak.IgnoreTopFunction("github.com/netlab/netlab/lab/runner.newFlusher.func1"),
				goleak.IgnoreTopFunction("os/signal.NotifyContext.func1"))
		}}))
	}
	labtest.Main(m, scenarios.Catalog())
}

// TestWorkerLeavesNoGoroutines: in the worker process, nothing the run
// started (engine, merger, poller, session, app decoders) outlives it,
// after a run to the end and after an interrupted one.
func TestWorkerLeavesNoGoroutines(t *testing.T) {
	for _, name := range []string{"http", "https", "dns", "keepalive"} {
		r := start(t, context.Background(), name, runner.Options{Lang: i18n.En})
		sum, err := r.Wait()
		if err != nil || strings.Contains(sum.Err, "goroutine") {
			t.Errorf("%s run to the end: err %v, summary error: %s", name, err, sum.Err)
		}
	}
	for _, name := range []string{"time-wait", "http", "keepalive", "close-wait"} {
		ctx, cancel := context.WithCancel(context.Background())
		r := start(t, ctx, name, runner.Options{Lang: i18n.En})
		for r.Timeline.Len() < 8 {
			if _, closed := r.Timeline.Wait(context.Background(), r.Timeline.Len()); closed {
				break
			}
		}
		cancel()
		sum, err := r.Wait()
		if err != nil || strings.Contains(sum.Err, "goroutine") {
			t.Errorf("%s interrupted: err %v, summary error: %s", name, err, sum.Err)
		}
	}
}

func start(t *testing.T, ctx context.Context, name string, opts runner.Options) *runner.Run {
	t.Helper()
	sc, err := scenarios.Catalog().Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.Start(ctx, sc, opts)
	var se *sandbox.Error
	if errors.As(err, &se) {
		t.Skipf("no sandbox: %v", se)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestInterruptLeavesNothing: cancelling a run mid-way stops the worker,
// keeps what was captured, and leaves no goroutine behind.
func TestInterruptLeavesNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := start(t, ctx, "time-wait", runner.Options{Lang: i18n.En})
	// Cancel once the first packets are on the timeline.
	for r.Timeline.Len() < 5 {
		n, closed := r.Timeline.Wait(context.Background(), r.Timeline.Len())
		if closed {
			t.Fatalf("run ended before it could be interrupted (%d events)", n)
		}
	}
	cancel()
	sum, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted {
		t.Fatalf("summary %+v: not marked interrupted", sum)
	}
	if sum.Packets == 0 {
		t.Error("an interrupted run still reports what it captured")
	}
}

// TestStepPausesUntilContinue: in step mode the scenario waits at each
// narration step until the front end lets it go on.
func TestStepPausesUntilContinue(t *testing.T) {
	r := start(t, context.Background(), "handshake", runner.Options{Lang: i18n.En, Step: true})
	steps := 0
	seen := 0
	deadline := time.After(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		n, closed := r.Timeline.Wait(ctx, seen)
		cancel()
		r.Timeline.Range(seen, n, func(e *timeline.Event) bool {
			if e.Kind == timeline.KindNote && e.Note.Step {
				steps++
			}
			return true
		})
		if closed {
			break
		}
		if n == seen && steps > 0 {
			// Nothing new for 300 ms after a step: the scenario is paused
			// there. Silence before the first step is the sandbox still
			// starting on a loaded machine (CI once took longer than
			// 300 ms); a run that paused there anyway never finishes, and
			// the deadline below fails it.
			r.Continue()
		}
		seen = n
		select {
		case <-deadline:
			r.Stop()
			t.Fatalf("run did not finish (%d narration steps seen: 0 means it paused before any)", steps)
		default:
		}
	}
	sum, err := r.Wait()
	if err != nil || sum.ChecksFailed != 0 || steps != 3 {
		t.Fatalf("err %v, summary %+v, %d steps (want 3)", err, sum, steps)
	}
}

// TestKilledWorkerSummaryCountsWhatArrived: when the worker dies without
// its last word (killed past the front end's limit, or by the OOM killer),
// the summary counts the packets that reached the timeline, never a
// default of zero.
func TestKilledWorkerSummaryCountsWhatArrived(t *testing.T) {
	r := start(t, context.Background(), "time-wait", runner.Options{Lang: i18n.En})
	packets := func() int {
		n := 0
		r.Timeline.All(func(e *timeline.Event) bool {
			if e.Kind == timeline.KindPacket {
				n++
			}
			return true
		})
		return n
	}
	for packets() < 3 {
		n, closed := r.Timeline.Wait(context.Background(), r.Timeline.Len())
		if closed {
			t.Fatalf("run ended first (%d events)", n)
		}
	}
	killed := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.HasPrefix(string(cmdline), "netlab-worker\x00") && descendsFrom(pid, os.Getpid()) {
			syscall.Kill(pid, syscall.SIGKILL)
			killed++
		}
	}
	if killed == 0 {
		t.Fatal("found no worker to kill")
	}
	r.Wait()
	sum, _ := r.Timeline.Closed()
	if got := packets(); sum.Packets != got {
		t.Fatalf("summary says %d packets, the timeline holds %d", sum.Packets, got)
	}
	t.Logf("killed %d worker processes; summary counts %d packets", killed, sum.Packets)
}

// descendsFrom reports whether pid is a descendant of ancestor.
func descendsFrom(pid, ancestor int) bool {
	for pid > 1 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 2 {
			return false
		}
		pid, _ = strconv.Atoi(f[1])
		if pid == ancestor {
			return true
		}
	}
	return false
}
