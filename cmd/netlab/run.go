package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/netlab/netlab/lab/record"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

type runFlags struct {
	json  bool
	pcap  string
	width int
}

func (a *app) runCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "run a scenario headless: ladder diagram, kernel states and checks (or --json, --pcap)",
		Long: `Run a scenario without the dashboard. By default it prints a ladder diagram as
the run goes (lanes per endpoint, arrows with flags seq/ack/len/win, the
program's calls and the kernel's states beside their lane, elapsed ms), then
the checks. --json prints JSON lines instead (schema in the README).
--pcap FILE also writes a pcapng file with the narration as packet comments.`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.catalog.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runHeadless(cmd.Context(), args[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON lines instead of the ladder")
	cmd.Flags().StringVar(&f.pcap, "pcap", "", "also write the capture to this pcapng file")
	cmd.Flags().IntVar(&f.width, "width", 0, "ladder width in columns (default: the terminal's, or 80)")
	return cmd
}

func (a *app) runHeadless(ctx context.Context, name string, f runFlags) error {
	sc, err := a.lookup(name)
	if err != nil {
		return err
	}
	if f.pcap != "" {
		if err := record.CheckWritable(f.pcap); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--pcap: %w", err)}
		}
	}
	lang := a.language()
	r, err := runner.Start(ctx, sc, runner.Options{Lang: lang})
	if err != nil {
		return err
	}
	tl := r.Timeline

	var out func(*timeline.Event)
	var started bool
	var ladder *render.Ladder
	var js *record.JSON
	if f.json {
		js = record.NewJSON(a.stdout, lang)
		out = func(e *timeline.Event) {
			if !started {
				js.Run(tl.Meta())
				started = true
			}
			js.Event(e)
		}
	} else {
		out = func(e *timeline.Event) {
			if e.Kind == timeline.KindCheck {
				return
			}
			if !started {
				ladder = render.NewLadder(tl.Meta(), a.width(f.width), lang)
				ladder.Header(a.stdout)
				started = true
			}
			ladder.Event(a.stdout, e)
		}
	}
	// Follow until the run is over; an interrupt makes the worker wind down
	// and report what it saw, so keep following after ctx is done.
	tl.Follow(context.Background(), out)
	sum, err := r.Wait()
	if err != nil {
		var se *sandbox.Error
		if errors.As(err, &se) {
			return se
		}
		return &exitError{code: exitCheckFailed, err: err}
	}
	if f.json {
		if !started {
			js.Run(tl.Meta())
		}
		js.Summary(sum)
	} else {
		if sc.ShowBytes {
			render.Segmentation(a.stdout, tl, lang, a.width(f.width))
		}
		render.Checks(a.stdout, tl, lang, a.width(f.width))
		render.Sockets(a.stdout, tl, lang)
		render.Summary(a.stdout, sum, lang)
	}
	if f.pcap != "" {
		n, err := record.WritePcapng(f.pcap, tl, lang)
		if err != nil {
			return &exitError{code: exitCheckFailed, err: err}
		}
		if !f.json {
			fmt.Fprintf(a.stdout, "wrote %s (%d packets)\n", f.pcap, n)
		}
	}
	switch {
	case sum.Interrupted:
		return &exitError{code: exitInterrupted}
	case sum.Err != "" || sum.ChecksFailed > 0:
		return &exitError{code: exitCheckFailed}
	}
	return nil
}

// width is the flag's value, else the terminal's width, else $COLUMNS, else 80.
func (a *app) width(flag int) int {
	if flag > 0 {
		return flag
	}
	if f, ok := a.stdout.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	return 80
}
