package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/timeline"
)

// blockingObserver never sees a match: Wait returns only when its context ends.
type blockingObserver struct{}

func (blockingObserver) Wait(ctx context.Context, _ func(*timeline.Event) bool) (*timeline.Event, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCancelUnblocks cancels a session while a scenario blocks in Accept,
// Read, a UDP read and Wait: each must return within 100 ms, because the
// session, not the scenario, watches the run's context.
func TestCancelUnblocks(t *testing.T) {
	blockers := map[string]func(t *testing.T, s *Session) func() error{
		"accept": func(t *testing.T, s *Session) func() error {
			ln, err := s.Listen("server", 0)
			if err != nil {
				t.Fatal(err)
			}
			return func() error { _, err := ln.Accept(); return err }
		},
		"read": func(t *testing.T, s *Session) func() error {
			ln, err := s.Listen("server", 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.DialAddr("client", ln.Addr().String()); err != nil {
				t.Fatal(err)
			}
			srv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			return func() error { _, err := srv.Read(make([]byte, 10)); return err }
		},
		"recvfrom": func(t *testing.T, s *Session) func() error {
			u, err := s.ListenUDP("server", 0)
			if err != nil {
				t.Fatal(err)
			}
			return func() error { _, _, err := u.ReadFrom(make([]byte, 10)); return err }
		},
		"wait": func(t *testing.T, s *Session) func() error {
			return func() error {
				_, err := s.Wait(time.Minute, func(*timeline.Event) bool { return false })
				return err
			}
		},
	}
	for name, setup := range blockers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			s := New(ctx, sessionrun.Config{Sink: &recorder{}, Observer: blockingObserver{}})
			defer s.Close()
			block := setup(t, s)
			done := make(chan error, 1)
			go func() { done <- block() }()
			time.Sleep(20 * time.Millisecond) // let it block
			cancel()
			start := time.Now()
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("%s returned no error after the session was cancelled", name)
				}
				if d := time.Since(start); d > 100*time.Millisecond {
					t.Errorf("%s returned %v after cancel, want < 100 ms", name, d)
				}
			case <-time.After(time.Second):
				t.Fatalf("%s still blocked 1 s after the session was cancelled", name)
			}
		})
	}
}

// TestStepInterruptedNextCallFails interrupts a run while it pauses at a
// step: Step returns nothing, and the scenario's next socket call fails.
func TestStepInterruptedNextCallFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	paused := make(chan struct{})
	s := New(ctx, sessionrun.Config{Sink: &recorder{}, Pause: func(ctx context.Context) error {
		close(paused)
		<-ctx.Done()
		return ctx.Err()
	}})
	defer s.Close()
	ln, err := s.Listen("server", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Go(func() error { _, err := ln.Accept(); return err })
	c, err := s.DialAddr("client", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-paused; cancel() }()
	s.Step("The user stops the run here.", "用户在这里停止运行。")
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("write after an interrupted step succeeded")
	}
	if _, err := s.DialAddr("client", ln.Addr().String()); err == nil {
		t.Error("dial after an interrupted step succeeded")
	}
	if _, err := s.Listen("server", 0); err == nil {
		t.Error("listen after an interrupted step succeeded")
	}
	if _, err := s.ListenUDP("server", 0); err == nil {
		t.Error("udp bind after an interrupted step succeeded")
	}
}

type act struct {
	n     int
	title string
}

func (a act) ActNumber() int      { return a.n }
func (a act) ActTitle() i18n.Text { return i18n.T(a.title, a.title) }

// TestActNarratesItsNumber: the session writes the act's number, and an act
// started out of its declared order fails the run.
func TestActNarratesItsNumber(t *testing.T) {
	rec := &recorder{}
	s := New(context.Background(), sessionrun.Config{Sink: rec})
	s.Act(act{1, "first."})
	s.Act(act{3, "third."})
	err := s.Close()
	var texts []string
	for _, e := range rec.evs {
		if e.Note != nil {
			texts = append(texts, e.Note.Text.En+"|"+e.Note.Text.Zh)
		}
	}
	if got := strings.Join(texts, " "); got != "Act 1: first.|第一幕:first. Act 3: third.|第三幕:third." {
		t.Errorf("narration %q", got)
	}
	if err == nil || !strings.Contains(err.Error(), "act 3") {
		t.Errorf("act 3 after act 1: error %v, want one naming act 3", err)
	}
}
