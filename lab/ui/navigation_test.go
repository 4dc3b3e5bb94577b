package ui

import (
	"github.com/netlab/netlab/lab/check"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
)

var otherScenario = &lesson.Scenario{Name: "other", Title: i18n.T("Another", "另一个"),
	Summary: i18n.T("x", "x"), Lesson: i18n.T("The other lesson.", "另一课。")}

// TestAppLessonFollowsRun: moving through the list while a run is on
// screen leaves the run's lesson in the Lesson panel.
func TestAppLessonFollowsRun(t *testing.T) {
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario, otherScenario}, Lang: i18n.En, Starter: fakeStarter}, 200, 60)
	a.key(tcell.KeyEnter)
	a.waitFor("First paragraph|step 1", 10*time.Second)
	a.key(tcell.KeyBacktab)
	a.key(tcell.KeyBacktab) // the Scenarios list
	a.rune('j')             // onto "other"
	time.Sleep(300 * time.Millisecond)
	s := a.waitFor("First paragraph", 10*time.Second)
	if strings.Contains(s, "The other lesson.") {
		t.Errorf("moving in the list switched the lesson away from the run:\n%s", s)
	}
	a.quit()
}

// TestAppStartSelectsName: `netlab ui NAME` puts the list's cursor on NAME.
func TestAppStartSelectsName(t *testing.T) {
	a := startApp(t, Options{Catalog: lesson.Catalog{otherScenario, fxScenario}, Lang: i18n.En, Starter: fakeStarter, Start: "fixture"}, 200, 60)
	a.waitFor("step 1", 10*time.Second)
	a.key(tcell.KeyBacktab)
	a.key(tcell.KeyBacktab) // the Scenarios list
	a.rune('r')             // rerun: the run's scenario
	a.key(tcell.KeyEnter)   // runs what the list's cursor is on
	s := a.waitFor("step 1", 10*time.Second)
	if !strings.Contains(s, "│ fixture │") {
		t.Errorf("Enter in the list did not run the NAME the dashboard started with:\n%s", s)
	}
	a.quit()
}

// TestAppMessageAt80: a save's confirmation is read whole at 80 columns.
func TestAppMessageAt80(t *testing.T) {
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: fakeStarter, Start: "fixture"}, 80, 24)
	a.waitFor("step 1", 10*time.Second)
	a.rune('c')
	a.waitFor("done", 10*time.Second)
	a.rune('s')
	a.waitFor("save pcapng to", 10*time.Second)
	a.key(tcell.KeyEnter)
	s := a.waitFor("saved ", 10*time.Second)
	if !strings.Contains(strings.ReplaceAll(s, "\n", ""), "packets)") {
		t.Errorf("the confirmation is cut:\n%s", s)
	}
	a.quit()
}

// TestAppTabsAreWords: at 80x24 every tab is a word, in English and Chinese.
func TestAppTabsAreWords(t *testing.T) {
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: fakeStarter, Start: "fixture"}, 80, 24)
	s := a.waitFor("Scenarios|Lesson|Ladder|Packets|Details|Hex|States|Bytes|Sockets|Checks", 10*time.Second)
	_ = s
	a.rune('L')
	a.waitFor("场景|讲解|梯形图|报文|详情|十六进制|状态机|字节流|套接字|检查", 10*time.Second)
	a.quit()
}

// TestFilterFromLane: "client syn" keeps the SYNs the client sent, not the
// server's SYN,ACK to it; "to:client" keeps what the client received.
func TestFilterFromLane(t *testing.T) {
	lanes := []string{"client", "server"}
	syn := &decode.Packet{Proto: decode.ProtoTCP, Flags: decode.SYN, Lab: decode.LabNotes{From: "client", To: "server"}}
	synack := &decode.Packet{Proto: decode.ProtoTCP, Flags: decode.SYN | decode.ACK, Lab: decode.LabNotes{From: "server", To: "client"}}
	for _, tc := range []struct {
		filter      string
		syn, synack bool
	}{
		{"client syn", true, false},
		{"server syn", false, true},
		{"to:client", false, true},
		{"from:server", false, true},
		{"!client", false, true},
	} {
		f := check.ParseFilter(tc.filter, lanes)
		if got := f.Match(syn); got != tc.syn {
			t.Errorf("%q on the client's SYN: %v", tc.filter, got)
		}
		if got := f.Match(synack); got != tc.synack {
			t.Errorf("%q on the server's SYN,ACK: %v", tc.filter, got)
		}
	}
}

// TestKeysOneMeaningPerPanel: in every panel a key does one thing, so the
// help and the hint bar can say what it does there.
func TestKeysOneMeaningPerPanel(t *testing.T) {
	d := Open(Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: fakeStarter, NoColor: true})
	t.Cleanup(d.cancel)
	for p := panelID(0); p < nPanels; p++ {
		owner := map[key]string{}
		for _, a := range d.keys.actions {
			if !a.appliesIn(p) {
				continue
			}
			for _, k := range a.keys {
				if prev, ok := owner[k]; ok {
					t.Errorf("in %s, key %v is both %q and %q", p.name().En, k, prev, a.label)
				}
				owner[k] = a.label
			}
		}
	}
}

// TestAppLScrubsEverywhere: l is "forward" in every panel, the Lesson
// too (it used to switch the language there and scrub elsewhere); L is the
// language.
func TestAppLScrubsEverywhere(t *testing.T) {
	a := startApp(t, Options{Catalog: lesson.Catalog{fxScenario}, Lang: i18n.En, Starter: fakeStarter, Start: "fixture"}, 200, 60)
	a.rune('c')
	a.waitFor("■ done", 10*time.Second)
	a.key(tcell.KeyHome)
	a.waitFor("event 1/", 10*time.Second)
	a.key(tcell.KeyBacktab) // Ladder → Lesson
	a.rune('l')
	s := a.waitFor("event 2/", 10*time.Second)
	if strings.Contains(s, "完成") {
		t.Errorf("l switched the language in the Lesson panel:\n%s", s)
	}
	a.rune('L')
	a.waitFor("完成", 10*time.Second)
	a.quit()
}
