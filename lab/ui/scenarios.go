package ui

import (
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/rivo/uniseg"

	"github.com/netlab/netlab/lab/lesson"
)

// scenarioList lists the scenarios with their one-line summaries; / filters
// it by name, title or summary (either language).
type scenarioList struct {
	*tview.List
	d      *Dashboard
	filter string
	items  []*lesson.Scenario
	width  int // the width the item texts were cut to
}

// Draw cuts the items to the list's width first: a wide character must not
// spill over the border.
func (l *scenarioList) Draw(screen tcell.Screen) {
	if _, _, w, _ := l.GetInnerRect(); w != l.width {
		l.width = w
		l.rebuild()
	}
	l.List.Draw(screen)
}

func newScenarioList(d *Dashboard) *scenarioList {
	l := &scenarioList{List: tview.NewList(), d: d}
	l.ShowSecondaryText(true).SetHighlightFullLine(true).SetWrapAround(false)
	l.SetSelectedStyle(d.theme.cursor)
	l.SetMainTextStyle(d.theme.bold)
	l.SetSecondaryTextStyle(d.theme.normal)
	l.SetChangedFunc(func(int, string, string, rune) {
		if !d.syncing {
			d.lesson.sync()
		}
	})
	l.rebuild()
	return l
}

// rebuild fills the list from the catalog and the filter.
func (l *scenarioList) rebuild() {
	cur := l.current()
	l.Clear()
	l.items = nil
	f := strings.ToLower(l.filter)
	for _, sc := range l.d.opts.Catalog {
		hay := strings.ToLower(sc.Name + " " + sc.Title.En + " " + sc.Title.Zh + " " + sc.Summary.En + " " + sc.Summary.Zh)
		if f != "" && !strings.Contains(hay, f) {
			continue
		}
		l.items = append(l.items, sc)
		main := cut(sc.Name+" · "+sc.Title.In(l.d.lang), l.width)
		second := cut(" "+sc.Summary.In(l.d.lang), l.width)
		l.AddItem(tview.Escape(main), tview.Escape(second), 0, nil)
	}
	if cur != nil {
		l.selectName(cur.Name)
	}
}

// cut shortens text to width cells as tcell counts them (0: no limit).
func cut(text string, width int) string {
	if width <= 0 || uniseg.StringWidth(text) <= width {
		return text
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(text)
	for g.Next() {
		if w+g.Width() > width-1 {
			break
		}
		b.WriteString(g.Str())
		w += g.Width()
	}
	return b.String() + "…"
}

func (l *scenarioList) setFilter(f string) {
	l.filter = strings.TrimSpace(f)
	l.rebuild()
	if len(l.items) == 0 {
		l.d.say(l.d.tr("no scenario matches ", "没有匹配的场景:") + strconv.Quote(l.filter))
	}
}

// current is the selected scenario, or nil.
func (l *scenarioList) current() *lesson.Scenario {
	if l == nil {
		return nil
	}
	i := l.GetCurrentItem()
	if i < 0 || i >= len(l.items) {
		return nil
	}
	return l.items[i]
}

func (l *scenarioList) selectName(name string) {
	for i, sc := range l.items {
		if sc.Name == name {
			l.SetCurrentItem(i)
		}
	}
}

func (l *scenarioList) titleExtra() string {
	if l.filter != "" {
		return "/" + l.filter
	}
	return ""
}

// InputHandler adds j/k to the list's arrow keys.
func (l *scenarioList) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	h := l.List.InputHandler()
	return func(ev *tcell.EventKey, setFocus func(p tview.Primitive)) {
		switch {
		case ev.Key() == tcell.KeyRune && ev.Rune() == 'j':
			ev = tcell.NewEventKey(tcell.KeyDown, 0, tcell.ModNone)
		case ev.Key() == tcell.KeyRune && ev.Rune() == 'k':
			ev = tcell.NewEventKey(tcell.KeyUp, 0, tcell.ModNone)
		}
		h(ev, setFocus)
	}
}

func (l *scenarioList) relabel() { l.rebuild() }
