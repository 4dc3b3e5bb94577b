package decode

import (
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/i18n"
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
	// Arrivals are the copies captured at To, in the order they came.
	Arrivals []Arrival
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

// Arrival is one copy of a packet captured arriving at its receiver's
// interface.
type Arrival struct {
	At time.Time
	// Data is the frame captured when it differs from the frame sent (a
	// copy whose bit the wire flipped); nil when byte for byte the same.
	Data []byte
}

// Text says what the wire did to a packet sent at sent, for a learner:
// "client:eth0 → server:eth0 in 10.4 ms (delay)", "lost on the wire (loss):
// it never reached server:eth0". Empty for a packet that crossed no wire.
func (w *WireNotes) Text(sent time.Time) i18n.Text {
	switch {
	case !w.Crossed():
		return i18n.Text{}
	case !w.Known:
		return i18n.T("the wire's verdict on it is missing", "线路对它的处理结果缺失")
	case w.Action&WireDropped != 0:
		rule := w.Rule
		return i18n.T("lost on the wire ("+rule+"): it never reached "+w.To, "在线路上丢失("+rule+"):没有到达 "+w.To)
	}
	ms := strconv.FormatFloat(float64(w.InFlight(sent))/float64(time.Millisecond), 'f', 3, 64) + " ms"
	t := i18n.T(w.From+" → "+w.To+" in "+ms, w.From+" → "+w.To+",用时 "+ms)
	if w.Arrived.IsZero() {
		t = i18n.T(w.From+" → "+w.To+": no copy captured arriving", w.From+" → "+w.To+":没有抓到到达的副本")
	}
	if w.Action != 0 {
		t.En += " (" + w.Action.String() + ")"
		t.Zh += "(" + w.Action.String() + ")"
	}
	if w.Copies > 1 {
		n := strconv.Itoa(int(w.Copies))
		t.En += ", " + n + " copies arrived"
		t.Zh += ",到达 " + n + " 个副本"
	}
	if w.Action&WireCorrupted != 0 {
		b := strconv.Itoa(int(w.Bit))
		t.En += ", bit " + b + " flipped: the receiver's kernel drops it on its checksum"
		t.Zh += ",第 " + b + " 位被翻转:接收方内核因校验和错误丢弃"
	}
	return t
}
