package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/engine"
	"github.com/netlab/netlab/lab/exercise"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/record"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// LiveRun is a run the dashboard shows: a timeline that fills while a worker
// acts the scenario out, pausing at each narration step until Continue.
type LiveRun interface {
	Timeline() *timeline.Timeline
	Continue()
	Stop()
	Done() <-chan struct{}
	// Drops is the kernel's drop counter as last reported during the run.
	Drops() uint64
}

// Starter starts a run of sc in step mode. A *sandbox.Error means nothing
// can be captured here; the dashboard shows its message and fixes.
type Starter func(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error)

// Options configure the dashboard.
type Options struct {
	Catalog lesson.Catalog
	Lang    i18n.Lang
	// Start names a scenario to select and start at once ("": none).
	Start string
	// Screen is the screen to draw on (nil: the terminal).
	Screen tcell.Screen
	// Starter starts runs (nil: lab/runner in a sandboxed worker).
	Starter Starter
	// NoColor draws without colours (the CLI sets it from $NO_COLOR).
	NoColor bool
	// SaveDir is where s saves captures (default: the working directory).
	SaveDir string
	// Exercise, if set, opens the dashboard on a lab exercise: its
	// question, the learner's prediction (asked first), then its
	// scenario's run, graded when it ends (Start is then ignored).
	Exercise *exercise.Exercise
	// OnVerdict, if set, is told each graded prediction (to keep the
	// learner's progress).
	OnVerdict func(exercise.Verdict)
}

// RunnerStarter starts runs with lab/runner (a sandboxed worker process).
func RunnerStarter(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error) {
	return RunnerStarterOn(nil)(ctx, sc, lang)
}

// RunnerStarterOn starts runs with lab/runner, each on the lab network
// lab chooses for its scenario (nil, or a nil *engine.Net: loopback, or
// the scenario's own wire).
func RunnerStarterOn(lab func(*lesson.Scenario) (*engine.Net, error)) Starter {
	return func(ctx context.Context, sc *lesson.Scenario, lang i18n.Lang) (LiveRun, error) {
		var n *engine.Net
		if lab != nil {
			var err error
			if n, err = lab(sc); err != nil {
				return nil, err
			}
		}
		r, err := runner.Start(ctx, sc, runner.Options{Lang: lang, Step: true, Net: n})
		if err != nil {
			return nil, err
		}
		return runnerRun{r}, nil
	}
}

type runnerRun struct{ r *runner.Run }

func (r runnerRun) Timeline() *timeline.Timeline { return r.r.Timeline }
func (r runnerRun) Continue()                    { r.r.Continue() }
func (r runnerRun) Stop()                        { r.r.Stop() }
func (r runnerRun) Done() <-chan struct{}        { return r.r.Done() }
func (r runnerRun) Drops() uint64                { _, d := r.r.Counts(); return d }

// Dashboard is one dashboard session. Its fields belong to the UI goroutine
// except where noted.
type Dashboard struct {
	opts  Options
	app   *tview.Application
	theme *theme
	lang  i18n.Lang
	keys  *keymap

	ctx    context.Context // cancelled to shut down
	cancel context.CancelFunc

	model     *runModel
	run       LiveRun
	runCancel context.CancelFunc
	gen       int
	autorun   bool      // c: continue at every step
	runs      []LiveRun // runs whose worker may still be going, waited for at exit

	root    *root
	panels  [nPanels]tview.Primitive
	focus   panelID
	zoomed  bool
	overlay overlay
	status  *statusBar

	// The panels the dashboard itself talks to (the others it reaches
	// through panels and their hooks); set by the panel table.
	scenarios *scenarioList
	lesson    *lessonView
	ladder    *ladderView
	packets   *packetTable
	details   *detailsView
	hex       *hexView
	sockets   *socketsView
	states    *stateMachine
	bytes     *bytesView
	checks    *checksView

	exercise *exerciseState // nil: no exercise

	msg      string
	msgBad   bool // msg is an error
	msgUntil time.Time
	mode     sandbox.Mode // where runs are made, when no run says so
	syncing  bool         // moving widgets to the model: ignore their callbacks

	// Shared with the pump goroutine.
	runCh    chan runRef   // the run to watch (capacity 1: the newest)
	results  chan func()   // results of background jobs (saves), applied by the pump
	animate  atomic.Bool   // something on screen changes with time (countdown, message)
	started  chan struct{} // closed at the first draw: the app runs
	pumpDone chan struct{} // closed when the pump has returned
	quitOnce sync.Once
	failMu   sync.Mutex
	failure  error // a panic in the pump
}

