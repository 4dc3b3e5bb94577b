package exercise

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Scenarios tells Parse which scenarios exist, their lanes and how many
// acts they have.
type Scenarios func(name string) (lanes []string, acts int, ok bool)

// Error is a malformed exercise file: where, and what is wrong.
type Error struct {
	Source string
	Line   int // 0: the file as a whole
	Msg    string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
	return e.Source + ": " + e.Msg
}

// The keys a file may have, and the graders.
var (
	topKeys    = []string{"name", "topic", "level", "scenario", "act", "wire", "prompt", "answer", "grade", "explain", "expect"}
	answerKeys = []string{"type", "tolerance", "unit", "choices"}
	graders    = []string{"count", "between", "states", "bytes_read", "calls", "ends_in", "error", "check"}
)

// Parse reads one exercise file (YAML):
//
//	topic: close                # what it is about
//	level: 1                    # 1 to 3
//	scenario: close             # the built-in scenario to run
//	act: 2                      # optional: grade on this act of it only
//	wire: --loss 10% --seed 3   # optional: netlab run's wire flags
//	prompt: {en: "...", zh: "..."}
//	answer: {type: number, tolerance: 0, unit: segments}   # or type: choice, choices: [a, b]; or type: states
//	grade: {count: "fin"}       # exactly one grader, see Grader
//	explain: {en: "...", zh: "..."}
//	expect: "2"                 # optional: the answer this kernel gives, for tests
//
// The name is the file's (without .yaml) unless name says otherwise. Every
// error names the line.
func Parse(source string, data []byte, scenarios Scenarios) (*Exercise, error) {
	fail := func(n *yaml.Node, format string, args ...any) error {
		e := &Error{Source: source, Msg: fmt.Sprintf(format, args...)}
		if n != nil {
			e.Line = n.Line
		}
		return e
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(source, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fail(nil, "not an exercise: want a mapping of keys (topic, scenario, prompt, answer, grade, ...)")
	}
	top, err := fields(source, doc.Content[0], topKeys)
	if err != nil {
		return nil, err
	}
	e := &Exercise{Name: strings.TrimSuffix(filepath.Base(source), filepath.Ext(source)), Source: source}
	str := func(key string, required bool) (string, *yaml.Node, error) {
		n := top[key]
		if n == nil {
			if required {
				return "", nil, fail(doc.Content[0], "missing %q", key)
			}
			return "", nil, nil
		}
		if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
			return "", n, fail(n, "%q must be text", key)
		}
		return strings.TrimSpace(n.Value), n, nil
	}
	text := func(key string) (i18n.Text, error) {
		n := top[key]
		if n == nil {
			return i18n.Text{}, fail(doc.Content[0], "missing %q (en and zh)", key)
		}
		m, err := fields(source, n, []string{"en", "zh"})
		if err != nil {
			return i18n.Text{}, err
		}
		var t i18n.Text
		for _, lang := range []string{"en", "zh"} {
			v := m[lang]
			if v == nil || v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				return t, fail(n, "%s: missing %q: every exercise is in both languages", key, lang)
			}
			if lang == "en" {
				t.En = strings.TrimSpace(v.Value)
			} else {
				t.Zh = strings.TrimSpace(v.Value)
			}
		}
		return t, nil
	}
	if name, _, err := str("name", false); err != nil {
		return nil, err
	} else if name != "" {
		e.Name = name
	}
	if e.Topic, _, err = str("topic", true); err != nil {
		return nil, err
	}
	lvl, ln, err := str("level", true)
	if err != nil {
		return nil, err
	}
	if e.Level, err = strconv.Atoi(lvl); err != nil || e.Level < 1 || e.Level > 3 {
		return nil, fail(ln, "level %q: want 1, 2 or 3", lvl)
	}
	sc, sn, err := str("scenario", true)
	if err != nil {
		return nil, err
	}
	lanes, acts, ok := scenarios(sc)
	if !ok {
		return nil, fail(sn, "unknown scenario %q (netlab list shows them)", sc)
	}
	e.Scenario = sc
	if a, an, err := str("act", false); err != nil {
		return nil, err
	} else if a != "" {
		if e.Act, err = strconv.Atoi(a); err != nil || e.Act < 1 || e.Act > acts {
			return nil, fail(an, "act %q: scenario %s has acts 1 to %d", a, sc, acts)
		}
	}
	w, _, err := str("wire", false)
	if err != nil {
		return nil, err
	}
	e.Wire = strings.Fields(w)
	if e.Prompt, err = text("prompt"); err != nil {
		return nil, err
	}
	if e.Explain, err = text("explain"); err != nil {
		return nil, err
	}
	if e.Answer, err = parseAnswerSpec(source, top["answer"], doc.Content[0]); err != nil {
		return nil, err
	}
	if e.Grade, err = parseGrader(source, top["grade"], doc.Content[0], lanes, e.Answer.Kind); err != nil {
		return nil, err
	}
	if x, xn, err := str("expect", false); err != nil {
		return nil, err
	} else if x != "" {
		if e.Expect, err = e.ParseAnswer(x); err != nil {
			return nil, fail(xn, "expect: %v", err)
		}
	}
	return e, nil
}

