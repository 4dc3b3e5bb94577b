package ui

import (
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/netlab/netlab/lab/render"
	"github.com/rivo/tview"
)

// theme holds the styles the panels draw with. Text and backgrounds use the
// terminal's own colours (tcell.ColorDefault), so the dashboard reads on dark
// and light backgrounds alike; meaning is carried by symbols, brackets and
// attributes (bold, reverse, underline, dim), with colour only as an extra.
// With NO_COLOR set there is no colour at all.
type theme struct {
	normal   tcell.Style
	dim      tcell.Style // events after the cursor, secondary text
	bold     tcell.Style
	cursor   tcell.Style // the cursor row
	selected tcell.Style // the selected packet's arrow, a highlighted field
	border   tcell.Style
	focus    tcell.Style // border of the focused panel
	tabOn    tcell.Style
	tabOff   tcell.Style
	kernel   tcell.Style // [STATE] read from the kernel
	inferred tcell.Style // (STATE) inferred from packets
	arrowAB  tcell.Style // packets from the first lane to the others
	arrowBA  tcell.Style
	note     tcell.Style
	ok       tcell.Style
	bad      tcell.Style
	warn     tcell.Style
	current  tcell.Style // the current state in the state machine
	previous tcell.Style // the state just left
}

func newTheme(noColor bool) *theme {
	base := tcell.StyleDefault.Foreground(tcell.ColorDefault).Background(tcell.ColorDefault)
	t := &theme{
		normal:   base,
		dim:      base.Dim(true),
		bold:     base.Bold(true),
		cursor:   base.Reverse(true),
		selected: base.Bold(true).Underline(true),
		border:   base,
		focus:    base.Bold(true),
		tabOn:    base.Reverse(true).Bold(true),
		tabOff:   base,
		kernel:   base.Bold(true),
		inferred: base.Italic(true),
		arrowAB:  base,
		arrowBA:  base,
		note:     base.Bold(true),
		ok:       base.Bold(true),
		bad:      base.Bold(true),
		warn:     base.Bold(true),
		current:  base.Reverse(true).Bold(true),
		previous: base.Underline(true),
	}
	if !noColor {
		// Colours that stay readable on black and on white backgrounds.
		t.arrowAB = base.Foreground(tcell.ColorTeal)
		t.arrowBA = base.Foreground(tcell.ColorPurple)
		t.ok = t.ok.Foreground(tcell.ColorGreen)
		t.bad = t.bad.Foreground(tcell.ColorRed)
		t.warn = t.warn.Foreground(tcell.ColorOlive)
		t.focus = t.focus.Foreground(tcell.ColorTeal)
		t.note = t.note.Foreground(tcell.ColorNavy)
	}
	return t
}

// useTerminalColours makes tview's own widgets (table, list, input field,
// text view) draw on the terminal's background and foreground.
func useTerminalColours(noColor bool) {
	d := tcell.ColorDefault
	tview.Styles = tview.Theme{
		PrimitiveBackgroundColor:    d,
		ContrastBackgroundColor:     d,
		MoreContrastBackgroundColor: d,
		BorderColor:                 d,
		TitleColor:                  d,
		GraphicsColor:               d,
		PrimaryTextColor:            d,
		SecondaryTextColor:          d,
		TertiaryTextColor:           d,
		InverseTextColor:            d,
		ContrastSecondaryTextColor:  d,
	}
	if !noColor {
		tview.Styles.SecondaryTextColor = tcell.ColorTeal
	}
}

// put draws text at (x, y), clipped to width cells, without interpreting
// style tags (packet-derived text is drawn as it is). Wide characters take
// two cells. It returns the number of cells used.
func put(s tcell.Screen, x, y, width int, text string, st tcell.Style) int {
	col := 0
	for _, r := range text {
		w := render.RuneWidth(r)
		if w == 0 {
			if r == '\t' {
				r, w = ' ', 1
			} else {
				continue
			}
		}
		if col+w > width {
			break
		}
		s.SetContent(x+col, y, r, nil, st)
		col += w
	}
	return col
}

// fill paints width cells at (x, y) with r.
func fill(s tcell.Screen, x, y, width int, r rune, st tcell.Style) {
	for i := 0; i < width; i++ {
		s.SetContent(x+i, y, r, nil, st)
	}
}

// restyle changes the style of width cells at (x, y), keeping their text.
func restyle(s tcell.Screen, x, y, width int, f func(tcell.Style) tcell.Style) {
	for i := 0; i < width; i++ {
		r, comb, st, _ := s.GetContent(x+i, y)
		s.SetContent(x+i, y, r, comb, f(st))
	}
}

// clip shortens text to width cells with an ellipsis.
func clip(text string, width int) string {
	if width <= 0 {
		return ""
	}
	if render.Width(text) <= width {
		return text
	}
	return render.Truncate(text, width, "…")
}

func itoa(n int) string { return strconv.Itoa(n) }
