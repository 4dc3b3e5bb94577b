package ui

import (
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// hexView shows the selected packet's bytes: offset, hex and ASCII, with
// the bytes of the field selected in Details reversed (and bracketed by ▕▏
// in the offset column, so it does not depend on colour).
type hexView struct {
	*tview.Box
	d      *Dashboard
	offset int // first line shown
	event  int
	lastHL int
}

func newHexView(d *Dashboard) *hexView {
	return &hexView{Box: tview.NewBox(), d: d, event: -1, lastHL: -1}
}

func (v *hexView) reset() { v.offset, v.event, v.lastHL = 0, -1, -1 }

// perLine picks 16, 8 or 4 bytes per line for the width.
func perLine(w int) int {
	switch {
	case w >= 6+16*3+1+16+1:
		return 16
	case w >= 6+8*3+8:
		return 8
	}
	return 4
}

func (v *hexView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	d, th := v.d, v.d.theme
	e := d.model.selected()
	if e == nil || w <= 0 || h <= 0 {
		if w > 0 && h > 0 {
			put(screen, x, y, w, d.tr("No packet at the cursor yet.", "光标处还没有报文。"), th.dim)
		}
		return
	}
	data := e.Packet.Data
	off, n, label := d.details.highlight()
	per := perLine(w)
	lines := (len(data) + per - 1) / per
	if e.ID-1 != v.event {
		v.event, v.offset, v.lastHL = e.ID-1, 0, -1
	}
	head := 0
	if h > 3 && n > 0 {
		put(screen, x, y, w, fmt.Sprintf(d.tr("%s: bytes %d–%d", "%s:字节 %d–%d"), strings.TrimSpace(label), off, off+n-1), th.bold)
		head = 1
	}
	body := h - head
	v.scroll(off, n, per, lines, body)
	hl := byteRange{off, n}
	for row := 0; row < body && v.offset+row < lines; row++ {
		v.drawRow(screen, x, y+head+row, w, data, (v.offset+row)*per, per, hl)
	}
}

// byteRange is the highlighted bytes: n bytes from off (n 0: none).
type byteRange struct{ off, n int }

func (r byteRange) has(i int) bool { return i >= r.off && i < r.off+r.n }

// scroll keeps the offset in range and, when the highlight moved, brings
// the highlighted bytes into view.
func (v *hexView) scroll(off, n, per, lines, body int) {
	if n > 0 && off != v.lastHL {
		first, last := off/per, (off+n-1)/per
		if first < v.offset {
			v.offset = first
		}
		if last >= v.offset+body {
			v.offset = max(first, last-body+1)
		}
		v.lastHL = off
	}
	v.offset = min(max(v.offset, 0), max(lines-body, 0))
}

// drawRow draws one line of the dump: offset, hex, ASCII, per bytes from
// base.
func (v *hexView) drawRow(screen tcell.Screen, x, yy, w int, data []byte, base, per int, hl byteRange) {
	th := v.d.theme
	mark := ' '
	if hl.n > 0 && base < hl.off+hl.n && base+per > hl.off {
		mark = '▕'
	}
	put(screen, x, yy, w, fmt.Sprintf("%04x", base), th.dim)
	screen.SetContent(x+4, yy, mark, nil, th.bold)
	for i := 0; i < per && base+i < len(data); i++ {
		b := data[base+i]
		st := th.normal
		if hl.has(base + i) {
			st = th.cursor
		}
		hx := x + 6 + i*3
		if per == 16 && i >= 8 {
			hx++
		}
		if hx+2 <= x+w {
			put(screen, hx, yy, 2, fmt.Sprintf("%02x", b), st)
			if hl.has(base+i+1) && i+1 < per && base+i+1 < len(data) {
				put(screen, hx+2, yy, 1, " ", st) // join the highlighted run
			}
		}
		ax := x + 6 + per*3 + 1 + i
		if per == 16 {
			ax++
		}
		if ax < x+w {
			c := rune(b)
			if b < 0x20 || b > 0x7e {
				c = '.'
			}
			screen.SetContent(ax, yy, c, nil, st)
		}
	}
}

func (v *hexView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(p tview.Primitive)) {
		_, _, _, h := v.GetInnerRect()
		switch {
		case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
			v.offset++
		case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
			v.offset--
		case ev.Key() == tcell.KeyPgDn:
			v.offset += max(h-1, 1)
		case ev.Key() == tcell.KeyPgUp:
			v.offset -= max(h-1, 1)
		}
	})
}

func (v *hexView) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return scrollMouse(v.Box, &v.offset)
}

// scrollMouse makes the wheel scroll a panel that keeps a line offset.
func scrollMouse(b *tview.Box, offset *int) func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
		if !b.InRect(event.Position()) {
			return false, nil
		}
		switch action {
		case tview.MouseScrollUp:
			*offset = max(*offset-1, 0)
			return true, nil
		case tview.MouseScrollDown:
			*offset++
			return true, nil
		case tview.MouseLeftClick:
			return true, nil
		}
		return false, nil
	}
}
