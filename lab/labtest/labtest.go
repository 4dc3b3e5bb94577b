// Package labtest helps tests run scenarios in real sandboxes, the way the
// netlab command does: each run re-executes the test binary as a worker in a
// fresh network namespace. A test package that runs scenarios calls Main from
// its TestMain.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// Main runs the tests, or, when this process was started as a run's worker,
// the requested scenario.
func Main(m *testing.M, cat lesson.Catalog) {
	if runner.IsWorker() {
		os.Exit(runner.WorkerMain(cat))
	}
	os.Exit(m.Run())
}

// Run runs sc once in a sandbox and returns its timeline and summary. It
// skips the test, with the reason, where this machine cannot make a sandbox.
func Run(t testing.TB, sc *lesson.Scenario) (*timeline.Timeline, timeline.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sc.RunTimeout()+30*time.Second)
	defer cancel()
	r, err := runner.Start(ctx, sc, runner.Options{Lang: i18n.En})
	if err != nil {
		skipOrFail(t, err)
	}
	sum, err := r.Wait()
	if err != nil {
		skipOrFail(t, err)
	}
	return r.Timeline, sum
}

// RunPaced runs sc once as the dashboard does when a learner steps through
// it: the scenario pauses at every narration step, and each pause lasts
// pause before the run goes on. A lesson read slowly must pass as it does
// unattended: timers keep running while the learner reads.
func RunPaced(t testing.TB, sc *lesson.Scenario, pause time.Duration) (*timeline.Timeline, timeline.Summary) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The run's own timeout counts running time only; this bound is for a
	// run that hangs, pauses included.
	ctx, cancelT := context.WithTimeout(ctx, sc.RunTimeout()+100*pause+30*time.Second)
	defer cancelT()
	r, err := runner.Start(ctx, sc, runner.Options{Lang: i18n.En, Step: true})
	if err != nil {
		skipOrFail(t, err)
	}
	go r.Timeline.Follow(ctx, func(e *timeline.Event) {
		if e.Kind == timeline.KindNote && e.Note.Step {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
			}
			r.Continue()
		}
	})
	sum, err := r.Wait()
	if err != nil {
		skipOrFail(t, err)
	}
	return r.Timeline, sum
}

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	var se *sandbox.Error
	if errors.As(err, &se) {
		t.Skipf("no sandbox on this machine, so no real-kernel run: %v", se)
	}
	t.Fatalf("run: %v", err)
}

// Ladder renders a finished run as the CLI would, for failure messages.
func Ladder(tl *timeline.Timeline) string {
	var b bytes.Buffer
	l := render.NewLadder(tl.Meta(), 100, i18n.En)
	l.Header(&b)
	tl.All(func(e *timeline.Event) bool { l.Event(&b, e); return true })
	l.Flush(&b)
	render.Segmentation(&b, tl, i18n.En, 100)
	render.Checks(&b, tl, i18n.En, 100)
	sum, _ := tl.Closed()
	render.Summary(&b, sum, i18n.En)
	return b.String()
}

// Failed lists the failed checks of a finished run.
func Failed(tl *timeline.Timeline) []string {
	var out []string
	tl.All(func(e *timeline.Event) bool {
		if e.Kind == timeline.KindCheck && e.Check.Failed() {
			out = append(out, e.Check.Name.En+": "+e.Check.Detail.En)
		}
		return true
	})
	return out
}

// Repeats is how many times scenario tests run each scenario: 2, or 1 with
// -short, or NETLAB_RUNS (CI's soak runs 20).
func Repeats() int {
	if n := envInt("NETLAB_RUNS"); n > 0 {
		return n
	}
	if testing.Short() {
		return 1
	}
	return 2
}

// Parallel is how many scenario runs a test may have going at once: 3, or
// NETLAB_PARALLEL. Each run is its own network namespace, so they do not
// share ports or sockets; they share only the machine's CPUs.
func Parallel() int {
	if n := envInt("NETLAB_PARALLEL"); n > 0 {
		return n
	}
	return 3
}

// envInt reads a positive decimal from the environment, or 0.
func envInt(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Slots bounds how many scenario runs go at once (Parallel), and lets a
// timing-sensitive scenario run alone.
type Slots struct {
	ch    chan struct{}
	alone sync.RWMutex
}

// NewSlots returns room for n runs at once.
func NewSlots(n int) *Slots { return &Slots{ch: make(chan struct{}, max(n, 1))} }

// Take waits for a slot, or, if alone, until no other run is going; the
// returned function gives it back.
func (s *Slots) Take(alone bool) (release func()) {
	if alone {
		s.alone.Lock()
		return s.alone.Unlock
	}
	s.alone.RLock()
	s.ch <- struct{}{}
	return func() { <-s.ch; s.alone.RUnlock() }
}

// Indent indents a block for test logs.
func Indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
