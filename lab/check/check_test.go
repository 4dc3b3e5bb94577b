package check

import (
	"testing"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

func TestContains(t *testing.T) {
	path := []tcpstate.State{tcpstate.SynSent, tcpstate.Established, tcpstate.FinWait1, tcpstate.TimeWait}
	tests := []struct {
		want []tcpstate.State
		ok   bool
	}{
		{[]tcpstate.State{tcpstate.SynSent, tcpstate.Established}, true},
		{[]tcpstate.State{tcpstate.SynSent, tcpstate.TimeWait}, true},
		{[]tcpstate.State{tcpstate.TimeWait, tcpstate.SynSent}, false},
		{[]tcpstate.State{tcpstate.CloseWait}, false},
	}
	for _, tc := range tests {
		if got := Contains(path, tc.want...); got != tc.ok {
			t.Errorf("Contains(%v) = %v", tc.want, got)
		}
	}
}

func TestEvaluateAndViews(t *testing.T) {
	tl := timeline.New(timeline.Meta{})
	st := func(act int, lane string, from, to tcpstate.State, src timeline.Source) timeline.Event {
		return timeline.Event{Kind: timeline.KindState, Act: act, State: &timeline.State{Lane: lane, From: from, To: to, Source: src}}
	}
	tl.Append(
		st(0, "server", tcpstate.Closed, tcpstate.Listen, timeline.Kernel),
		st(1, "client", tcpstate.Closed, tcpstate.SynSent, timeline.Inferred),
		st(1, "client", tcpstate.SynSent, tcpstate.Established, timeline.Kernel),
		st(2, "client", tcpstate.Established, tcpstate.TimeWait, timeline.Kernel),
	)
	v := NewView(tl)
	if got := PathString(v.Path("client")); got != "SYN-SENT → ESTABLISHED → TIME-WAIT" {
		t.Errorf("path %q", got)
	}
	if got := PathString(v.Act(1).Path("client")); got != "SYN-SENT → ESTABLISHED" {
		t.Errorf("act 1 path %q", got)
	}
	if ks := v.Act(1).KernelStates("client"); len(ks) != 1 {
		t.Errorf("kernel states in act 1: %d", len(ks))
	}
	if len(v.Path("server")) != 0 {
		t.Error("LISTEN is not part of a connection's path")
	}
	res := Evaluate(tl, []Check{
		{Name: i18n.T("passes", ""), Eval: func(*View) (bool, string) { return true, "fine" }},
		{Name: i18n.T("panics", ""), Eval: func(*View) (bool, string) { panic("boom") }},
	})
	if !res[0].OK || res[1].OK || res[1].Detail != "check panicked: boom" {
		t.Errorf("results %+v", res)
	}
}
