package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/netlab/netlab/exercises"
	"github.com/netlab/netlab/lab/exercise"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/record"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/timeline"
	"github.com/netlab/netlab/lab/ui"
)

type exerciseFlags struct {
	answer string
	json   bool
	dir    string
	width  int
}

func (a *app) exerciseCmd() *cobra.Command {
	var f exerciseFlags
	cmd := &cobra.Command{
		Use:   "exercise [NAME]",
		Short: "lab exercises: predict what a run will show, then run it and be graded on what the kernel did",
		Long: `Without a name, list the exercises. With one, print its question and the form
of the answer. With --answer, run its scenario, grade the answer on this run's
own capture and kernel states, and say why, citing packet numbers: exit 0 when
the answer is right, 1 when it is wrong, 2 when it is not in the expected form
(the message says the form). --json prints the run's JSON lines and a last
"verdict" line. --dir DIR adds a course's exercise files (*.yaml; the format
is in the README); a malformed file is reported with its line and the others
still load.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exs, err := a.exercises(f.dir)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				a.listExercises(exs)
				return nil
			}
			var ex *exercise.Exercise
			for _, e := range exs {
				if e.Name == args[0] {
					ex = e
				}
			}
			if ex == nil {
				var names []string
				for _, e := range exs {
					names = append(names, e.Name)
				}
				return &exitError{code: exitUsage, err: fmt.Errorf("unknown exercise %q; the exercises are: %s", args[0], strings.Join(names, ", "))}
			}
			if !cmd.Flags().Changed("answer") {
				a.keepProgress(func(p *exercise.Progress) { p.Asked(ex.Name, time.Now()) })
				if isTerminal(a.stdin) && isTerminal(a.stdout) && !f.json {
					return a.exerciseDashboard(cmd.Context(), ex)
				}
				a.askExercise(ex)
				return nil
			}
			return a.gradeExercise(cmd.Context(), ex, f)
		},
	}
	cmd.Flags().StringVar(&f.answer, "answer", "", "your prediction, in the form the exercise asks for")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the run's JSON lines and a verdict line")
	cmd.Flags().StringVar(&f.dir, "dir", "", "also load the exercise files (*.yaml) in this folder")
	cmd.Flags().IntVar(&f.width, "width", 0, "ladder width in columns (default: the terminal's, or 80)")
	return cmd
}

// exercises are the built-in ones and dir's; a bad file in dir is
// reported and skipped.
func (a *app) exercises(dir string) ([]*exercise.Exercise, error) {
	exs, err := exercises.Builtin(a.catalog)
	if err != nil {
		return nil, fmt.Errorf("built-in exercises: %w", err)
	}
	if dir == "" {
		return exs, nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err == nil && len(names) == 0 {
		if _, serr := os.Stat(dir); serr != nil {
			err = serr
		}
	}
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--dir: %w", err)}
	}
	files := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			fmt.Fprintln(a.stderr, "netlab:", err)
			continue
		}
		files[n] = b
	}
	more, err := exercise.ParseAll(files, exercises.ScenariosOf(a.catalog))
	if err != nil {
		for _, e := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(a.stderr, "netlab:", e)
		}
	}
	builtin := map[string]bool{}
	for _, e := range exs {
		builtin[e.Name] = true
	}
	for _, e := range more {
		if builtin[e.Name] {
			fmt.Fprintf(a.stderr, "netlab: %s: exercise %q is built in; rename it\n", e.Source, e.Name)
			continue
		}
		exs = append(exs, e)
	}
	return exs, nil
}

func (a *app) listExercises(exs []*exercise.Exercise) {
	lang := a.language()
	prog := a.progress()
	fmt.Fprintln(a.stdout, i18n.T("exercise                topic        level  scenario        done", "练习                    主题         级别   场景            完成").In(lang))
	for _, e := range exs {
		done := "–"
		if r := prog.Exercises[e.Name]; r != nil && r.Done {
			done = "✓"
		}
		fmt.Fprintf(a.stdout, "%-23s %-12s %-6d %-15s %s\n", e.Name, e.Topic, e.Level, e.Scenario, done)
	}
	fmt.Fprintln(a.stdout, i18n.T("\nnetlab exercise NAME shows the question; --answer VALUE runs and grades it.", "\nnetlab exercise NAME 显示问题;--answer VALUE 运行并评分。").In(lang))
}

func (a *app) askExercise(ex *exercise.Exercise) {
	lang := a.language()
	for _, l := range render.Wrap(ex.Prompt.In(lang), 78) {
		fmt.Fprintln(a.stdout, l)
	}
	fmt.Fprintf(a.stdout, i18n.T("\nanswer: %s\nnetlab exercise %s --answer VALUE\n", "\n答案:%s\nnetlab exercise %s --answer VALUE\n").In(lang), ex.Form().In(lang), ex.Name)
}

// verdictLine is the last JSON line of a graded exercise.
type verdictLine struct {
	ID          int     `json:"id"`
	T           float64 `json:"t"`
	Type        string  `json:"type"`
	Exercise    string  `json:"exercise"`
	Answer      string  `json:"answer"`
	Observed    string  `json:"observed"`
	Correct     bool    `json:"correct"`
	Evidence    []int   `json:"evidence"`
	Events      []int   `json:"evidence_events,omitempty"`
	Explanation string  `json:"explanation"`
}

func (a *app) gradeExercise(ctx context.Context, ex *exercise.Exercise, f exerciseFlags) error {
	lang := a.language()
	answer, err := ex.ParseAnswer(f.answer)
	if err != nil {
		var ae *exercise.AnswerError
		if errors.As(err, &ae) {
			err = errors.New(ae.Text.In(lang))
		}
		return &exitError{code: exitUsage, err: err}
	}
	sc, err := a.lookup(ex.Scenario)
	if err != nil {
		return err
	}
	nf, err := exerciseWire(ex)
	if err != nil {
		return err
	}
	lab, err := nf.resolve(sc)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("exercise %s: %w", ex.Name, err)}
	}
	out := &output{w: a.stdout, what: i18n.T("writing to standard output", "写入标准输出")}
	if !f.json {
		for _, l := range render.Wrap(ex.Prompt.In(lang), 78) {
			fmt.Fprintln(out, l)
		}
		fmt.Fprintf(out, i18n.T("your answer: %s\n\n", "你的答案:%s\n\n").In(lang), answer)
	}
	v := &headlessView{lang: lang, width: a.width(f.width, out.w), text: out, showBytes: sc.ShowBytes}
	var js *record.JSON
	if f.json {
		js = record.NewJSON(out, lang)
		v.js = js
	}
	finished := make(chan struct{})
	defer close(finished)
	tl, sum, err := runFollowing(ctx, sc, runner.Options{Lang: lang, Net: lab}, v, finished)
	if err != nil {
		return err
	}
	if sum.Interrupted {
		return &exitError{code: exitInterrupted}
	}
	if !f.json {
		v.ladder.Flush(out)
	} else {
		js.Summary(sum)
	}
	obs, err := ex.Observe(tl)
	if err != nil {
		return &exitError{code: exitCheckFailed, err: fmt.Errorf("%w (the run: %s)", err, sum.Err)}
	}
	verdict := ex.Judge(answer, obs)
	a.keepProgress(func(p *exercise.Progress) { p.Graded(ex.Name, verdict.Correct, time.Now()) })
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		var t float64
		if start := tl.Meta().Start; !start.IsZero() {
			tl.All(func(e *timeline.Event) bool { t = e.Time.Sub(start).Seconds(); return true })
		}
		enc.Encode(verdictLine{ID: tl.Len() + 1, T: math.Round(t*1e6) / 1e6, Type: "verdict", Exercise: ex.Name, Answer: answer,
			Observed: obs.Value, Correct: verdict.Correct, Evidence: append([]int{}, obs.Packets...), Events: obs.Events, Explanation: verdict.Explanation.In(lang)})
	} else {
		mark := "✗"
		if verdict.Correct {
			mark = "✓"
		}
		fmt.Fprintln(out)
		for i, l := range render.Wrap(verdict.Explanation.In(lang), 76) {
			if i == 0 {
				fmt.Fprintf(out, "%s %s\n", mark, l)
			} else {
				fmt.Fprintf(out, "  %s\n", l)
			}
		}
	}
	if out.err != nil {
		return a.failed(out)
	}
	if !verdict.Correct {
		return &exitError{code: exitCheckFailed}
	}
	return nil
}

// progress is the learner's progress; unreadable, it is empty (and the
// reason is said once).
func (a *app) progress() *exercise.Progress {
	path, err := exercise.StatePath(os.Getenv)
	if err != nil {
		return &exercise.Progress{Exercises: map[string]*exercise.Record{}}
	}
	p, err := exercise.LoadProgress(path)
	if err != nil {
		fmt.Fprintln(a.stderr, "netlab: progress:", err)
	}
	return p
}

// keepProgress updates the progress file; a file that cannot be written
// costs the learner nothing but the record, and says so.
func (a *app) keepProgress(update func(*exercise.Progress)) {
	if err := saveProgress(update); err != nil {
		fmt.Fprintln(a.stderr, "netlab: progress not kept:", err)
	}
}

func saveProgress(update func(*exercise.Progress)) error {
	path, err := exercise.StatePath(os.Getenv)
	if err != nil {
		return err
	}
	p, _ := exercise.LoadProgress(path) // unreadable: start afresh
	update(p)
	return p.Save(path, os.Getenv)
}

func (a *app) progressCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "progress",
		Short: "the exercises you have done, your attempts and best times",
		Long: `Print what you have done with the exercises: done (answered right at least once),
attempts, hints, and the best time from seeing a question (netlab exercise NAME)
to a right answer. Kept in $XDG_STATE_HOME/netlab/progress.json (default
~/.local/state/netlab/; under sudo, the invoking user's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := a.language()
			path, err := exercise.StatePath(os.Getenv)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			p := a.progress()
			exs, err := a.exercises("")
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, i18n.T("exercise                done  attempts  hints  best", "练习                    完成  尝试      提示   最快").In(lang))
			n := 0
			for _, e := range exs {
				r := p.Exercises[e.Name]
				if r == nil || r.Attempts == 0 {
					continue
				}
				n++
				done, best := "–", "–"
				if r.Done {
					done = "✓"
				}
				if r.Best > 0 {
					best = fmt.Sprintf("%.0f s", r.Best)
				}
				fmt.Fprintf(a.stdout, "%-23s %-5s %-9d %-6d %s\n", e.Name, done, r.Attempts, r.Hints, best)
			}
			fmt.Fprintf(a.stdout, i18n.T("\n%d of %d exercises tried · %s\n", "\n已尝试 %d/%d 个练习 · %s\n").In(lang), n, len(exs), path)
			return nil
		},
	}
}

