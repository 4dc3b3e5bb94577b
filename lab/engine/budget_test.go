package engine

import (
	"context"
	"testing"
	"time"
)

// TestRunBudgetHeld: time spent in a pause does not count against the
// run's timeout; running time does.
func TestRunBudgetHeld(t *testing.T) {
	b := newRunBudget(context.Background(), 100*time.Millisecond)
	defer b.stop()
	wait := b.pausing(func(ctx context.Context) error {
		select {
		case <-time.After(300 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err := wait(b.ctx); err != nil {
		t.Fatalf("a 300 ms pause ended a run with 100 ms of running time: %v", err)
	}
	if b.ctx.Err() != nil {
		t.Fatal("the run's context ended during a pause")
	}
	select {
	case <-b.ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the running time never ran out after the pause")
	}
	if !b.expired() {
		t.Errorf("cause %v, want the run timeout", context.Cause(b.ctx))
	}
}

// TestRunBudgetParent: an interrupt still ends a pause at once, and is not
// taken for a timeout.
func TestRunBudgetParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	b := newRunBudget(parent, time.Minute)
	defer b.stop()
	time.AfterFunc(20*time.Millisecond, cancel)
	err := b.pausing(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })(b.ctx)
	if err == nil || b.expired() {
		t.Errorf("pause returned %v, expired %v: want the interrupt, not a timeout", err, b.expired())
	}
}
