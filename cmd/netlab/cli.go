package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/scenarios"
)

// Exit codes.
const (
	exitOK          = 0
	exitCheckFailed = 1
	exitUsage       = 2
	exitNoCapture   = 3
	exitInterrupted = 130
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// app is what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	catalog        lesson.Catalog
	lang           string
}

func (a *app) language() i18n.Lang {
	if a.lang != "" {
		l, _ := i18n.Parse(a.lang)
		return l
	}
	return i18n.FromEnv(os.Getenv)
}

// checkLang refuses a --lang netlab has no lessons in (exit 2).
func (a *app) checkLang() error {
	if a.lang == "" {
		return nil
	}
	if _, ok := i18n.Parse(a.lang); !ok {
		return &exitError{code: exitUsage, err: fmt.Errorf("--lang %q: the accepted values are en (English) and zh (中文)", a.lang)}
	}
	return nil
}

// run executes the command line and returns the exit code. ctx ends when
// the user interrupts.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, catalog: scenarios.Catalog()}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "netlab:", ee.err)
		}
		return ee.code
	}
	var se *sandbox.Error
	if errors.As(err, &se) {
		fmt.Fprintln(stderr, se)
		return exitNoCapture
	}
	// cobra's own errors: unknown command or flag, wrong arguments.
	fmt.Fprintln(stderr, "netlab:", err)
	fmt.Fprintln(stderr, "run 'netlab --help' for usage")
	return exitUsage
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "netlab",
		Short: "watch the kernel do TCP: real packets, kernel socket states and your program's calls on one timeline",
		Long: `netlab runs small TCP, UDP and HTTP scenarios on real sockets inside a private
network namespace and shows, as they happen, the captured packets, the kernel's
socket states (sock_diag) and the program's own calls — with every lesson
checked against what the kernel did in that run.

Exit codes: 0 all checks passed, 1 a check failed, 2 usage, 3 cannot capture
(the message names the fix), 4 an output could not be written, 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.dashboard(cmd.Context(), "", nil)
		},
	}
	root.PersistentFlags().StringVar(&a.lang, "lang", "", "lesson language: en or zh (default from $LANG)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return a.checkLang() }
	root.AddCommand(a.listCmd(), a.runCmd(), a.doctorCmd(), a.uiCmd(), a.lessonCmd(), a.exerciseCmd(), a.progressCmd())
	return root
}

func (a *app) listCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "list the scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lang := a.language()
			for _, s := range a.catalog {
				fmt.Fprintf(a.stdout, "%-12s %s\n", s.Name, s.Summary.In(lang))
			}
			return nil
		},
	}
}

// lookup finds a scenario or fails with exit code 2 and the known names.
func (a *app) lookup(name string) (*lesson.Scenario, error) {
	sc, err := a.catalog.Lookup(name)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return sc, nil
}
