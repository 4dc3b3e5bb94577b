package render_test

import "github.com/mattn/go-runewidth"

func displayWidth(s string) int { return runewidth.StringWidth(s) }
