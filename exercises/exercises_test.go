package exercises_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/netlab/netlab/exercises"
	"github.com/netlab/netlab/lab/exercise"
	"github.com/netlab/netlab/lab/labtest"
	"github.com/netlab/netlab/scenarios"
)

func TestMain(m *testing.M) { labtest.Main(m, scenarios.Catalog()) }

// TestBuiltin: every embedded file parses against the real catalogue, in
// both languages, with the answer this kernel gives (expect) and no wire
// flags of its own (the scenarios' wires are tested; so are theirs).
func TestBuiltin(t *testing.T) {
	exs, err := exercises.Builtin(scenarios.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) < 12 {
		t.Errorf("%d built-in exercises, want at least 12", len(exs))
	}
	for _, e := range exs {
		if e.Expect == "" {
			t.Errorf("%s: no expect: its fairness cannot be tested", e.Source)
		}
		if len(e.Wire) > 0 {
			t.Errorf("%s: wire flags %q: a built-in exercise uses its scenario's own wire", e.Source, e.Wire)
		}
	}
}

// TestExercisesFair runs each scenario the exercises use (twice; CI's soak
// 20 times) and grades every exercise on the run: the answer this kernel is
// known to give must be right, and a wrong one wrong. An exercise whose
// answer changes from run to run would be unfair to the learner.
func TestExercisesFair(t *testing.T) {
	exs, err := exercises.Builtin(scenarios.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	byScenario := map[string][]*exercise.Exercise{}
	var order []string
	for _, e := range exs {
		if byScenario[e.Scenario] == nil {
			order = append(order, e.Scenario)
		}
		byScenario[e.Scenario] = append(byScenario[e.Scenario], e)
	}
	n := labtest.Repeats()
	slots := labtest.NewSlots(labtest.Parallel())
	for _, name := range order {
		sc, err := scenarios.Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer slots.Take(false)()
			for i := range n {
				tl, _ := labtest.Run(t, sc)
				for _, e := range byScenario[name] {
					obs, err := e.Observe(tl)
					if err != nil {
						t.Fatalf("run %d, %s: %v\n%s", i+1, e.Name, err, labtest.Indent(labtest.Ladder(tl)))
					}
					if v := e.Judge(e.Expect, obs); !v.Correct {
						t.Errorf("run %d, %s: the expected answer %q is graded wrong: %s\n%s", i+1, e.Name, e.Expect, v.Explanation.En, labtest.Indent(labtest.Ladder(tl)))
					}
					if bad := wrong(e, obs); e.Judge(bad, obs).Correct {
						t.Errorf("run %d, %s: the wrong answer %q is graded right", i+1, e.Name, bad)
					}
				}
			}
		})
	}
}

// wrong is an answer in e's form that obs shows to be wrong.
func wrong(e *exercise.Exercise, obs exercise.Observed) string {
	switch e.Answer.Kind {
	case exercise.Number:
		return strconv.FormatFloat(obs.Num+e.Answer.Tolerance+max(1, obs.Num/2), 'f', -1, 64)
	case exercise.Choice:
		for _, c := range e.Answer.Choices {
			if !strings.EqualFold(c, obs.Value) {
				return c
			}
		}
	}
	f := strings.Fields(obs.Value)
	return strings.Join(f[:len(f)-1], " ")
}
