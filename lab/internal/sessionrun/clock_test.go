package sessionrun

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/timeline"
)

func TestClockWatermark(t *testing.T) {
	c := NewClock(10 * time.Millisecond)
	at := time.Now().Round(0)
	if wm, early := c.Watermark(at); !wm.Equal(at) || len(early) != 0 {
		t.Fatalf("idle clock: wm %v early %d", wm.Sub(at), len(early))
	}
	a := timeline.App{Call: timeline.CallConnect}
	id, start := c.Begin(&timeline.Event{Kind: timeline.KindApp, App: &a})
	// While the call is short, the watermark waits for it.
	if wm, early := c.Watermark(start.Add(5 * time.Millisecond)); !wm.Equal(start) || len(early) != 0 {
		t.Fatalf("open call: wm %v (want its start), early %d", wm.Sub(start), len(early))
	}
	// Once it has blocked past the hold time, it is shown as blocking and the
	// watermark moves on.
	later := start.Add(20 * time.Millisecond)
	wm, early := c.Watermark(later)
	if !wm.Equal(later) || len(early) != 1 || !early[0].App.Blocking || !early[0].Time.Equal(start) {
		t.Fatalf("blocked call: wm %v early %+v", wm.Sub(start), early)
	}
	if _, again := c.Watermark(later); len(again) != 0 {
		t.Fatal("a blocking event is handed out once")
	}
	// Its result is stamped when it returns.
	stamp, blocked := c.Finish(id)
	if !blocked || stamp.Before(start) {
		t.Fatalf("finish: %v %v", stamp, blocked)
	}
	if wm, _ := c.Watermark(stamp.Add(time.Hour)); !wm.Equal(stamp) {
		t.Fatalf("until end, the watermark holds at the return stamp: %v", wm.Sub(stamp))
	}
	c.End(id)
	if wm, _ := c.Watermark(later.Add(time.Hour)); !wm.Equal(later.Add(time.Hour)) {
		t.Fatal("ended call still holds the watermark")
	}
}

func TestClockShortCallKeepsStartStamp(t *testing.T) {
	c := NewClock(time.Second)
	a := timeline.App{Call: timeline.CallWrite}
	id, start := c.Begin(&timeline.Event{Kind: timeline.KindApp, App: &a})
	stamp, blocked := c.Finish(id)
	c.End(id)
	if blocked || !stamp.Equal(start) {
		t.Fatalf("short call: stamp %v blocked %v", stamp.Sub(start), blocked)
	}
}

func TestLanesResolvePendingDial(t *testing.T) {
	l := NewLanes()
	srv := mustAP("127.0.0.1:8888")
	l.Set(mustAP("0.0.0.0:8888"), "server")
	l.Dialing(srv, "client")
	from, to := l.Resolve(mustAP("127.0.0.1:40000"), srv)
	if from != "client" || to != "server" {
		t.Fatalf("SYN before connect returned: %q→%q", from, to)
	}
	l.Dialed(srv, mustAP("127.0.0.1:40000"), "client")
	if got := l.Lookup(mustAP("127.0.0.1:40000")); got != "client" {
		t.Fatalf("after connect: %q", got)
	}
	if from, _ := l.Resolve(mustAP("127.0.0.1:40001"), srv); from != "" {
		t.Fatalf("no pending dial left, got %q", from)
	}
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
