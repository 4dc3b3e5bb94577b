package runner_test

import (
	"context"
	"errors"
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

func TestMain(m *testing.M) { labtest.Main(m, scenarios.Catalog()) }

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
		if n == seen {
			// Nothing new for 300 ms: the scenario is paused at a step.
			if steps == 0 {
				t.Fatal("paused before any narration step")
			}
			r.Continue()
		}
		seen = n
		select {
		case <-deadline:
			r.Stop()
			t.Fatal("run did not finish")
		default:
		}
	}
	sum, err := r.Wait()
	if err != nil || sum.ChecksFailed != 0 || steps != 3 {
		t.Fatalf("err %v, summary %+v, %d steps (want 3)", err, sum, steps)
	}
}
