// Package sessionrun is the engine's side of a session: what the engine
// hands a session (Config: where events go, how to wait for the capture,
// the clock, the lane map) and the two pieces both use, the Clock that
// stamps session events and the Lanes map that names addresses. Lesson
// authors never see it: lab/session holds only what a scenario calls.
package sessionrun

import (
	"context"
	"io"
	"net/netip"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// EventSink receives the events a session records. The engine (its merger)
// implements it; lab/record, which writes JSON lines and pcapng, is
// another thing.
type EventSink interface {
	Record(ev timeline.Event)
}

// Observer lets a scenario wait for what the capture and the kernel show.
type Observer interface {
	// Wait returns the first event (already recorded or still to come) for
	// which match is true, or ctx's error.
	Wait(ctx context.Context, match func(*timeline.Event) bool) (*timeline.Event, error)
}

// Config is how the engine sets up a session.
type Config struct {
	Sink     EventSink
	Observer Observer // may be nil: Wait then fails
	Lanes    *Lanes
	Clock    *Clock // stamps events; nil: a private one
	Mode     sandbox.Mode
	Lang     i18n.Lang
	// Pause, if set, is called at every Step and Act; it returns when the
	// user lets the scenario go on (the dashboard's space key).
	Pause func(ctx context.Context) error
	// Hosts says where this run puts each lane (by name): the address its
	// sockets listen on and others dial. A lane not listed lives on
	// 127.0.0.1. In a loopback run every lane shares the namespace's loopback; on a
	// lab network each lane lives on a host (Enter).
	Hosts map[string]netip.Addr
	// Enter, if set, runs fn where lane's sockets live (a lab network
	// host's namespace): the sockets fn creates stay there for good. nil:
	// every lane lives in the run's own namespace.
	Enter func(lane string, fn func() error) error
	// KeyLog receives the TLS secrets of the scenario's TLS connections
	// (NSS key log format), so the capture can show what they encrypt.
	KeyLog io.Writer
	// SetWire, on a lab network, changes what the wire does from now on
	// and returns how the wire stands afterwards, for the narration. nil:
	// there is no wire to change.
	SetWire func(im [2]wire.Impairment) (string, error)
}
