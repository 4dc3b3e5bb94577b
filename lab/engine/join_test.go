package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/labnet/wire"
)

// joinFrame is a frame with distinct bytes (the joiner only reads keys).
func joinFrame(id byte, at time.Time) capture.Frame {
	b := bytes.Repeat([]byte{id}, 60)
	return capture.Frame{Data: b, Length: len(b), Time: at}
}

type joined struct {
	f    capture.Frame
	w    decode.WireNotes
	drop decode.Drop
}

// TestJoiner feeds the joiner what the two captures and the relay report,
// in the orders they can arrive in, and checks the packets it hands on.
func TestJoiner(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	f1, f2 := joinFrame(1, ms(0)), joinFrame(2, ms(1))
	corrupt := joinFrame(1, ms(10))
	wire.FlipBit(corrupt.Data, 100)
	type step func(j *joiner)
	send := func(host int, f capture.Frame) step { return func(j *joiner) { j.frame(host, true, f) } }
	arrive := func(host int, f capture.Frame, at time.Time) step {
		return func(j *joiner) { f.Time = at; j.frame(host, false, f) }
	}
	verdict := func(dir wire.Direction, f capture.Frame, a wire.Action, rule string, bit int) step {
		return func(j *joiner) {
			j.wireVerdict(wire.Verdict{Dir: dir, Key: wire.FrameKey(f.Data), Action: a, Rule: rule, Bit: bit}, f.Time)
		}
	}
	tests := []struct {
		name  string
		steps []step
		want  []joined // in order; only From, Action, Rule, Arrived, Copies, Drop compared
	}{
		{"passed", []step{send(0, f1), verdict(wire.AtoB, f1, 0, "", -1), arrive(1, f1, ms(0.1))},
			[]joined{{f: f1, w: decode.WireNotes{From: "a:eth0", Known: true, Arrived: ms(0.1), Copies: 1}}}},
		{"verdict and arrival before the send", []step{verdict(wire.AtoB, f1, wire.Delayed, "", -1), arrive(1, f1, ms(10)), send(0, f1)},
			[]joined{{f: f1, w: decode.WireNotes{From: "a:eth0", Known: true, Action: decode.WireDelayed, Arrived: ms(10), Copies: 1}}}},
		{"dropped", []step{send(0, f1), verdict(wire.AtoB, f1, wire.Dropped, "loss", -1)},
			[]joined{{f: f1, w: decode.WireNotes{From: "a:eth0", Known: true, Action: decode.WireDropped, Rule: "loss"}, drop: decode.DropWire}}},
		{"duplicated", []step{send(1, f2), verdict(wire.BtoA, f2, 0, "", -1), verdict(wire.BtoA, f2, wire.Duplicated, "", -1), arrive(0, f2, ms(1.1)), arrive(0, f2, ms(1.2))},
			[]joined{{f: f2, w: decode.WireNotes{From: "b:eth0", Known: true, Action: decode.WireDuplicated, Arrived: ms(1.1), Copies: 2}}}},
		{"corrupted arrives with another key", []step{send(0, f1), verdict(wire.AtoB, f1, wire.Corrupted, "corrupt", 100), arrive(1, corrupt, ms(0.2))},
			[]joined{{f: f1, w: decode.WireNotes{From: "a:eth0", Known: true, Action: decode.WireCorrupted, Rule: "corrupt", Arrived: ms(0.2), Copies: 1}, drop: decode.DropChecksum}}},
		{"send order across hosts", []step{send(1, f2), send(0, f1), verdict(wire.AtoB, f1, 0, "", -1), verdict(wire.BtoA, f2, 0, "", -1), arrive(1, f1, ms(0.5)), arrive(0, f2, ms(1.5))},
			[]joined{
				{f: f1, w: decode.WireNotes{From: "a:eth0", Known: true, Arrived: ms(0.5), Copies: 1}},
				{f: f2, w: decode.WireNotes{From: "b:eth0", Known: true, Arrived: ms(1.5), Copies: 1}},
			}},
		{"no verdict: handed on after hold", []step{send(0, f1)},
			[]joined{{f: f1, w: decode.WireNotes{From: "a:eth0"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []joined
			j := newJoiner([2]string{"a:eth0", "b:eth0"}, 500*time.Millisecond)
			j.out = func(f capture.Frame, w decode.WireNotes, drop decode.Drop) { got = append(got, joined{f, w, drop}) }
			for _, s := range tt.steps {
				s(j)
			}
			j.watermark(0, ms(100))
			j.watermark(1, ms(100))
			j.release(ms(2), false)
			if tt.name != "no verdict: handed on after hold" && len(got) != 0 {
				t.Fatalf("handed on %d packet(s) before the grace time", len(got))
			}
			j.release(ms(20), false)
			if tt.name == "no verdict: handed on after hold" {
				if len(got) != 0 {
					t.Fatalf("a packet without a verdict was handed on before hold")
				}
				j.release(ms(600), false)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if !bytes.Equal(g.f.Data, w.f.Data) || g.w.From != w.w.From || g.w.Known != w.w.Known || g.w.Action != w.w.Action ||
					g.w.Rule != w.w.Rule || !g.w.Arrived.Equal(w.w.Arrived) || g.w.Copies != w.w.Copies || g.drop != w.drop {
					t.Errorf("packet %d: got %+v drop %v, want %+v drop %v", i, g.w, g.drop, w.w, w.drop)
				}
				// Each copy captured at the receiver, with its bytes only
				// where they differ from the frame sent.
				if len(g.w.Arrivals) != int(g.w.Copies) || (g.w.Copies > 0 && !g.w.Arrivals[0].At.Equal(g.w.Arrived)) {
					t.Errorf("packet %d: %d copies, arrivals %+v", i, g.w.Copies, g.w.Arrivals)
				}
				for k, a := range g.w.Arrivals {
					want := []byte(nil)
					if g.w.Action&decode.WireCorrupted != 0 {
						want = corrupt.Data
					}
					if !bytes.Equal(a.Data, want) || (want == nil) != (a.Data == nil) {
						t.Errorf("packet %d arrival %d: data %x, want %x", i, k, a.Data, want)
					}
				}
				if tt.name == "duplicated" && (len(g.w.Arrivals) != 2 || !g.w.Arrivals[1].At.Equal(ms(1.2))) {
					t.Errorf("duplicate's arrivals %+v, want the second at 1.2 ms", g.w.Arrivals)
				}
			}
		})
	}
}

// TestJoinerWaitsForBothCaptures: a packet is not handed on before the
// other capture has moved past its time (it may still deliver an earlier
// packet).
func TestJoinerWaitsForBothCaptures(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var got int
	j := newJoiner([2]string{"a", "b"}, time.Second)
	j.out = func(capture.Frame, decode.WireNotes, decode.Drop) { got++ }
	f := joinFrame(1, t0)
	j.frame(0, true, f)
	j.wireVerdict(wire.Verdict{Dir: wire.AtoB, Key: wire.FrameKey(f.Data), Action: wire.Dropped}, t0)
	j.watermark(0, t0.Add(time.Millisecond))
	j.release(t0.Add(10*time.Millisecond), false)
	if got != 0 {
		t.Fatal("handed on before host b's capture moved past it")
	}
	j.watermark(1, t0.Add(time.Millisecond))
	j.release(t0.Add(10*time.Millisecond), false)
	if got != 1 {
		t.Fatalf("handed on %d, want 1", got)
	}
}
