package timeline

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"testing"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/tcpstate"
)

// TestCallNames: every call has the socket API's name, and the name parses
// back to the call.
func TestCallNames(t *testing.T) {
	want := map[Call]string{CallListen: "listen", CallConnect: "connect", CallAccept: "accept",
		CallWrite: "write", CallRead: "read", CallClose: "close", CallShutdown: "shutdown",
		CallSetsockopt: "setsockopt", CallBind: "bind", CallSend: "send", CallRecv: "recv",
		CallSendto: "sendto", CallRecvfrom: "recvfrom", 0: "", 200: "call(200)"}
	for c, name := range want {
		if got := c.String(); got != name {
			t.Errorf("Call(%d).String() = %q, want %q", c, got, name)
		}
		if c >= 200 {
			continue
		}
		if got, err := ParseCall(name); err != nil || got != c {
			t.Errorf("ParseCall(%q) = %v, %v; want %d", name, got, err, c)
		}
	}
	if _, err := ParseCall("Write"); err == nil {
		t.Error(`ParseCall("Write") did not fail`)
	}
}

// TestCallSets: the calls that hand data to the kernel and take it back,
// the one definition the checks' streams, the ladder and the dashboard use.
func TestCallSets(t *testing.T) {
	for c := Call(0); c <= CallRecvfrom; c++ {
		name := c.String()
		writes := name == "write" || name == "send" || name == "sendto"
		reads := name == "read" || name == "recv" || name == "recvfrom"
		if c.Writes() != writes || c.Reads() != reads || c.CarriesData() != (writes || reads) {
			t.Errorf("%q: Writes %v Reads %v CarriesData %v", name, c.Writes(), c.Reads(), c.CarriesData())
		}
	}
}

func TestSandboxNames(t *testing.T) {
	for _, tc := range []struct {
		s    Sandbox
		name string
	}{{0, ""}, {SandboxNetns, "netns"}, {SandboxRootless, "rootless"}, {SandboxHost, "host"}, {SandboxFile, "file"}} {
		if got := tc.s.String(); got != tc.name {
			t.Errorf("Sandbox(%d).String() = %q, want %q", tc.s, got, tc.name)
		}
		if got := SandboxNamed(tc.name); got != tc.s {
			t.Errorf("SandboxNamed(%q) = %v, want %v", tc.name, got, tc.s)
		}
	}
	if got := SandboxNamed("vm"); got != 0 {
		t.Errorf(`SandboxNamed("vm") = %v, want 0`, got)
	}
}

// TestValuesJSON: the typed values marshal to the names schema v1 had as
// strings, and an absent value is left out as the empty string was.
func TestValuesJSON(t *testing.T) {
	type line struct {
		Sandbox Sandbox        `json:"sandbox,omitempty"`
		Call    Call           `json:"call,omitempty"`
		Timer   tcpstate.Timer `json:"timer,omitempty"`
	}
	for _, tc := range []struct {
		in   line
		want string
	}{
		{line{Sandbox: SandboxRootless}, `{"sandbox":"rootless"}`},
		{line{Call: CallRecvfrom, Timer: tcpstate.TimerKeepalive}, `{"call":"recvfrom","timer":"keepalive"}`},
		{line{}, `{}`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.in, b, err, tc.want)
			continue
		}
		var back line
		if err := json.Unmarshal(b, &back); err != nil || back != tc.in {
			t.Errorf("Unmarshal(%s) = %+v, %v", b, back, err)
		}
	}
}

// TestEventGob: events cross the runner's pipe as gob (which carries the
// typed values as numbers); they arrive as they left, a timer kind this
// lab does not know included.
func TestEventGob(t *testing.T) {
	sock := Socket{Local: mustAP("127.0.0.1:40000"), Remote: mustAP("127.0.0.1:8888")}
	in := []Event{
		{Kind: KindApp, App: &App{Lane: "client", Call: CallSendto, Proto: decode.ProtoUDP, Bytes: 3, Socket: sock}},
		{Kind: KindState, State: &State{Lane: "client", Socket: sock, To: tcpstate.TimeWait, Timer: tcpstate.TimerTimeWait}},
		{Kind: KindState, State: &State{Lane: "client", Socket: sock, To: tcpstate.Established, Timer: 7}},
		{Kind: KindState, State: &State{Lane: "client", Socket: sock, To: tcpstate.Established}},
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(struct {
		Meta   Meta
		Events []Event
	}{Meta{Sandbox: SandboxNetns}, in}); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Meta   Meta
		Events []Event
	}
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Meta.Sandbox != SandboxNetns || len(out.Events) != len(in) {
		t.Fatalf("got %+v", out)
	}
	if a := out.Events[0].App; *a != *in[0].App {
		t.Errorf("app %+v, want %+v", a, in[0].App)
	}
	for i := 1; i < len(in); i++ {
		if got, want := out.Events[i].State.Timer, in[i].State.Timer; got != want {
			t.Errorf("event %d: timer %v, want %v", i, got, want)
		}
	}
}
