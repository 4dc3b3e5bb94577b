package timeline

import (
	"fmt"
	"strconv"
)

// Call is the socket call an App event records. Its name is the socket
// API's own ("connect", "sendto"), the same in every language.
type Call uint8

// Socket calls the session records. The zero Call is no call. New calls go
// at the end: gob (the runner's pipe, the recordings in lab/render/testdata)
// carries the numbers.
const (
	CallListen Call = iota + 1
	CallConnect
	CallAccept
	CallWrite
	CallRead
	CallClose
	CallShutdown
	CallSetsockopt
	CallBind
	CallSend
	CallRecv
	CallSendto
	CallRecvfrom
	CallGetsockopt
)

var callNames = [...]string{
	CallListen:     "listen",
	CallConnect:    "connect",
	CallAccept:     "accept",
	CallWrite:      "write",
	CallRead:       "read",
	CallClose:      "close",
	CallShutdown:   "shutdown",
	CallSetsockopt: "setsockopt",
	CallBind:       "bind",
	CallSend:       "send",
	CallRecv:       "recv",
	CallSendto:     "sendto",
	CallRecvfrom:   "recvfrom",
	CallGetsockopt: "getsockopt",
}

// String is the call's name ("write"), "" for no call and "call(N)" for a
// value this package does not know.
func (c Call) String() string { return enumName(callNames[:], "call", uint8(c)) }

// Writes reports whether the call hands data to the kernel to send: write,
// send and sendto.
func (c Call) Writes() bool { return c == CallWrite || c == CallSend || c == CallSendto }

// Reads reports whether the call takes received data from the kernel: read,
// recv and recvfrom.
func (c Call) Reads() bool { return c == CallRead || c == CallRecv || c == CallRecvfrom }

// CarriesData reports whether the call writes or reads data.
func (c Call) CarriesData() bool { return c.Writes() || c.Reads() }

// ParseCall is the inverse of String.
func ParseCall(name string) (Call, error) {
	n, err := enumParse(callNames[:], "call", name)
	return Call(n), err
}

// MarshalText makes a call appear by name in JSON.
func (c Call) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a call's name.
func (c *Call) UnmarshalText(b []byte) error {
	n, err := ParseCall(string(b))
	*c = n
	return err
}

// Sandbox is where a run's sockets lived.
type Sandbox uint8

// Sandboxes. The zero Sandbox is not known (yet). New ones go at the end,
// as for Call.
const (
	// SandboxNetns: a private network namespace (run as root).
	SandboxNetns Sandbox = iota + 1
	// SandboxRootless: a user and network namespace of a normal user.
	SandboxRootless
	// SandboxHost: the host's own network stack.
	SandboxHost
	// SandboxFile: no run, a capture file read back.
	SandboxFile
)

var sandboxNames = [...]string{
	SandboxNetns:    "netns",
	SandboxRootless: "rootless",
	SandboxHost:     "host",
	SandboxFile:     "file",
}

// String is the sandbox's name ("netns"), the one lab/sandbox gives its
// modes; "" when not known.
func (s Sandbox) String() string { return enumName(sandboxNames[:], "sandbox", uint8(s)) }

// ParseSandbox is the inverse of String.
func ParseSandbox(name string) (Sandbox, error) {
	n, err := enumParse(sandboxNames[:], "sandbox", name)
	return Sandbox(n), err
}

// SandboxNamed is the sandbox of a lab/sandbox mode's name, zero for a name
// it does not know.
func SandboxNamed(name string) Sandbox {
	s, _ := ParseSandbox(name)
	return s
}

// MarshalText makes a sandbox appear by name in JSON.
func (s Sandbox) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a sandbox's name.
func (s *Sandbox) UnmarshalText(b []byte) error {
	n, err := ParseSandbox(string(b))
	*s = n
	return err
}

// enumName is names[v], or kind(v) for a value past the table.
func enumName(names []string, kind string, v uint8) string {
	if int(v) < len(names) {
		return names[v]
	}
	return kind + "(" + strconv.Itoa(int(v)) + ")"
}

// enumParse is the inverse of enumName for the names in the table ("" is
// the zero value).
func enumParse(names []string, kind, name string) (uint8, error) {
	for i, n := range names {
		if n == name {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("timeline: unknown %s %q", kind, name)
}
