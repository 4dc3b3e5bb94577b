// Package tcpstate names the TCP connection states of RFC 9293 with the
// numbering Linux uses in sock_diag (include/net/tcp_states.h), so a state read
// from the kernel and a state inferred from packets compare directly.
package tcpstate

// State is a TCP connection state. The zero value is Unknown.
type State uint8

// The Linux numbering (TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12).
const (
	Unknown     State = 0
	Established State = 1
	SynSent     State = 2
	SynReceived State = 3 // TCP_SYN_RECV
	FinWait1    State = 4
	FinWait2    State = 5
	TimeWait    State = 6
	Closed      State = 7 // TCP_CLOSE; also "no socket any more"
	CloseWait   State = 8
	LastAck     State = 9
	Listen      State = 10
	Closing     State = 11
	NewSynRecv  State = 12 // Linux request socket: a connection in SYN-RECEIVED
)

var names = [...]string{
	Unknown:     "UNKNOWN",
	Established: "ESTABLISHED",
	SynSent:     "SYN-SENT",
	SynReceived: "SYN-RECEIVED",
	FinWait1:    "FIN-WAIT-1",
	FinWait2:    "FIN-WAIT-2",
	TimeWait:    "TIME-WAIT",
	Closed:      "CLOSED",
	CloseWait:   "CLOSE-WAIT",
	LastAck:     "LAST-ACK",
	Listen:      "LISTEN",
	Closing:     "CLOSING",
	NewSynRecv:  "SYN-RECEIVED",
}

// String returns the RFC 9293 name ("SYN-SENT", "TIME-WAIT", ...). Linux's
// request socket (NEW_SYN_RECV) is reported as SYN-RECEIVED, which is what it is.
func (s State) String() string {
	if int(s) < len(names) {
		return names[s]
	}
	return "UNKNOWN"
}

// Canonical folds Linux-only states into RFC states (NEW_SYN_RECV -> SYN-RECEIVED).
func (s State) Canonical() State {
	if s == NewSynRecv {
		return SynReceived
	}
	return s
}

// Parse is the inverse of String; ok is false for an unknown name.
func Parse(name string) (s State, ok bool) {
	for i, n := range names {
		if n == name && State(i) != NewSynRecv {
			return State(i), true
		}
	}
	return Unknown, false
}

// All lists the RFC 9293 states in the order a state diagram reads them.
func All() []State {
	return []State{Closed, Listen, SynSent, SynReceived, Established, FinWait1,
		FinWait2, CloseWait, Closing, LastAck, TimeWait}
}

// MarshalText makes states appear by name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a state name.
func (s *State) UnmarshalText(b []byte) error {
	v, _ := Parse(string(b))
	*s = v
	return nil
}
