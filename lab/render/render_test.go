package render_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// TestLadderGolden draws a recorded run at 80 and 120 columns, in English
// and Chinese, and compares with reviewed golden files.
func TestLadderGolden(t *testing.T) {
	tl := labtest.Sample(t, "testdata/close.pcapng")
	tests := []struct {
		name  string
		width int
		lang  i18n.Lang
	}{
		{"close-80-en", 80, i18n.En},
		{"close-120-en", 120, i18n.En},
		{"close-80-zh", 80, i18n.Zh},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := report(tl, tc.width, tc.lang)
			golden.CheckFile(t, "testdata/"+tc.name+".golden", out)
			for i, line := range bytes.Split(out, []byte("\n")) {
				if w := displayWidth(string(line)); w > tc.width {
					t.Errorf("line %d is %d columns wide (> %d): %s", i+1, w, tc.width, line)
				}
			}
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  int // lines
	}{
		{"short", 20, 1},
		{"one two three four five six seven", 10, 4},
		{"客户端发起连接并发送数据然后关闭连接", 10, 4},
		{"para one\npara two", 40, 2},
	}
	for _, tc := range tests {
		got := render.Wrap(tc.in, tc.width)
		if len(got) != tc.want {
			t.Errorf("Wrap(%q, %d) = %q, want %d lines", tc.in, tc.width, got, tc.want)
		}
		for _, l := range got {
			if displayWidth(l) > tc.width && tc.width >= 10 {
				t.Errorf("line %q wider than %d", l, tc.width)
			}
		}
	}
}

// TestStamp: the time column is eight cells and a space however long the
// run, so no lane moves when a run passes 10 s.
func TestStamp(t *testing.T) {
	for _, d := range []time.Duration{0, 1500 * time.Microsecond, 9999 * time.Millisecond, 12243816 * time.Microsecond, 999 * time.Second, 2 * time.Hour, 30 * 24 * time.Hour} {
		if s := render.Stamp(d); render.Width(s) != 9 {
			t.Errorf("Stamp(%v) = %q, %d cells, want 9", d, s, render.Width(s))
		}
	}
	if s := render.Stamp(12243816 * time.Microsecond); s != " 12243.8 " {
		t.Errorf("Stamp(12.243816s) = %q", s)
	}
}

// TestWrapChinesePunctuation: a line never starts with closing punctuation
// (seen: the lesson command printed a line holding only "。").
func TestWrapChinesePunctuation(t *testing.T) {
	for _, in := range []string{"一二三四五六七八九十。", "一二三四五六七八九十，一二三四五六七八九十、一二", "一二三四五六七八九十）", "一二三四五TIME-WAIT。"} {
		lines := render.Wrap(in, 20)
		for _, l := range lines[1:] {
			if r := []rune(l)[0]; strings.ContainsRune("。，、；：！？）」』】》", r) {
				t.Errorf("Wrap(%q, 20) = %q: a line starts with %q", in, lines, r)
			}
		}
		if len(lines) < 2 {
			t.Errorf("Wrap(%q, 20) = %q: expected a wrap", in, lines)
		}
	}
}

// TestChecksInLanguage: a check's detail is written in the report's language.
func TestChecksInLanguage(t *testing.T) {
	tl := timeline.New(timeline.Meta{Scenario: "t"})
	tl.Append(timeline.Event{Kind: timeline.KindCheck, Check: &timeline.Check{
		Name: i18n.T("one segment each way", "每个方向一个报文段"), OK: true,
		Detail: i18n.T("client→server 1 segment(s)", "客户端→服务器 1 个报文段"),
	}})
	tl.Close(timeline.Summary{})
	for lang, want := range map[i18n.Lang]string{
		i18n.En: "  ✓ one segment each way — client→server 1 segment(s)\n",
		i18n.Zh: "  ✓ 每个方向一个报文段 — 客户端→服务器 1 个报文段\n",
	} {
		var b bytes.Buffer
		render.Checks(&b, tl, lang, 80)
		if !bytes.HasSuffix(b.Bytes(), []byte(want)) {
			t.Errorf("%s: %q, want it to end with %q", lang, b.String(), want)
		}
	}
}

// TestNotApplicable: a check not judged on this run is drawn "–" with its
// reason, and the summary counts it apart from the failures.
func TestNotApplicable(t *testing.T) {
	tl := timeline.New(timeline.Meta{Scenario: "t"})
	tl.Append(timeline.Event{Kind: timeline.KindCheck, Check: &timeline.Check{
		Name: i18n.T("one segment each way", "每个方向一个报文段"), NA: true,
		Detail: i18n.T("not applicable: the wire was impaired", "不适用:线路被人为劣化"),
	}})
	sum := timeline.Summary{ChecksPassed: 3, ChecksNA: 1}
	tl.Close(sum)
	tests := []struct {
		lang           i18n.Lang
		check, summary string
	}{
		{i18n.En, "  – one segment each way — not applicable: the wire was impaired\n", "checks: 3 passed, 0 failed, 1 not applicable"},
		{i18n.Zh, "  – 每个方向一个报文段 — 不适用:线路被人为劣化\n", "检查 3 项通过,0 项失败,1 项不适用"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		render.Checks(&b, tl, tc.lang, 80)
		if !bytes.HasSuffix(b.Bytes(), []byte(tc.check)) {
			t.Errorf("%s: %q, want it to end with %q", tc.lang, b.String(), tc.check)
		}
		b.Reset()
		render.Summary(&b, sum, tc.lang)
		if !strings.Contains(b.String(), tc.summary) {
			t.Errorf("%s summary %q, want %q", tc.lang, b.String(), tc.summary)
		}
	}
}
