package tcpstate

import "fmt"

// Timer is the kind of timer the kernel has pending on a socket
// (inet_diag_msg.idiag_timer), with the kernel's numbering: sock_diag reads
// it and the timeline carries it, so that every view compares it with these
// constants instead of its name.
type Timer uint8

// Timer kinds as the kernel reports them.
const (
	TimerNone      Timer = 0 // no timer pending
	TimerRetrans   Timer = 1 // retransmission, RTO, tail-loss-probe or SYN-ACK timer ("on")
	TimerKeepalive Timer = 2 // keepalive (also the FIN-WAIT-2 timer of a full socket)
	TimerTimeWait  Timer = 3 // TIME-WAIT (and orphaned FIN-WAIT-2) timer
	TimerProbe     Timer = 4 // zero-window probe timer (ss calls it "persist")
)

var timerNames = [...]string{
	TimerNone:      "",
	TimerRetrans:   "on",
	TimerKeepalive: "keepalive",
	TimerTimeWait:  "timewait",
	TimerProbe:     "probe",
}

// String returns "" for no timer, otherwise "on", "keepalive", "timewait"
// or "probe", the names ss -o uses (ss prints "persist" for the probe
// timer), and "timer(N)" for a kind this package does not know.
func (t Timer) String() string {
	if int(t) < len(timerNames) {
		return timerNames[t]
	}
	return fmt.Sprintf("timer(%d)", uint8(t))
}

// Countdown reports whether the timer's time left is worth showing: the
// kernel arms it once and lets it run (keepalive, TIME-WAIT, zero-window
// probe). The retransmission timer is not: on a connection that carries data
// it is re-armed with every segment sent.
func (t Timer) Countdown() bool { return t != TimerNone && t != TimerRetrans }

// ParseTimer is the inverse of String for the kinds this package knows.
func ParseTimer(name string) (Timer, error) {
	for i, n := range timerNames {
		if n == name {
			return Timer(i), nil
		}
	}
	return TimerNone, fmt.Errorf("tcpstate: unknown timer %q", name)
}

// MarshalText makes a timer appear by name in JSON ("" for none).
func (t Timer) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a timer's name.
func (t *Timer) UnmarshalText(b []byte) error {
	v, err := ParseTimer(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
