// Package runner starts scenario runs and collects their timelines.
//
// Every run happens in a worker process: this same binary re-executed into a
// fresh network namespace (lab/sandbox), where it captures, polls the kernel
// and runs the scenario (lab/engine), streaming events to the front end over
// a pipe. The front end (the CLI or the dashboard) appends them to the run's
// timeline, judges the scenario's checks once the run is over, and never
// touches the sandbox's sockets. A fresh namespace per run means no run sees
// the TIME-WAIT sockets of the one before, and nothing is left behind: the
// namespace dies with the worker, which dies with the front end.
package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/engine"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// Options tune a run.
type Options struct {
	Lang i18n.Lang
	// Step makes the scenario pause at each narration step until Continue.
	Step bool
	// Poll is the kernel socket table poll interval (default 2 ms).
	Poll time.Duration
	// Exe is the binary to re-execute (default /proc/self/exe).
	Exe string
	// Net, when set, runs the scenario on a lab network (engine.Net).
	Net *engine.Net
}

// Run is a run in progress.
type Run struct {
	Scenario *lesson.Scenario
	Timeline *timeline.Timeline
	Mode     sandbox.Mode

	cmd    *exec.Cmd
	ctl    io.WriteCloser
	stderr *capped
	done   chan struct{}
	err    error

	mu          sync.Mutex
	interrupted bool
	live        stats // the worker's latest count
}

// Start starts sc in a new sandbox and returns at once; the timeline fills
// as the run goes. It fails with a *sandbox.Error when no sandbox can be made.
func Start(ctx context.Context, sc *lesson.Scenario, opts Options) (*Run, error) {
	req, err := json.Marshal(request{Scenario: sc.Name, Lang: opts.Lang, Step: opts.Step, Poll: opts.Poll, Net: opts.Net})
	if err != nil {
		return nil, err
	}
	exe := opts.Exe
	if exe == "" {
		exe = "/proc/self/exe"
	}
	pr, pw, err := channel()
	if err != nil {
		return nil, err
	}
	stderr := &capped{max: 64 << 10}
	var ctl io.WriteCloser
	newCmd := func() *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Args = []string{"netlab-worker", sc.Name}
		cmd.Env = append(os.Environ(), envRequest+"="+string(req))
		cmd.ExtraFiles = []*os.File{pw}
		cmd.Stderr = stderr
		return cmd
	}
	var cmd *exec.Cmd
	var mode sandbox.Mode
	cmd, mode, err = sandbox.Start(func() *exec.Cmd {
		c := newCmd()
		ctl = nil
		if w, err := c.StdinPipe(); err == nil {
			ctl = w
		}
		return c
	})
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	r := &Run{
		Scenario: sc,
		Timeline: timeline.New(timeline.Meta{Scenario: sc.Name, Title: sc.Title, Lanes: sc.Lanes, Sandbox: timeline.SandboxNamed(string(mode))}),
		Mode:     mode, cmd: cmd, ctl: ctl, stderr: stderr, done: make(chan struct{}),
	}
	go r.collect(pr)
	go func() {
		select {
		case <-ctx.Done():
			r.Stop()
		case <-r.done:
		}
	}()
	return r, nil
}

// Continue lets a paused step go on.
func (r *Run) Continue() {
	if r.ctl != nil {
		io.WriteString(r.ctl, "\n")
	}
}

// Stop interrupts the run: the worker stops the scenario, reports what it
// captured so far and exits; it is killed if it has not within 3 s.
func (r *Run) Stop() {
	r.mu.Lock()
	r.interrupted = true
	r.mu.Unlock()
	r.cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		t := time.NewTimer(3 * time.Second)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
			r.cmd.Process.Kill()
		}
	}()
}

// Counts returns the packets captured and the kernel's drop counter as the
// worker last reported them (twice a second while the run goes).
func (r *Run) Counts() (packets, drops uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live.Packets, r.live.Drops
}

// Done is closed when the run is over and the timeline closed.
func (r *Run) Done() <-chan struct{} { return r.done }

