// Package scenarios is netlab's catalog of lessons. Each scenario is one file:
// its lesson in English and Simplified Chinese, the program that acts it out
// on real sockets, and the checks that must hold on the run's own capture.
// To add one, copy a file (echo.go is the smallest), rename the variable,
// and add it to Catalog in teaching order.
package scenarios

import (
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/scenario"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Catalog returns every scenario, in teaching order.
func Catalog() scenario.Catalog {
	return scenario.Catalog{
		Echo,
		Handshake,
		Close,
		TimeWait,
	}
}

// waitLong bounds waiting for the kernel or the capture to show something.
const waitLong = 2 * time.Second

// kernelState matches a state event from the kernel for lane reaching st.
func kernelState(lane string, st tcpstate.State) func(*timeline.Event) bool {
	return func(e *timeline.Event) bool {
		return e.Kind == timeline.KindState && e.State.Lane == lane && e.State.Source == timeline.Kernel && e.State.To == st
	}
}

// first returns the first packet or nil.
func first(ps []*decode.Packet) *decode.Packet {
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}
