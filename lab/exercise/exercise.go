// Package exercise is netlab's lab exercises: a prediction a learner makes
// before a run ("how many segments will the close take?"), graded on what
// the kernel did in that run, never on a canned answer. An exercise names a
// scenario (and, if it wants one, a wire), asks in English and Chinese,
// says what form the answer takes (a number with a tolerance, one of some
// choices, a sequence of TCP states) and how to read the answer off the
// run's timeline, from a small vocabulary: count the packets a filter
// matches, the time between two packets, the states a lane's connection
// went through, the bytes a lane's program read, which lanes end in a
// state, the error a call returned, a check's result.
//
// An exercise is one YAML file, so that an instructor writes one without
// Go (see Parse and the README). netlab's own exercises are such files,
// embedded in the binary.
package exercise

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Kind is the form of an answer.
type Kind string

// The forms an answer takes.
const (
	Number Kind = "number" // a number, right within Tolerance
	Choice Kind = "choice" // one of Choices
	States Kind = "states" // TCP states in order: "SYN-SENT ESTABLISHED"
)

// Exercise is one prediction, graded on a run.
type Exercise struct {
	Name  string
	Topic string
	Level int // 1 (first week) to 3 (interview)
	// Scenario is the built-in scenario the run is; Wire, the command
	// line's wire flags for it ("--loss 10% --seed 3"), may be empty.
	Scenario string
	Act      int // grade on this act only (0: the whole run)
	Wire     []string
	Prompt   i18n.Text
	Answer   Answer
	Grade    Grader
	// Explain says why the answer is what it is, shown with the verdict.
	Explain i18n.Text
	// Expect is the answer this kernel is known to give: not shown, not
	// used to grade; tests check that runs keep giving it, so that an
	// exercise stays fair.
	Expect string
	// Source is where the exercise was read from ("close-segments.yaml").
	Source string
}

// Answer is the form an answer takes.
type Answer struct {
	Kind      Kind
	Tolerance float64  // Number: how far from the observed value is still right
	Unit      string   // Number: what it counts ("ms", "segments"), for messages
	Choices   []string // Choice: the choices, as the learner types them
}

// Grader reads the observed answer off a run: exactly one field is set.
type Grader struct {
	// Count: how many packets match this filter (check.Filter's grammar).
	Count string
	// Between: milliseconds from the first packet matching [0] to the
	// first one after it matching [1].
	Between [2]string
	// States: the TCP states the lane's first connection went through.
	States string
	// BytesRead: the bytes the lane's program read.
	BytesRead string
	// EndsIn: which lanes' last state is this one: a lane's name, "both"
	// (every lane of the scenario with a connection), or "none".
	EndsIn string
	// Error: "lane call" ("client connect"): the error the lane's first
	// failed call of that kind returned, "none" if every one succeeded.
	Error string
	// Check: the result of the scenario's check whose English name starts
	// with this: "pass" or "fail".
	Check string
	// Calls: "lane call" ("server recvfrom"): how many such calls the
	// lane's program completed (for reads and writes, those that moved
	// bytes).
	Calls string
}

// Observed is what a run showed, in the answer's form.
type Observed struct {
	Value    string    // as the learner would type it: "3", "client", "SYN-SENT ESTABLISHED"
	Num      float64   // Number: the value
	Packets  []int     // packet numbers that show it
	Events   []int     // event ids that show it (not packets)
	Evidence i18n.Text // the run's own facts, to cite in the verdict
}

// Verdict is an answer graded.
type Verdict struct {
	Exercise    string
	Answer      string // as given, normalised
	Observed    Observed
	Correct     bool
	Explanation i18n.Text // what was wrong or right, with the evidence and the exercise's own explanation
}

// AnswerError is an answer not in the exercise's form; it says the form
// expected, in both languages.
type AnswerError struct{ Text i18n.Text }

func (e *AnswerError) Error() string { return e.Text.En }

// ParseAnswer checks an answer's form and returns it normalised ("3",
// "client", "SYN-SENT ESTABLISHED"); the error (an *AnswerError) says the
// form expected.
func (e *Exercise) ParseAnswer(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(en, zh string) error {
		return &AnswerError{i18n.T(fmt.Sprintf(en, s, e.Name), fmt.Sprintf(zh, s, e.Name))}
	}
	switch e.Answer.Kind {
	case Number:
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, e.Answer.Unit)), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", bad("%q is not a number: answer %s with a number"+e.unitHint(), "%q 不是一个数:练习 %s 的答案是一个数"+e.unitHint())
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case Choice:
		for _, c := range e.Answer.Choices {
			if strings.EqualFold(c, s) {
				return c, nil
			}
		}
		list := strings.Join(e.Answer.Choices, ", ")
		return "", bad("%q is not one of the choices: answer %s with one of "+list, "%q 不在选项中:练习 %s 的答案是以下之一:"+list)
	case States:
		st, err := parseStates(s)
		if err != nil {
			return "", bad("%q: "+err.Error()+": answer %s with TCP states in order, separated by spaces or arrows, e.g. \"SYN-SENT ESTABLISHED FIN-WAIT-1\"",
				"%q:"+err.Error()+":练习 %s 的答案是按顺序排列的 TCP 状态,用空格或箭头分隔,例如 \"SYN-SENT ESTABLISHED FIN-WAIT-1\"")
		}
		return st, nil
	}
	return "", fmt.Errorf("exercise %s: unknown answer kind %q", e.Name, e.Answer.Kind)
}

