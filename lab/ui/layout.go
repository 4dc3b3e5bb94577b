package ui

import (
	"fmt"
	"slices"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/render"
)

// titled panels add a word to their tab (a count, a filter).
type titled interface{ titleExtra() string }

// Sizes below which the dashboard collapses panels into tabs, and below
// which it cannot draw at all.
const (
	minWidth, minHeight       = 60, 16
	mediumWidth, mediumHeight = 100, 30
	wideWidth, wideHeight     = 160, 45
)

// slot is a bordered area showing one of its panels, with a tab per panel
// on its top border when it holds several.
type slot struct {
	*tview.Box
	d      *Dashboard
	ids    []panelID
	active int
	tabs   []tabPos // where the tabs were drawn, for clicks
}

type tabPos struct {
	x0, x1 int
	id     panelID
}

func newSlot(d *Dashboard, ids ...panelID) *slot {
	s := &slot{Box: tview.NewBox(), d: d, ids: ids}
	best := -1
	for i, id := range ids {
		if r := slices.Index(d.root.recent, id); r > best {
			s.active, best = i, r
		}
	}
	return s
}

func (s *slot) panel() tview.Primitive { return s.d.panels[s.ids[s.active]] }

func (s *slot) holds(id panelID) int {
	for i, p := range s.ids {
		if p == id {
			return i
		}
	}
	return -1
}

func (s *slot) Draw(screen tcell.Screen) {
	x, y, w, h := s.GetRect()
	if w < 4 || h < 2 {
		return
	}
	th := s.d.theme
	focused := s.ids[s.active] == s.d.focus && s.d.overlay == nil
	bs := th.border
	hz, vt, tl, tr, bl, br := '─', '│', '┌', '┐', '└', '┘'
	if focused {
		bs = th.focus
		hz, vt, tl, tr, bl, br = '═', '║', '╔', '╗', '╚', '╝'
	}
	fill(screen, x+1, y, w-2, hz, bs)
	fill(screen, x+1, y+h-1, w-2, hz, bs)
	for j := y + 1; j < y+h-1; j++ {
		screen.SetContent(x, j, vt, nil, bs)
		screen.SetContent(x+w-1, j, vt, nil, bs)
	}
	screen.SetContent(x, y, tl, nil, bs)
	screen.SetContent(x+w-1, y, tr, nil, bs)
	screen.SetContent(x, y+h-1, bl, nil, bs)
	screen.SetContent(x+w-1, y+h-1, br, nil, bs)

	// Tabs: " Ladder " and the others, by their names, else by their short
	// names (still words: a learner reads "States", "状态机"), else
	// without the title's extra, and cut only as a last resort.
	lang := s.d.lang
	extra := ""
	if t, ok := s.panel().(titled); ok {
		extra = t.titleExtra()
	}
	names := make([]string, len(s.ids))
	fits := func(short bool, extra string) bool {
		total := 0
		for i, id := range s.ids {
			names[i] = id.name().In(lang)
			if short {
				names[i] = id.short().In(lang)
			}
			total += render.Width(names[i]) + 3
		}
		if extra != "" {
			total += render.Width(extra) + 2
		}
		return total+2 <= w
	}
	switch {
	case fits(false, extra), fits(true, extra):
	case fits(true, ""):
		extra = ""
	default:
		extra = ""
		for i := range names {
			if i != s.active {
				names[i] = render.Truncate(names[i], 3, "")
			}
		}
	}
	s.tabs = s.tabs[:0]
	col := x + 1
	for i, name := range names {
		label := " " + name + " "
		if len(s.ids) > 1 && i == s.active {
			label = "▸" + name + " "
		}
		st := th.tabOff
		if i == s.active {
			st = th.tabOn
		}
		n := put(screen, col, y, x+w-1-col, label, st)
		s.tabs = append(s.tabs, tabPos{col, col + n, s.ids[i]})
		col += n + 1
	}
	if extra != "" && col < x+w-2 {
		put(screen, col, y, x+w-1-col, " "+extra+" ", th.dim)
	}
	p := s.panel()
	p.SetRect(x+1, y+1, w-2, h-2)
	p.Draw(screen)
}

func (s *slot) Focus(delegate func(p tview.Primitive)) { delegate(s.panel()) }
func (s *slot) HasFocus() bool                         { return s.panel().HasFocus() }

