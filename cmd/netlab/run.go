package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/netlab/netlab/lab/graph"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/record"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// exitOutput: an output (the ladder, --json, --pcap) could not be written.
const exitOutput = 4

// maxWidth bounds the ladder's width, from --width or $COLUMNS.
const maxWidth = render.MaxWidth

// blockedGrace is how long outputs may still take once an interrupted run
// has wound down, before the program exits anyway.
const blockedGrace = 500 * time.Millisecond

type runFlags struct {
	json    bool
	pcap    string
	secrets bool
	svg     string
	width   int
	net     netFlags
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
--pcap FILE also writes a pcapng file with the narration as packet comments
(--pcap - writes it to standard output, and the ladder to standard error).
--pcap-secrets embeds the run's TLS secrets in it, so that Wireshark shows
the HTTPS traffic decrypted. --svg DIR writes the run's graphs there as SVG
files: a time-sequence graph per direction that carried data, and the
congestion window the sender's kernel reported.`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.catalog.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runHeadless(cmd.Context(), args[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON lines instead of the ladder")
	cmd.Flags().StringVar(&f.pcap, "pcap", "", "also write the capture to this pcapng file (- for standard output)")
	cmd.Flags().BoolVar(&f.secrets, "pcap-secrets", false, "embed the run's TLS secrets in the pcapng file (Wireshark then decrypts HTTPS, passwords included)")
	cmd.Flags().StringVar(&f.svg, "svg", "", "also write the run's graphs (time-sequence, congestion window) as SVG files into this directory")
	cmd.Flags().IntVar(&f.width, "width", 0, "ladder width in columns (default: the terminal's, or 80; at most 1000)")
	f.net.register(cmd.Flags())
	return cmd
}

// output is one of the run's outputs: it keeps the first write error, and
// writes nothing more after one.
type output struct {
	w    io.Writer
	what i18n.Text
	err  error
}

func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}

// failed is the exit error for the first output that failed, if any.
func (a *app) failed(outs ...*output) error {
	for _, o := range outs {
		if o != nil && o.err != nil {
			return &exitError{code: exitOutput, err: fmt.Errorf("%s: %w", o.what.In(a.language()), o.err)}
		}
	}
	return nil
}

func (a *app) runHeadless(ctx context.Context, name string, f runFlags) error {
	sc, err := a.lookup(name)
	if err != nil {
		return err
	}
	lang := a.language()
	stdout, text, err := a.headlessOutputs(f, lang)
	if err != nil {
		return err
	}
	width := a.width(f.width, text.w)
	lab, err := f.net.resolve(sc)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	v := &headlessView{lang: lang, width: width, text: text, showBytes: sc.ShowBytes}
	if f.json {
		v.js = record.NewJSON(stdout, lang)
	}
	finished := make(chan struct{})
	defer close(finished)
	tl, sum, err := runFollowing(ctx, sc, runner.Options{Lang: lang, Net: lab}, v, finished)
	if err != nil {
		return err
	}
	v.finish(sum)
	pcapErr := errors.Join(a.savePcap(f, tl, lang, stdout, text), a.saveGraphs(f, tl, lang, text))
	switch {
	case sum.Interrupted:
		return &exitError{code: exitInterrupted}
	case stdout.err != nil || text.err != nil:
		return a.failed(stdout, text)
	case pcapErr != nil:
		return &exitError{code: exitOutput, err: pcapErr}
	case sum.Err != "" || sum.ChecksFailed > 0:
		return &exitError{code: exitCheckFailed}
	}
	return nil
}

// runFollowing runs sc and shows its events in v as they come, until the
// run is over: an interrupt makes the worker wind down and report what it
// saw, so it keeps following after ctx is done. Until the caller closes
// finished (its outputs written), an interrupt that finds them blocked
// still ends the program (exitIfBlocked).
func runFollowing(ctx context.Context, sc *lesson.Scenario, opts runner.Options, v *headlessView, finished <-chan struct{}) (*timeline.Timeline, timeline.Summary, error) {
	r, err := runner.Start(ctx, sc, opts)
	if err != nil {
		return nil, timeline.Summary{}, err
	}
	go exitIfBlocked(ctx, r.Done(), finished)
	v.tl = r.Timeline
	r.Timeline.Follow(context.Background(), v.event)
	sum, err := r.Wait()
	if err != nil {
		var se *sandbox.Error
		if errors.As(err, &se) {
			return nil, sum, se
		}
		return nil, sum, &exitError{code: exitCheckFailed, err: err}
	}
	return r.Timeline, sum, nil
}

// headlessOutputs checks the output flags and returns standard output and
// where the text (the ladder) goes: standard output, unless the pcapng
// does (as tcpdump -w -), which sends the ladder to standard error.
func (a *app) headlessOutputs(f runFlags, lang i18n.Lang) (stdout, text *output, err error) {
	usage := func(en, zh string) error {
		return &exitError{code: exitUsage, err: errors.New(i18n.T(en, zh).In(lang))}
	}
	if f.secrets && f.pcap == "" {
		return nil, nil, usage("--pcap-secrets needs --pcap FILE", "--pcap-secrets 需要 --pcap 文件")
	}
	stdout = &output{w: a.stdout, what: i18n.T("writing the ladder to standard output", "把梯形图写入标准输出")}
	if f.json {
		stdout.what = i18n.T("writing JSON lines to standard output", "把 JSON 行写入标准输出")
	}
	text = stdout
	if f.pcap == "-" {
		if f.json {
			return nil, nil, usage("--pcap - and --json both write to standard output: give --pcap a file", "--pcap - 和 --json 都要写标准输出：请给 --pcap 一个文件")
		}
		text = &output{w: a.stderr, what: i18n.T("writing the ladder to standard error", "把梯形图写入标准错误")}
		stdout.what = i18n.T("writing the pcapng to standard output", "把 pcapng 写入标准输出")
	} else if f.pcap != "" {
		if err := record.CheckWritable(f.pcap); err != nil {
			return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--pcap: %w", err)}
		}
	}
	if f.svg != "" {
		if err := os.MkdirAll(f.svg, 0o755); err != nil {
			return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--svg: %w", err)}
		}
	}
	return stdout, text, nil
}

