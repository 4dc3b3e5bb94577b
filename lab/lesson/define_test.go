package lesson

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

func TestDefineNumbersActs(t *testing.T) {
	var seen []int // the acts of the events each act check received
	evalAct := func(v *check.View) (bool, i18n.Text) {
		for _, e := range v.Events() {
			seen = append(seen, e.Act)
		}
		return true, check.Plain("")
	}
	first := &Act{Title: i18n.T("first.", "第一个。"), Lesson: i18n.T("one.", "一。"),
		Checks: []check.Check{check.New("a", "甲", evalAct)}}
	second := &Act{Title: i18n.T("second.", "第二个。"), Lesson: i18n.T("two.", "二。"),
		Checks: []check.Check{check.New("b", "乙", evalAct)}}
	sc := Define(Scenario{Name: "x", Lesson: i18n.T("Intro.", "引言。"), After: i18n.T("End.", "结尾。"),
		Acts:   []*Act{first, second},
		Checks: []check.Check{check.New("whole", "全部", func(*check.View) (bool, i18n.Text) { return true, check.Plain("") })}})

	if first.ActNumber() != 1 || second.ActNumber() != 2 {
		t.Errorf("act numbers %d, %d", first.ActNumber(), second.ActNumber())
	}
	if want := "Intro.\n\nAct 1 — one.\n\nAct 2 — two.\n\nEnd."; sc.Lesson.En != want {
		t.Errorf("lesson %q, want %q", sc.Lesson.En, want)
	}
	if want := "引言。\n\n第一幕:一。\n\n第二幕:二。\n\n结尾。"; sc.Lesson.Zh != want {
		t.Errorf("lesson %q, want %q", sc.Lesson.Zh, want)
	}
	var names []string
	for _, c := range sc.Checks {
		names = append(names, c.Name.En+"|"+c.Name.Zh)
	}
	if got, want := strings.Join(names, " "), "act 1: a|第一幕:甲 act 2: b|第二幕:乙 whole|全部"; got != want {
		t.Errorf("checks %q, want %q", got, want)
	}
	if sc.Checks[0].Act != 1 || sc.Checks[1].Act != 2 || sc.Checks[2].Act != 0 {
		t.Errorf("check acts %d %d %d", sc.Checks[0].Act, sc.Checks[1].Act, sc.Checks[2].Act)
	}

	tl := timeline.New(timeline.Meta{})
	for act := 0; act <= 2; act++ {
		tl.Append(timeline.Event{Kind: timeline.KindNote, Act: act, Note: &timeline.Note{Text: i18n.T("n", ""), ActStart: act > 0}})
	}
	check.Evaluate(tl, sc.Checks[1:2])
	if len(seen) != 1 || seen[0] != 2 {
		t.Errorf("act 2's check saw events of acts %v, want [2]", seen)
	}
}

func TestDefineTwiceFails(t *testing.T) {
	a := &Act{Title: i18n.T("only.", "唯一。")}
	Define(Scenario{Name: "one", Acts: []*Act{a}})
	defer func() {
		if recover() == nil {
			t.Error("an act given to two scenarios did not panic")
		}
	}()
	Define(Scenario{Name: "two", Acts: []*Act{a}})
}
