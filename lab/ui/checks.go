package ui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// checksView lists the scenario's checks: ✓ or ✗ with the evidence once the
// run has judged them (at its end, from the run's own capture and kernel
// states), "·" while they cannot be decided yet. As of the cursor.
type checksView struct {
	*tview.Box
	d      *Dashboard
	offset int
}

func newChecksView(d *Dashboard) *checksView { return &checksView{Box: tview.NewBox(), d: d} }

func (v *checksView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	d, m, th := v.d, v.d.model, v.d.theme
	if w <= 0 || h <= 0 {
		return
	}
	sc := m.sc
	if sc == nil {
		sc = d.scenarios.current()
	}
	if sc == nil {
		return
	}
	type line struct {
		text string
		st   tcell.Style
	}
	var lines []line
	decided := m.checks[:upTo(m.checks, m.cursor)]
	for i, c := range sc.Checks {
		mark, st, detail := "·", th.dim, ""
		if i < len(decided) {
			r := m.at(int(decided[i])).Check
			mark, st, detail = "✓", th.ok, r.Detail
			if !r.OK {
				mark, st = "✗", th.bad
			}
		}
		text := mark + " " + c.Name.In(d.lang)
		if detail != "" {
			text += " — " + detail
		}
		for j, l := range wrapText(text, w-2) {
			if j > 0 {
				l = "  " + l
			}
			lines = append(lines, line{l, st})
		}
	}
	if len(decided) == 0 {
		lines = append(lines, line{d.tr("· = decided when the run ends, from this run's capture and kernel states", "· = 运行结束时根据本次抓包和内核状态判定"), th.dim})
	}
	v.offset = min(max(v.offset, 0), max(len(lines)-h, 0))
	for row := 0; row < h && v.offset+row < len(lines); row++ {
		l := lines[v.offset+row]
		put(screen, x, y+row, w, l.text, l.st)
	}
}

func (v *checksView) titleExtra() string {
	m := v.d.model
	if m.sc == nil {
		return ""
	}
	n := min(upTo(m.checks, m.cursor), len(m.sc.Checks))
	if n == 0 {
		return ""
	}
	ok := 0
	for _, i := range m.checks[:n] {
		if m.at(int(i)).Check.OK {
			ok++
		}
	}
	return "✓" + itoa(ok) + " ✗" + itoa(n-ok)
}

func (v *checksView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(p tview.Primitive)) {
		switch {
		case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
			v.offset++
		case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
			v.offset--
		}
	})
}

func (v *checksView) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return scrollMouse(v.Box, &v.offset)
}
