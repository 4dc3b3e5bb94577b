package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netlab/netlab/lab/doctor"
	"github.com/netlab/netlab/lab/engine"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// envRequest carries the run request to the worker (JSON).
const envRequest = "NETLAB_WORKER"

// request is what the front end asks a worker to run.
type request struct {
	Scenario string
	Lang     i18n.Lang
	Step     bool
	Poll     time.Duration
	Probe    bool        // run doctor's probes instead of a scenario
	Net      *engine.Net `json:",omitempty"`
}

// IsWorker reports whether this process was started as a run's worker. The
// program's main (and TestMain in tests that run scenarios) must then call
// WorkerMain instead of doing anything else.
func IsWorker() bool { return os.Getenv(envRequest) != "" }

// WorkerMain runs the requested scenario inside the sandbox this process was
// started in and streams its events to file descriptor 3. It returns the
// process exit code: 0 when the run completed (the front end judges the
// checks), 3 when it could not capture, 130 when interrupted, 2 on a bad
// request.
func WorkerMain(cat lesson.Catalog) int { return WorkerMainWith(cat, WorkerOptions{}) }

// WorkerOptions tune a worker for tests.
type WorkerOptions struct {
	// AfterRun is called in the worker once the run (engine, merger,
	// poller, session, app decoders) has returned, before its last message;
	// an error it returns is appended to the run's error (a leak check).
	AfterRun func() error
}

// WorkerMainWith is WorkerMain with options.
func WorkerMainWith(cat lesson.Catalog, opts WorkerOptions) int {
	out := os.NewFile(3, "events")
	if out == nil {
		fmt.Fprintln(os.Stderr, "netlab worker: no event pipe (fd 3)")
		return 2
	}
	if err := fromFrontEnd(out); err != nil {
		fmt.Fprintf(os.Stderr, "netlab worker: refusing to run: %v\n", err)
		return 2
	}
	w := newFlusher(out)
	defer w.close()
	enc := newEncoder(w)

	req, mode, err := enterSandbox()
	if err != nil {
		return sendFatal(enc, 2, err)
	}
	if code, done := sandbox.Nest(mode); done {
		return code
	}
	if req.Probe {
		if err := enc.send(msg{Probe: doctor.Probe(mode)}); err != nil {
			return 1
		}
		return 0
	}
	sc, err := cat.Lookup(req.Scenario)
	if err != nil {
		return sendFatal(enc, 2, err)
	}
	if err := sandbox.Setup(mode); err != nil {
		return sendFatal(enc, 3, sandbox.Explain(err))
	}

	raiseProcs()
	// SIGTERM from the front end interrupts the run; SIGINT too, should a
	// terminal send one.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return runLive(ctx, enc, sc, mode, req, opts)
}

// minProcs is the fewest Ps a run gets. A lab wire's relay is a
// measuring instrument: a goroutine woken by a frame must run within
// microseconds. With one P per core, while the engine's goroutines keep
// both busy, it waits for one to be preempted. Measured on a 2-core
// machine, the slowest frame of echo on a wire (8 runs each): 0.3–4.7 ms,
// median 2.1, with two Ps; 0.2–3.7 ms, median 1.0, with four, where the
// kernel's scheduler shares the cores between the threads. (Before the
// hosts' socket tables were made small, the pollers kept both cores busy
// and it was 7–19 ms against 0.5–5.)
const minProcs = 4

// raiseProcs gives the run at least minProcs Ps, unless GOMAXPROCS says
// otherwise.
func raiseProcs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minProcs {
		runtime.GOMAXPROCS(minProcs)
	}
}

// enterSandbox reads the front end's request and enters the sandbox this
// process was started in.
func enterSandbox() (request, sandbox.Mode, error) {
	var req request
	if err := json.Unmarshal([]byte(os.Getenv(envRequest)), &req); err != nil {
		return req, "", fmt.Errorf("bad worker request: %w", err)
	}
	mode, ok := sandbox.Inside()
	if !ok {
		return req, mode, errors.New("worker started outside a sandbox")
	}
	if err := sandbox.Enter(mode); err != nil {
		return req, mode, fmt.Errorf("worker: %w", err)
	}
	return req, mode, nil
}

// sendFatal tells the front end the run could not happen, and returns the
// exit code.
func sendFatal(enc *encoder, code int, err error) int {
	e := &end{Fatal: err.Error(), Code: code}
	var se *sandbox.Error
	if errors.As(err, &se) {
		e.Fatal = se.Err.Error()
		e.Fix = se.Fix
	}
	enc.send(msg{End: e})
	return code
}

// runLive runs sc live, streams its events and its end to the front
// end, and returns the exit code.
func runLive(ctx context.Context, enc *encoder, sc *lesson.Scenario, mode sandbox.Mode, req request, opts WorkerOptions) int {
	var pause func(context.Context) error
	if req.Step {
		pause = stepsFromStdin()
	}
	s := &sender{enc: enc}
	res, err := engine.Run(ctx, engine.Config{
		Scenario: sc, Mode: mode, Lang: req.Lang, Pause: pause, Poll: req.Poll, Net: req.Net,
		Meta:  func(m timeline.Meta) { s.send(msg{Meta: &m}) },
		Emit:  func(ev timeline.Event) { s.send(msg{Event: &ev}) },
		Stats: func(p, d uint64) { s.send(msg{Stats: &stats{Packets: p, Drops: d}}) },
	})
	if err != nil {
		return sendFatal(enc, 3, err)
	}
	e := &end{Packets: res.Packets, Drops: res.Drops, KeyLog: res.TLSKeyLog}
	if res.Err != nil {
		e.Err = res.Err.Error()
	}
	if opts.AfterRun != nil {
		if err := opts.AfterRun(); err != nil {
			e.Err = strings.TrimPrefix(e.Err+"; "+err.Error(), "; ")
		}
	}
	if ctx.Err() != nil {
		e.Code = 130
	}
	s.send(msg{End: e})
	if s.err != nil {
		fmt.Fprintf(os.Stderr, "netlab worker: event pipe: %v\n", s.err)
		return 1
	}
	return e.Code
}

// stepsFromStdin is a pause hook that waits for a line from the front end
// (one per step); once stdin ends the run goes on without pausing.
func stepsFromStdin() func(context.Context) error {
	cont := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cont <- struct{}{}
		}
		close(cont)
	}()
	return func(ctx context.Context) error {
		select {
		case <-cont:
			return nil // a step, or the front end stopped stepping: run on
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sender sends messages from the engine's goroutines one at a time, and
// stops at the first failure (the front end is gone), keeping it.
type sender struct {
	mu  sync.Mutex
	enc *encoder
	err error
}

func (s *sender) send(m msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.enc.send(m)
	}
}

// flusher is a buffered writer flushed every few milliseconds, so live views
// get events promptly without a write per event.
type flusher struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	f    *os.File
	stop chan struct{}
	done chan struct{}
}

func newFlusher(f *os.File) *flusher {
	w := &flusher{bw: bufio.NewWriterSize(f, 64<<10), f: f, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				w.mu.Lock()
				w.bw.Flush()
				w.mu.Unlock()
			case <-w.stop:
				return
			}
		}
	}()
	return w
}

func (w *flusher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bw.Write(p)
}

func (w *flusher) close() {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	w.bw.Flush()
	w.mu.Unlock()
	w.f.Close()
}
