package ui

import (
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// lessonView shows the scenario's lesson (English or Chinese, l switches)
// under a box with the step being run, highlighted: the narration of the
// latest step at or before the cursor, and whether the run waits for space.
type lessonView struct {
	*tview.Flex
	d     *Dashboard
	step  *stepBox
	text  *tview.TextView
	shown string // scenario name + language shown
	dirty bool
}

type stepBox struct {
	*tview.Box
	d *Dashboard
}

func newLessonView(d *Dashboard) *lessonView {
	v := &lessonView{Flex: tview.NewFlex().SetDirection(tview.FlexRow), d: d}
	v.step = &stepBox{Box: tview.NewBox(), d: d}
	v.text = tview.NewTextView().SetWrap(true).SetWordWrap(true).SetDynamicColors(true)
	v.AddItem(v.step, 4, 0, false).AddItem(v.text, 0, 1, true)
	return v
}

// sync shows the lesson of the run on screen; before the first run, of
// the scenario selected in the list. Moving through the list while a run
// is on screen does not take its lesson away: Enter runs the one chosen.
func (v *lessonView) sync() {
	sc := v.d.model.sc
	if sc == nil {
		sc = v.d.scenarios.current()
	}
	if sc == nil {
		return
	}
	key := sc.Name + "/" + string(v.d.lang)
	if key == v.shown && !v.dirty {
		return
	}
	v.shown, v.dirty = key, false
	var b strings.Builder
	b.WriteString(v.d.exerciseText())
	fmt.Fprintf(&b, "[::b]%s[::-]\n%s\n\n", tview.Escape(sc.Title.In(v.d.lang)), tview.Escape(sc.Summary.In(v.d.lang)))
	b.WriteString(tview.Escape(sc.Lesson.In(v.d.lang)))
	v.text.SetText(b.String())
	v.text.ScrollToBeginning()
}

func (v *lessonView) titleExtra() string {
	if v.d.lang == "zh" {
		return "中文 · L English"
	}
	return "English · L 中文"
}

func (b *stepBox) Draw(screen tcell.Screen) {
	b.Box.DrawForSubclass(screen, b)
	x, y, w, h := b.GetInnerRect()
	d, m, th := b.d, b.d.model, b.d.theme
	if w <= 0 || h <= 0 {
		return
	}
	var lines []string
	st := th.cursor
	switch {
	case m.tl == nil && d.exercise != nil:
		lines = wrapText(d.tr("Predict first: the run starts when you have entered your prediction.", "先预测:输入预测之后运行才开始。"), w)
		st = th.dim
	case m.tl == nil:
		lines = wrapText(d.tr("Enter runs the selected scenario. It pauses at each step: space goes on.", "按 Enter 运行选中的场景。运行会在每一步暂停:按空格继续。"), w)
		st = th.dim
	case m.step() == 0:
		lines = wrapText(d.tr("The run is starting…", "运行正在开始……"), w)
		st = th.dim
	default:
		k := m.step()
		e := m.at(int(m.steps[k-1]))
		head := fmt.Sprintf(d.tr("▶ step %d: ", "▶ 第 %d 步:"), k)
		if e.Note.ActStart { // the note itself begins "Act 2: …"
			head = fmt.Sprintf(d.tr("■ step %d: ", "■ 第 %d 步:"), k)
		}
		text := head + e.Note.Text.In(d.lang)
		if m.paused() && k == len(m.steps) && m.follow {
			text += d.tr("  — paused: space continues", "  —— 已暂停:按空格继续")
		}
		lines = wrapText(text, w)
	}
	for i := 0; i < h && i < len(lines); i++ {
		fill(screen, x, y+i, w, ' ', st)
		put(screen, x, y+i, w, lines[i], st)
	}
}

func (v *lessonView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.text.InputHandler()
}

func (v *lessonView) relabel() { v.dirty = true }
