package render_test

import (
	"testing"

	"github.com/netlab/netlab/lab/render"
)

func displayWidth(s string) int { return render.Width(s) }

// TestWidthIgnoresLocale: box drawing and arrows are one cell, as terminals
// draw them, even in a Chinese locale; Chinese characters are two.
func TestWidthIgnoresLocale(t *testing.T) {
	t.Setenv("LANG", "zh_CN.UTF-8")
	for s, want := range map[string]int{"─▶│→": 4, "握手": 4, "ACK": 3} {
		if got := render.Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}
