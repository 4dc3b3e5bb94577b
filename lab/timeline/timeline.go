package timeline

import (
	"context"
	"sync"
)

const chunkBits = 12
const chunkSize = 1 << chunkBits

// Timeline is an append-only, ordered list of events that any number of
// readers may read while one writer appends. Events live in fixed-size chunks
// that never move, so a pointer from At stays valid and appending never copies
// what is already there.
type Timeline struct {
	mu      sync.RWMutex
	meta    Meta
	chunks  []*[chunkSize]Event
	n       int
	closed  bool
	summary Summary
	changed chan struct{} // closed and replaced on every append or close
}

// New returns an empty timeline for a run.
func New(meta Meta) *Timeline {
	return &Timeline{meta: meta, changed: make(chan struct{})}
}

// Meta describes the run.
func (t *Timeline) Meta() Meta {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.meta
}

// SetMeta replaces the run description (the engine learns the link type and
// start time once capture begins).
func (t *Timeline) SetMeta(m Meta) {
	t.mu.Lock()
	t.meta = m
	t.mu.Unlock()
	t.notify()
}

// Append adds events at the end, numbering them. Callers append in time order.
func (t *Timeline) Append(evs ...Event) {
	if len(evs) == 0 {
		return
	}
	t.mu.Lock()
	for i := range evs {
		ci := t.n >> chunkBits
		if ci == len(t.chunks) {
			t.chunks = append(t.chunks, new([chunkSize]Event))
		}
		ev := &t.chunks[ci][t.n&(chunkSize-1)]
		*ev = evs[i]
		t.n++
		ev.ID = t.n
	}
	ch := t.changed
	t.changed = make(chan struct{})
	t.mu.Unlock()
	close(ch)
}

// Len is the number of events.
func (t *Timeline) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

// At returns event i (0-based; its ID is i+1). The event must not be modified.
func (t *Timeline) At(i int) *Event {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if i < 0 || i >= t.n {
		return nil
	}
	return &t.chunks[i>>chunkBits][i&(chunkSize-1)]
}

// Range calls fn for events from (inclusive) to to (exclusive), stopping early
// when fn returns false. to is clamped to Len.
func (t *Timeline) Range(from, to int, fn func(*Event) bool) {
	t.mu.RLock()
	if to > t.n {
		to = t.n
	}
	chunks := t.chunks
	t.mu.RUnlock()
	for i := max(from, 0); i < to; i++ {
		if !fn(&chunks[i>>chunkBits][i&(chunkSize-1)]) {
			return
		}
	}
}

// All calls fn for every event appended so far.
func (t *Timeline) All(fn func(*Event) bool) { t.Range(0, t.Len(), fn) }

// Close marks the run finished with its summary; Wait returns once readers
// have seen everything.
func (t *Timeline) Close(s Summary) {
	t.mu.Lock()
	t.closed = true
	t.summary = s
	ch := t.changed
	t.changed = make(chan struct{})
	t.mu.Unlock()
	close(ch)
}

// Closed reports whether the run has finished, and its summary.
func (t *Timeline) Closed() (Summary, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.summary, t.closed
}

// Changed returns a channel that is closed at the next append or close.
func (t *Timeline) Changed() <-chan struct{} {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.changed
}

func (t *Timeline) notify() {
	t.mu.Lock()
	ch := t.changed
	t.changed = make(chan struct{})
	t.mu.Unlock()
	close(ch)
}

// Wait blocks until the timeline holds more than n events, is closed, or ctx
// is done. It returns the current length and whether the timeline is closed.
func (t *Timeline) Wait(ctx context.Context, n int) (int, bool) {
	for {
		t.mu.RLock()
		l, closed, ch := t.n, t.closed, t.changed
		t.mu.RUnlock()
		if l > n || closed {
			return l, closed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return l, closed
		}
	}
}

// Follow calls fn for every event, in order, as they are appended, until the
// timeline is closed (then it returns nil) or ctx is done (ctx.Err()).
func (t *Timeline) Follow(ctx context.Context, fn func(*Event)) error {
	seen := 0
	for {
		n, closed := t.Wait(ctx, seen)
		t.Range(seen, n, func(e *Event) bool { fn(e); return true })
		seen = n
		if closed && seen == t.Len() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