type runRef struct {
	tl     *timeline.Timeline
	gen    int
	checks []check.Check // the scenario's, judged early by act
}

// Open prepares a dashboard; Run shows it.
func Open(opts Options) *Dashboard {
	if opts.Lang == "" {
		opts.Lang = i18n.En
	}
	if opts.Starter == nil {
		opts.Starter = RunnerStarter
	}
	if opts.SaveDir == "" {
		opts.SaveDir = "."
	}
	useTerminalColours(opts.NoColor)
	d := &Dashboard{
		opts: opts, app: tview.NewApplication(), theme: newTheme(opts.NoColor), lang: opts.Lang,
		runCh: make(chan runRef, 1), results: make(chan func(), 8),
		started: make(chan struct{}), pumpDone: make(chan struct{}),
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.mode = sandbox.Choose() // once: Draw only draws
	d.keys = d.newKeymap()
	d.syncing = true // no callbacks while the widgets are made
	d.model = newRunModel(nil, nil, 0)
	d.status = &statusBar{d: d}
	d.makePanels()
	d.root = newRoot(d)
	d.syncing = false
	d.app.SetRoot(d.root, true).EnableMouse(true)
	d.app.SetInputCapture(d.capture)
	var once sync.Once
	d.app.SetAfterDrawFunc(func(tcell.Screen) { once.Do(func() { close(d.started) }) })
	if opts.Screen != nil {
		d.app.SetScreen(opts.Screen)
	}
	d.focusPanel(pScenarios)
	if opts.Exercise != nil {
		d.exercise = &exerciseState{ex: opts.Exercise}
		d.scenarios.selectName(opts.Exercise.Scenario)
		d.root.show(pLesson)
		d.focusPanel(pLesson)
		d.askPrediction()
	} else if opts.Start != "" {
		if sc, err := opts.Catalog.Lookup(opts.Start); err == nil {
			d.scenarios.selectName(sc.Name)
			d.start(sc)
			d.root.show(pLesson)
			d.focusPanel(pLadder)
		}
	}
	d.sync()
	return d
}

// Run shows the dashboard until the user quits or ctx is done. The terminal
// is restored in every case, also on a panic.
func Run(ctx context.Context, opts Options) error {
	return Open(opts).Run(ctx)
}

// Run runs the dashboard (see the package Run).
func (d *Dashboard) Run(parent context.Context) (err error) {
	defer d.cancel()
	go d.pump()
	stop := context.AfterFunc(parent, d.quit)
	defer stop()
	go func() {
		<-d.ctx.Done()
		d.quit()
	}()
	defer func() {
		if p := recover(); p != nil {
			// tview restored the terminal before re-panicking.
			err = fmt.Errorf("dashboard panic: %v\n%s", p, debug.Stack())
		}
		d.cancel()
		d.waitRuns(3 * time.Second)
	}()
	if err := d.app.Run(); err != nil {
		d.cancel()
		return err
	}
	d.failMu.Lock()
	defer d.failMu.Unlock()
	return d.failure
}

// waitRuns waits (up to limit) for the runs' workers to exit.
func (d *Dashboard) waitRuns(limit time.Duration) {
	deadline := time.After(limit)
	for _, r := range d.runs {
		r.Stop()
		select {
		case <-r.Done():
		case <-deadline:
			return
		}
	}
}

// quit shuts down: cancel the context, wait for the pump, then stop the app.
// Safe from any goroutine, and from handlers (it does not wait there).
func (d *Dashboard) quit() {
	d.quitOnce.Do(func() {
		d.cancel()
		go func() {
			<-d.pumpDone
			d.app.Stop()
		}()
	})
}

// pump moves new timeline events into the UI: at most ~30 times a second,
// one QueueUpdateDraw with everything new, classified here, off the UI
// goroutine. It is the only goroutine that queues updates.
func (d *Dashboard) pump() {
	defer close(d.pumpDone)
	defer func() {
		if p := recover(); p != nil {
			d.failMu.Lock()
			d.failure = fmt.Errorf("dashboard pump panic: %v\n%s", p, debug.Stack())
			d.failMu.Unlock()
			d.cancel()
		}
	}()
	select {
	case <-d.started:
	case <-d.ctx.Done():
		return
	}
	const frame = time.Second / 30
	ready := make(chan struct{})
	close(ready)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var ref runRef
	var changed <-chan struct{}
	seen, wasClosed := 0, false
	var last time.Time
	for {
		var jobs []func()
		select {
		case <-d.ctx.Done():
			return
		case ref = <-d.runCh:
			seen, wasClosed, changed = 0, false, nil
		case <-changed:
		case <-tick.C:
		case f := <-d.results:
			jobs = append(jobs, f)
		}
		if wait := time.Until(last.Add(frame)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-d.ctx.Done():
				return
			}
		}
		for len(d.results) > 0 {
			jobs = append(jobs, <-d.results)
		}
		var dl *delta
		if ref.tl != nil {
			changed = ref.tl.Changed() // before reading, so nothing is missed
			n := ref.tl.Len()
			_, closed := ref.tl.Closed()
			if n > seen+maxDelta {
				// A flood: hand over a frame's worth and come back for the
				// rest next frame, so no frame waits on a huge batch.
				n, closed = seen+maxDelta, false
				changed = ready
			}
			if n > seen || closed != wasClosed {
				dl = classify(ref.tl, ref.gen, seen, n)
				dl.closed = closed
				if dl.actStart {
					// An act has begun: the checks about the acts before it
					// can be judged now, off the UI goroutine.
					dl.early = check.Early(ref.tl, n, ref.checks)
				}
				seen, wasClosed = n, closed
			}
		}
		if dl == nil && jobs == nil && !d.animate.Load() {
			continue
		}
		d.app.QueueUpdateDraw(func() {
			for _, f := range jobs {
				f()
			}
			if dl != nil {
				d.applyDelta(dl)
			}
		})
		last = time.Now()
	}
}

