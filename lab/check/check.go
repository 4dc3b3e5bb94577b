// Package check evaluates a scenario's expectations on the run's own
// timeline: what the capture and the kernel showed in this run, never what a
// textbook says should happen. A check that does not hold fails the run.
//
// Checks are plain Go functions over a View, which offers the queries
// lessons need (packets of a lane, the states a socket went through, the
// program's calls), optionally narrowed to one act of the scenario.
package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Check is one expectation of a scenario.
type Check struct {
	Name i18n.Text
	// Needs is the kind of run the expectation describes (see Clean and
	// Loopback); on another kind it is reported not applicable.
	Needs Needs
	// Act, if set, says the check is about that act of the scenario only:
	// it can be decided as soon as the next act begins (the dashboard shows
	// it then). 0: decided when the run ends.
	Act int
	// Eval looks at the run and says whether the expectation held, with a
	// detail that shows the evidence ("SYN,ACK ack=1 = client ISN+1"), in
	// every language the check's name is in (see Say and Plain).
	Eval func(v *View) (ok bool, detail i18n.Text)
}

// New builds a check; en and zh name it.
func New(en, zh string, eval func(v *View) (bool, i18n.Text)) Check {
	return Check{Name: i18n.T(en, zh), Eval: eval}
}

// Needs is the kind of run a check describes.
type Needs uint8

// The kinds of run a check can describe.
const (
	AnyRun      Needs = iota // true of every run
	CleanRun                 // true where nothing is lost, delayed or reordered on purpose
	LoopbackRun              // true on loopback only (its 65536-byte MTU, its timing)
)

// Clean marks c as true of a clean path only: loopback, or a lab wire the
// user did not impair. Counting segments ("the data crosses once") is such
// a check: with --loss the kernel retransmits, as it should.
func (c Check) Clean() Check { c.Needs = CleanRun; return c }

// Loopback marks c as true on loopback only: the MSS that loopback's MTU
// gives, loopback's near-zero round trip.
func (c Check) Loopback() Check { c.Needs = LoopbackRun; return c }

// Scope says, for a list of checks, which runs a check that needs n is
// judged on: nothing for AnyRun.
func (n Needs) Scope() i18n.Text {
	switch n {
	case CleanRun:
		return i18n.T("not judged on a wire you impair", "线路被人为劣化时不判定")
	case LoopbackRun:
		return i18n.T("loopback only: not judged on a lab wire", "仅限环回接口:在实验线路上不判定")
	}
	return i18n.Text{}
}

// applies says whether a check that needs n is judged on a run described
// by m, and if not, why.
func (n Needs) applies(m timeline.Meta) (bool, i18n.Text) {
	wire := len(m.Points) > 0
	switch {
	case n == LoopbackRun && wire:
		return false, i18n.T("not applicable: this run is on a lab wire, and the check describes loopback", "不适用:本次运行在实验线路上,而这项检查描述的是环回接口")
	case n == CleanRun && m.Impaired:
		return false, Say("not applicable: the wire was impaired (%s)", "不适用:线路被人为劣化(%s)", m.Wire)
	}
	return true, i18n.Text{}
}

// Say builds a detail in English and Chinese from two format strings that
// take the same args, with the same verbs in the same order:
// Say("%d segment(s)", "%d 个报文段", n). An arg that is an i18n.Text (a
// lane's name, Bool, another detail) is given in each format's language.
func Say(en, zh string, args ...any) i18n.Text {
	return i18n.T(fmt.Sprintf(en, argsIn(args, i18n.En)...), fmt.Sprintf(zh, argsIn(args, i18n.Zh)...))
}

// argsIn is args with every i18n.Text among them in lang.
func argsIn(args []any, lang i18n.Lang) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if t, ok := a.(i18n.Text); ok {
			a = t.In(lang)
		}
		out[i] = a
	}
	return out
}

// Join joins details with sep, each in its own language.
func Join(parts []i18n.Text, sep i18n.Text) i18n.Text {
	var en, zh []string
	for _, p := range parts {
		en, zh = append(en, p.In(i18n.En)), append(zh, p.In(i18n.Zh))
	}
	return i18n.T(strings.Join(en, sep.In(i18n.En)), strings.Join(zh, sep.In(i18n.Zh)))
}

// Bool is a yes/no for Say: "true"/"false" in English, 是/否 in Chinese.
func Bool(b bool) i18n.Text {
	if b {
		return i18n.T("true", "是")
	}
	return i18n.T("false", "否")
}

