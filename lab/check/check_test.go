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
		{Name: i18n.T("passes", ""), Eval: func(*View) (bool, i18n.Text) { return true, Plain("fine") }},
		{Name: i18n.T("panics", ""), Eval: func(*View) (bool, i18n.Text) { panic("boom") }},
	})
	if !res[0].OK || res[1].OK || res[1].Detail != i18n.T("check panicked: boom", "检查代码 panic:boom") {
		t.Errorf("results %+v", res)
	}
}

func TestDetailHelpers(t *testing.T) {
	tests := []struct {
		name   string
		detail i18n.Text
		en, zh string
	}{
		{"Say formats both with the same args", Say("client→server %d segment(s), %s", "客户端→服务器 %d 个报文段,%s", 2, "SYN"),
			"client→server 2 segment(s), SYN", "客户端→服务器 2 个报文段,SYN"},
		{"Say without args", Say("no data segment", "没有数据报文段"), "no data segment", "没有数据报文段"},
		{"Say gives Text args in each language", Say("%s FIN seen: %v", "%s看到 FIN:%v", i18n.T("client", "客户端"), Bool(true)),
			"client FIN seen: true", "客户端看到 FIN:是"},
		{"Say nests details", Say("%s; %s", "%s;%s", Plain("SYN"), Say("%d reads", "%d 次读取", 2)), "SYN; 2 reads", "SYN;2 次读取"},
		{"Join", Join([]i18n.Text{Plain("SYN"), Say("%d reads", "%d 次读取", 2)}, i18n.T("; ", ";")), "SYN; 2 reads", "SYN;2 次读取"},
		{"Plain reads the same in every language", Plain("SYN-SENT → ESTABLISHED"), "SYN-SENT → ESTABLISHED", "SYN-SENT → ESTABLISHED"},
		{"Plain of nothing", Plain(""), "", ""},
	}
	for _, tc := range tests {
		if en, zh := tc.detail.In(i18n.En), tc.detail.In(i18n.Zh); en != tc.en || zh != tc.zh {
			t.Errorf("%s: en %q zh %q, want %q %q", tc.name, en, zh, tc.en, tc.zh)
		}
	}
	if Plain("SYN").Zh != "" {
		t.Error("Plain sets a translation: it should leave Chinese to fall back to English")
	}
}

func TestNeeds(t *testing.T) {
	loopback := timeline.Meta{}
	cleanWire := timeline.Meta{Points: []string{"client:eth0", "server:eth0"}, Wire: "clean"}
	impaired := timeline.Meta{Points: cleanWire.Points, Wire: "loss 10%", Impaired: true}
	// A lesson's own wire (Rules it declares) is not an impairment: its
	// clean checks hold on it.
	lessonWire := timeline.Meta{Points: cleanWire.Points, Wire: "drop data #1"}
	tests := []struct {
		name  string
		needs Needs
		meta  timeline.Meta
		judge bool
	}{
		{"any run on loopback", AnyRun, loopback, true},
		{"any run on an impaired wire", AnyRun, impaired, true},
		{"clean check on loopback", CleanRun, loopback, true},
		{"clean check on a clean wire", CleanRun, cleanWire, true},
		{"clean check on the lesson's own wire", CleanRun, lessonWire, true},
		{"clean check on an impaired wire", CleanRun, impaired, false},
		{"loopback check on loopback", LoopbackRun, loopback, true},
		{"loopback check on a clean wire", LoopbackRun, cleanWire, false},
		{"loopback check on an impaired wire", LoopbackRun, impaired, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := timeline.New(tc.meta)
			evaluated := false
			c := Check{Name: i18n.T("c", "c"), Needs: tc.needs, Eval: func(*View) (bool, i18n.Text) {
				evaluated = true
				return false, Plain("judged")
			}}
			res := Evaluate(tl, []Check{c, ForAct(1, c)})
			for i, r := range res {
				if r.NA == tc.judge || evaluated != tc.judge {
					t.Fatalf("check %d: NA %v, evaluated %v; want judged %v", i, r.NA, evaluated, tc.judge)
				}
				if r.NA && (r.OK || r.Failed() || r.Mark() != "–" || r.Detail.In(i18n.Zh) == "" || r.Detail.In(i18n.En) == "") {
					t.Errorf("check %d not applicable but %+v, mark %s", i, r, r.Mark())
				}
				if !r.NA && (!r.Failed() || r.Mark() != "✗") {
					t.Errorf("check %d judged false but Failed %v, mark %s", i, r.Failed(), r.Mark())
				}
			}
		})
	}
	if c := New("x", "x", nil).Clean(); c.Needs != CleanRun {
		t.Error("Clean does not mark the check")
	}
	if c := ForAct(2, New("x", "x", nil).Loopback()); c.Needs != LoopbackRun {
		t.Error("ForAct drops Needs")
	}
}