// exerciseDashboard opens the exercise in the dashboard: the question and
// the prediction first, then the run, then the verdict.
func (a *app) exerciseDashboard(ctx context.Context, ex *exercise.Exercise) error {
	nf, err := exerciseWire(ex)
	if err != nil {
		return err
	}
	var progErr error
	err = ui.Run(ctx, ui.Options{
		Catalog:  a.catalog,
		Lang:     a.language(),
		NoColor:  os.Getenv("NO_COLOR") != "",
		Starter:  ui.RunnerStarterOn(nf.resolveFor),
		Exercise: ex,
		// The dashboard owns the terminal: a progress file that cannot be
		// written is said after it closes.
		OnVerdict: func(v exercise.Verdict) {
			progErr = saveProgress(func(p *exercise.Progress) { p.Graded(ex.Name, v.Correct, time.Now()) })
		},
	})
	if progErr != nil {
		fmt.Fprintln(a.stderr, "netlab: progress not kept:", progErr)
	}
	if err != nil {
		return &exitError{code: exitCheckFailed, err: err}
	}
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted}
	}
	return nil
}

// exerciseWire reads an exercise's wire flags as netlab run reads them.
func exerciseWire(ex *exercise.Exercise) (*netFlags, error) {
	nf := &netFlags{}
	fs := pflag.NewFlagSet(ex.Name, pflag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	nf.register(fs)
	if err := fs.Parse(ex.Wire); err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("exercise %s (%s): wire %q: %w", ex.Name, ex.Source, strings.Join(ex.Wire, " "), err)}
	}
	return nf, nil
}