func (e *Exercise) unitHint() string {
	if e.Answer.Unit != "" {
		return " (" + e.Answer.Unit + ")"
	}
	return ""
}

// Form says how to answer, for the prompt.
func (e *Exercise) Form() i18n.Text {
	switch e.Answer.Kind {
	case Number:
		if e.Answer.Unit != "" {
			return i18n.T("a number of "+e.Answer.Unit, "一个数("+e.Answer.Unit+")")
		}
		return i18n.T("a number", "一个数")
	case Choice:
		c := strings.Join(e.Answer.Choices, " | ")
		return i18n.T("one of: "+c, "以下之一:"+c)
	}
	return i18n.T("TCP states in order, e.g. SYN-SENT ESTABLISHED", "按顺序写出 TCP 状态,例如 SYN-SENT ESTABLISHED")
}

// parseStates reads states separated by spaces, commas or arrows into the
// canonical form "A B C".
func parseStates(s string) (string, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '→' || r == '>' || r == '\t' })
	var out []string
	for _, w := range f {
		w = strings.Trim(strings.ToUpper(w), "-")
		if w == "" {
			continue
		}
		st, ok := tcpstate.Parse(w)
		if !ok {
			return "", fmt.Errorf("%q is not a TCP state", w)
		}
		out = append(out, st.String())
	}
	if len(out) == 0 {
		return "", fmt.Errorf("no states")
	}
	return strings.Join(out, " "), nil
}

// Judge grades an answer (already parsed) against what the run observed.
func (e *Exercise) Judge(answer string, obs Observed) Verdict {
	v := Verdict{Exercise: e.Name, Answer: answer, Observed: obs}
	switch e.Answer.Kind {
	case Number:
		a, _ := strconv.ParseFloat(answer, 64)
		v.Correct = math.Abs(a-obs.Num) <= e.Answer.Tolerance+1e-9
	default:
		v.Correct = strings.EqualFold(answer, obs.Value)
	}
	unit := ""
	if e.Answer.Unit != "" {
		unit = " " + e.Answer.Unit
	}
	cite := obs.Evidence
	if len(obs.Packets) > 0 {
		cite = i18n.T(cite.En+" (packets "+joinInts(obs.Packets)+")", cite.Zh+"(报文 "+joinInts(obs.Packets)+")")
	}
	if v.Correct {
		v.Explanation = i18n.T("right: this run shows "+obs.Value+unit+": "+cite.En+". "+e.Explain.En,
			"正确:本次运行显示 "+obs.Value+unit+":"+cite.Zh+"。"+e.Explain.Zh)
	} else {
		v.Explanation = i18n.T("you said "+answer+unit+"; this run shows "+obs.Value+unit+": "+cite.En+". "+e.Explain.En,
			"你的答案是 "+answer+unit+";本次运行显示 "+obs.Value+unit+":"+cite.Zh+"。"+e.Explain.Zh)
	}
	return v
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = "#" + strconv.Itoa(n)
	}
	if len(s) > 12 {
		s = append(s[:12], "…")
	}
	return strings.Join(s, ", ")
}