// yamlError gives a YAML syntax error its line in the file's own form.
func yamlError(source string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ":"); ok {
			if l, e := strconv.Atoi(n); e == nil {
				line, msg = l, strings.TrimSpace(after)
				// yaml.v3 numbers its parser's errors (not its scanner's)
				// from 0: "did not find expected ..." is one line early.
				if strings.HasPrefix(msg, "did not find expected") {
					line++
				}
			}
		}
	}
	return &Error{Source: source, Line: line, Msg: msg}
}

// fields reads a mapping whose keys must be among allowed.
func fields(source string, n *yaml.Node, allowed []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, &Error{Source: source, Line: n.Line, Msg: "want a mapping of " + strings.Join(allowed, ", ")}
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, &Error{Source: source, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (known: %s)", k.Value, strings.Join(allowed, ", "))}
		}
		if out[k.Value] != nil {
			return nil, &Error{Source: source, Line: k.Line, Msg: fmt.Sprintf("%q given twice", k.Value)}
		}
		out[k.Value] = v
	}
	return out, nil
}

func parseAnswerSpec(source string, n, parent *yaml.Node) (Answer, error) {
	var a Answer
	if n == nil {
		return a, &Error{Source: source, Line: parent.Line, Msg: `missing "answer" (type: number, choice or states)`}
	}
	m, err := fields(source, n, answerKeys)
	if err != nil {
		return a, err
	}
	t := m["type"]
	if t == nil {
		return a, &Error{Source: source, Line: n.Line, Msg: "answer: missing \"type\" (number, choice or states)"}
	}
	a.Kind = Kind(t.Value)
	switch a.Kind {
	case Number:
		if tn := m["tolerance"]; tn != nil {
			if a.Tolerance, err = strconv.ParseFloat(tn.Value, 64); err != nil || a.Tolerance < 0 {
				return a, &Error{Source: source, Line: tn.Line, Msg: fmt.Sprintf("tolerance %q: want a number ≥ 0", tn.Value)}
			}
		}
		if u := m["unit"]; u != nil {
			a.Unit = u.Value
		}
	case Choice:
		c := m["choices"]
		if c == nil || c.Kind != yaml.SequenceNode || len(c.Content) < 2 {
			return a, &Error{Source: source, Line: t.Line, Msg: "a choice answer needs choices: a list of two or more"}
		}
		for _, x := range c.Content {
			a.Choices = append(a.Choices, x.Value)
		}
	case States:
	default:
		return a, &Error{Source: source, Line: t.Line, Msg: fmt.Sprintf("answer type %q: want number, choice or states", t.Value)}
	}
	return a, nil
}

