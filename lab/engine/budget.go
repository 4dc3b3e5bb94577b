package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errOutOfTime is the cause of a run context whose running time ran out.
var errOutOfTime = errors.New("run timeout")

// runBudget is a context that ends once the run has been running for its
// timeout, not counting the time it waits for the user at a step: a lesson
// read slowly in the dashboard must not fail itself.
type runBudget struct {
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	timer *time.Timer
	left  time.Duration // running time left when the timer was last set
	since time.Time     // when the timer was last set (zero while held)
	held  int           // pauses in progress
}

func newRunBudget(parent context.Context, d time.Duration) *runBudget {
	b := &runBudget{left: d, since: time.Now()}
	b.ctx, b.cancel = context.WithCancelCause(parent)
	b.timer = time.AfterFunc(d, func() { b.cancel(errOutOfTime) })
	return b
}

// expired reports whether the run ended because its time ran out.
func (b *runBudget) expired() bool { return context.Cause(b.ctx) == errOutOfTime }

// hold stops the clock (the run waits for the user).
func (b *runBudget) hold() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held++
	if b.held == 1 && b.timer.Stop() {
		b.left -= time.Since(b.since)
		b.since = time.Time{}
	}
}

// resume starts the clock again with the running time that was left.
func (b *runBudget) resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held--
	if b.held == 0 && b.since.IsZero() && b.ctx.Err() == nil {
		b.since = time.Now()
		b.timer.Reset(max(b.left, 0))
	}
}

// pausing wraps a pause hook so that the clock stops while it waits.
func (b *runBudget) pausing(pause func(context.Context) error) func(context.Context) error {
	if pause == nil {
		return nil
	}
	return func(ctx context.Context) error {
		b.hold()
		defer b.resume()
		return pause(ctx)
	}
}

func (b *runBudget) stop() {
	b.timer.Stop()
	b.cancel(context.Canceled)
}
