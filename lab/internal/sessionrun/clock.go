package sessionrun

import (
	"sync"
	"time"

	"github.com/netlab/netlab/lab/timeline"
)

// Clock stamps the session's events and tells the engine's merger how far
// the session's stream is complete (its watermark), so the timeline stays in
// time order even when a goroutine is descheduled between taking a
// timestamp and handing the event over.
//
// Every event is registered before it is stamped and unregistered after it
// has been handed to the EventSink; the watermark is the oldest registration
// still open (or now). A call stamped when it starts (connect, write, close)
// stays registered while it blocks. If it blocks longer than the clock's hold
// time, the merger stops waiting for it: Watermark hands out an event
// marking the call as blocking (stamped when it started), and the call's own
// event is stamped when it returns.
type Clock struct {
	hold time.Duration

	mu   sync.Mutex
	next uint64
	open map[uint64]*pending
}

type pending struct {
	start    time.Time
	early    timeline.Event // the "blocking" event, if the call blocks
	promoted bool
}

// NewClock returns a clock that waits at most hold for a blocking call.
func NewClock(hold time.Duration) *Clock {
	return &Clock{hold: hold, open: make(map[uint64]*pending)}
}

// Begin registers an event about to be stamped; early, if set, is what to
// show if the call blocks longer than hold. It returns the registration and
// its time.
func (c *Clock) Begin(early *timeline.Event) (uint64, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	p := &pending{start: now()}
	if early != nil {
		p.early = *early
		p.early.Time = p.start
		p.early.App.Blocking = true
	}
	c.open[c.next] = p
	return c.next, p.start
}

// Finish is called when a call registered with Begin returns: it returns
// the time to stamp its event with (its start, or now if it was shown as
// blocking) and whether it was. The registration stays open until End.
func (c *Clock) Finish(id uint64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.open[id]
	if p == nil {
		return now(), false
	}
	p.early = timeline.Event{} // never promote it now
	if p.promoted {
		p.promoted = false
		p.start = now()
		return p.start, true
	}
	return p.start, false
}

// End unregisters id once its event has been handed to the EventSink.
func (c *Clock) End(id uint64) {
	c.mu.Lock()
	delete(c.open, id)
	c.mu.Unlock()
}

// Watermark returns the time before which every session event has been
// handed over, and the "blocking" events of calls that have blocked longer
// than the hold time (each returned once). The merger must read everything
// already handed over after calling it.
func (c *Clock) Watermark(at time.Time) (time.Time, []timeline.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	wm := at
	var early []timeline.Event
	for _, p := range c.open {
		if p.promoted {
			continue
		}
		if p.early.Kind != 0 && at.Sub(p.start) > c.hold {
			p.promoted = true
			early = append(early, p.early)
			p.early = timeline.Event{}
			continue
		}
		if p.start.Before(wm) {
			wm = p.start
		}
	}
	return wm, early
}

// now is the wall clock without Go's monotonic reading, the clock capture
// timestamps use, so the two order correctly.
func now() time.Time { return time.Now().Round(0) }
