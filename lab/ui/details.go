package ui

import (
	"fmt"
	"strings"

	"github.com/rivo/tview"
)

// detailsView shows the selected packet's layers, each labelled with its
// layer and OSI number, and every header field with its value; the field
// under the selection is explained below the list and its bytes are
// highlighted in the Hex panel.
type detailsView struct {
	*tview.Flex
	d      *Dashboard
	table  *tview.Table
	mean   *tview.TextView
	fields []field
	event  int // the event whose packet is shown (-1: none)
	sel    int // selected field
	dirty  bool
}

func newDetailsView(d *Dashboard) *detailsView {
	v := &detailsView{Flex: tview.NewFlex().SetDirection(tview.FlexRow), d: d, event: -1}
	v.table = tview.NewTable().SetSelectable(true, false)
	v.table.SetSelectedStyle(d.theme.cursor)
	v.mean = tview.NewTextView().SetWrap(true).SetWordWrap(true)
	v.AddItem(v.table, 0, 1, true).AddItem(v.mean, 3, 0, false)
	v.table.SetSelectionChangedFunc(func(row, col int) {
		if row >= 0 && row < len(v.fields) {
			v.sel = row
			v.explain()
		}
	})
	return v
}

// highlight is the byte range of the selected field (n == 0: none).
func (v *detailsView) highlight() (off, n int, label string) {
	if v.sel < 0 || v.sel >= len(v.fields) {
		return 0, 0, ""
	}
	f := v.fields[v.sel]
	return f.off, f.n, f.name.In(v.d.lang)
}

// sync rebuilds the list when the selected packet or the language changed.
func (v *detailsView) sync() {
	e := v.d.model.selected()
	ev := -1
	if e != nil {
		ev = e.ID - 1
	}
	if ev == v.event && !v.dirty {
		return
	}
	keep := ev == v.event
	v.event, v.dirty = ev, false
	v.fields = nil
	if e != nil {
		v.fields = dissect(e.Packet, e.Time)
	}
	lang, th := v.d.lang, v.d.theme
	v.table.Clear()
	for i, f := range v.fields {
		name := "  " + f.name.In(lang)
		st := th.normal
		if f.heading {
			name = f.name.In(lang)
			st = th.bold
		}
		v.table.SetCell(i, 0, tview.NewTableCell(tview.Escape(name)).SetStyle(st))
		v.table.SetCell(i, 1, tview.NewTableCell(tview.Escape(f.value)).SetStyle(st).SetExpansion(1))
	}
	if !keep || v.sel >= len(v.fields) {
		v.sel = v.defaultField()
	}
	v.table.Select(v.sel, 0)
	v.explain()
}

// defaultField selects the transport header's flags, what a learner looks
// at first, else the first field.
func (v *detailsView) defaultField() int {
	for i, f := range v.fields {
		if f.name.En == "Flags" {
			return i
		}
	}
	return 0
}

func (v *detailsView) explain() {
	if v.sel < 0 || v.sel >= len(v.fields) {
		v.mean.SetText(v.d.tr("No packet at the cursor yet.", "光标处还没有报文。"))
		return
	}
	f := v.fields[v.sel]
	text := fmt.Sprintf("%s = %s: %s", strings.TrimSpace(f.name.In(v.d.lang)), f.value, f.mean.In(v.d.lang))
	if f.n > 0 {
		text += fmt.Sprintf(v.d.tr(" [bytes %d–%d]", " [字节 %d–%d]"), f.off, f.off+f.n-1)
	}
	v.mean.SetText(tview.Escape(text))
}

func (v *detailsView) titleExtra() string {
	if e := v.d.model.at(v.event); e != nil {
		return fmt.Sprintf("#%d", e.Packet.N)
	}
	return ""
}

func (v *detailsView) relabel() { v.dirty = true }