// maxDelta bounds the events one frame hands to the UI goroutine.
const maxDelta = 20_000

// applyDelta runs on the UI goroutine with what the pump found.
func (d *Dashboard) applyDelta(dl *delta) {
	m := d.model
	wasClosed := m.closed
	if !m.apply(dl) {
		return
	}
	if m.closed && !wasClosed && m.summary.Err != "" {
		// A scenario error is never left to read as failed checks alone.
		d.root.show(pChecks)
	}
	if d.autorun && m.paused() {
		d.step()
	}
	if m.closed && !wasClosed {
		d.judgeExercise()
	}
	d.sync()
}

// sync brings the tview widgets that keep their own state (table selection,
// details, lesson) in line with the model.
func (d *Dashboard) sync() {
	d.syncing = true
	defer func() { d.syncing = false }()
	d.eachPanel(func(p tview.Primitive) {
		if s, ok := p.(syncer); ok {
			s.sync()
		}
	})
}

// capture is the application's input capture: the key registry.
func (d *Dashboard) capture(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		d.quit()
		return nil
	}
	if d.overlay != nil {
		return ev // the overlay's own handler
	}
	if a := d.keys.find(ev, d.focus); a != nil && a.do != nil {
		a.do()
		return nil
	}
	return ev
}

// tr picks the text in the dashboard's language.
func (d *Dashboard) tr(en, zh string) string { return i18n.T(en, zh).In(d.lang) }

// say shows a message on the message line (over the key hints) for a few
// seconds.
func (d *Dashboard) say(msg string) {
	d.msg, d.msgBad, d.msgUntil = msg, false, time.Now().Add(6*time.Second)
}

// complain shows an error on the message line, longer than a message.
func (d *Dashboard) complain(msg string) {
	d.msg, d.msgBad, d.msgUntil = msg, true, time.Now().Add(15*time.Second)
}

// message is the message to show now ("": none).
func (d *Dashboard) message(now time.Time) string {
	if d.msg == "" || !now.Before(d.msgUntil) {
		return ""
	}
	return d.msg
}

// focusPanel focuses panel id, showing its tab.
func (d *Dashboard) focusPanel(id panelID) {
	d.focus = id
	d.root.show(id)
	d.app.SetFocus(d.panels[id])
}

func (d *Dashboard) cycleFocus(dir int) {
	d.focusPanel(panelID((int(d.focus) + dir + int(nPanels)) % int(nPanels)))
}

// Run control.

