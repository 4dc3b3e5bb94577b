package exercise_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/exercise"
	goldenfile "github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/labtest"
)

// scenarios stands in for the catalogue: handshake (client, server; no
// acts), close (three acts) and latency (two acts, the recorded run).
func scenarios(name string) ([]string, int, bool) {
	switch name {
	case "handshake":
		return []string{"client", "server"}, 0, true
	case "close":
		return []string{"client", "server"}, 3, true
	case "latency":
		return []string{"client", "server"}, 2, true
	}
	return nil, 0, false
}

// TestParseGolden: every file under testdata/files, parsed: the exercise
// it gives, or its error with the line it is on.
func TestParseGolden(t *testing.T) {
	names, err := filepath.Glob("testdata/files/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	var b strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		e, err := exercise.Parse(filepath.Base(n), data, scenarios)
		fmt.Fprintf(&b, "== %s\n", filepath.Base(n))
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "name %s, topic %s, level %d, scenario %s act %d, wire %q\nprompt %q / %q\nanswer %+v\ngrade %+v\nexplain %q / %q\nexpect %q\n",
			e.Name, e.Topic, e.Level, e.Scenario, e.Act, e.Wire, e.Prompt.En, e.Prompt.Zh, e.Answer, e.Grade, e.Explain.En, e.Explain.Zh, e.Expect)
	}
	goldenfile.Check(t, "parse", []byte(b.String()))
}

