// Package lesson defines what a netlab scenario is: a lesson (English and
// Simplified Chinese), the program that acts it out on real sockets, and the
// checks that must hold on the run's own capture. The scenarios themselves
// live in the top-level scenarios package, one file each.
package lesson

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/session"
)

// Scenario is one lesson that runs. Declare it with Define.
type Scenario struct {
	Name    string    // command-line name: "handshake"
	Title   i18n.Text // "TCP three-way handshake"
	Summary i18n.Text // one line for `netlab list`
	// Lesson is the explanation, paragraphs separated by blank lines. Define
	// appends each act's paragraph, numbered ("Act 2 — …"), then After.
	Lesson i18n.Text
	// Acts are the scenario's parts, in the order Run starts them
	// (s.Act(a)). Define numbers them.
	Acts []*Act
	// After is lesson text that follows the acts' paragraphs.
	After i18n.Text
	// Lanes orders the ladder's lanes, left to right.
	Lanes []string
	// Hosts puts lanes on their own loopback addresses (127.0.0.53 for a
	// resolver), by lane name; the others live on 127.0.0.1. The run
	// decides where lanes live: this is where today's run, one namespace
	// sharing its loopback, puts them.
	Hosts map[string]netip.Addr
	// LoopbackOnly, when set, says why the scenario cannot run on a lab
	// network yet (a part of its lab that only exists on loopback).
	LoopbackOnly i18n.Text
	// CleanOnly, when set, says why the scenario's program cannot run on
	// a wire the user impairs (--loss, --delay, ...): it waits for a
	// packet TCP sends only once. It still runs on a clean lab wire.
	CleanOnly i18n.Text
	// Wire, when set, runs the scenario on a lab network (lab/labnet): its
	// lanes on two hosts joined by this wire, whose impairment the command
	// line's flags may change. nil: the scenario runs on loopback unless the
	// command line asks for a wire (netlab run NAME --net wire).
	Wire *wire.Config
	// ARP, on a lab network, lets the hosts find each other's MAC address
	// with ARP, as real hosts do, and puts their neighbour tables on the
	// timeline (neigh events). Off, each host knows the other's MAC from
	// the start (a permanent neighbour entry): no ARP before the first
	// packet of a lesson about something else.
	ARP bool
	// ClientLanes are the lanes that live on the lab network's client host;
	// the others live on the server host. nil: the lanes named "client" or
	// "client N".
	ClientLanes []string
	// Run acts the scenario out. It returns when the scenario is done; the
	// session closes whatever is left open.
	Run func(s *session.Session) error
	// Checks must hold on the run's timeline. As declared they are the
	// checks about the whole run; Define puts every act's checks before
	// them (check.ForAct), so after Define this is every check.
	Checks []check.Check
	// Timeout bounds a run (default 30 s).
	Timeout time.Duration
	// ShowBytes asks headless runs to print, after the ladder, the
	// program's writes, the packets on the wire and the peer's reads side by
	// side (render.Segmentation): for lessons about message boundaries.
	ShowBytes bool
	// Settle is how long the capture keeps running after Run returns, so the
	// last segments and kernel states are seen (default 150 ms).
	Settle time.Duration
}

// WireRefused says why the scenario cannot run on a lab network, if it
// cannot: its lab services live at loopback addresses (Hosts), or
// LoopbackOnly says so.
func (s *Scenario) WireRefused() (i18n.Text, bool) {
	switch {
	case !s.LoopbackOnly.IsZero():
		return s.LoopbackOnly, true
	case len(s.Hosts) > 0:
		return i18n.T("its lab services (DNS, web) live at loopback addresses", "它的实验服务(DNS、网站)位于环回地址"), true
	}
	return i18n.Text{}, false
}

// NetRefused is why the scenario does not run on a lab network
// (impaired: one the user impairs), or nil if it does.
func (s *Scenario) NetRefused(impaired bool) error {
	if why, refused := s.WireRefused(); refused {
		return fmt.Errorf("scenario %s runs on loopback only: %s", s.Name, why.En)
	}
	if impaired && !s.CleanOnly.IsZero() {
		return fmt.Errorf("scenario %s does not run on an impaired wire (it runs on loopback and on --net wire): %s", s.Name, s.CleanOnly.En)
	}
	return nil
}

// OnClientHost reports whether lane lives on a lab network's client host.
func (s *Scenario) OnClientHost(lane string) bool {
	if s.ClientLanes != nil {
		return slices.Contains(s.ClientLanes, lane)
	}
	rest, ok := strings.CutPrefix(lane, "client")
	return ok && (rest == "" || rest[0] == ' ')
}