func (d *Dashboard) runSelected() {
	if sc := d.scenarios.current(); sc != nil {
		d.start(sc)
		d.root.show(pLesson) // the step box, where it shares a slot with the list
		d.focusPanel(pLadder)
	}
}

func (d *Dashboard) rerun() {
	if d.model.sc != nil {
		d.start(d.model.sc)
	}
}

// start stops the current run and starts sc.
func (d *Dashboard) start(sc *lesson.Scenario) {
	if d.runCancel != nil {
		d.runCancel()
	}
	d.gen++
	d.autorun = false
	if d.exercise != nil {
		// A new run of the exercise's scenario is graded anew.
		d.exercise.verdict, d.exercise.err = nil, ""
		d.lesson.relabel()
	}
	ctx, cancel := context.WithCancel(d.ctx)
	r, err := d.opts.Starter(ctx, sc, d.lang)
	if err != nil {
		cancel()
		d.run, d.runCancel = nil, nil
		d.model = newRunModel(sc, nil, d.gen)
		var se *sandbox.Error
		if errors.As(err, &se) {
			d.model.err = se.Error()
		} else {
			d.model.err = err.Error()
		}
		d.sync()
		return
	}
	d.run, d.runCancel = r, cancel
	d.runs = append(unfinished(d.runs), r)
	d.model = newRunModel(sc, r.Timeline(), d.gen)
	d.eachPanel(func(p tview.Primitive) {
		if r, ok := p.(resetter); ok {
			r.reset()
		}
	})
	select {
	case <-d.runCh:
	default:
	}
	d.runCh <- runRef{tl: r.Timeline(), gen: d.gen, checks: sc.Checks}
	d.sync()
}

// unfinished keeps the runs whose worker has not exited: a finished run's
// timeline (about 1 MB for http) is let go once another run replaces it.
func unfinished(runs []LiveRun) []LiveRun {
	kept := runs[:0]
	for _, r := range runs {
		select {
		case <-r.Done():
		default:
			kept = append(kept, r)
		}
	}
	clear(runs[len(kept):])
	return kept
}

// step lets a paused run go on to its next step.
func (d *Dashboard) step() {
	m := d.model
	if d.run == nil || !m.paused() {
		return
	}
	m.released++
	d.run.Continue()
	if !m.follow {
		m.follow = true
		m.setCursor(m.n - 1)
	}
}

func (d *Dashboard) runThrough() {
	d.autorun = true
	d.step()
	d.say(d.tr("running to the end without pausing", "不再暂停,一直运行到结束"))
}

func (d *Dashboard) toggleFollow() {
	m := d.model
	if m.follow {
		m.follow = false
	} else {
		m.setCursor(m.n - 1)
		m.follow = true
	}
	d.sync()
}

func (d *Dashboard) scrub(dir int) {
	m := d.model
	if m.n == 0 {
		return
	}
	m.setCursor(m.cursor + dir)
	d.sync()
}

func (d *Dashboard) setCursor(i int) {
	d.model.setCursor(i)
	d.sync()
}

func (d *Dashboard) home() { d.setCursor(0) }

func (d *Dashboard) end() {
	m := d.model
	m.setCursor(m.n - 1)
	m.follow = m.live() || m.n > 0
	d.sync()
}

func (d *Dashboard) toggleLang() {
	if d.lang == i18n.Zh {
		d.lang = i18n.En
	} else {
		d.lang = i18n.Zh
	}
	d.eachPanel(func(p tview.Primitive) {
		if r, ok := p.(relabeler); ok {
			r.relabel()
		}
	})
	d.sync()
}

func (d *Dashboard) toggleZoom() { d.zoomed = !d.zoomed }

// Overlays: help and prompts.

type overlay interface {
	prim() tview.Primitive
	draw(screen tcell.Screen, x, y, w, h int)
}

func (d *Dashboard) setOverlay(o overlay) {
	d.overlay = o
	if o != nil {
		d.app.SetFocus(o.prim())
	} else {
		d.app.SetFocus(d.panels[d.focus])
	}
}

func (d *Dashboard) closeOverlay() { d.setOverlay(nil) }

// helpOverlay lists every key of the registry.
type helpOverlay struct {
	d  *Dashboard
	tv *tview.TextView
}

