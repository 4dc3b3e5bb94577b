package tcpstate

import (
	"encoding/json"
	"testing"
)

func TestTimerNames(t *testing.T) {
	for _, tc := range []struct {
		timer     Timer
		name      string
		countdown bool
	}{
		{TimerNone, "", false},
		{TimerRetrans, "on", false},
		{TimerKeepalive, "keepalive", true},
		{TimerTimeWait, "timewait", true},
		{TimerProbe, "probe", true},
		{9, "timer(9)", true},
	} {
		if got := tc.timer.String(); got != tc.name {
			t.Errorf("Timer(%d).String() = %q, want %q", tc.timer, got, tc.name)
		}
		if got, err := ParseTimer(tc.name); tc.timer <= TimerProbe && (err != nil || got != tc.timer) {
			t.Errorf("ParseTimer(%q) = %d, %v; want %d", tc.name, got, err, tc.timer)
		}
		if got := tc.timer.Countdown(); got != tc.countdown {
			t.Errorf("Timer(%d).Countdown() = %v, want %v", tc.timer, got, tc.countdown)
		}
	}
	for _, bad := range []string{"persist", "timer(9)", "ON"} {
		if _, err := ParseTimer(bad); err == nil {
			t.Errorf("ParseTimer(%q) did not fail", bad)
		}
	}
}

// TestTimerJSON: in JSON a timer is its ss name, and omitempty leaves out
// no timer, as the JSON lines schema v1 had it when the timer was a string.
func TestTimerJSON(t *testing.T) {
	type line struct {
		Timer Timer `json:"timer,omitempty"`
	}
	for _, tc := range []struct {
		in   line
		want string
	}{
		{line{TimerTimeWait}, `{"timer":"timewait"}`},
		{line{TimerRetrans}, `{"timer":"on"}`},
		{line{TimerNone}, `{}`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.in, b, err, tc.want)
		}
		var back line
		if err := json.Unmarshal(b, &back); err != nil || back != tc.in {
			t.Errorf("Unmarshal(%s) = %v, %v", b, back, err)
		}
	}
}
