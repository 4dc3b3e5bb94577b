package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/exercise"
)

// exerciseState is the dashboard's exercise, when it opened on one
// (Options.Exercise): the learner's prediction, entered before the run,
// and the verdict on the run once it has ended.
type exerciseState struct {
	ex      *exercise.Exercise
	answer  string // parsed; "" until entered
	verdict *exercise.Verdict
	err     string // the run could not be graded
	bad     string // the last prediction typed was not in the answer's form: why
}

// askPrediction opens the one-line input for the prediction; a valid one
// starts the exercise's run.
func (d *Dashboard) askPrediction() {
	x := d.exercise
	if x == nil {
		return
	}
	label := fmt.Sprintf(d.tr("your prediction (%s): ", "你的预测(%s):"), x.ex.Form().In(d.lang))
	d.prompt(label, x.answer, func(s string) {
		a, err := x.ex.ParseAnswer(s)
		if err != nil {
			// Said in the Lesson panel: the input covers the message line.
			x.bad = err.Error()
			var ae *exercise.AnswerError
			if errors.As(err, &ae) {
				x.bad = ae.Text.In(d.lang)
			}
			d.lesson.relabel()
			d.sync()
			d.askPrediction()
			return
		}
		x.answer, x.verdict, x.err, x.bad = a, nil, "", ""
		d.lesson.relabel()
		sc, err := d.opts.Catalog.Lookup(x.ex.Scenario)
		if err != nil {
			d.complain(err.Error())
			return
		}
		d.scenarios.selectName(sc.Name)
		d.start(sc)
		d.root.show(pLesson)
		d.focusPanel(pLadder)
	})
}

// judgeExercise grades the prediction once the run has ended.
func (d *Dashboard) judgeExercise() {
	x := d.exercise
	m := d.model
	if x == nil || x.answer == "" || x.verdict != nil || !m.closed || m.tl == nil || m.sc == nil || m.sc.Name != x.ex.Scenario {
		return
	}
	obs, err := x.ex.Observe(m.tl)
	if err != nil {
		x.err = err.Error()
		d.complain(x.err)
		d.lesson.relabel()
		return
	}
	v := x.ex.Judge(x.answer, obs)
	x.verdict = &v
	if v.Correct {
		d.say(d.tr("✓ right — the Lesson panel says why", "✓ 正确——课程面板里有解释"))
	} else {
		d.complain(d.tr("✗ not what this run shows — the Lesson panel says why", "✗ 与本次运行不符——课程面板里有解释"))
	}
	if d.opts.OnVerdict != nil {
		d.opts.OnVerdict(v)
	}
	d.root.show(pLesson)
	d.lesson.relabel()
}

// exerciseText is the exercise's part of the Lesson panel: the question,
// the prediction and, after the run, the verdict.
func (d *Dashboard) exerciseText() string {
	x := d.exercise
	if x == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[::b]%s %s[::-]\n%s\n", d.tr("Exercise", "练习"), tview.Escape(x.ex.Name), tview.Escape(x.ex.Prompt.In(d.lang)))
	fmt.Fprintf(&b, "%s %s\n\n", d.tr("Answer:", "答案:"), tview.Escape(x.ex.Form().In(d.lang)))
	if x.bad != "" {
		fmt.Fprintf(&b, "[red::b]✗[-::-] %s\n", tview.Escape(x.bad))
	}
	switch {
	case x.answer == "":
		b.WriteString(d.tr("Type your prediction on the bottom line and press Enter: the run starts then (Esc, then a, to type it later).", "在最下面一行输入你的预测并按 Enter:运行随即开始(Esc 之后按 a 可以稍后再输入)。"))
	case x.verdict != nil && x.verdict.Correct:
		fmt.Fprintf(&b, "[green::b]✓[-::-] %s", tview.Escape(x.verdict.Explanation.In(d.lang)))
	case x.verdict != nil:
		fmt.Fprintf(&b, "[red::b]✗[-::-] %s", tview.Escape(x.verdict.Explanation.In(d.lang)))
	case x.err != "":
		fmt.Fprintf(&b, "%s %s", d.tr("This run could not be graded:", "本次运行无法评分:"), tview.Escape(x.err))
	default:
		fmt.Fprintf(&b, d.tr("Your prediction: %s. The run is on; the verdict comes when it ends (c runs to the end).", "你的预测:%s。运行进行中;结束时给出评判(按 c 一直运行到结束)。"), tview.Escape(x.answer))
	}
	if x.verdict != nil {
		b.WriteString(d.tr("\n\nExplore the run; a answers again (a new run).", "\n\n可以继续查看这次运行;按 a 重新回答(新的一次运行)。"))
	}
	return b.String() + "\n\n"
}
