package render_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

var update = flag.Bool("update", false, "rewrite golden files")

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
			var b bytes.Buffer
			l := render.NewLadder(tl.Meta(), tc.width, tc.lang)
			l.Header(&b)
			tl.All(func(e *timeline.Event) bool { l.Event(&b, e); return true })
			render.Checks(&b, tl, tc.lang)
			render.Sockets(&b, tl, tc.lang)
			sum, _ := tl.Closed()
			render.Summary(&b, sum, tc.lang)
			golden := "testdata/" + tc.name + ".golden"
			if *update {
				os.WriteFile(golden, b.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("ladder differs from %s:\n%s", golden, b.String())
			}
			for i, line := range bytes.Split(b.Bytes(), []byte("\n")) {
				if w := displayWidth(string(line)); w > tc.width && !bytes.HasPrefix(line, []byte("  ✓")) && !bytes.HasPrefix(line, []byte("netlab ")) && !bytes.HasPrefix(line, []byte("[")) {
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
		render.Checks(&b, tl, lang)
		if !bytes.HasSuffix(b.Bytes(), []byte(want)) {
			t.Errorf("%s: %q, want it to end with %q", lang, b.String(), want)
		}
	}
}