func parseGrader(source string, n, parent *yaml.Node, lanes []string, kind Kind) (Grader, error) {
	var g Grader
	if n == nil {
		return g, &Error{Source: source, Line: parent.Line, Msg: `missing "grade" (one of ` + strings.Join(graders, ", ") + ")"}
	}
	m, err := fields(source, n, graders)
	if err != nil {
		return g, err
	}
	if len(m) != 1 {
		return g, &Error{Source: source, Line: n.Line, Msg: "grade: give exactly one of " + strings.Join(graders, ", ")}
	}
	fail := func(v *yaml.Node, format string, args ...any) (Grader, error) {
		return g, &Error{Source: source, Line: v.Line, Msg: fmt.Sprintf(format, args...)}
	}
	filter := func(v *yaml.Node, s string) error {
		f := check.ParseFilter(s, lanes)
		if f == nil {
			return &Error{Source: source, Line: v.Line, Msg: "an empty filter"}
		}
		if gs := f.Guesses(); len(gs) > 0 {
			return &Error{Source: source, Line: v.Line, Msg: fmt.Sprintf("unknown filter word %q: a lane (%s), tcp, udp, icmp, arp, TCP flags (syn, fin, rst, psh, ack), from:LANE, to:LANE, or text with a digit or = (len=5, 8888)", gs[0], strings.Join(lanes, ", "))}
		}
		return nil
	}
	lane := func(v *yaml.Node, l string) error {
		if !slices.Contains(lanes, l) {
			return &Error{Source: source, Line: v.Line, Msg: fmt.Sprintf("unknown lane %q (the scenario's lanes: %s)", l, strings.Join(lanes, ", "))}
		}
		return nil
	}
	want := map[string]Kind{"count": Number, "between": Number, "bytes_read": Number, "calls": Number, "states": States, "ends_in": Choice, "error": Choice, "check": Choice}
	for k, v := range m {
		if want[k] != kind {
			return fail(v, "grader %s gives %s answers, but the answer's type is %s", k, want[k], kind)
		}
		switch k {
		case "between":
			if v.Kind != yaml.SequenceNode || len(v.Content) != 2 {
				return fail(v, "between: want two filters, [from, to]")
			}
			for i, x := range v.Content {
				if err := filter(x, x.Value); err != nil {
					return g, err
				}
				g.Between[i] = x.Value
			}
			continue
		}
		if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			return fail(v, "%s: want text", k)
		}
		s := strings.TrimSpace(v.Value)
		switch k {
		case "count":
			if err := filter(v, s); err != nil {
				return g, err
			}
			g.Count = s
		case "states":
			if err := lane(v, s); err != nil {
				return g, err
			}
			g.States = s
		case "bytes_read":
			if err := lane(v, s); err != nil {
				return g, err
			}
			g.BytesRead = s
		case "ends_in":
			if _, ok := tcpstate.Parse(strings.ToUpper(s)); !ok {
				return fail(v, "ends_in %q: not a TCP state", s)
			}
			g.EndsIn = strings.ToUpper(s)
		case "error", "calls":
			l, call, ok := strings.Cut(s, " ")
			if !ok {
				return fail(v, "%s: want \"LANE CALL\", e.g. \"client connect\"", k)
			}
			if err := lane(v, l); err != nil {
				return g, err
			}
			if _, err := timeline.ParseCall(call); err != nil {
				return fail(v, "%s: %v", k, err)
			}
			if k == "error" {
				g.Error = s
			} else {
				g.Calls = s
			}
		case "check":
			g.Check = s
		}
	}
	return g, nil
}

// ParseAll reads many files (a course's folder): the exercises that parse,
// and every file's error, joined. A bad file stops nothing else.
func ParseAll(files map[string][]byte, scenarios Scenarios) ([]*Exercise, error) {
	var out []*Exercise
	var errs []error
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	seen := map[string]string{}
	for _, n := range names {
		e, err := Parse(n, files[n], scenarios)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[e.Name]; dup {
			errs = append(errs, &Error{Source: n, Msg: fmt.Sprintf("exercise %q is also defined in %s", e.Name, prev)})
			continue
		}
		seen[e.Name] = n
		out = append(out, e)
	}
	return out, errors.Join(errs...)
}
