package decode

import (
	"strings"
	"time"
)

// WireAction is what a lab network's wire did to a packet: a set of flags,
// zero for a packet passed on at once and unchanged. The bits are those of
// lab/labnet/wire.Action, which the engine copies.
type WireAction uint8

// Wire actions.
const (
	WireDropped    WireAction = 1 << iota // never left the wire
	WireDelayed                           // left later than it came in
	WireReordered                         // held back so later packets could overtake it
	WireCorrupted                         // one bit flipped: the receiver's kernel drops it on checksum
	WireDuplicated                        // sent twice
)

var wireActionNames = []string{"drop", "delay", "reorder", "corrupt", "duplicate"}

// String is the JSON value: "pass", or the actions joined by "+"
// ("delay+reorder").
func (a WireAction) String() string {
	if a == 0 {
		return "pass"
	}
	var parts []string
	for i, n := range wireActionNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "+")
}

// WireNotes say how a packet crossed a lab network's wire: where it was
// captured leaving and arriving, and what the wire did to it. Zero in a
// loopback run.
type WireNotes struct {
	// From and To are the capture points ("client:eth0") where the packet
	// left its sender and where it reached (or would have reached) its
	// receiver.
	From, To string
	// Known: the wire's verdict on the packet arrived (the relay reports
	// every frame; a verdict can be missing only if the engine fell behind).
	Known  bool
	Action WireAction
	// Rule names what decided a drop or a corruption ("loss", "queue", a
	// lesson's targeted rule); empty for a packet passed on.
	Rule string
	// Arrived is when the first copy was captured at To; zero if none
	// arrived.
	Arrived time.Time
	// Copies is how many copies were captured at To (2 for a duplicate).
	Copies uint8
	// Bit is the index of the flipped bit of a corrupted copy, counted from
	// the first bit of the frame; -1 if none.
	Bit int32
}

// Crossed reports whether the packet crossed a wire (a lab network run).
func (w *WireNotes) Crossed() bool { return w.From != "" }

// InFlight is how long the first copy took from sender to receiver (0 if
// none arrived).
func (w *WireNotes) InFlight(sent time.Time) time.Duration {
	if w.Arrived.IsZero() {
		return 0
	}
	return w.Arrived.Sub(sent)
}
