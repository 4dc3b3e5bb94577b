package lab_test

import (
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/netlab/netlab/"

// rule forbids packages matching from to depend, directly or through other
// packages, on any package matching one of not. A pattern ending in "/..."
// matches the path and everything below it.
type rule struct {
	from   []string
	not    []string
	except []string // packages in from that the rule does not apply to
	direct bool     // only the packages' own imports, not their dependencies'
	why    string
}

var rules = []rule{
	{
		from:   []string{"lab/...", "scenarios"},
		not:    []string{"github.com/rivo/tview/...", "github.com/gdamore/tcell/...", "github.com/rivo/uniseg/..."},
		except: []string{"lab/ui"},
		why:    "the engine knows nothing of the terminal: a headless run, a test or CI must never link the dashboard's toolkit",
	},
	{
		from:   []string{"lab/...", "scenarios"},
		not:    []string{"lab/ui"},
		except: []string{"lab/ui"},
		why:    "only the command opens the dashboard; everything else is usable headless",
	},
	{
		from: []string{"lab/..."},
		not:  []string{"scenarios"},
		why:  "lessons are built on the lab, never the other way round: the engine must run any scenario, including one a user writes",
	},
	{
		from: []string{"lab/timeline"},
		not: []string{"lab/capture", "lab/flow", "lab/appdecode", "lab/sockstate", "lab/session", "lab/engine",
			"lab/runner", "lab/render", "lab/record", "lab/ui", "lab/check", "lab/sandbox"},
		why: "the timeline is the single source of truth every producer writes and every view reads: it depends on none of them",
	},
	{
		from: []string{"lab/decode", "lab/flow", "lab/appdecode", "lab/timeline", "lab/check", "lab/tcpstate", "lab/i18n", "lab/render"},
		not:  []string{"lab/sandbox", "lab/capture", "lab/sockstate", "lab/session", "lab/engine", "lab/runner", "lab/impair"},
		why:  "decoding, flows, checks and the text ladder are pure functions of bytes and events: they work on a capture file, on any OS, without privileges",
	},
	{
		from:   []string{"lab/decode", "lab/flow", "lab/appdecode", "lab/timeline", "lab/check", "lab/tcpstate", "lab/i18n", "lab/render"},
		not:    []string{"golang.org/x/sys/unix", "syscall", "os/exec"},
		direct: true,
		why:    "pure packages make no system calls of their own",
	},
	{
		from: []string{"lab/render", "lab/record"},
		not:  []string{"lab/engine", "lab/runner"},
		why:  "views only read a timeline; they never start a run",
	},
	{
		from: []string{"lab/...", "scenarios"},
		not:  []string{"github.com/spf13/cobra/...", "github.com/spf13/pflag/..."},
		why:  "flags and subcommands are the command's business (cmd/netlab is CLI wiring only)",
	},
}

// match reports whether an import path matches a pattern (module-relative
// for netlab's own packages).
func match(pattern, path string) bool {
	path = strings.TrimPrefix(path, module)
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == p || strings.HasPrefix(path, p+"/")
	}
	return path == pattern
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// pkg is one package's direct imports and transitive dependencies
// (non-test builds for this GOOS).
type pkg struct{ imports, deps []string }

// deps reads every package of the module with go/build (so that go test's
// cache sees the files and reruns the test when one changes) and closes
// netlab's own imports transitively. Imports from outside the module are
// listed as they are; the rules never need what those import in turn.
func deps(t *testing.T) map[string]pkg {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	direct := map[string][]string{}
	for _, top := range []string{"cmd", "lab", "scenarios"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(dir string, e fs.DirEntry, err error) error {
			switch {
			case err != nil || !e.IsDir():
				return err
			case e.Name() == "testdata":
				return filepath.SkipDir
			}
			bp, err := build.ImportDir(dir, 0)
			if _, none := err.(*build.NoGoError); none {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			rel, _ := filepath.Rel(root, dir)
			direct[module+filepath.ToSlash(rel)] = bp.Imports
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	m := map[string]pkg{}
	for path, imps := range direct {
		seen := map[string]bool{}
		var visit func(p string)
		visit = func(p string) {
			for _, d := range direct[p] {
				if !seen[d] {
					seen[d] = true
					visit(d)
				}
			}
		}
		visit(path)
		ds := make([]string, 0, len(seen))
		for d := range seen {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		m[path] = pkg{imports: imps, deps: ds}
	}
	return m
}

// TestLayers keeps netlab's packages in layers, each rule with its reason
// (the model is tailscale's tstest/deptest): netlab's own dependencies are
// checked transitively, so a rule cannot be dodged through a third package.
func TestLayers(t *testing.T) {
	all := deps(t)
	if len(all) < 15 {
		t.Fatalf("go list found only %d packages: the listing is broken", len(all))
	}
	for _, r := range rules {
		applied := 0
		for path, p := range all {
			if !matchAny(r.from, path) || matchAny(r.except, path) {
				continue
			}
			applied++
			ds, verb := p.deps, "depends on"
			if r.direct {
				ds, verb = p.imports, "imports"
			}
			for _, d := range ds {
				if matchAny(r.not, d) {
					t.Errorf("%s %s %s: %s", strings.TrimPrefix(path, module), verb, strings.TrimPrefix(d, module), r.why)
				}
			}
		}
		if applied == 0 {
			t.Errorf("rule %q applies to no package: its patterns are stale", r.why)
		}
	}
}

// TestRulesCatch proves the checker can fail: each rule is tried against a
// dependency it forbids.
func TestRulesCatch(t *testing.T) {
	cases := []struct{ pkg, dep string }{
		{"lab/engine", "github.com/rivo/tview"},
		{"lab/flow", "github.com/gdamore/tcell/v2"},
		{"scenarios", "lab/ui"},
		{"lab/engine", "scenarios"},
		{"lab/timeline", "lab/flow"},
		{"lab/flow", "golang.org/x/sys/unix"},
		{"lab/render", "lab/runner"},
		{"lab/session", "github.com/spf13/cobra"},
	}
	for _, c := range cases {
		caught := false
		for _, r := range rules {
			if matchAny(r.from, module+c.pkg) && !matchAny(r.except, module+c.pkg) && matchAny(r.not, module+c.dep) {
				caught = true
			}
		}
		if !caught {
			t.Errorf("%s → %s is not caught by any rule", c.pkg, c.dep)
		}
	}
}
