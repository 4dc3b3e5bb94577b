package ui

import (
	"os"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/lesson"
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
func TestRecordFixtures(t *testing.T) {
	if os.Getenv("NETLAB_RECORD") == "" {
		t.Skip("set NETLAB_RECORD=1 to re-record lab/render/testdata/*.timeline.gob")
	}
	for _, name := range []string{"browse", "backlog"} {
		sc, _ := testCatalog().Lookup(name)
		tl, _ := labtest.Run(t, sc)
		if err := labtest.Record("../render/testdata/"+name+".timeline.gob", tl); err != nil {
			t.Fatal(err)
		}
	}
}