func (s *slot) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return s.panel().InputHandler()
}

func (s *slot) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
		if !s.InRect(event.Position()) {
			return false, nil
		}
		mx, my := event.Position()
		_, y, _, _ := s.GetRect()
		if my == y {
			if action == tview.MouseLeftClick {
				for _, t := range s.tabs {
					if mx >= t.x0 && mx < t.x1 {
						s.d.focusPanel(t.id)
						return true, nil
					}
				}
			}
			return true, nil
		}
		if action == tview.MouseLeftDown || action == tview.MouseLeftClick {
			if s.ids[s.active] != s.d.focus {
				s.d.focusPanel(s.ids[s.active])
			}
		}
		if h := s.panel().MouseHandler(); h != nil {
			return h(action, event, setFocus)
		}
		return true, nil
	}
}

// layoutKind is how the screen is divided.
type layoutKind string

const (
	layoutSmall   layoutKind = "small"   // too small: a message
	layoutCompact layoutKind = "compact" // 80x24: two tabbed areas
	layoutMedium  layoutKind = "medium"  // 100x35: three areas
	layoutWide    layoutKind = "wide"    // 200x60: every panel at once
	layoutZoom    layoutKind = "zoom"    // one panel, whole screen
)

func chooseLayout(w, h int, zoom bool) layoutKind {
	switch {
	case w < minWidth || h < minHeight:
		return layoutSmall
	case zoom:
		return layoutZoom
	case w >= wideWidth && h >= wideHeight:
		return layoutWide
	case w >= mediumWidth && h >= mediumHeight:
		return layoutMedium
	}
	return layoutCompact
}

// root is the whole screen: the panels' slots, the status bar, the hint bar
// and, on top, an overlay (help, a prompt).
type root struct {
	*tview.Box
	d      *Dashboard
	recent []panelID // panels shown, most recent last: a new layout shows them again
	kind   layoutKind
	zoom   panelID
	main   *tview.Flex
	slots  []*slot
}

func newRoot(d *Dashboard) *root { return &root{Box: tview.NewBox(), d: d} }

// build arranges the slots for a layout.
func (r *root) build(kind layoutKind, w, h int) {
	d := r.d
	r.kind, r.zoom = kind, d.focus
	r.slots = nil
	sl := func(ids ...panelID) *slot {
		s := newSlot(d, ids...)
		r.slots = append(r.slots, s)
		return s
	}
	rows := func() *tview.Flex { return tview.NewFlex().SetDirection(tview.FlexRow) }
	cols := func() *tview.Flex { return tview.NewFlex().SetDirection(tview.FlexColumn) }
	switch kind {
	case layoutZoom:
		r.main = rows().AddItem(sl(d.focus), 0, 1, false)
	case layoutCompact:
		lower := min(8, max(5, (h-2)/3))
		low := []panelID{pSockets, pChecks, pGraph}
		var top []panelID
		for p := range nPanels {
			if !slices.Contains(low, p) {
				top = append(top, p)
			}
		}
		r.main = rows().
			AddItem(sl(top...), 0, 1, false).
			AddItem(sl(low...), lower, 0, false)
	case layoutMedium:
		var right *tview.Flex
		if h-2 >= 40 {
			right = rows().
				AddItem(sl(pScenarios, pLesson), 0, 1, false).
				AddItem(sl(pStates, pGraph), 16, 0, false).
				AddItem(sl(pSockets, pChecks), 9, 0, false)
		} else {
			right = rows().
				AddItem(sl(pScenarios), min(2*len(d.opts.Catalog)+2, 10), 0, false).
				AddItem(sl(pLesson, pStates, pGraph), 0, 1, false).
				AddItem(sl(pSockets, pChecks), min(9, (h-2)/3), 0, false)
		}
		left := rows().
			AddItem(sl(pLadder), 0, 3, false).
			AddItem(sl(pPackets, pDetails, pHex, pBytes), 0, 2, false)
		r.main = cols().AddItem(left, 0, 11, false).AddItem(right, 0, 9, false)
	case layoutWide:
		left := rows().
			AddItem(sl(pScenarios), min(2*len(d.opts.Catalog)+4, h/4), 0, false).
			AddItem(sl(pLesson), 0, 1, false).
			AddItem(sl(pChecks), 11, 0, false)
		middle := rows().
			AddItem(sl(pLadder), 0, 3, false).
			AddItem(sl(pPackets), 0, 2, false)
		right := rows().
			AddItem(sl(pStates), 16, 0, false).
			AddItem(sl(pSockets), 9, 0, false).
			AddItem(sl(pBytes, pGraph), 9, 0, false)
		if h >= 58 {
			right.AddItem(sl(pDetails), 0, 3, false).AddItem(sl(pHex), 0, 2, false)
		} else {
			right.AddItem(sl(pDetails, pHex), 0, 1, false)
		}
		r.main = cols().
			AddItem(left, 0, 24, false).
			AddItem(middle, 0, 44, false).
			AddItem(right, 0, 32, false)
	default:
		r.main = nil
	}
	r.placeRest()
}

