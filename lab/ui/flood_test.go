package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/timeline"
)

// floodRun appends events as fast as it can, like a capture flooded with
// small segments.
type floodRun struct {
	tl   *timeline.Timeline
	stop chan struct{}
	done chan struct{}
}

func (r *floodRun) Timeline() *timeline.Timeline { return r.tl }
func (r *floodRun) Continue()                    {}
func (r *floodRun) Stop()                        { close(r.stop) }
func (r *floodRun) Done() <-chan struct{}        { return r.done }

func floodStarter(total int) Starter {
	return func(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error) {
		evs, sum := fixtureEvents()
		r := &floodRun{tl: timeline.New(fxMeta()), stop: make(chan struct{}), done: make(chan struct{})}
		go func() {
			defer close(r.done)
			batch := make([]timeline.Event, 0, 1000)
			for i := 0; i < total; i++ {
				e := evs[i%(len(evs)-3)] // no check events in the flood
				e.Time = fxStart.Add(time.Duration(i) * time.Microsecond)
				batch = append(batch, e)
				if len(batch) == cap(batch) {
					r.tl.Append(batch...)
					batch = batch[:0]
					time.Sleep(200 * time.Microsecond) // ~5M events/s at most
					select {
					case <-r.stop:
						r.tl.Close(timeline.Summary{Interrupted: true})
						return
					case <-ctx.Done():
						r.tl.Close(timeline.Summary{Interrupted: true})
						return
					default:
					}
				}
			}
			r.tl.Append(batch...)
			r.tl.Close(sum)
		}()
		return r, nil
	}
}

// TestFloodStaysResponsive runs a dashboard while half a million events
// pour in and checks that keys are answered meanwhile and every event
// arrives. How quickly is logged, not judged (go test ./... runs packages
// side by side, and a loaded machine is not a slow dashboard): unloaded, a
// help round trip takes ~100 ms during the flood; the bound only catches a
// UI goroutine starved by the flood.
func TestFloodStaysResponsive(t *testing.T) {
	const total = 500_000
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: floodStarter(total)}, 120, 40)
	a.key(tcell.KeyEnter)
	a.waitFor("pkts", 5*time.Second)
	var worst time.Duration
	rounds := 0
	for !strings.Contains(a.screen(), "■ done") && rounds < 100 {
		start := time.Now()
		a.rune('?')
		a.waitFor("netlab dashboard: keys", 5*time.Second)
		a.key(tcell.KeyEscape)
		for deadline := time.Now().Add(5 * time.Second); strings.Contains(a.screen(), "netlab dashboard: keys") && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		worst = max(worst, time.Since(start))
		rounds++
	}
	t.Logf("%d help open+close round trips during the flood, slowest %v", rounds, worst)
	if rounds < 2 {
		t.Errorf("the flood was over before the keys could be tried (%d rounds)", rounds)
	}
	if worst > 10*time.Second {
		t.Errorf("keys took %v to be answered during a flood", worst)
	}
	a.waitFor("event 500000/500000", 60*time.Second)
	a.quit()
}

func (r *floodRun) Drops() uint64 { return 0 }
