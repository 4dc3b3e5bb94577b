package ui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/scenarios"
)

// Test binaries re-execute themselves as run workers.
func TestMain(m *testing.M) {
	// Golden screens are in English whatever the developer's locale.
	for _, k := range []string{"LC_ALL", "LC_MESSAGES"} {
		os.Unsetenv(k)
	}
	os.Setenv("LANG", "C.UTF-8")
	labtest.Main(m, testCatalog())
}

// app runs a dashboard on a simulation screen in the background.
type app struct {
	t    *testing.T
	sim  tcell.SimulationScreen
	d    *Dashboard
	done chan error
}

func startApp(t *testing.T, opts Options, w, h int) *app {
	t.Helper()
	sim := tcell.NewSimulationScreen("UTF-8")
	opts.Screen = sim
	opts.NoColor = true
	opts.SaveDir = t.TempDir()
	d := Open(opts)
	sim.SetSize(w, h)
	a := &app{t: t, sim: sim, d: d, done: make(chan error, 1)}
	go func() { a.done <- d.Run(context.Background()) }()
	t.Cleanup(func() {
		d.quit()
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			t.Error("dashboard did not stop")
		}
	})
	a.waitFor("Scenarios", 5*time.Second)
	return a
}

// screen returns the simulation screen's text.
func (a *app) screen() string {
	// The simulation screen hands out its buffer, which the UI goroutine
	// redraws: copy it there.
	var cells []tcell.SimCell
	var w, h int
	copied := make(chan struct{})
	go a.d.app.QueueUpdate(func() {
		c, cw, ch := a.sim.GetContents()
		cells = make([]tcell.SimCell, len(c))
		for i := range c {
			cells[i] = tcell.SimCell{Runes: append([]rune(nil), c[i].Runes...)}
		}
		w, h = cw, ch
		close(copied)
	})
	select {
	case <-copied:
	case <-time.After(30 * time.Second):
		a.t.Fatal("the dashboard's UI goroutine does not answer")
	}
	var b strings.Builder
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) > 0 {
				b.WriteRune(c.Runes[0])
				if render.RuneWidth(c.Runes[0]) == 2 {
					x++ // the right half of a wide character
				}
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// waitFor waits until every text is on screen.
func (a *app) waitFor(texts string, limit time.Duration) string {
	a.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := a.screen()
		ok := true
		for _, t := range strings.Split(texts, "|") {
			if !strings.Contains(s, t) {
				ok = false
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%q not on screen after %v:\n%s", texts, limit, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *app) click(x, y int) {
	a.sim.InjectMouse(x, y, tcell.Button1, tcell.ModNone)
	a.sim.InjectMouse(x, y, tcell.ButtonNone, tcell.ModNone)
}

func (a *app) resize(w, h int) {
	a.sim.SetSize(w, h)
	a.sim.PostEvent(tcell.NewEventResize(w, h))
}

// find returns the cell position of text in a screen dump.
func find(screen, text string) (x, y int, ok bool) {
	for y, line := range strings.Split(screen, "\n") {
		if i := strings.Index(line, text); i >= 0 {
			return render.Width(line[:i]), y, true
		}
	}
	return 0, 0, false
}

func (a *app) key(k tcell.Key) { a.sim.InjectKey(k, 0, tcell.ModNone) }
func (a *app) rune(r rune)     { a.sim.InjectKey(tcell.KeyRune, r, tcell.ModNone) }
func (a *app) keys(rs string) {
	for _, r := range rs {
		a.rune(r)
		time.Sleep(10 * time.Millisecond)
	}
}

// quit presses q and waits for Run to return.
func (a *app) quit() {
	a.t.Helper()
	a.rune('q')
	select {
	case err := <-a.done:
		a.done <- err // for Cleanup
		if err != nil {
			a.t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		a.t.Fatal("q did not stop the dashboard")
	}
}

// TestAppKeys drives the dashboard over the fixture run: select, run,
// step, scrub, filter, language, help, save, quit.
func TestAppKeys(t *testing.T) {
	other := &lesson.Scenario{Name: "other", Title: i18n.T("Another", "另一个"), Summary: i18n.T("x", "x"), Lesson: i18n.T("y", "y")}
	a := startApp(t, Options{Catalog: lesson.Catalog{other, fxScenario}, Lang: i18n.En, Starter: fakeStarter}, 100, 35)
	a.rune('j') // select the fixture
	a.waitFor("First paragraph", 10*time.Second)
	a.key(tcell.KeyEnter)
	a.waitFor("step 1|The client calls connect()|paused", 10*time.Second)
	a.rune(' ')
	a.waitFor("SYN seq=0|step 2|three times", 10*time.Second)
	a.rune(' ')
	a.waitFor("step 3|closes first", 10*time.Second)
	a.rune(' ')
	s := a.waitFor("done ✓2 ✗1|✗ something that fails", 10*time.Second)
	if !strings.Contains(s, "59.0 s left") {
		t.Errorf("no TIME-WAIT countdown as of the end:\n%s", s)
	}
	// Scrub back to the SYN: the socket panel shows the client in SYN-SENT.
	a.key(tcell.KeyHome)
	for i := 0; i < 5; i++ {
		a.key(tcell.KeyRight)
	}
	s = a.waitFor("event 6/", 10*time.Second)
	if !strings.Contains(s, "client  (SYN-SENT)") || strings.Contains(s, "s left") {
		t.Errorf("at the SYN the client should be (SYN-SENT) with no countdown:\n%s", s)
	}
	a.key(tcell.KeyEnd)
	s = a.waitFor("event 39/39", 10*time.Second)
	// A click on the SYN's arrow in the ladder moves the cursor there.
	if x, y, ok := find(s, "SYN seq=0 win"); ok {
		a.click(x, y)
		a.waitFor("event 6/39", 10*time.Second)
	} else {
		t.Errorf("no SYN arrow on screen:\n%s", s)
	}
	a.key(tcell.KeyEnd)
	// Too small a terminal is named; a bigger one brings the panels back.
	a.resize(50, 12)
	a.waitFor("The terminal is 50x12", 10*time.Second)
	a.resize(100, 35)
	a.waitFor("event 39/39", 10*time.Second)
	// Filter the packets, then the language, the help, and zoom.
	a.rune('/')
	a.waitFor("filter packets", 10*time.Second)
	a.keys("fin")
	a.key(tcell.KeyEnter)
	a.waitFor("/fin: 2/10", 10*time.Second)
	a.rune('L')
	a.waitFor("完成", 10*time.Second)
	a.rune('L')
	a.rune('?')
	a.waitFor("netlab dashboard: keys|save the capture as pcapng", 10*time.Second)
	a.key(tcell.KeyEscape)
	a.rune('z')
	a.waitFor("Packets", 10*time.Second)
	a.rune('z')
	// Save the capture.
	a.rune('s')
	a.waitFor("save pcapng to", 10*time.Second)
	a.key(tcell.KeyEnter)
	a.waitFor("saved ", 5*time.Second)
	a.quit()
}

// TestAppLiveHandshake runs the real handshake scenario in a sandbox from
// the dashboard: select it, run it, step through it, scrub, quit.
func TestAppLiveHandshake(t *testing.T) {
	if _, err := sandboxCheck(); err != nil {
		t.Skipf("no sandbox on this machine, so no live run: %v", err)
	}
	a := startApp(t, Options{Catalog: scenarios.Catalog(), Lang: i18n.En}, 100, 35)
	a.key(tcell.KeyDown) // echo → handshake
	a.waitFor("TCP three-way handshake", 10*time.Second)
	a.key(tcell.KeyEnter)
	a.waitFor("step 1", 10*time.Second)
	for i := 2; i <= 3; i++ {
		a.rune(' ')
		a.waitFor("step "+strconv.Itoa(i), 10*time.Second)
	}
	a.rune(' ')
	s := a.waitFor("■ done|SYN seq=0|SYN,ACK seq=0 ack=1|ACK seq=1 ack=1|ESTABLISHED", 15*time.Second)
	if !strings.Contains(s, "done ✓"+strconv.Itoa(len(scenarios.Handshake.Checks))+" ✗0") {
		t.Errorf("checks did not all pass:\n%s", s)
	}
	a.key(tcell.KeyHome)
	a.waitFor("event 1/", 10*time.Second)
	a.key(tcell.KeyRight)
	a.waitFor("event 2/", 10*time.Second)
	a.quit()
}

// sandboxCheck starts a throwaway run to learn whether runs can be made here.
func sandboxCheck() (bool, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sc, _ := scenarios.Catalog().Lookup("echo")
	r, err := RunnerStarter(ctx, sc, i18n.En)
	if err != nil {
		var se *sandbox.Error
		if errors.As(err, &se) {
			return false, err
		}
		return false, err
	}
	r.Stop()
	<-r.Done()
	return true, nil
}

// TestAppSaveSecrets: s saves pcapng without the run's TLS secrets (the
// HTTPS lesson says the bytes stay encrypted); S saves them too, as
// --pcap-secrets does.
func TestAppSaveSecrets(t *testing.T) {
	const secret = "CLIENT_RANDOM 00112233 445566778899"
	starter := func(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error) {
		r, err := fakeStarter(ctx, sc, lang)
		r.(*fakeRun).sum.TLSKeyLog = []byte(secret + "\n")
		return r, err
	}
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: starter}, 100, 35)
	a.key(tcell.KeyEnter)
	a.waitFor("step 1|paused", 10*time.Second)
	a.rune('c')
	a.waitFor("■ done", 10*time.Second)
	a.rune('S')
	a.waitFor("save pcapng WITH TLS secrets to", 10*time.Second)
	a.key(tcell.KeyEnter)
	a.waitFor("saved ", 5*time.Second)
	time.Sleep(1100 * time.Millisecond) // the next default name is a second later
	a.rune('s')
	a.waitFor("save pcapng to", 10*time.Second)
	a.key(tcell.KeyEnter)
	a.waitFor("saved ", 5*time.Second)
	a.quit()
	files, _ := filepath.Glob(filepath.Join(a.d.opts.SaveDir, "*.pcapng"))
	if len(files) != 2 {
		t.Fatalf("saved %d files, want 2: %v", len(files), files)
	}
	var with int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			with++
		}
	}
	if with != 1 {
		t.Errorf("%d of 2 files carry the TLS secrets, want exactly the one saved with S", with)
	}
}