// Act is one part of a scenario: a connection, a variation of the program.
// The scenario lists it in Acts and starts it in Run with s.Act(a); Define
// gives it its number, so no lesson writes one.
type Act struct {
	// Title follows "Act 2: " in the narration: "the same writes with
	// TCP_NODELAY (Nagle off)."
	Title i18n.Text
	// Lesson is the act's paragraph of the lesson, after "Act 2 — ".
	Lesson i18n.Text
	// Checks are about this act only: each sees the view narrowed to the
	// act (check.View.Act), is named "act 2: …", and is decided as soon as
	// the next act begins. Build them with check.New.
	Checks []check.Check
	// Impair, on a lab network, is what the wire does from this act on, in
	// each direction (wire.AtoB is the client's traffic); nil: the wire
	// stays as it was. A run the user impaired (--loss, --rate, ...) keeps
	// the user's wire, and the narration says so.
	Impair *[2]wire.Impairment

	n int
}

// ActNumber is the act's place in its scenario, from 1 (session.Act).
func (a *Act) ActNumber() int { return a.n }

// ActTitle is the act's title (session.Act).
func (a *Act) ActTitle() i18n.Text { return a.Title }

// ActImpairment is the wire the act runs on, or nil (session.Act).
func (a *Act) ActImpairment() *[2]wire.Impairment { return a.Impair }

// Define completes a scenario declaration: it numbers the acts, writes the
// lesson's act paragraphs with their numbers, and puts the acts' checks,
// named and narrowed to their act, before the whole-run checks. Call it
// once per scenario, in the scenario's var declaration.
func Define(sc Scenario) *Scenario {
	var checks []check.Check
	en, zh := []string{sc.Lesson.En}, []string{sc.Lesson.Zh}
	for i, a := range sc.Acts {
		if a.n != 0 {
			panic(fmt.Sprintf("scenario %s: act %q is already act %d of a scenario", sc.Name, a.Title.En, a.n))
		}
		if a.Impair != nil && sc.Wire == nil {
			panic(fmt.Sprintf("scenario %s: act %q sets the wire, but the scenario declares none (set Wire)", sc.Name, a.Title.En))
		}
		if a.Impair != nil {
			if err := (&wire.Config{Impair: *a.Impair}).Validate(); err != nil {
				panic(fmt.Sprintf("scenario %s: act %q: %v", sc.Name, a.Title.En, err))
			}
		}
		a.n = i + 1
		for _, c := range a.Checks {
			checks = append(checks, check.ForAct(a.n, c))
		}
		if !a.Lesson.IsZero() {
			en = append(en, fmt.Sprintf("Act %d — %s", a.n, a.Lesson.En))
			zh = append(zh, "第"+i18n.Numeral(a.n)+"幕:"+a.Lesson.Zh)
		}
	}
	if !sc.After.IsZero() {
		en, zh = append(en, sc.After.En), append(zh, sc.After.Zh)
	}
	sc.Lesson = i18n.T(strings.Join(en, "\n\n"), strings.Join(zh, "\n\n"))
	sc.Checks = append(checks, sc.Checks...)
	return &sc
}

// RunTimeout is the scenario's timeout or the default.
func (s *Scenario) RunTimeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 30 * time.Second
}

// SettleTime is the scenario's settle time or the default.
func (s *Scenario) SettleTime() time.Duration {
	if s.Settle > 0 {
		return s.Settle
	}
	return 150 * time.Millisecond
}

// Catalog is the list of scenarios, in teaching order.
type Catalog []*Scenario

// Lookup finds a scenario by name.
func (c Catalog) Lookup(name string) (*Scenario, error) {
	for _, s := range c {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, &UnknownError{Name: name, Known: c.Names()}
}

// Names lists the scenario names in catalog order.
func (c Catalog) Names() []string {
	out := make([]string, len(c))
	for i, s := range c {
		out[i] = s.Name
	}
	return out
}

// Validate reports catalog mistakes a newcomer might make when adding a
// scenario: duplicate or empty names, missing lessons, no checks.
func (c Catalog) Validate() error {
	seen := map[string]bool{}
	var problems []string
	for _, s := range c {
		switch {
		case s.Name == "" || strings.ContainsAny(s.Name, " \t/"):
			problems = append(problems, fmt.Sprintf("bad name %q", s.Name))
		case seen[s.Name]:
			problems = append(problems, fmt.Sprintf("%s: duplicate name", s.Name))
		case s.Title.En == "" || s.Title.Zh == "" || s.Summary.En == "" || s.Summary.Zh == "" || s.Lesson.En == "" || s.Lesson.Zh == "":
			problems = append(problems, fmt.Sprintf("%s: title, summary and lesson need English and Chinese", s.Name))
		case s.Run == nil:
			problems = append(problems, fmt.Sprintf("%s: no Run", s.Name))
		case len(s.Checks) == 0:
			problems = append(problems, fmt.Sprintf("%s: no checks: every lesson claim must be checked", s.Name))
		case len(s.Lanes) == 0:
			problems = append(problems, fmt.Sprintf("%s: no lanes", s.Name))
		}
		seen[s.Name] = true
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("scenario catalog: %s", strings.Join(problems, "; "))
	}
	return nil
}

// UnknownError is returned for a scenario name not in the catalog.
type UnknownError struct {
	Name  string
	Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown scenario %q; scenarios: %s", e.Name, strings.Join(e.Known, ", "))
}