func (d *Dashboard) showHelp() {
	tv := tview.NewTextView().SetDynamicColors(false).SetWrap(true).SetWordWrap(true)
	var b strings.Builder
	b.WriteString(d.tr("netlab dashboard: keys", "netlab 仪表盘:按键") + "\n\n")
	for _, l := range d.keys.help(d.lang) {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n" + d.tr(
		"[STATE] is a state read from the kernel (sock_diag); (STATE) is inferred from packets, too brief for the poller. Every panel shows the run as of the cursor; rows after it are dim.",
		"[状态] 是从内核(sock_diag)读出的状态;(状态) 是由报文推断的状态(存在时间太短,轮询没看到)。所有面板都显示光标时刻的情况;光标之后的行显示为暗色。") + "\n\n")
	b.WriteString(d.tr("Esc, ? or q closes this help.", "按 Esc、? 或 q 关闭帮助。"))
	tv.SetText(b.String())
	h := &helpOverlay{d: d, tv: tv}
	tv.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyEscape || ev.Rune() == '?' || ev.Rune() == 'q' {
			d.closeOverlay()
			return nil
		}
		return ev
	})
	d.setOverlay(h)
}

func (h *helpOverlay) prim() tview.Primitive { return h.tv }

func (h *helpOverlay) draw(screen tcell.Screen, x, y, w, hh int) {
	bw, bh := min(w-4, 100), min(hh-2, 40)
	bx, by := x+(w-bw)/2, y+(hh-bh)/2
	box := tview.NewBox().SetBorder(true).SetTitle(" " + h.d.tr("help", "帮助") + " ")
	box.SetRect(bx, by, bw, bh)
	box.Draw(screen)
	h.tv.SetRect(bx+2, by+1, bw-4, bh-2)
	h.tv.Draw(screen)
}

// promptOverlay is a one-line input over the hint bar.
type promptOverlay struct {
	in *tview.InputField
}

func (d *Dashboard) prompt(label, text string, done func(string)) {
	in := tview.NewInputField().SetLabel(label).SetText(text)
	in.SetFieldStyle(d.theme.normal.Underline(true))
	in.SetLabelStyle(d.theme.bold)
	in.SetDoneFunc(func(k tcell.Key) {
		d.closeOverlay()
		if k == tcell.KeyEnter {
			done(in.GetText())
		}
	})
	d.setOverlay(&promptOverlay{in: in})
}

func (p *promptOverlay) prim() tview.Primitive { return p.in }

func (p *promptOverlay) draw(screen tcell.Screen, x, y, w, h int) {
	fill(screen, x, y+h-1, w, ' ', tcell.StyleDefault)
	p.in.SetRect(x, y+h-1, w, 1)
	p.in.Draw(screen)
}

func (d *Dashboard) openFilter() {
	if d.focus == pScenarios {
		d.prompt(d.tr("filter scenarios: ", "过滤场景:"), d.scenarios.filter, func(s string) {
			d.scenarios.setFilter(s)
		})
		return
	}
	cur := ""
	if d.model.filter != nil {
		cur = d.model.filter.Text()
	}
	d.prompt(d.tr("filter packets (client = from client, to:server, syn, tcp, text; !word negates): ", "过滤报文(client=客户端发出、to:server、syn、tcp、文本;!词 表示排除):"), cur, func(s string) {
		m := d.model
		m.setFilter(check.ParseFilter(s, m.meta.Lanes))
		if m.filter != nil {
			d.say(fmt.Sprintf(d.tr("filter %q: %d of %d packets", "过滤 %q:%d/%d 个报文"), m.filter.Text(), len(m.shown), len(m.packets)))
		}
		d.focusPanel(pPackets)
		d.sync()
	})
}

// openSave asks where to save the run as pcapng; with secrets the file
// also carries the run's TLS secrets (a Decryption Secrets Block), as
// --pcap-secrets does.
func (d *Dashboard) openSave(secrets bool) {
	m := d.model
	if m.tl == nil {
		d.say(d.tr("nothing to save: run a scenario first", "没有可保存的内容:请先运行一个场景"))
		return
	}
	name := fmt.Sprintf("netlab-%s-%s.pcapng", m.sc.Name, time.Now().Format("20060102-150405"))
	ask := d.tr("save pcapng to: ", "保存 pcapng 到:")
	if secrets {
		ask = d.tr("save pcapng WITH TLS secrets to: ", "保存 pcapng(含 TLS 密钥)到:")
	}
	d.prompt(ask, filepath.Join(d.opts.SaveDir, name), func(path string) {
		tl, lang := m.tl, d.lang
		d.say(d.tr("saving ", "正在保存 ") + path + " …")
		go func() {
			n, err := record.SavePcapng(path, tl, lang, record.PcapngOptions{Secrets: secrets})
			msg := fmt.Sprintf(d.tr("saved %s (%d packets)", "已保存 %s(%d 个报文)"), path, n)
			show := d.say
			if err != nil {
				msg, show = d.tr("save failed: ", "保存失败:")+err.Error(), d.complain
			}
			select {
			case d.results <- func() { show(msg) }:
			case <-d.ctx.Done():
			}
		}()
	})
}