// Observe reads the exercise's answer off a finished run. checks are the
// scenario's checks, for a Check grader (their results are on the
// timeline by name).
func (e *Exercise) Observe(tl *timeline.Timeline) (Observed, error) {
	v := check.NewView(tl)
	if e.Act > 0 {
		v = v.Act(e.Act)
	}
	lanes := tl.Meta().Lanes
	g := e.Grade
	switch {
	case g.Count != "":
		f := check.ParseFilter(g.Count, lanes)
		var nums []int
		for _, p := range v.Packets() {
			if f == nil || f.Match(p) {
				nums = append(nums, p.N)
			}
		}
		return number(float64(len(nums)), nums, i18n.T(strconv.Itoa(len(nums))+" packets match "+strconv.Quote(g.Count),
			strconv.Itoa(len(nums))+" 个报文匹配 "+strconv.Quote(g.Count))), nil
	case g.Between[0] != "":
		a, b := check.ParseFilter(g.Between[0], lanes), check.ParseFilter(g.Between[1], lanes)
		var first *timeline.Event
		for _, ev := range v.Events() {
			p := ev.Packet
			switch {
			case p == nil:
			case first == nil && a.Match(p):
				first = ev
			case first != nil && b.Match(p):
				ms := float64(ev.Time.Sub(first.Time).Microseconds()) / 1000
				ms = math.Round(ms*10) / 10
				return number(ms, []int{first.Packet.N, p.N}, i18n.T(
					fmt.Sprintf("packet #%d left %s ms after packet #%d", p.N, fmtNum(ms), first.Packet.N),
					fmt.Sprintf("报文 #%d 在报文 #%d 之后 %s ms 发出", p.N, first.Packet.N, fmtNum(ms)))), nil
			}
		}
		return Observed{}, fmt.Errorf("exercise %s: no packet matching %q followed by one matching %q in this run", e.Name, g.Between[0], g.Between[1])
	case g.States != "":
		path := v.Path(g.States)
		var names []string
		for _, s := range path {
			names = append(names, s.String())
		}
		val := strings.Join(names, " ")
		return Observed{Value: val, Evidence: i18n.T(g.States+"'s connection went "+strings.Join(names, " → "), g.States+" 的连接经历 "+strings.Join(names, " → "))}, nil
	case g.BytesRead != "":
		n := v.Bytes(g.BytesRead, timeline.CallRead) + v.Bytes(g.BytesRead, timeline.CallRecv) + v.Bytes(g.BytesRead, timeline.CallRecvfrom)
		reads := len(v.Calls(g.BytesRead, timeline.CallRead)) + len(v.Calls(g.BytesRead, timeline.CallRecv)) + len(v.Calls(g.BytesRead, timeline.CallRecvfrom))
		return number(float64(n), nil, i18n.T(fmt.Sprintf("%s's program read %d bytes in %d call(s)", g.BytesRead, n, reads),
			fmt.Sprintf("%s 的程序用 %d 次调用读了 %d 字节", g.BytesRead, reads, n))), nil
	case g.EndsIn != "":
		want, _ := tcpstate.Parse(g.EndsIn)
		var in []string
		with := 0
		for _, l := range lanes {
			last := v.LastKernel(l)
			if last == nil {
				continue
			}
			with++
			if last.To == want && !last.Gone {
				in = append(in, l)
			}
		}
		val := "none"
		switch {
		case len(in) == 1:
			val = in[0]
		case len(in) > 1 && len(in) == with:
			val = "both"
		case len(in) > 1:
			val = strings.Join(in, " ")
		}
		return Observed{Value: val, Evidence: i18n.T("the kernel's last reading: "+lastStates(v, lanes), "内核最后读到的状态:"+lastStates(v, lanes))}, nil
	case g.Error != "":
		lane, call, _ := strings.Cut(g.Error, " ")
		c, _ := timeline.ParseCall(call)
		val := "none"
		for _, a := range v.Calls(lane, c) {
			if a.Err != "" && !a.Blocking {
				val = a.Err
				break
			}
		}
		return Observed{Value: val, Evidence: i18n.T(lane+"'s "+call+"() returned "+val, lane+" 的 "+call+"() 返回 "+val)}, nil
	case g.Calls != "":
		lane, call, _ := strings.Cut(g.Calls, " ")
		c, _ := timeline.ParseCall(call)
		n := 0
		for _, a := range v.Calls(lane, c) {
			if !a.Blocking && a.Err == "" && (!c.CarriesData() || a.Bytes > 0) {
				n++
			}
		}
		return number(float64(n), nil, i18n.T(fmt.Sprintf("%s's program completed %d %s() calls", lane, n, call),
			fmt.Sprintf("%s 的程序完成了 %d 次 %s() 调用", lane, n, call))), nil
	case g.Check != "":
		for _, ev := range v.Events() {
			if c := ev.Check; c != nil && strings.HasPrefix(c.Name.En, g.Check) {
				val := "fail"
				if c.OK {
					val = "pass"
				}
				return Observed{Value: val, Events: []int{ev.ID}, Evidence: i18n.T("check: "+c.Name.En+" — "+c.Detail.En, "检查:"+c.Name.Zh+" — "+c.Detail.Zh)}, nil
			}
		}
		return Observed{}, fmt.Errorf("exercise %s: the run has no check named %q…", e.Name, g.Check)
	}
	return Observed{}, fmt.Errorf("exercise %s: no grader", e.Name)
}

func number(n float64, packets []int, ev i18n.Text) Observed {
	return Observed{Value: fmtNum(n), Num: n, Packets: packets, Evidence: ev}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func lastStates(v *check.View, lanes []string) string {
	var parts []string
	for _, l := range lanes {
		if s := v.LastKernel(l); s != nil {
			name := s.To.String()
			if s.Gone {
				name = "CLOSED"
			}
			parts = append(parts, l+" "+name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
