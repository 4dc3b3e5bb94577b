// Package labtest helps tests run scenarios in real sandboxes, the way the
// netlab command does: each run re-executes the test binary as a worker in a
// fresh network namespace. A test package that runs scenarios calls Main from
// its TestMain.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/scenario"
	"github.com/netlab/netlab/lab/timeline"
)

// Main runs the tests, or, when this process was started as a run's worker,
// the requested scenario.
func Main(m *testing.M, cat scenario.Catalog) {
	if runner.IsWorker() {
		os.Exit(runner.WorkerMain(cat))
	}
	os.Exit(m.Run())
}

// Run runs sc once in a sandbox and returns its timeline and summary. It
// skips the test, with the reason, where this machine cannot make a sandbox.
func Run(t testing.TB, sc *scenario.Scenario) (*timeline.Timeline, timeline.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sc.RunTimeout()+30*time.Second)
	defer cancel()
	r, err := runner.Start(ctx, sc, runner.Options{Lang: i18n.En})
	if err != nil {
		skipOrFail(t, err)
	}
	sum, err := r.Wait()
	if err != nil {
		skipOrFail(t, err)
	}
	return r.Timeline, sum
}

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	var se *sandbox.Error
	if errors.As(err, &se) {
		t.Skipf("no sandbox on this machine, so no real-kernel run: %v", se)
	}
	t.Fatalf("run: %v", err)
}

// Ladder renders a finished run as the CLI would, for failure messages.
func Ladder(tl *timeline.Timeline) string {
	var b bytes.Buffer
	l := render.NewLadder(tl.Meta(), 100, i18n.En)
	l.Header(&b)
	tl.All(func(e *timeline.Event) bool { l.Event(&b, e); return true })
	render.Segmentation(&b, tl, i18n.En, 100)
	render.Checks(&b, tl, i18n.En, 100)
	sum, _ := tl.Closed()
	render.Summary(&b, sum, i18n.En)
	return b.String()
}

// Failed lists the failed checks of a finished run.
func Failed(tl *timeline.Timeline) []string {
	var out []string
	tl.All(func(e *timeline.Event) bool {
		if e.Kind == timeline.KindCheck && !e.Check.OK {
			out = append(out, e.Check.Name.En+": "+e.Check.Detail.En)
		}
		return true
	})
	return out
}

// Repeats is how many times scenario tests run each scenario: 20, or 3 with
// -short, or NETLAB_RUNS.
func Repeats() int {
	if v := os.Getenv("NETLAB_RUNS"); v != "" {
		var n int
		for _, c := range v {
			if c < '0' || c > '9' {
				return 20
			}
			n = n*10 + int(c-'0')
		}
		if n > 0 {
			return n
		}
	}
	if testing.Short() {
		return 3
	}
	return 20
}

// Indent indents a block for test logs.
func Indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
