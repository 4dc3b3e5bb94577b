package ui

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/timeline"
)

// TestRerunsRetainBoundedTimelines: a learner who reruns a scenario 30
// times keeps the current run's timeline and at most the previous one,
// not all 30 (each rerun of http is about 1 MB).
func TestRerunsRetainBoundedTimelines(t *testing.T) {
	var mu sync.Mutex
	var made []weak.Pointer[timeline.Timeline]
	starter := func(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error) {
		r, err := fakeStarter(ctx, sc, lang)
		if err == nil {
			r.(*fakeRun).Stop() // a finished run, as a rerun leaves behind
			mu.Lock()
			made = append(made, weak.Make(r.Timeline()))
			mu.Unlock()
		}
		return r, err
	}
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: starter, Start: "fixture"}, 100, 35)
	const reruns = 30
	for i := 0; i < reruns; i++ {
		a.rune('r')
	}
	a.waitFor("fixture", 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(made)
		mu.Unlock()
		if n == reruns+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the pump lets go of the old runs
	alive := 0
	for i := 0; i < 5; i++ {
		runtime.GC()
		mu.Lock()
		alive = 0
		for _, p := range made {
			if p.Value() != nil {
				alive++
			}
		}
		mu.Unlock()
		if alive <= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if alive > 2 {
		t.Errorf("after %d reruns %d timelines are still reachable, want at most 2 (the current run and the previous)", reruns, alive)
	}
	a.quit()
}
