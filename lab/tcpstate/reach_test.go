package tcpstate

import "testing"

func TestReachable(t *testing.T) {
	for _, tc := range []struct {
		from, to State
		want     bool
	}{
		{Established, Established, true},
		{SynSent, Established, true}, // too brief for a poller: still reachable
		{SynSent, TimeWait, true},
		{NewSynRecv, Established, true},
		{Listen, FinWait2, true},
		{Established, Closed, true},
		{FinWait1, TimeWait, true},
		{CloseWait, LastAck, true},
		{Closed, Established, false}, // CLOSED is terminal
		{Closed, SynSent, false},
		{Established, SynSent, false},
		{TimeWait, Established, false},
		{FinWait2, FinWait1, false},
		{CloseWait, FinWait1, false},
		{LastAck, TimeWait, false},
		{Unknown, Established, false},
		{Established, Unknown, false},
	} {
		if got := Reachable(tc.from, tc.to); got != tc.want {
			t.Errorf("Reachable(%v, %v) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestOpens(t *testing.T) {
	for _, s := range All() {
		want := s == Listen || s == SynSent || s == SynReceived
		if Opens(s) != want {
			t.Errorf("Opens(%v) = %v", s, !want)
		}
	}
}
