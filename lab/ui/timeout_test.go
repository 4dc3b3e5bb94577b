package ui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/scenarios"
)

// testCatalog is what the test binary's workers can run: the lessons, and
// variants of echo that exercise the run timeout.
func testCatalog() lesson.Catalog {
	cat := scenarios.Catalog()
	return append(cat, echoVariant(cat, "echo-2s", 2*time.Second), echoVariant(cat, "echo-1ns", time.Nanosecond))
}

// echoVariant is the echo lesson under another name with another timeout.
func echoVariant(cat lesson.Catalog, name string, timeout time.Duration) *lesson.Scenario {
	sc, err := cat.Lookup("echo")
	if err != nil {
		panic(err)
	}
	v := *sc
	v.Name, v.Timeout = name, timeout
	return &v
}

// TestAppPausedLongerThanTimeout: a learner who reads step 1 for longer
// than the scenario's whole timeout, then goes on, sees every check pass:
// the timeout counts running time, not reading time.
func TestAppPausedLongerThanTimeout(t *testing.T) {
	if _, err := sandboxCheck(); err != nil {
		t.Skipf("no sandbox on this machine, so no live run: %v", err)
	}
	cat := testCatalog()
	sc, _ := cat.Lookup("echo-2s")
	a := startApp(t, Options{Catalog: cat, Lang: i18n.En, Start: sc.Name}, 100, 35)
	a.waitFor("step 1", 10*time.Second)
	time.Sleep(3 * time.Second) // longer than the 2 s timeout
	for i := 0; i < 20 && !strings.Contains(a.screen(), "■ "); i++ {
		a.rune(' ')
		time.Sleep(150 * time.Millisecond)
	}
	s := a.waitFor("■ done", 15*time.Second)
	want := regexp.MustCompile(`done ✓(\d+) ✗0`)
	if !want.MatchString(s) || strings.Contains(s, "did not finish") {
		t.Errorf("after a 3 s pause the 2 s scenario did not pass every check:\n%s", s)
	}
	a.quit()
}

// TestAppScenarioError: a scenario that fails says so on screen, in the
// status bar and the Checks panel, with the error's own text.
func TestAppScenarioError(t *testing.T) {
	if _, err := sandboxCheck(); err != nil {
		t.Skipf("no sandbox on this machine, so no live run: %v", err)
	}
	cat := testCatalog()
	a := startApp(t, Options{Catalog: cat, Lang: i18n.En, Start: "echo-1ns"}, 80, 24)
	a.rune('c') // run through whatever steps there are
	s := a.waitFor("scenario error", 15*time.Second)
	if !strings.Contains(s, "did not finish within 1ns") {
		t.Errorf("the error's text is not on screen:\n%s", s)
	}
	// The status bar names the error too, whichever tab is shown.
	a.key(tcell.KeyTab)
	s = a.waitFor("■ scenario error", 10*time.Second)
	_ = s
	a.quit()
}