// Plain is a detail that reads the same in every language: flags
// ("SYN SYN,ACK ACK"), a state path, numbers. It is given in English only,
// which every language falls back to.
func Plain(s string) i18n.Text { return i18n.Text{En: s} }

// Decided is a check judged before the run ended.
type Decided struct {
	At     int // index of the event (the next act's start) it was decided at
	Result timeline.Check
}

// Early judges, among the first n events of a run, the checks about an act
// that is over: the next act has begun. Each is evaluated on the events
// before that next act's start. The result has one entry per check, nil where
// the check cannot be decided yet (or only when the run ends: Act 0).
func Early(tl *timeline.Timeline, n int, checks []Check) []*Decided {
	out := make([]*Decided, len(checks))
	starts := map[int]int{} // act -> index of its first event
	tl.Range(0, n, func(e *timeline.Event) bool {
		if e.Kind == timeline.KindNote && e.Note.ActStart {
			if _, ok := starts[e.Act]; !ok {
				starts[e.Act] = e.ID - 1
			}
		}
		return true
	})
	views := map[int]*View{}
	for i, c := range checks {
		at, ok := starts[c.Act+1]
		if c.Act == 0 || !ok {
			continue
		}
		v := views[at]
		if v == nil {
			v = &View{act: -1, meta: tl.Meta()}
			tl.Range(0, at, func(e *timeline.Event) bool { v.events = append(v.events, e); return true })
			views[at] = v
		}
		out[i] = &Decided{At: at, Result: run(v, c)}
	}
	return out
}

// Evaluate runs every check on the timeline's events so far. A check that
// panics fails with the panic as its detail rather than taking the run down.
func Evaluate(tl *timeline.Timeline, checks []Check) []timeline.Check {
	v := NewView(tl)
	out := make([]timeline.Check, 0, len(checks))
	for _, c := range checks {
		out = append(out, run(v, c))
	}
	return out
}

func run(v *View, c Check) (res timeline.Check) {
	res.Name = c.Name
	if ok, why := c.Needs.applies(v.meta); !ok {
		res.NA, res.Detail = true, why
		return res
	}
	defer func() {
		if r := recover(); r != nil {
			res.OK = false
			res.Detail = Say("check panicked: %v", "检查代码 panic:%v", r)
		}
	}()
	res.OK, res.Detail = c.Eval(v)
	return res
}

// View is the part of a run a check looks at: every event, or one act's.
type View struct {
	events []*timeline.Event
	meta   timeline.Meta
	act    int   // -1: all
	whole  *View // what an act's view was narrowed from (see ForAct)
}

// NewView snapshots the timeline's events.
func NewView(tl *timeline.Timeline) *View {
	v := &View{act: -1, meta: tl.Meta()}
	tl.All(func(e *timeline.Event) bool { v.events = append(v.events, e); return true })
	return v
}

// Act narrows the view to act n (events the engine assigned to it: the
// connections opened during the act, with all their packets and states).
func (v *View) Act(n int) *View {
	w := &View{act: n, meta: v.meta}
	for _, e := range v.events {
		if e.Act == n {
			w.events = append(w.events, e)
		}
	}
	return w
}

// Meta describes the run: on loopback or a lab wire (Points), which wire
// (Wire, Seed), impaired by the user or not.
func (v *View) Meta() timeline.Meta { return v.meta }

// Events returns the events of the view in order.
func (v *View) Events() []*timeline.Event { return v.events }

// Packets returns the packets, optionally only those matching every filter.
func (v *View) Packets(filters ...func(*decode.Packet) bool) []*decode.Packet {
	var out []*decode.Packet
next:
	for _, e := range v.events {
		if e.Kind != timeline.KindPacket {
			continue
		}
		for _, f := range filters {
			if !f(e.Packet) {
				continue next
			}
		}
		out = append(out, e.Packet)
	}
	return out
}

// TCP keeps TCP segments.
func TCP(p *decode.Packet) bool { return p.Proto == decode.ProtoTCP }

// UDP keeps UDP datagrams.
func UDP(p *decode.Packet) bool { return p.Proto == decode.ProtoUDP }

// ICMP keeps ICMP messages.
func ICMP(p *decode.Packet) bool { return p.Proto == decode.ProtoICMP }

// From keeps packets sent by lane.
func From(lane string) func(*decode.Packet) bool {
	return func(p *decode.Packet) bool { return p.Lab.From == lane }
}

// HasFlags keeps TCP segments with all of f set.
func HasFlags(f decode.Flags) func(*decode.Packet) bool {
	return func(p *decode.Packet) bool { return p.Proto == decode.ProtoTCP && p.Flags.Has(f) }
}

