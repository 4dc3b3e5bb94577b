package render_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// report is what `netlab run` prints for a finished run.
func report(tl *timeline.Timeline, width int, lang i18n.Lang) []byte {
	var b bytes.Buffer
	l := render.NewLadder(tl.Meta(), width, lang)
	l.Header(&b)
	tl.All(func(e *timeline.Event) bool { l.Event(&b, e); return true })
	render.Checks(&b, tl, lang, width)
	render.Sockets(&b, tl, lang)
	sum, _ := tl.Closed()
	render.Summary(&b, sum, lang)
	return b.Bytes()
}

// TestLadderLanesGolden draws recorded runs with three and four lanes at
// 80 columns: no label is cut, every row fits and belongs to one lane.
func TestLadderLanesGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		lang i18n.Lang
	}{{"browse", i18n.En}, {"browse", i18n.Zh}, {"backlog", i18n.En}} {
		t.Run(tc.name+"-80-"+string(tc.lang), func(t *testing.T) {
			tl := labtest.Recorded(t, "testdata/"+tc.name+".timeline.gob")
			got := report(tl, 80, tc.lang)
			golden.CheckFile(t, "testdata/"+tc.name+"-80-"+string(tc.lang)+".golden", got)
			ladder := got[:bytes.Index(got, []byte("\n\n"+firstLine(got, "checks", "检查")))]
			checkRows(t, tl, string(ladder), 80)
		})
	}
}

func firstLine(b []byte, en, zh string) string {
	if bytes.Contains(b, []byte("\n\n"+en)) {
		return en
	}
	return zh
}

// checkRows asserts what a reader of the ladder relies on: every row fits
// the width; no label is cut ("…" only ends quoted bytes or a hex
// preview); every row beside the lanes is an arrow, a label joined to its
// lane (├ or ┤), narration, or the continuation of the row above it.
func checkRows(t *testing.T, tl *timeline.Timeline, text string, width int) {
	t.Helper()
	lines := strings.Split(text, "\n")
	owned := false // the row above belongs to a lane or an arrow
	header := true
	for i, line := range lines {
		if render.Width(line) > width {
			t.Errorf("row %d is %d columns wide (> %d): %s", i+1, render.Width(line), width, line)
		}
		for k := strings.Index(line, "…"); k >= 0; k = strings.Index(line[k+1:], "…") + k + 1 {
			if r, _ := utf8.DecodeLastRuneInString(line[:k]); r != '"' && r != ' ' {
				t.Errorf("row %d cuts a label: %s", i+1, line)
			}
			if strings.Index(line[k+1:], "…") < 0 {
				break
			}
		}
		if strings.HasPrefix(line, "       ms") {
			header = false
		}
		if header || strings.TrimSpace(line) == "" {
			owned = false
			continue
		}
		stamp, body := line[:min(9, len(line))], ""
		if len(line) > 9 {
			body = line[9:]
		}
		bare := strings.Trim(body, " │")
		switch {
		case strings.HasPrefix(body, "  ▸") || strings.HasPrefix(body, "  ■") || strings.HasPrefix(body, "  ·"):
			owned = false // narration: a row of its own, continued by indented rows
			continue
		case bare == "":
			continue
		case strings.ContainsAny(body, "▶◀"), strings.ContainsAny(body, "├┤"):
			owned = true
		case strings.TrimSpace(stamp) == "" && owned:
			// The continuation of the row above, in the same place.
		case strings.TrimSpace(stamp) == "" && strings.HasPrefix(body, "    "):
			// Narration continued.
		default:
			t.Errorf("row %d belongs to no lane: %q", i+1, line)
		}
	}
}

// TestLadderProseInChinese: in Chinese the ladder's own words are Chinese
// (the socket API's call names and the kernel's state and timer names stay
// as they are).
func TestLadderProseInChinese(t *testing.T) {
	for _, name := range []string{"browse", "backlog"} {
		tl := labtest.Recorded(t, "testdata/"+name+".timeline.gob")
		out := string(report(tl, 120, i18n.Zh))
		for _, en := range []string{"bytes", "listener", "accept queue", "no packet", "handshake", "sandbox", "capture on", "blocks", "packets captured", " to 127."} {
			if strings.Contains(out, en) {
				t.Errorf("%s: English %q in the Chinese report:\n%s", name, en, out)
			}
		}
	}
}
