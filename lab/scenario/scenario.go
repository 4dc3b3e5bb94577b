// Package scenario defines what a netlab scenario is: a lesson (English and
// Simplified Chinese), the program that acts it out on real sockets, and the
// checks that must hold on the run's own capture. The scenarios themselves
// live in the top-level scenarios package, one file each.
package scenario

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/session"
)

// Scenario is one lesson that runs.
type Scenario struct {
	Name    string    // command-line name: "handshake"
	Title   i18n.Text // "TCP three-way handshake"
	Summary i18n.Text // one line for `netlab list`
	Lesson  i18n.Text // the explanation, paragraphs separated by blank lines
	// Lanes orders the ladder's lanes, left to right.
	Lanes []string
	// Run acts the scenario out. It returns when the scenario is done; the
	// session closes whatever is left open.
	Run func(s *session.Session) error
	// Checks must hold on the run's timeline.
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