// statusBar is the line above the hints: sandbox, run state, packets,
// drops, cursor, messages.
type statusBar struct{ d *Dashboard }

func (s *statusBar) draw(screen tcell.Screen, x, y, w int) {
	d := s.d
	m := d.model
	th := d.theme
	fill(screen, x, y, w, ' ', th.cursor)
	var parts []string
	mode := m.meta.Sandbox.String()
	if mode == "" {
		mode = string(d.mode)
	}
	parts = append(parts, mode)
	switch {
	case m.err != "":
		parts = append(parts, m.sc.Name, d.tr("cannot capture", "无法抓包"))
	case m.tl == nil:
		parts = append(parts, d.tr("no run: pick a scenario, Enter", "未运行:选择场景后按 Enter"))
	default:
		state := ""
		switch {
		case m.paused():
			state = fmt.Sprintf(d.tr("⏸ step %d: space", "⏸ 第 %d 步:按空格"), len(m.steps))
		case m.live():
			state = d.tr("▶ running", "▶ 运行中")
		case m.summary.Interrupted:
			state = d.tr("■ stopped", "■ 已停止")
		case m.summary.Err != "":
			state = fmt.Sprintf(d.tr("■ scenario error ✓%d ✗%d (see Checks)", "■ 场景出错 ✓%d ✗%d(见检查)"), m.summary.ChecksPassed, m.summary.ChecksFailed)
		default:
			state = fmt.Sprintf(d.tr("■ done ✓%d ✗%d", "■ 完成 ✓%d ✗%d"), m.summary.ChecksPassed, m.summary.ChecksFailed)
		}
		if m.closed && m.summary.ChecksNA > 0 {
			state += fmt.Sprintf(" –%d", m.summary.ChecksNA)
		}
		drops := "?"
		switch {
		case m.closed:
			drops = fmt.Sprint(m.summary.Drops)
		case d.run != nil:
			drops = fmt.Sprint(d.run.Drops())
		}
		parts = append(parts, m.sc.Name, state,
			fmt.Sprintf(d.tr("%d pkts", "%d 个报文"), len(m.packets)),
			fmt.Sprintf(d.tr("drops %s", "丢弃 %s"), drops))
		if m.n > 0 {
			cur := fmt.Sprintf(d.tr("event %d/%d", "事件 %d/%d"), m.cursor+1, m.n)
			if e := m.at(m.cursor); e != nil {
				cur += fmt.Sprintf(" %.3f ms", float64(m.rel(e.Time).Microseconds())/1000)
			}
			if m.follow {
				cur += d.tr(" · following", " · 跟随中")
			} else {
				cur += d.tr(" · scrubbing", " · 回看")
			}
			parts = append(parts, cur)
		}
	}
	put(screen, x, y, w, " "+strings.Join(parts, " │ "), th.cursor)
}

// drawMessage draws the message over the key hints, growing upwards when
// it needs more than one line: a save's confirmation or error is read
// whole at 80 columns. It reports whether there was one.
func (d *Dashboard) drawMessage(screen tcell.Screen, x, bottom, w int) bool {
	msg := d.message(time.Now())
	if msg == "" {
		return false
	}
	d.animate.Store(true) // it goes away by itself
	st := d.theme.bold
	if d.msgBad {
		st = d.theme.bad.Bold(true)
	}
	lines := wrapText(msg, w-2)
	lines = lines[max(len(lines)-3, 0):]
	for i, l := range lines {
		row := bottom - len(lines) + 1 + i
		fill(screen, x, row, w, ' ', st)
		put(screen, x+1, row, w-2, l, st)
	}
	return true
}