// TestParseAllKeepsTheGood: in a course folder a bad file is reported and
// the good ones load; a name defined twice is an error too.
func TestParseAllKeepsTheGood(t *testing.T) {
	good, _ := os.ReadFile("testdata/files/good.yaml")
	bad, _ := os.ReadFile("testdata/files/bad-type.yaml")
	exs, err := exercise.ParseAll(map[string][]byte{"a.yaml": good, "b.yaml": bad, "c.yaml": good}, scenarios)
	if len(exs) != 1 || exs[0].Name != "syn-count" {
		t.Errorf("loaded %d exercises, want the one good one", len(exs))
	}
	for _, want := range []string{"b.yaml:7: answer type", `c.yaml: exercise "syn-count" is also defined in a.yaml`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v lack %q", err, want)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	num := &exercise.Exercise{Name: "n", Answer: exercise.Answer{Kind: exercise.Number, Unit: "ms"}}
	choice := &exercise.Exercise{Name: "c", Answer: exercise.Answer{Kind: exercise.Choice, Choices: []string{"client", "server", "no route to host"}}}
	states := &exercise.Exercise{Name: "s", Answer: exercise.Answer{Kind: exercise.States}}
	tests := []struct {
		e        *exercise.Exercise
		in, want string
		bad      string // part of the error
	}{
		{num, "3", "3", ""},
		{num, " 40.50 ms", "40.5", ""},
		{num, "forty", "", "not a number"},
		{num, "NaN", "", "not a number"},
		{choice, "Server", "server", ""},
		{choice, "No Route To Host", "no route to host", ""},
		{choice, "browser", "", "one of client, server, no route to host"},
		{states, "syn-sent established", "SYN-SENT ESTABLISHED", ""},
		{states, "SYN-SENT → ESTABLISHED, FIN-WAIT-1", "SYN-SENT ESTABLISHED FIN-WAIT-1", ""},
		{states, "SYN-SENT -> ESTABLISHED", "SYN-SENT ESTABLISHED", ""},
		{states, "SYN-SENT OPEN", "", `"OPEN" is not a TCP state`},
		{states, "", "", "no states"},
	}
	for _, tc := range tests {
		got, err := tc.e.ParseAnswer(tc.in)
		switch {
		case tc.bad == "" && (err != nil || got != tc.want):
			t.Errorf("%s %q: %q, %v; want %q", tc.e.Answer.Kind, tc.in, got, err, tc.want)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%s %q: error %v, want one saying %q", tc.e.Answer.Kind, tc.in, err, tc.bad)
		}
	}
}

func TestJudge(t *testing.T) {
	num := &exercise.Exercise{Name: "n", Answer: exercise.Answer{Kind: exercise.Number, Tolerance: 5, Unit: "ms"}}
	obs := exercise.Observed{Value: "25.6", Num: 25.6, Packets: []int{1, 2}}
	for _, tc := range []struct {
		answer string
		ok     bool
	}{{"25", true}, {"30.6", true}, {"20.6", true}, {"31", false}, {"50", false}} {
		v := num.Judge(tc.answer, obs)
		if v.Correct != tc.ok {
			t.Errorf("answer %s for observed 25.6 ± 5: correct %v", tc.answer, v.Correct)
		}
		if !strings.Contains(v.Explanation.En, "#1, #2") || !strings.Contains(v.Explanation.Zh, "#1, #2") {
			t.Errorf("the verdict does not cite the packets: %q / %q", v.Explanation.En, v.Explanation.Zh)
		}
	}
	choice := &exercise.Exercise{Name: "c", Answer: exercise.Answer{Kind: exercise.Choice, Choices: []string{"client", "server"}}}
	if v := choice.Judge("client", exercise.Observed{Value: "server"}); v.Correct || !strings.Contains(v.Explanation.En, "you said client; this run shows server") {
		t.Errorf("wrong choice: %+v", v)
	}
}

// TestObserveRecorded reads answers off a recorded run of latency (two
// acts, three requests each, on a 25 ms wire): counts, times between
// packets, states, bytes read, who ends in TIME-WAIT, a check's result.
func TestObserveRecorded(t *testing.T) {
	tl := labtest.Recorded(t, "../render/testdata/latency.timeline.gob")
	grades := []struct {
		name string
		act  int
		g    exercise.Grader
		want string
	}{
		{"SYNs in the run", 0, exercise.Grader{Count: "syn !ack"}, "4"},
		{"SYNs in act 1", 1, exercise.Grader{Count: "syn !ack"}, "3"},
		{"the client's data segments", 0, exercise.Grader{Count: "from:client psh"}, "6"},
		{"bytes the client read", 0, exercise.Grader{BytesRead: "client"}, "600"},
		// Both FINs crossed on the 25 ms wire (a simultaneous close):
		// both sides end in TIME-WAIT.
		{"who ends in TIME-WAIT", 2, exercise.Grader{EndsIn: "TIME-WAIT"}, "both"},
		{"a check's result", 0, exercise.Grader{Check: "act 2: the program waits"}, "pass"},
		{"the client's connect error", 0, exercise.Grader{Error: "client connect"}, "none"},
	}
	for _, g := range grades {
		e := &exercise.Exercise{Name: g.name, Act: g.act, Grade: g.g}
		obs, err := e.Observe(tl)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		if obs.Value != g.want {
			t.Errorf("%s: observed %q, want %q (%s)", g.name, obs.Value, g.want, obs.Evidence.En)
		}
	}
	// One way across the wire: the SYN,ACK leaves the server about 25 ms
	// after the SYN left the client.
	e := &exercise.Exercise{Name: "one way", Grade: exercise.Grader{Between: [2]string{"syn !ack", "syn,ack"}}}
	obs, err := e.Observe(tl)
	if err != nil || obs.Num < 24 || obs.Num > 35 || len(obs.Packets) != 2 {
		t.Errorf("SYN to SYN,ACK: %+v, %v; want about 25 ms between two packets", obs, err)
	}
	states := &exercise.Exercise{Name: "states", Act: 2, Grade: exercise.Grader{States: "client"}}
	if obs, err := states.Observe(tl); err != nil || !slices.Equal(strings.Fields(obs.Value), []string{"SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT"}) {
		t.Errorf("the client's states in act 2: %q, %v", obs.Value, err)
	}
}
