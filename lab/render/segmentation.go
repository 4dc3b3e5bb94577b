package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

// Segmentation writes, for every stream that carried data, the program's
// writes, the packets on the wire and the peer's reads as three rows of
// boxes whose widths are proportional to their byte counts, so the
// boundaries can be compared at a glance (the coalescing lesson: 粘包).
// Sizes too small for their number are shown as bare boundaries; the
// counts and the full size lists follow each row.
func Segmentation(w io.Writer, tl *timeline.Timeline, lang i18n.Lang, width int) {
	streams := check.NewView(tl).Streams()
	if len(streams) == 0 {
		return
	}
	if width < 60 {
		width = 60
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, tr(lang, "bytes: the program's writes, the packets on the wire, the peer's reads",
		"字节:程序的写入、线路上的报文、对端的读取"))
	for _, st := range streams {
		segName := tr(lang, "segments", "报文段")
		if st.Proto == decode.ProtoUDP {
			segName = tr(lang, "datagrams", "数据报")
		}
		total := max(check.Sum(st.Writes), check.Sum(st.Segments), check.Sum(st.Reads))
		act := fmt.Sprintf("act %d", st.Act)
		if lang == i18n.Zh {
			act = fmt.Sprintf("第 %d 幕", st.Act)
		}
		fmt.Fprintf(w, "  %s · %s → %s · %s %s → %s · %d %s\n", act, st.From, st.To,
			st.Proto, st.Src, st.Dst, total, tr(lang, "bytes", "字节"))
		rows := []struct {
			name  string
			sizes []int
		}{
			{tr(lang, "writes", "写入"), st.Writes},
			{segName, st.Segments},
			{tr(lang, "reads", "读取"), st.Reads},
		}
		const labelCol = 17
		boxW := width - labelCol - 2
		for _, r := range rows {
			label := FillRight(fmt.Sprintf("    %s %3d ", FillRight(r.name, 9), len(r.sizes)), labelCol)
			fmt.Fprintf(w, "%s%s\n", label, strings.TrimRight(Boxes(r.sizes, total, boxW), " "))
		}
		for _, r := range rows {
			if !allLabelled(r.sizes, total, boxW) {
				fmt.Fprintf(w, "    %s %s\n", FillRight(r.name, 9), sizeList(r.sizes, width-15))
			}
		}
	}
}

// Boxes draws sizes as adjacent boxes on a line of width columns, where
// total bytes fill the whole line: "│5│5│90        │". Each box is labelled
// with its size when the number fits inside.
func Boxes(sizes []int, total, width int) string {
	if total <= 0 || width < 2 || len(sizes) == 0 {
		return ""
	}
	row := []rune(strings.Repeat(" ", width+1))
	cols := boundaries(sizes, total, width)
	for _, c := range cols {
		row[c] = '│'
	}
	for i, s := range sizes {
		a, b := cols[i], cols[i+1]
		label := strconv.Itoa(s)
		if room := b - a - 1; room >= len(label) {
			start := a + 1 + (room-len(label))/2
			copy(row[start:], []rune(label))
		} else {
			for x := a + 1; x < b; x++ {
				row[x] = '·'
			}
		}
	}
	return string(row)
}

// boundaries is the column of every box edge: the byte offsets scaled to
// width.
func boundaries(sizes []int, total, width int) []int {
	cols := make([]int, 0, len(sizes)+1)
	cols = append(cols, 0)
	off := 0
	for _, s := range sizes {
		off += s
		c := off * width / total
		if c > width {
			c = width
		}
		cols = append(cols, c)
	}
	return cols
}

// allLabelled reports whether every box is wide enough for its number.
func allLabelled(sizes []int, total, width int) bool {
	if total <= 0 {
		return true
	}
	cols := boundaries(sizes, total, width)
	for i, s := range sizes {
		if cols[i+1]-cols[i]-1 < len(strconv.Itoa(s)) {
			return false
		}
	}
	return true
}

// sizeList renders sizes as "5 5 5 ×3, 95" style runs, cut to width.
func sizeList(sizes []int, width int) string {
	var parts []string
	for i := 0; i < len(sizes); {
		j := i
		for j < len(sizes) && sizes[j] == sizes[i] {
			j++
		}
		if n := j - i; n > 2 {
			parts = append(parts, fmt.Sprintf("%d×%d", sizes[i], n))
		} else {
			for k := i; k < j; k++ {
				parts = append(parts, strconv.Itoa(sizes[k]))
			}
		}
		i = j
	}
	return truncate(strings.Join(parts, " "), width)
}