// Original keeps a packet that is not a retransmission: a segment counted
// once however often a lossy wire made its sender send it again.
func Original(p *decode.Packet) bool { return p.Flow.Expert&decode.Retransmission == 0 }

// WithPayload keeps packets that carry payload.
func WithPayload(p *decode.Packet) bool { return p.PayloadLen > 0 }

// States returns the state changes of lane's sockets (kernel and inferred), in order.
func (v *View) States(lane string) []*timeline.State {
	var out []*timeline.State
	for _, e := range v.events {
		if e.Kind == timeline.KindState && e.State.Lane == lane {
			out = append(out, e.State)
		}
	}
	return out
}

// KernelStates returns only the states the kernel reported for lane's
// connected sockets (not its listeners).
func (v *View) KernelStates(lane string) []*timeline.State {
	var out []*timeline.State
	for _, s := range v.States(lane) {
		if s.Source == timeline.Kernel && s.To != tcpstate.Listen && s.From != tcpstate.Listen {
			out = append(out, s)
		}
	}
	return out
}

// Path lists the states lane's connected sockets went through, as shown
// (kernel and inferred), e.g. SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT.
func (v *View) Path(lane string) []tcpstate.State {
	var out []tcpstate.State
	for _, s := range v.States(lane) {
		if s.To == tcpstate.Listen {
			continue
		}
		if len(out) == 0 || out[len(out)-1] != s.To {
			out = append(out, s.To)
		}
	}
	return out
}

// LastKernel is the last state the kernel reported for lane's connected
// sockets, or nil.
func (v *View) LastKernel(lane string) *timeline.State {
	ks := v.KernelStates(lane)
	if len(ks) == 0 {
		return nil
	}
	return ks[len(ks)-1]
}

// Calls returns lane's app calls of the kind call (the zero Call for all).
func (v *View) Calls(lane string, call timeline.Call) []*timeline.App {
	var out []*timeline.App
	for _, e := range v.events {
		if e.Kind == timeline.KindApp && e.App.Lane == lane && (call == 0 || e.App.Call == call) {
			out = append(out, e.App)
		}
	}
	return out
}

// Bytes sums the bytes of lane's calls of the kind call.
func (v *View) Bytes(lane string, call timeline.Call) int {
	n := 0
	for _, a := range v.Calls(lane, call) {
		n += a.Bytes
	}
	return n
}

// Flags renders the flag sequence of packets, e.g. "SYN SYN,ACK ACK".
func Flags(ps []*decode.Packet) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Flags.String()
	}
	return strings.Join(parts, " ")
}

// PathString renders states "A → B → C".
func PathString(states []tcpstate.State) string {
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = s.String()
	}
	return strings.Join(parts, " → ")
}

// Contains reports whether path goes through want in order (not
// necessarily adjacent).
func Contains(path []tcpstate.State, want ...tcpstate.State) bool {
	i := 0
	for _, s := range path {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

// Since narrows the view to everything from the start of act n on, whatever
// act the events' connections belong to (Act(n) keeps a connection opened
// in an earlier act out of act n, packets and states included).
func (v *View) Since(n int) *View {
	w := &View{act: n, meta: v.meta}
	in := false
	for _, e := range v.events {
		if e.Kind == timeline.KindNote && e.Note.ActStart && e.Act == n {
			in = true
		}
		if in {
			w.events = append(w.events, e)
		}
	}
	return w
}

// TCPInfos are the kernel's tcp_info readings of lane's connections in the
// view, in order.
func (v *View) TCPInfos(lane string) []*timeline.TCPInfo {
	var out []*timeline.TCPInfo
	for _, e := range v.events {
		if e.Kind == timeline.KindTCPInfo && e.TCPInfo.Lane == lane {
			out = append(out, e.TCPInfo)
		}
	}
	return out
}

// Neighs are the changes of the neighbour (ARP) table of lane's host in
// the view, in order, as the kernel reported them.
func (v *View) Neighs(lane string) []*timeline.Neigh {
	var out []*timeline.Neigh
	for _, e := range v.events {
		if e.Kind == timeline.KindNeigh && e.Neigh.Lane == lane {
			out = append(out, e.Neigh)
		}
	}
	return out
}

// TimeOf is when p's event happened: when the packet left its sender.
// Zero if p is not in the view.
func (v *View) TimeOf(p *decode.Packet) time.Time {
	for _, e := range v.events {
		if e.Packet == p {
			return e.Time
		}
	}
	return time.Time{}
}
