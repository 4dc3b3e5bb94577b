package ui

import (
	"fmt"
	"github.com/netlab/netlab/lab/check"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/timeline"
)

// bigTimeline repeats the fixture's events until it holds n events (the
// packets are shared, as a flood of similar segments would look).
func bigTimeline(n int) *timeline.Timeline {
	evs, sum := fixtureEvents()
	tl := timeline.New(fxMeta())
	batch := make([]timeline.Event, 0, 4096)
	for i := 0; i < n; i++ {
		e := evs[i%len(evs)]
		e.Time = fxStart.Add(time.Duration(i) * time.Microsecond)
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			tl.Append(batch...)
			batch = batch[:0]
		}
	}
	tl.Append(batch...)
	tl.Close(sum)
	return tl
}

func benchDashboard(b *testing.B, n int) (*Dashboard, tcell.SimulationScreen) {
	d := Open(Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: fakeStarter, NoColor: true})
	b.Cleanup(d.cancel)
	tl := bigTimeline(n)
	d.model = newRunModel(fxScenario, tl, 1)
	d.model.apply(classify(tl, 1, 0, tl.Len()))
	d.sync()
	sim := tcell.NewSimulationScreen("UTF-8")
	if err := sim.Init(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Fini)
	sim.SetSize(200, 60)
	return d, sim
}

// BenchmarkLadderDraw draws a 100x50 ladder at 100k and 1M events, cursor
// in the middle (a frame while scrubbing) and at the end (following).
func BenchmarkLadderDraw(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		d, sim := benchDashboard(b, n)
		for _, at := range []string{"middle", "end"} {
			b.Run(fmt.Sprintf("events=%d/cursor=%s", n, at), func(b *testing.B) {
				if at == "middle" {
					d.model.setCursor(n / 2)
				} else {
					d.model.setCursor(n - 1)
				}
				d.sync()
				d.ladder.SetRect(0, 0, 100, 50)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d.ladder.Draw(sim)
				}
			})
		}
	}
}

// BenchmarkPacketTableDraw draws a 160x50 packet table at 100k and 1M
// events, unfiltered and filtered.
func BenchmarkPacketTableDraw(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		d, sim := benchDashboard(b, n)
		for _, filter := range []string{"", "fin"} {
			b.Run(fmt.Sprintf("events=%d/filter=%q", n, filter), func(b *testing.B) {
				d.model.setFilter(check.ParseFilter(filter, fxScenario.Lanes))
				d.model.setCursor(n / 2)
				d.sync()
				d.packets.SetRect(0, 0, 160, 50)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d.packets.Draw(sim)
				}
			})
		}
	}
}

// BenchmarkFrame draws the whole 200x60 dashboard (every panel) at 1M events.
func BenchmarkFrame(b *testing.B) {
	d, sim := benchDashboard(b, 1_000_000)
	d.model.setCursor(500_000)
	d.sync()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.root.SetRect(0, 0, 200, 60)
		d.root.Draw(sim)
	}
}

// BenchmarkGraphDraw draws the Graph panel zoomed to 200x58 at 1M events
// with the cursor at the end: a draw reads at most graphWindow packets and
// readings, so it fits the 16 ms frame however long the run.
func BenchmarkGraphDraw(b *testing.B) {
	const n = 1_000_000
	d, sim := benchDashboard(b, n)
	d.model.setCursor(n - 1)
	d.sync()
	g := d.panels[pGraph].(*graphView)
	g.SetRect(0, 0, 200, 58)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.Draw(sim)
	}
}
