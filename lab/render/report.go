package render

import (
	"fmt"
	"io"
	"sort"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

// Checks writes the check results with ✓/✗ and their details, wrapped at
// width columns (0: not wrapped) and indented under their mark.
func Checks(w io.Writer, tl *timeline.Timeline, lang i18n.Lang, width int) {
	first := true
	tl.All(func(e *timeline.Event) bool {
		if e.Kind != timeline.KindCheck {
			return true
		}
		if first {
			fmt.Fprintln(w)
			fmt.Fprintln(w, tr(lang, "checks (on this run's capture and kernel states)", "检查(基于本次运行的抓包和内核状态)"))
			first = false
		}
		mark := e.Check.Mark()
		text := e.Check.Name.In(lang)
		if d := e.Check.Detail.In(lang); d != "" {
			text += " — " + d
		}
		lines := []string{text}
		if width > 0 {
			lines = wrapCells(text, min(width, MaxWidth)-4)
		}
		for i, line := range lines {
			if i == 0 {
				fmt.Fprintf(w, "  %s %s\n", mark, line)
			} else {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
		return true
	})
}

// Sockets writes each socket's last state as the kernel (or the packets)
// showed it, with the timer left at that moment.
func Sockets(w io.Writer, tl *timeline.Timeline, lang i18n.Lang) {
	type row struct {
		first int
		st    *timeline.State
	}
	last := map[timeline.Socket]*row{}
	tl.All(func(e *timeline.Event) bool {
		if e.Kind == timeline.KindState {
			r := last[e.State.Socket]
			if r == nil {
				r = &row{first: e.ID}
				last[e.State.Socket] = r
			}
			r.st = e.State
		}
		return true
	})
	if len(last) == 0 {
		return
	}
	rows := make([]*row, 0, len(last))
	for _, r := range last {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].first < rows[j].first })
	fmt.Fprintln(w)
	fmt.Fprintln(w, tr(lang, "sockets (last state seen)", "套接字(最后看到的状态)"))
	lw, sw := 0, 0
	for _, r := range rows {
		lw = max(lw, len(r.st.Lane))
		sw = max(sw, len(r.st.Socket.String()))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %-*s  %s\n", lw, r.st.Lane, sw, r.st.Socket, StateTextIn(r.st, lang))
	}
}

// Summary writes the closing line: packets, drops, checks.
func Summary(w io.Writer, s timeline.Summary, lang i18n.Lang) {
	fmt.Fprintln(w)
	if lang == i18n.Zh {
		fmt.Fprintf(w, "共抓到 %d 个报文,内核丢弃 %d 个;检查 %d 项通过,%d 项失败", s.Packets, s.Drops, s.ChecksPassed, s.ChecksFailed)
		if s.ChecksNA > 0 {
			fmt.Fprintf(w, ",%d 项不适用", s.ChecksNA)
		}
	} else {
		fmt.Fprintf(w, "%d packets captured, %d dropped by the kernel; checks: %d passed, %d failed", s.Packets, s.Drops, s.ChecksPassed, s.ChecksFailed)
		if s.ChecksNA > 0 {
			fmt.Fprintf(w, ", %d not applicable", s.ChecksNA)
		}
	}
	if s.Interrupted {
		fmt.Fprint(w, tr(lang, " (interrupted)", "(已中断)"))
	}
	fmt.Fprintln(w)
	if s.Err != "" {
		fmt.Fprintf(w, "%s %s\n", tr(lang, "scenario error:", "场景出错:"), s.Err)
	}
}

func tr(lang i18n.Lang, en, zh string) string { return i18n.T(en, zh).In(lang) }