// Wait waits for the run to end and returns its summary. The error is a
// *sandbox.Error when the run could not capture, or describes a worker that
// failed; a scenario whose checks fail is not an error (see Summary).
func (r *Run) Wait() (timeline.Summary, error) {
	<-r.done
	s, _ := r.Timeline.Closed()
	return s, r.err
}

// collect reads the worker's events into the timeline until it exits, then
// judges the checks and closes the timeline.
func (r *Run) collect(pr *os.File) {
	defer close(r.done)
	defer pr.Close()
	got := r.receive(newDecoder(pr))
	io.Copy(io.Discard, pr)
	if r.ctl != nil {
		r.ctl.Close()
	}
	waitErr := r.cmd.Wait()
	var sum timeline.Summary
	sum, r.err = r.conclude(got, waitErr)
	if r.err == nil && !sum.Interrupted {
		r.judge(&sum, got.lastTime)
	}
	r.Timeline.Close(sum)
}

// received is what a worker's event stream brought.
type received struct {
	last     *end      // the worker's last word, nil if it never said it
	lastTime time.Time // of the last event
	packets  int       // packet events on the timeline
	err      error     // why the stream broke, if not at its end
}

// receive reads the worker's messages into the timeline until the stream
// ends.
func (r *Run) receive(dec *decoder) received {
	var got received
	for {
		m, err := dec.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				got.err = err
			}
			return got
		}
		switch {
		case m.Meta != nil:
			r.Timeline.SetMeta(*m.Meta)
		case m.Event != nil:
			got.lastTime = m.Event.Time
			if m.Event.Kind == timeline.KindPacket {
				got.packets++
			}
			r.Timeline.Append(*m.Event)
		case m.End != nil:
			got.last = m.End
		case m.Stats != nil:
			r.mu.Lock()
			r.live = *m.Stats
			r.mu.Unlock()
		}
	}
}

// conclude turns how the worker ended into the run's summary and error.
// Without the worker's last word (it was killed), the summary counts what
// arrived, never a default of zero.
func (r *Run) conclude(got received, waitErr error) (timeline.Summary, error) {
	r.mu.Lock()
	sum := timeline.Summary{Interrupted: r.interrupted, Packets: got.packets, Drops: r.live.Drops}
	r.mu.Unlock()
	last := got.last
	switch {
	case last != nil && last.Fatal != "":
		if last.Code == 3 {
			return sum, &sandbox.Error{Err: errors.New(last.Fatal), Fix: last.Fix}
		}
		return sum, errors.New(last.Fatal)
	case last == nil:
		if sum.Interrupted {
			return sum, nil
		}
		msg := "worker exited without a result"
		if waitErr != nil {
			msg = fmt.Sprintf("worker failed: %v", waitErr)
		}
		if got.err != nil {
			msg += fmt.Sprintf(" (event stream: %v)", got.err)
		}
		if s := bytes.TrimSpace(r.stderr.Bytes()); len(s) > 0 {
			msg += "\n" + string(s)
		}
		return sum, errors.New(msg)
	}
	sum.Packets, sum.Drops, sum.Err, sum.TLSKeyLog = last.Packets, last.Drops, last.Err, last.KeyLog
	if last.Code == 130 {
		sum.Interrupted = true
	}
	return sum, nil
}

// judge evaluates the scenario's checks on the timeline, appends their
// results at the time of the last event (now if there was none) and counts
// them in sum.
func (r *Run) judge(sum *timeline.Summary, lastTime time.Time) {
	if lastTime.IsZero() {
		lastTime = time.Now()
	}
	for _, c := range check.Evaluate(r.Timeline, r.Scenario.Checks) {
		c := c
		switch {
		case c.NA:
			sum.ChecksNA++
		case c.OK:
			sum.ChecksPassed++
		default:
			sum.ChecksFailed++
		}
		r.Timeline.Append(timeline.Event{Time: lastTime, Kind: timeline.KindCheck, Check: &c})
	}
}

// capped is a bytes.Buffer that keeps only the first max bytes.
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		if len(p) > room {
			c.buf.Write(p[:room])
		} else {
			c.buf.Write(p)
		}
	}
	return len(p), nil
}

func (c *capped) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}