// placeRest gives a panel no layout names a tab in the first slot that has
// tabs: a new panel shows up before anyone places it.
func (r *root) placeRest() {
	if len(r.slots) == 0 {
		return
	}
	host := r.slots[0]
	for _, s := range r.slots {
		if len(s.ids) > 1 {
			host = s
			break
		}
	}
	for p := range nPanels {
		placed := false
		for _, s := range r.slots {
			placed = placed || s.holds(p) >= 0
		}
		if !placed {
			host.ids = append(host.ids, p)
		}
	}
}

// show makes panel id visible (activates its tab); false if no slot holds it.
func (r *root) show(id panelID) bool {
	if i := slices.Index(r.recent, id); i >= 0 {
		r.recent = slices.Delete(r.recent, i, i+1)
	}
	r.recent = append(r.recent, id)
	for _, s := range r.slots {
		if i := s.holds(id); i >= 0 {
			s.active = i
			return true
		}
	}
	return false
}

func (r *root) Draw(screen tcell.Screen) {
	x, y, w, h := r.GetRect()
	d := r.d
	d.animate.Store(false) // panels that change with time set it again
	kind := chooseLayout(w, h, d.zoomed)
	if kind != r.kind || (kind == layoutZoom && r.zoom != d.focus) || r.main == nil && kind != layoutSmall {
		r.build(kind, w, h)
	}
	th := d.theme
	if kind == layoutSmall {
		msg := d.tr(fmt.Sprintf("The terminal is %dx%d; the dashboard needs at least %dx%d.", w, h, minWidth, minHeight),
			fmt.Sprintf("终端大小为 %dx%d;仪表盘至少需要 %dx%d。", w, h, minWidth, minHeight))
		lines := wrapText(msg+" "+d.tr("Enlarge it, or press q to quit.", "请放大终端,或按 q 退出。"), w-2)
		for i, l := range lines {
			if i < h {
				put(screen, x+1, y+h/2-len(lines)/2+i, w-2, l, th.bold)
			}
		}
		return
	}
	r.main.SetRect(x, y, w, h-2)
	r.main.Draw(screen)
	d.status.draw(screen, x, y+h-2, w)
	if !d.drawMessage(screen, x, y+h-1, w) {
		put(screen, x, y+h-1, w, d.keys.hints(d.focus, d.lang, w), th.dim)
	}
	if d.overlay != nil {
		d.overlay.draw(screen, x, y, w, h)
	}
}

func (r *root) Focus(delegate func(p tview.Primitive)) {
	if r.d.overlay != nil {
		delegate(r.d.overlay.prim())
		return
	}
	delegate(r.d.panels[r.d.focus])
}

func (r *root) HasFocus() bool {
	if r.d.overlay != nil {
		return r.d.overlay.prim().HasFocus()
	}
	return r.d.panels[r.d.focus].HasFocus()
}

func (r *root) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
		if r.d.overlay != nil {
			if h := r.d.overlay.prim().InputHandler(); h != nil {
				h(event, setFocus)
			}
			return
		}
		if h := r.d.panels[r.d.focus].InputHandler(); h != nil {
			h(event, setFocus)
		}
	}
}

func (r *root) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
		if r.d.overlay != nil {
			if action == tview.MouseLeftClick {
				r.d.closeOverlay()
			}
			return true, nil
		}
		if r.main == nil {
			return false, nil
		}
		return r.main.MouseHandler()(action, event, setFocus)
	}
}
