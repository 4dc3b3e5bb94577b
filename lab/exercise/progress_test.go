package exercise_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/exercise"
)

func TestStatePath(t *testing.T) {
	env := func(m map[string]string) exercise.Env { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/netlab/progress.json"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/netlab/progress.json"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/netlab/progress.json"},
		// Under sudo: the home of the user who ran sudo (uid 0 is root's).
		{map[string]string{"HOME": "/h", "SUDO_UID": "0"}, "/root/.local/state/netlab/progress.json"},
	} {
		got, err := exercise.StatePath(env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("%v: %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	if _, err := exercise.StatePath(env(nil)); err == nil {
		t.Error("no HOME, no XDG_STATE_HOME: no error")
	}
}

// TestProgressKept: attempts and done survive a save and a load, the best
// time is from being asked to a right answer, a corrupt file starts afresh
// (and says so), and an unwritable place is an error, not a crash.
func TestProgressKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "netlab", "progress.json")
	p, err := exercise.LoadProgress(path)
	if err != nil || len(p.Exercises) != 0 {
		t.Fatalf("no file: %v, %v", p, err)
	}
	t0 := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	p.Asked("close-fins", t0)
	p.Graded("close-fins", false, t0.Add(20*time.Second))
	p.Graded("close-fins", true, t0.Add(30*time.Second))
	p.Asked("close-fins", t0.Add(time.Minute))
	p.Graded("close-fins", true, t0.Add(time.Minute+50*time.Second)) // slower: best stays 30 s
	none := func(string) string { return "" }
	if err := p.Save(path, none); err != nil {
		t.Fatal(err)
	}
	q, err := exercise.LoadProgress(path)
	r := q.Exercises["close-fins"]
	if err != nil || r == nil || !r.Done || r.Attempts != 3 || r.Best != 30 {
		t.Errorf("after a load: %+v, %v; want done, 3 attempts, best 30 s", r, err)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if q, err := exercise.LoadProgress(path); err == nil || len(q.Exercises) != 0 {
		t.Errorf("a corrupt file: %v, %v; want an error and no progress", q, err)
	}
	if err := p.Save("/proc/netlab/progress.json", none); err == nil {
		t.Error("saving under /proc succeeded")
	}
}
