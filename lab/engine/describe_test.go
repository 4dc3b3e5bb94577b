package engine

import (
	"testing"
	"time"

	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
)

func TestDescribeWire(t *testing.T) {
	for _, tc := range []struct {
		c    wire.Config
		want string
	}{
		{wire.Config{}, "clean"},
		{wire.Config{Impair: [2]wire.Impairment{{Loss: 0.1, Delay: 5 * time.Millisecond}}}, "a>b: loss 10%, delay 5ms"},
		{wire.Config{Impair: [2]wire.Impairment{{Rate: 10_000_000}, {Rate: 1_500_000, Queue: 256}}},
			"a>b: rate 10 Mbit/s, queue 32 frames; b>a: rate 1.5 Mbit/s, queue 256 frames"},
		{wire.Config{Impair: [2]wire.Impairment{{Rate: 64_000}, {Rate: 999}}}, "a>b: rate 64 kbit/s, queue 32 frames; b>a: rate 999 bit/s, queue 32 frames"},
	} {
		if got := describeWire(tc.c); got != tc.want {
			t.Errorf("describeWire(%+v) = %q, want %q", tc.c.Impair, got, tc.want)
		}
	}
}

// TestHoldForActs: the joiner waits for the deepest queue any act puts on
// the wire, not only the scenario's first wire.
func TestHoldForActs(t *testing.T) {
	base := wire.Config{Impair: [2]wire.Impairment{{Rate: 10_000_000, Queue: 8}}}
	deep := &[2]wire.Impairment{{Rate: 10_000_000, Queue: 256}}
	without, with := holdFor(base, nil), holdFor(base, []*lesson.Act{{}, {Impair: deep}})
	// 257 frames of 1514 bytes at 10 Mbit/s: 311 ms.
	if d := with - without; d < 250*time.Millisecond {
		t.Errorf("hold %v with a 256-frame act, %v without: want ≥ 250 ms more", with, without)
	}
}
