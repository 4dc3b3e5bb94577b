package main

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/netlab/netlab/lab/ui"
)

func (a *app) uiCmd() *cobra.Command {
	var nf netFlags
	cmd := &cobra.Command{
		Use:   "ui NAME",
		Short: "open the dashboard with scenario NAME selected and started",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.catalog.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.lookup(args[0]); err != nil {
				return err
			}
			return a.dashboard(cmd.Context(), args[0], &nf)
		},
	}
	nf.register(cmd.Flags())
	return cmd
}

// errNoTerminal says what to use instead of the dashboard.
var errNoTerminal = errors.New(`the dashboard needs a terminal (standard input and output are not one here).
Run a scenario headless instead:
  netlab list            the scenarios
  netlab run handshake   ladder diagram, kernel states and checks as text
  netlab run handshake --json`)

// dashboard opens the interactive dashboard, with scenario name started if
// it is not empty.
func (a *app) dashboard(ctx context.Context, name string, nf *netFlags) error {
	if !isTerminal(a.stdin) || !isTerminal(a.stdout) {
		return &exitError{code: exitUsage, err: errNoTerminal}
	}
	err := ui.Run(ctx, ui.Options{
		Catalog: a.catalog,
		Lang:    a.language(),
		Start:   name,
		NoColor: os.Getenv("NO_COLOR") != "",
		Starter: ui.RunnerStarterOn(nf.resolveFor),
	})
	if err != nil {
		return &exitError{code: exitCheckFailed, err: err}
	}
	if ctx.Err() != nil {
		// Ended by SIGINT or SIGTERM, as a headless run would be; q is 0.
		return &exitError{code: exitInterrupted}
	}
	return nil
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
