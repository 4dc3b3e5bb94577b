package ui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/netlab/netlab/lab/timeline"
	"github.com/rivo/tview"
)

// checksView lists the scenario's checks: ✓ or ✗ with the evidence once they
// are judged, from the run's own capture and kernel states — a check about
// one act as soon as the next act begins, the others when the run ends —
// and "·" while they cannot be decided yet. As of the cursor.
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
	add := func(text string, st tcell.Style) {
		for j, l := range wrapText(text, w-2) {
			if j > 0 {
				l = "  " + l
			}
			lines = append(lines, line{l, st})
		}
	}
	if m.closed && m.summary.Err != "" {
		// The checks below judged a run that did not go as written.
		add(d.tr("✗ scenario error: ", "✗ 场景出错:")+m.summary.Err, th.bad)
	}
	decided := m.checks[:upTo(m.checks, m.cursor)]
	for i, c := range sc.Checks {
		mark, st, detail := "·", th.dim, ""
		var r *timeline.Check
		switch {
		case i < len(decided):
			r = m.at(int(decided[i])).Check
		case i < len(m.early) && m.early[i] != nil && m.early[i].At <= m.cursor:
			r = &m.early[i].Result
		}
		if r != nil {
			mark, st, detail = r.Mark(), th.ok, r.Detail.In(d.lang)
			switch {
			case r.NA:
				st = th.dim
			case !r.OK:
				st = th.bad
			}
		}
		text := mark + " " + c.Name.In(d.lang)
		if detail != "" {
			text += " — " + detail
		}
		add(text, st)
	}
	if len(decided) == 0 {
		lines = append(lines, line{d.tr("· = not decided yet: a check about one act is judged when the next act begins, the others when the run ends", "· = 尚未判定:针对某一幕的检查在下一幕开始时判定,其余在运行结束时判定"), th.dim})
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
	ok, bad, na := 0, 0, 0
	count := func(c timeline.Check) {
		switch {
		case c.OK:
			ok++
		case c.NA:
			na++
		default:
			bad++
		}
	}
	for _, i := range m.checks[:n] {
		count(*m.at(int(i)).Check)
	}
	if n == 0 {
		for _, e := range m.early {
			if e != nil && e.At <= m.cursor {
				count(e.Result)
			}
		}
	}
	if ok+bad+na == 0 {
		return ""
	}
	s := "✓" + itoa(ok) + " ✗" + itoa(bad)
	if na > 0 {
		s += " –" + itoa(na)
	}
	return s
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
