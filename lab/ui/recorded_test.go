package ui

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// recordedDashboard is a dashboard (not running) whose model holds a
// recorded run (lab/render/testdata), cursor at the end.
func recordedDashboard(t testing.TB, name string) *Dashboard {
	t.Helper()
	tl := labtest.Recorded(t, "../render/testdata/"+name+".timeline.gob")
	sc, err := testCatalog().Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	d := Open(Options{Catalog: lesson.Catalog{sc}, Lang: i18n.En, Starter: fakeStarter, NoColor: true})
	t.Cleanup(d.cancel)
	d.model = newRunModel(sc, tl, 1)
	if !d.model.apply(classify(tl, 1, 0, tl.Len())) {
		t.Fatal("delta not applied")
	}
	d.sync()
	return d
}

// TestLadderWrapsInDashboard: at 80 columns the dashboard's ladder of a
// three-lane run wraps labels onto rows of their own, as the headless one
// does, instead of cutting them.
func TestLadderWrapsInDashboard(t *testing.T) {
	d := recordedDashboard(t, "browse")
	d.model.setCursor(0)
	g := grid(t, d.ladder, 78, 200, false)
	for _, want := range []string{"├ connect no packet: UDP has", "│ no handshake"} {
		if !strings.Contains(g, want) {
			t.Errorf("no %q in the ladder:\n%s", want, g)
		}
	}
	for i, line := range strings.Split(g, "\n") {
		if k := strings.Index(line, "…"); k > 0 && !strings.HasSuffix(line[:k], "\"") && !strings.HasSuffix(line[:k], " ") {
			t.Errorf("row %d cuts a label: %s", i+1, line)
		}
	}
}

// TestRecordFixtures re-records the runs the view tests read, on a machine
// with a sandbox: NETLAB_RECORD=1 go test -run TestRecordFixtures ./lab/ui/
// (or NETLAB_RECORD=latency for one of them).
func TestRecordFixtures(t *testing.T) {
	which := os.Getenv("NETLAB_RECORD")
	if which == "" {
		t.Skip("set NETLAB_RECORD=1 to re-record lab/render/testdata/*.timeline.gob")
	}
	for _, name := range []string{"browse", "backlog", "latency"} {
		if which != "1" && which != name {
			continue
		}
		sc, _ := testCatalog().Lookup(name)
		tl, _ := labtest.Run(t, sc)
		if err := labtest.Record("../render/testdata/"+name+".timeline.gob", tl); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLadderSlopesInDashboard: on a recorded run across a 25 ms wire the
// dashboard's ladder draws what `netlab run` prints — packets bending
// down from their senders, arriving on rows of their own — and a click
// on an arrival row moves the cursor to the packet that arrived.
func TestLadderSlopesInDashboard(t *testing.T) {
	d := recordedDashboard(t, "latency")
	m := d.model
	m.setCursor(m.n - 1)
	g := grid(t, d.ladder, 80, 60, false)
	_, _, w, _ := d.ladder.GetInnerRect()
	var b bytes.Buffer
	lad := render.NewLadder(m.meta, w, i18n.En)
	m.tl.All(func(e *timeline.Event) bool { lad.Event(&b, e); return true })
	lad.Flush(&b)
	headless := b.String()
	bends, arrivals := 0, 0
	for _, line := range strings.Split(g, "\n") {
		body := trimBorder(line)
		if strings.ContainsAny(body, "╮╭") {
			bends++
		}
		if strings.ContainsAny(body, "╰╯") {
			arrivals++
		}
		if len(body) < 10 || !strings.ContainsAny(body[:9], "0123456789") || strings.ContainsRune(body, '✓') || strings.ContainsRune(body, '✗') {
			continue // the header, lanes without rows, checks (listed differently headless)
		}
		if !strings.Contains(headless, body+"\n") {
			t.Errorf("the dashboard draws a row `netlab run` does not print:\n%s", body)
		}
	}
	if bends == 0 || arrivals == 0 {
		t.Fatalf("no slopes in the ladder (%d bends, %d arrivals):\n%s", bends, arrivals, g)
	}
	rows := strings.Split(g, "\n")
	for r, ev := range d.ladder.rowEvent {
		if !strings.ContainsAny(rows[d.ladder.bodyY+r], "╰╯") {
			continue
		}
		if m.at(ev).Kind != timeline.KindPacket {
			t.Fatalf("arrival row %d belongs to event %d, not a packet", r, ev)
		}
		d.ladder.MouseHandler()(tview.MouseLeftClick, tcell.NewEventMouse(5, d.ladder.bodyY+r, tcell.Button1, 0), func(tview.Primitive) {})
		if m.cursor != ev {
			t.Errorf("a click on arrival row %d (packet event %d) moved the cursor to %d", r, ev, m.cursor)
		}
		return
	}
	t.Error("no arrival row to click")
}

// trimBorder is a panel's row without its frame and trailing blanks.
func trimBorder(line string) string {
	line = strings.TrimRight(line, " ")
	line = strings.TrimSuffix(line, "║")
	line = strings.TrimPrefix(line, "║")
	return strings.TrimRight(line, " ")
}
