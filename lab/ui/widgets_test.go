package ui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	goldenfile "github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// fixtureDashboard is a dashboard (not running) whose model holds the whole
// fixture run, cursor at the end.
func fixtureDashboard(t testing.TB, lang i18n.Lang) *Dashboard {
	t.Helper()
	d := Open(Options{Catalog: lesson.Catalog{fxScenario}, Lang: lang, Starter: fakeStarter, NoColor: true})
	t.Cleanup(d.cancel)
	tl := fixtureTimeline()
	d.model = newRunModel(fxScenario, tl, 1)
	if !d.model.apply(classify(tl, 1, 0, tl.Len())) {
		t.Fatal("fixture delta not applied")
	}
	d.sync()
	return d
}

// grid draws p alone on a w×h simulation screen and returns the text. With
// mask, a line of marks follows every line that has styled cells: r for
// reverse, u for underline, b for bold.
func grid(t testing.TB, p tview.Primitive, w, h int, mask bool) string {
	t.Helper()
	sim := tcell.NewSimulationScreen("UTF-8")
	if err := sim.Init(); err != nil {
		t.Fatal(err)
	}
	defer sim.Fini()
	sim.SetSize(w, h)
	sim.Clear()
	p.SetRect(0, 0, w, h)
	p.Draw(sim)
	sim.Show()
	cells, cw, ch := sim.GetContents()
	var b strings.Builder
	for y := 0; y < ch; y++ {
		var line, marks strings.Builder
		styled := false
		for x := 0; x < cw; x++ {
			c := cells[y*cw+x]
			r := ' '
			if len(c.Runes) > 0 {
				r = c.Runes[0]
			}
			line.WriteRune(r)
			_, _, attr := c.Style.Decompose()
			m := ' '
			switch {
			case attr&tcell.AttrReverse != 0:
				m = 'r'
			case attr&tcell.AttrUnderline != 0:
				m = 'u'
			case attr&tcell.AttrBold != 0:
				m = 'b'
			}
			if m != ' ' {
				styled = true
			}
			marks.WriteRune(m)
			if render.RuneWidth(r) == 2 {
				x++ // the right half of a wide character
				marks.WriteRune(m)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		if mask && styled {
			b.WriteString("~" + strings.TrimRight(marks.String(), " ") + "\n")
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, name, []byte(got))
}

// cursorAt moves the cursor to the first event matching f.
func cursorAt(t testing.TB, d *Dashboard, f func(*timeline.Event) bool) {
	t.Helper()
	m := d.model
	for i := 0; i < m.n; i++ {
		if f(m.at(i)) {
			m.setCursor(i)
			d.sync()
			return
		}
	}
	t.Fatal("no event matches")
}

func isPacket(flags string) func(*timeline.Event) bool {
	return func(e *timeline.Event) bool {
		return e.Kind == timeline.KindPacket && e.Packet.Flags.String() == flags
	}
}

func TestLadderGolden(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	golden(t, "ladder_end", grid(t, d.ladder, 90, 44, true))
	cursorAt(t, d, isPacket("FIN,ACK"))
	golden(t, "ladder_fin", grid(t, d.ladder, 72, 12, true))
}

func TestStateMachineGolden(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	golden(t, "states_end", grid(t, d.states, 60, 15, true))
	cursorAt(t, d, func(e *timeline.Event) bool {
		return e.Kind == timeline.KindState && e.State.To.String() == "FIN-WAIT-1"
	})
	golden(t, "states_finwait1", grid(t, d.states, 60, 15, true))
	d.toggleLang()
	golden(t, "states_finwait1_zh", grid(t, d.states, 60, 16, false))
}

func TestHexGolden(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	cursorAt(t, d, isPacket("SYN"))
	// Details selects the TCP flags by default: their bytes are reversed.
	golden(t, "hex_syn_flags", grid(t, d.hex, 76, 8, true))
	golden(t, "details_syn", grid(t, d.details, 76, 40, false))
	cursorAt(t, d, func(e *timeline.Event) bool { return e.Kind == timeline.KindPacket && e.Packet.PayloadLen == 8 })
	d.details.table.Select(len(d.details.fields)-1, 0) // the payload
	golden(t, "hex_payload_narrow", grid(t, d.hex, 40, 12, true))
}

func TestSocketsGolden(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	golden(t, "sockets_end", grid(t, d.sockets, 100, 6, false))
	// At the first kernel reading of TIME-WAIT: 60 s left, as read.
	cursorAt(t, d, func(e *timeline.Event) bool {
		return e.Kind == timeline.KindState && e.State.Timer == tcpstate.TimerTimeWait
	})
	golden(t, "sockets_first_reading", grid(t, d.sockets, 100, 6, false))
	cursorAt(t, d, isPacket("SYN,ACK"))
	golden(t, "sockets_handshake", grid(t, d.sockets, 100, 6, false))
	d.toggleLang()
	d.model.setCursor(d.model.n - 1)
	golden(t, "sockets_end_zh", grid(t, d.sockets, 100, 6, false))
}

// TestGraphGolden draws the fixture's time–sequence graph at the end and
// at the first data segment (the axis then spans that one point).
func TestGraphGolden(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	g := d.panels[pGraph].(*graphView)
	golden(t, "graph_end", grid(t, g, 60, 12, false))
	cursorAt(t, d, func(e *timeline.Event) bool { return e.Kind == timeline.KindPacket && e.Packet.PayloadLen > 0 })
	golden(t, "graph_first_data", grid(t, g, 60, 6, false))
	d.toggleLang()
	golden(t, "graph_first_data_zh", grid(t, g, 60, 6, false))
}

func TestBytesGolden(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	golden(t, "bytes_end", grid(t, d.bytes, 60, 5, true))
}

// TestChecksFollowLanguage: the checks pane shows each detail in the
// dashboard's current language, and the toggle switches it.
func TestChecksFollowLanguage(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	if g := grid(t, d.checks, 80, 6, false); !strings.Contains(g, "three writes, two segments — writes 3, segments 2") {
		t.Errorf("English checks:\n%s", g)
	}
	d.toggleLang()
	if g := grid(t, d.checks, 80, 6, false); !strings.Contains(g, "三次写入,两个报文段 — 写入 3 次,报文段 2 个") || !strings.Contains(g, "第一个报文段是 SYN — SYN") {
		t.Errorf("Chinese checks:\n%s", g)
	}
}

// TestGraphOtherDirection: d turns the graph to the connection's other
// direction and back.
func TestGraphOtherDirection(t *testing.T) {
	d := fixtureDashboard(t, i18n.En)
	g := d.panels[pGraph].(*graphView)
	title := func() string { return strings.SplitN(grid(t, g, 60, 12, false), "\n", 2)[0] }
	busy := title()
	press := func() {
		g.InputHandler()(tcell.NewEventKey(tcell.KeyRune, 'd', tcell.ModNone), func(tview.Primitive) {})
	}
	press()
	other := title()
	if other == busy {
		t.Fatalf("after d the graph still shows %q", busy)
	}
	from, to, ok := strings.Cut(strings.TrimSpace(strings.SplitN(busy, ":", 2)[0]), " → ")
	if ok && !strings.Contains(other, to+" → "+from) && !strings.Contains(other, "No data") {
		t.Errorf("after d: %q, want the direction %s → %s or no data", other, to, from)
	}
	press()
	if back := title(); back != busy {
		t.Errorf("d twice: %q, want %q again", back, busy)
	}
}
