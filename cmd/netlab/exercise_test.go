package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExerciseCLI: the list, a question, the exit codes (0 right, 1 wrong,
// 2 an answer not in the form, which the message names), the JSON's last
// line the verdict, and a course folder with a bad file: reported with its
// line, the good file still there.
func TestExerciseCLI(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state) // the progress of this test's answers
	if r := netlab(t, "exercise"); r.code != 0 || !strings.Contains(r.stdout, "handshake-syns") || !strings.Contains(r.stdout, "time-wait-who") {
		t.Fatalf("list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "exercise", "handshake-syns"); r.code != 0 || !strings.Contains(r.stdout, "SYN flag") || !strings.Contains(r.stdout, "--answer VALUE") {
		t.Errorf("question: exit %d\n%s", r.code, r.stdout)
	}
	if r := netlab(t, "exercise", "handshake-syns", "--answer", "two"); r.code != exitUsage || !strings.Contains(r.stderr, "answer handshake-syns with a number") {
		t.Errorf("malformed answer: exit %d\n%s", r.code, r.stderr)
	}
	if r := netlab(t, "--lang", "zh", "exercise", "time-wait-who", "--answer", "服务器"); r.code != exitUsage || !strings.Contains(r.stderr, "不在选项中") {
		t.Errorf("malformed answer in Chinese: exit %d\n%s", r.code, r.stderr)
	}
	if r := netlab(t, "exercise", "no-such"); r.code != exitUsage || !strings.Contains(r.stderr, "handshake-syns") {
		t.Errorf("unknown exercise: exit %d\n%s", r.code, r.stderr)
	}
	r := netlab(t, "exercise", "handshake-syns", "--answer", "2")
	needSandbox(t, r)
	if r.code != 0 || !strings.Contains(r.stdout, "✓ right: this run shows 2 segments") || !strings.Contains(r.stdout, "#1, #2") {
		t.Errorf("right answer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = netlab(t, "exercise", "handshake-syns", "--answer", "3", "--json")
	lines := jsonLines(t, r.stdout)
	last := lines[len(lines)-1]
	if r.code != exitCheckFailed || last["type"] != "verdict" || last["correct"] != false || last["observed"] != "2" || last["answer"] != "3" {
		t.Errorf("wrong answer: exit %d, last line %v", r.code, last)
	}

	// Progress: one exercise tried twice, done (the right answer), the
	// file where the README says.
	r = netlab(t, "progress")
	if r.code != 0 || !strings.Contains(r.stdout, "handshake-syns          ✓     2") || !strings.Contains(r.stdout, filepath.Join(state, "netlab", "progress.json")) {
		t.Errorf("progress: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "exercise"); !strings.Contains(r.stdout, "handshake-syns          handshake    1      handshake       ✓") {
		t.Errorf("the list does not mark handshake-syns done:\n%s", r.stdout)
	}
	t.Setenv("XDG_STATE_HOME", "/proc/netlab-nowhere")
	if r := netlab(t, "exercise", "handshake-syns", "--answer", "2"); r.code != 0 || !strings.Contains(r.stderr, "progress not kept") {
		t.Errorf("unwritable progress: exit %d\n%s", r.code, r.stderr)
	}

	dir := t.TempDir()
	good, _ := os.ReadFile("../../exercises/handshake-syns.yaml")
	os.WriteFile(filepath.Join(dir, "my-syns.yaml"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("topic: x\nlevel: 9\n"), 0o644)
	r = netlab(t, "exercise", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "my-syns") || !strings.Contains(r.stderr, "broken.yaml:2: level") {
		t.Errorf("--dir: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
