package tcpstate

import "fmt"

// CAState is a TCP sender's congestion-avoidance state (tcpi_ca_state,
// enum tcp_ca_state in linux/tcp.h).
type CAState uint8

// Congestion-avoidance states as the kernel numbers them.
const (
	CAOpen     CAState = 0 // nothing wrong: no loss, no reordering suspected
	CADisorder CAState = 1 // duplicate ACKs or SACKs: something may be lost or reordered
	CACWR      CAState = 2 // the window is being reduced after an ECN echo or local congestion
	CARecovery CAState = 3 // fast retransmit and recovery after a loss detected by ACKs
	CALoss     CAState = 4 // the retransmission timer fired: everything outstanding is taken as lost
)

var caStateNames = [...]string{
	CAOpen: "Open", CADisorder: "Disorder", CACWR: "CWR", CARecovery: "Recovery", CALoss: "Loss",
}

// String returns the kernel's name without the TCP_CA_ prefix: "Open",
// "Disorder", "CWR", "Recovery" or "Loss".
func (s CAState) String() string {
	if int(s) < len(caStateNames) {
		return caStateNames[s]
	}
	return fmt.Sprintf("ca_state(%d)", uint8(s))
}

// MarshalText makes a CAState its name in JSON.
func (s CAState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
