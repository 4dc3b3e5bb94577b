package check

import (
	"fmt"
	"strconv"

	"github.com/netlab/netlab/lab/i18n"
)

// ForAct makes c a check about act n of its scenario: its name says so
// ("act 2: …", "第二幕:…"), it is decided as soon as act n+1 begins (see
// Early), and its Eval receives the view already narrowed to act n.
// lab/lesson calls it for the checks an act declares, numbering the acts
// itself, so a scenario never writes an act's number.
func ForAct(n int, c Check) Check {
	eval := c.Eval
	return Check{
		Name:  i18n.T(fmt.Sprintf("act %d: %s", n, c.Name.En), "第"+i18n.Numeral(n)+"幕:"+c.Name.Zh),
		Act:   n,
		Needs: c.Needs,
		Eval: func(v *View) (bool, i18n.Text) {
			w := v.Act(n)
			w.whole = v
			return eval(w)
		},
	}
}

// Onward is everything from the start of the view's act on, whatever act
// the events' connections belong to: for an act that goes on using a
// connection an earlier act opened. On a view that is not an act's, it is
// the view itself.
func (v *View) Onward() *View {
	if v.whole == nil || v.act < 0 {
		return v
	}
	return v.whole.Since(v.act)
}

// ActNumber is the number of the act a view was narrowed to, for a
// detail: "2" in English, "二" in Chinese (Say("in act %s", "第%s幕", …)).
// It is "0" for the whole run.
func (v *View) ActNumber() i18n.Text {
	n := max(v.act, 0)
	return i18n.T(strconv.Itoa(n), i18n.Numeral(n))
}

// Whole is the run a view was narrowed from (as far as the check can see
// it): for an act's check that must look back, at a state the kernel
// reported before the act began. On a view that is not an act's, it is the
// view itself.
func (v *View) Whole() *View {
	if v.whole == nil {
		return v
	}
	return v.whole
}
