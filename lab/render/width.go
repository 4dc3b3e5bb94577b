package render

import (
	"os"

	"github.com/mattn/go-runewidth"
)

// cells measures text in terminal cells. Characters of ambiguous East Asian
// width — the box drawing and arrows of the ladder (─ │ ▶ →) — take one cell,
// as terminals (and tcell) draw them, whatever the locale: go-runewidth's
// default would count them as two under LANG=zh_CN.UTF-8 and shift every
// lane after an arrow. RUNEWIDTH_EASTASIAN=1 asks for two, for a terminal
// set up to draw them wide. Set once at start, never changed.
var cells = func() *runewidth.Condition {
	c := runewidth.NewCondition()
	c.EastAsianWidth = os.Getenv("RUNEWIDTH_EASTASIAN") == "1"
	return c
}()

// Width is the number of terminal cells s takes.
func Width(s string) int { return cells.StringWidth(s) }

// RuneWidth is the number of cells r takes (0, 1 or 2).
func RuneWidth(r rune) int { return cells.RuneWidth(r) }

// Truncate cuts s to at most w cells, ending in tail if it was cut.
func Truncate(s string, w int, tail string) string { return cells.Truncate(s, w, tail) }

// FillRight pads s with spaces to w cells.
func FillRight(s string, w int) string { return cells.FillRight(s, w) }