// headlessView shows a run as it happens, as JSON lines (js set) or as
// the ladder, and its end: checks, sockets and summary.
type headlessView struct {
	tl        *timeline.Timeline
	lang      i18n.Lang
	width     int
	text      io.Writer
	showBytes bool
	js        *record.JSON
	ladder    *render.Ladder // made at the first event
	started   bool
}

func (v *headlessView) start() {
	if v.started {
		return
	}
	v.started = true
	if v.js != nil {
		v.js.Run(v.tl.Meta())
		return
	}
	v.ladder = render.NewLadder(v.tl.Meta(), v.width, v.lang)
	v.ladder.Header(v.text)
}

func (v *headlessView) event(e *timeline.Event) {
	if v.js != nil {
		v.start()
		v.js.Event(e)
		return
	}
	if e.Kind == timeline.KindCheck {
		return // the ladder lists the checks at the end
	}
	v.start()
	v.ladder.Event(v.text, e)
}

func (v *headlessView) finish(sum timeline.Summary) {
	if v.js != nil {
		v.start()
		v.js.Summary(sum)
		return
	}
	if v.ladder != nil {
		v.ladder.Flush(v.text)
	}
	if v.showBytes {
		render.Segmentation(v.text, v.tl, v.lang, v.width)
	}
	render.Checks(v.text, v.tl, v.lang, v.width)
	render.Sockets(v.text, v.tl, v.lang)
	render.Summary(v.text, sum, v.lang)
}

// savePcap writes the pcapng --pcap asks for: to standard output for "-",
// else to the file, saying so on the text output.
func (a *app) savePcap(f runFlags, tl *timeline.Timeline, lang i18n.Lang, stdout, text io.Writer) error {
	opts := record.PcapngOptions{Secrets: f.secrets}
	switch f.pcap {
	case "":
		return nil
	case "-":
		_, err := record.WritePcapngTo(stdout, tl, lang, opts)
		return err
	}
	n, err := record.SavePcapng(f.pcap, tl, lang, opts)
	if err == nil && !f.json {
		fmt.Fprintf(text, i18n.T("wrote %s (%d packets)\n", "已写入 %s（%d 个报文）\n").In(lang), f.pcap, n)
	}
	return err
}

// saveGraphs writes the run's graphs into the --svg directory, one file
// each, named after the scenario and the graph, and says so on the text
// output (not with --json, whose lines stay JSON).
func (a *app) saveGraphs(f runFlags, tl *timeline.Timeline, lang i18n.Lang, text io.Writer) error {
	if f.svg == "" {
		return nil
	}
	var names []string
	for _, g := range graph.FromTimeline(tl) {
		name := filepath.Join(f.svg, tl.Meta().Scenario+"-"+g.Name+".svg")
		if err := writeFile(name, func(w io.Writer) error { return g.WriteSVG(w, lang) }); err != nil {
			return fmt.Errorf("--svg: %w", err)
		}
		names = append(names, name)
	}
	if !f.json {
		if len(names) == 0 {
			fmt.Fprintf(text, i18n.T("no graphs: no direction carried %d data segments and no socket has tcp_info readings\n", "没有图:没有哪个方向传了 %d 个数据报文段,也没有套接字的 tcp_info 读数\n").In(lang), graph.MinSegments)
		}
		for _, n := range names {
			fmt.Fprintf(text, i18n.T("wrote %s\n", "已写入 %s\n").In(lang), n)
		}
	}
	return nil
}

// writeFile creates name, writes it with fn and closes it, keeping the
// first error.
func writeFile(name string, fn func(io.Writer) error) error {
	fh, err := os.Create(name)
	if err != nil {
		return err
	}
	return errors.Join(fn(fh), fh.Close())
}

// exitIfBlocked keeps an interrupt from ever being ignored: once a signal
// has stopped the run and the worker has wound down, the outputs get
// blockedGrace to finish; a write blocked longer (a full pipe, a FIFO
// nobody reads) ends the program with exit code 130. The worker is gone by
// then, so nothing is left behind.
func exitIfBlocked(ctx context.Context, runDone, finished <-chan struct{}) {
	select {
	case <-finished:
		return
	case <-ctx.Done():
	}
	select {
	case <-finished:
		return
	case <-runDone:
	}
	select {
	case <-finished:
	case <-time.After(blockedGrace):
		os.Exit(exitInterrupted)
	}
}

// width is the flag's value, else the terminal's width (of w, where the
// ladder goes), else $COLUMNS, else 80; never more than maxWidth (a wider
// request is clamped, and stderr says so).
func (a *app) width(flag int, w io.Writer) int {
	n, from := 80, ""
	switch {
	case flag > 0:
		n, from = flag, "--width"
	default:
		if f, ok := w.(*os.File); ok {
			if tw, _, err := term.GetSize(int(f.Fd())); err == nil && tw > 0 {
				n, from = tw, "the terminal's width"
				break
			}
		}
		if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
			n, from = c, "$COLUMNS"
		}
	}
	if n > maxWidth {
		fmt.Fprintf(a.stderr, i18n.T("netlab: %s %d is wider than %d columns: the ladder uses %d\n",
			"netlab：%s %d 超过 %d 列：梯形图使用 %d 列\n").In(a.language()), from, n, maxWidth, maxWidth)
		n = maxWidth
	}
	return n
}
