package wire

import (
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 0xa}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 0xb}
	ipA  = net.IPv4(192, 0, 2, 10)
	ipB  = net.IPv4(192, 0, 2, 20)
)

// seg describes a TCP segment for tcpFrame.
type seg struct {
	dir           Direction
	seq, ack      uint32
	flags         string // any of S A F R
	payload       int
	size, udpSize int // a UDP frame of udpSize payload bytes instead
	port          int // A's port, if not 40000
}

// tcpFrame serializes an Ethernet+IPv4+TCP (or UDP) frame between A and B.
func tcpFrame(t testing.TB, s seg) []byte {
	t.Helper()
	aport := 40000
	if s.port != 0 {
		aport = s.port
	}
	src, dst, smac, dmac, sport, dport := ipA, ipB, macA, macB, aport, 8888
	if s.dir == BtoA {
		src, dst, smac, dmac, sport, dport = ipB, ipA, macB, macA, 8888, aport
	}
	eth := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src, DstIP: dst, Protocol: layers.IPProtocolTCP}
	var l4 gopacket.SerializableLayer
	if s.udpSize > 0 {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		u.SetNetworkLayerForChecksum(ip)
		l4 = u
		s.payload = s.udpSize
	} else {
		c := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: s.seq, Ack: s.ack, Window: 1000}
		for _, f := range s.flags {
			switch f {
			case 'S':
				c.SYN = true
			case 'A':
				c.ACK = true
			case 'F':
				c.FIN = true
			case 'R':
				c.RST = true
			}
		}
		c.SetNetworkLayerForChecksum(ip)
		l4 = c
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, l4, gopacket.Payload(make([]byte, s.payload)))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustModel(t testing.TB, c Config) *Model {
	t.Helper()
	m, err := NewModel(c, t0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// run feeds n identical frames in one direction, one every gap.
func run(t testing.TB, m *Model, dir Direction, frame []byte, n int, gap time.Duration) []Verdict {
	var out []Verdict
	for i := range n {
		out = m.Decide(dir, frame, t0.Add(time.Duration(i)*gap), out)
	}
	return out
}

func count(vs []Verdict, a Action) int {
	n := 0
	for _, v := range vs {
		if v.Action&a != 0 {
			n++
		}
	}
	return n
}

func TestModelPassesUntouched(t *testing.T) {
	m := mustModel(t, Config{})
	f := tcpFrame(t, seg{flags: "A", payload: 10})
	vs := run(t, m, AtoB, f, 3, time.Millisecond)
	for i, v := range vs {
		want := Verdict{Dir: AtoB, Index: uint64(i), In: t0.Add(time.Duration(i) * time.Millisecond), Len: len(f), Bit: -1, Key: FrameKey(f)}
		want.Out = want.In
		if v != want {
			t.Errorf("verdict %d = %+v, want %+v", i, v, want)
		}
		if v.Action.String() != "pass" {
			t.Errorf("action %q", v.Action)
		}
	}
}

// TestModelRandomImpairments checks each impairment's effect on 10,000
// frames, one every 100 µs.
func TestModelRandomImpairments(t *testing.T) {
	const n = 10000
	frame := seg{udpSize: 100}
	for _, c := range []struct {
		name  string
		im    Impairment
		check func(t *testing.T, vs []Verdict)
	}{
		{"loss 10%", Impairment{Loss: 0.1}, func(t *testing.T, vs []Verdict) {
			if d := count(vs, Dropped); d < 900 || d > 1100 {
				t.Errorf("%d of %d dropped, want about 1000", d, n)
			}
			for _, v := range vs {
				if v.Action == Dropped && v.Rule != RuleLoss {
					t.Fatalf("drop by %q", v.Rule)
				}
			}
		}},
		{"gilbert-elliott", Impairment{Burst: &GilbertElliott{P: 0.01, R: 0.25, LossBad: 1}}, func(t *testing.T, vs []Verdict) {
			// Mean burst 1/R = 4 frames; stationary loss P/(P+R) ≈ 3.8 %.
			bursts, lost, run := 0, 0, 0
			for _, v := range vs {
				if v.Action&Dropped != 0 {
					if v.Rule != RuleBurst {
						t.Fatalf("drop by %q", v.Rule)
					}
					lost++
					if run == 0 {
						bursts++
					}
					run++
				} else {
					run = 0
				}
			}
			if mean := float64(lost) / float64(bursts); mean < 3 || mean > 5.5 {
				t.Errorf("mean burst %.2f frames (%d lost in %d bursts), want about 4", mean, lost, bursts)
			}
			if lost < 250 || lost > 550 {
				t.Errorf("%d lost, want about 385", lost)
			}
		}},
		{"delay", Impairment{Delay: 50 * time.Millisecond}, func(t *testing.T, vs []Verdict) {
			for _, v := range vs {
				if v.Out.Sub(v.In) != 50*time.Millisecond || v.Action != Delayed {
					t.Fatalf("%v: want +50ms delay", v)
				}
			}
		}},
		{"jitter keeps order", Impairment{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}, func(t *testing.T, vs []Verdict) {
			spread := map[time.Duration]bool{}
			for i, v := range vs {
				d := v.Out.Sub(v.In)
				if d < 5*time.Millisecond {
					t.Fatalf("%v: below delay-jitter", v)
				}
				spread[d/time.Millisecond] = true
				if i > 0 && v.Out.Before(vs[i-1].Out) {
					t.Fatalf("frame %d overtook frame %d without JitterReorders", i, i-1)
				}
			}
			if len(spread) < 5 {
				t.Errorf("delays spread over %d ms buckets only", len(spread))
			}
		}},
		{"jitter reorders", Impairment{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, JitterReorders: true}, func(t *testing.T, vs []Verdict) {
			over := 0
			for i, v := range vs {
				if d := v.Out.Sub(v.In); d < 5*time.Millisecond || d > 15*time.Millisecond {
					t.Fatalf("%v: outside delay±jitter", v)
				}
				if i > 0 && v.Out.Before(vs[i-1].Out) {
					over++
				}
			}
			if over < n/10 {
				t.Errorf("%d overtakings, want many", over)
			}
		}},
		{"reorder 5%", Impairment{Reorder: 0.05, ReorderGap: time.Millisecond}, func(t *testing.T, vs []Verdict) {
			if r := count(vs, Reordered); r < 400 || r > 600 {
				t.Errorf("%d reordered, want about 500", r)
			}
			for i, v := range vs {
				if v.Action&Reordered != 0 {
					if v.Out.Sub(v.In) != time.Millisecond {
						t.Fatalf("%v: held %v, want 1ms", v, v.Out.Sub(v.In))
					}
					if i+1 < len(vs) && vs[i+1].Action&Reordered == 0 && !vs[i+1].Out.Before(v.Out) {
						t.Fatalf("frame %d was held but frame %d did not overtake it", i, i+1)
					}
				} else if v.Out != v.In {
					t.Fatalf("%v: a frame not reordered was delayed", v)
				}
			}
		}},
		{"duplicate 1%", Impairment{Duplicate: 0.01}, func(t *testing.T, vs []Verdict) {
			d := count(vs, Duplicated)
			if d < 60 || d > 140 || len(vs) != n+d {
				t.Errorf("%d duplicates in %d verdicts", d, len(vs))
			}
			for i, v := range vs {
				if v.Action&Duplicated != 0 && (i == 0 || vs[i-1].Index != v.Index) {
					t.Fatalf("duplicate %v does not follow its original", v)
				}
			}
		}},
		{"corrupt 10%", Impairment{Corrupt: 0.1}, func(t *testing.T, vs []Verdict) {
			if c := count(vs, Corrupted); c < 900 || c > 1100 {
				t.Errorf("%d corrupted, want about 1000", c)
			}
			for _, v := range vs {
				if v.Action&Corrupted != 0 && (v.Bit < (14+20)*8 || v.Bit >= v.Len*8 || v.Rule != RuleCorrupt) {
					t.Fatalf("%v: bit %d not after the IP header of %d bytes", v, v.Bit, v.Len)
				}
				if v.Action&Corrupted == 0 && v.Bit != -1 {
					t.Fatalf("%v: bit set without corruption", v)
				}
			}
		}},
		{"limit", Impairment{Delay: 10 * time.Millisecond, Limit: 50}, func(t *testing.T, vs []Verdict) {
			// One frame every 100 µs held for 10 ms: 100 would be held at
			// once; 50 are, and every other frame finds the hold full.
			for i, v := range vs[:50] {
				if v.Action != Delayed {
					t.Fatalf("frame %d: %v before the hold was full", i, v)
				}
			}
			if v := vs[50]; v.Action != Dropped || v.Rule != RuleLimit {
				t.Errorf("frame 50: %v, want dropped by the limit", v)
			}
			if d := count(vs, Dropped); d < n/2-100 || d > n/2+100 {
				t.Errorf("%d dropped, want about %d", d, n/2)
			}
		}},
		{"mtu", Impairment{MTU: 100}, func(t *testing.T, vs []Verdict) {
			// 100 bytes of UDP payload + 28 of headers > 100.
			if d := count(vs, Dropped); d != n || vs[0].Rule != RuleMTU {
				t.Errorf("%d dropped (%v), want all by mtu", d, vs[0])
			}
		}},
		{"mtu fits", Impairment{MTU: 128}, func(t *testing.T, vs []Verdict) {
			if d := count(vs, Dropped); d != 0 {
				t.Errorf("%d dropped at exactly the MTU", d)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Seed: 7}
			cfg.Impair[AtoB] = c.im
			m := mustModel(t, cfg)
			c.check(t, run(t, m, AtoB, tcpFrame(t, frame), n, 100*time.Microsecond))
			// The other direction is untouched.
			if v := m.Decide(BtoA, tcpFrame(t, frame), t0, nil); len(v) != 1 || v[0].Action != 0 {
				t.Errorf("BtoA: %v", v)
			}
		})
	}
}

// TestModelRate sends 1250-byte frames (10 ms each at 1 Mbit/s) in a burst:
// the first passes on the bucket's burst of one frame, the next leave 10 ms
// apart, and once Queue frames wait the rest are tail-dropped.
func TestModelRate(t *testing.T) {
	cfg := Config{}
	cfg.Impair[AtoB] = Impairment{Rate: 1_000_000, Queue: 3, RateBurst: 1250}
	m := mustModel(t, cfg)
	f := tcpFrame(t, seg{udpSize: 1250 - 14 - 28})
	if len(f) != 1250 {
		t.Fatalf("frame of %d bytes", len(f))
	}
	vs := run(t, m, AtoB, f, 6, 0)
	wantOut := []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	for i, v := range vs {
		if i < len(wantOut) {
			if v.Action&Dropped != 0 || v.Out.Sub(v.In) != wantOut[i] {
				t.Errorf("frame %d: %v, want out after %v", i, v, wantOut[i])
			}
		} else if v.Action != Dropped || v.Rule != RuleQueue {
			t.Errorf("frame %d: %v, want a tail drop", i, v)
		}
	}
	// At 25 ms two frames have left the queue; the next leaves at 40 ms.
	v := m.Decide(AtoB, f, t0.Add(25*time.Millisecond), nil)[0]
	if v.Action&Dropped != 0 || v.Out.Sub(t0) != 40*time.Millisecond {
		t.Errorf("after the queue drained: %v (out at %v), want out at 40ms", v, v.Out.Sub(t0))
	}
}

// TestModelSetImpairment: a bigger queue set mid-run takes frames the old
// one dropped, and a bad impairment is refused and changes nothing.
func TestModelSetImpairment(t *testing.T) {
	cfg := Config{}
	cfg.Impair[AtoB] = Impairment{Rate: 1_000_000, Queue: 1, RateBurst: 1250}
	m := mustModel(t, cfg)
	f := tcpFrame(t, seg{udpSize: 1250 - 14 - 28})
	// One frame leaves at once, one waits in the queue, the third finds it full.
	if vs := run(t, m, AtoB, f, 3, 0); vs[2].Action != Dropped || vs[2].Rule != RuleQueue {
		t.Fatalf("queue of 1: third frame %v, want a tail drop", vs[2])
	}
	if err := m.SetImpairment([2]Impairment{{Loss: 2}}); err == nil {
		t.Fatal("a loss of 200% was accepted")
	}
	if err := m.SetImpairment([2]Impairment{{Rate: 1_000_000, Queue: 4, RateBurst: 1250}}); err != nil {
		t.Fatal(err)
	}
	// Same instant: the queue holds one frame (leaving at 10 ms); now three
	// more fit, behind it, at 20, 30 and 40 ms; the fifth is dropped.
	for i, want := range []time.Duration{20 * time.Millisecond, 30 * time.Millisecond, 40 * time.Millisecond, -1} {
		v := m.Decide(AtoB, f, t0, nil)[0]
		switch {
		case want < 0 && (v.Action != Dropped || v.Rule != RuleQueue):
			t.Errorf("frame %d after the change: %v, want a tail drop", i, v)
		case want >= 0 && (v.Action&Dropped != 0 || v.Out.Sub(t0) != want):
			t.Errorf("frame %d after the change: %v (out at %v), want out at %v", i, v, v.Out.Sub(t0), want)
		}
	}
}

// TestModelSeeds: the same seed gives the same verdicts, in each direction
// whatever the interleaving of the two; another seed gives others.
func TestModelSeeds(t *testing.T) {
	im := Impairment{Loss: 0.1, Delay: time.Millisecond, Jitter: time.Millisecond, JitterReorders: true,
		Reorder: 0.05, Duplicate: 0.05, Corrupt: 0.05}
	cfg := func(seed uint64) Config { return Config{Seed: seed, Impair: [2]Impairment{im, im}} }
	f := tcpFrame(t, seg{udpSize: 200})
	// feed gives each direction 500 frames; interleave chooses the order.
	feed := func(seed uint64, interleave func(i int) Direction) [2][]Verdict {
		m := mustModel(t, cfg(seed))
		var out [2][]Verdict
		var idx [2]int
		for i := range 1000 {
			d := interleave(i)
			if idx[d] == 500 {
				d = d.Reverse()
			}
			at := t0.Add(time.Duration(idx[d]) * 50 * time.Microsecond)
			idx[d]++
			out[d] = m.Decide(d, f, at, out[d])
		}
		return out
	}
	alternate := func(i int) Direction { return Direction(i % 2) }
	blocks := func(i int) Direction { return Direction(i / 500) }
	a, b, c := feed(42, alternate), feed(42, blocks), feed(43, alternate)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different verdicts when the directions interleaved differently")
	}
	if reflect.DeepEqual(a[AtoB], c[AtoB]) || reflect.DeepEqual(a[BtoA], c[BtoA]) {
		t.Error("seeds 42 and 43 gave the same verdicts")
	}
	if sameDecisions(a[AtoB], a[BtoA]) {
		t.Error("both directions drew the same random stream")
	}
}

// TestModelRules checks the targeted rules on a scripted TCP conversation.
func TestModelRules(t *testing.T) {
	handshake := []seg{
		{dir: AtoB, seq: 100, flags: "S"},
		{dir: BtoA, seq: 500, ack: 101, flags: "SA"},
		{dir: BtoA, seq: 500, ack: 101, flags: "SA"}, // retransmitted SYN,ACK
		{dir: AtoB, seq: 101, ack: 501, flags: "A"},
	}
	data := []seg{
		{dir: AtoB, seq: 101, ack: 501, flags: "A", payload: 100}, // data 1
		{dir: AtoB, seq: 201, ack: 501, flags: "A", payload: 100}, // data 2
		{dir: BtoA, seq: 501, ack: 201, flags: "A"},
		{dir: AtoB, seq: 201, ack: 501, flags: "A", payload: 100}, // data 2 again
		{dir: AtoB, seq: 201, ack: 501, flags: "A", payload: 200}, // data 2 again, with data 3
		{dir: AtoB, seq: 201, ack: 501, flags: "A", payload: 200}, // and again
	}
	closing := []seg{
		{dir: AtoB, seq: 301, ack: 501, flags: "FA"}, // client FIN
		{dir: BtoA, seq: 501, ack: 302, flags: "A"},  // ACK of the first FIN: not the last ACK
		{dir: BtoA, seq: 501, ack: 302, flags: "FA"}, // server FIN
		{dir: AtoB, seq: 302, ack: 502, flags: "A"},  // the last ACK
		{dir: BtoA, seq: 501, ack: 302, flags: "FA"}, // FIN retransmitted
		{dir: AtoB, seq: 302, ack: 502, flags: "A"},  // last ACK again
	}
	// A second connection, from another port, after the first.
	var second []seg
	for _, x := range append(append([]seg{}, handshake...), data[:2]...) {
		x.port = 40001
		second = append(second, x)
	}
	conv := append(append(append(append([]seg{}, handshake...), data...), closing...), second...)
	for _, c := range []struct {
		name string
		rule Rule
		hit  []int // indexes into conv of the frames the rule acts on
	}{
		{"syn-ack once", Rule{Dir: BtoA, Match: MatchSYNACK}, []int{1}},
		{"syn-ack of the second connection", Rule{Dir: BtoA, Match: MatchSYNACK, Conn: 2}, []int{17}},
		{"syn", Rule{Dir: AtoB, Match: MatchSYN}, []int{0}},
		{"syn of the second connection, twice", Rule{Dir: AtoB, Match: MatchSYN, Conn: 2, Times: 2}, []int{16}},
		{"the handshake's ack", Rule{Dir: AtoB, Match: MatchHandshakeACK}, []int{3}},
		{"the handshake's ack, each connection", Rule{Dir: AtoB, Match: MatchHandshakeACK, Times: 2}, []int{3, 19}},
		{"data 2 of the second connection", Rule{Dir: AtoB, Match: MatchData, N: 2, Conn: 2}, []int{21}},
		{"no handshake ack from the server", Rule{Dir: BtoA, Match: MatchHandshakeACK}, nil},
		{"syn-ack twice", Rule{Dir: BtoA, Match: MatchSYNACK, Times: 2}, []int{1, 2}},
		{"syn-ack wrong direction", Rule{Dir: AtoB, Match: MatchSYNACK}, nil},
		{"data 1", Rule{Dir: AtoB, Match: MatchData, N: 1}, []int{4}},
		{"data 2 three times", Rule{Dir: AtoB, Match: MatchData, N: 2, Times: 3}, []int{5, 7, 8}},
		{"data 2 for ever", Rule{Dir: AtoB, Match: MatchData, N: 2, Times: 100}, []int{5, 7, 8, 9}},
		{"data 9 never sent", Rule{Dir: AtoB, Match: MatchData, N: 9}, nil},
		{"last ack", Rule{Dir: AtoB, Match: MatchLastACK}, []int{13}},
		{"last ack twice", Rule{Dir: AtoB, Match: MatchLastACK, Times: 2}, []int{13, 15}},
		{"server sends no last ack", Rule{Dir: BtoA, Match: MatchLastACK}, nil},
		{"corrupt data 1", Rule{Dir: AtoB, Match: MatchData, N: 1, Action: Corrupt}, []int{4}},
		{"window", Rule{Dir: AtoB, Match: MatchWindow, From: 4 * time.Millisecond, For: 2 * time.Millisecond}, []int{4, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.rule.Name = c.name
			m := mustModel(t, Config{Rules: []Rule{c.rule}})
			var hits []int
			for i, s := range conv {
				vs := m.Decide(s.dir, tcpFrame(t, s), t0.Add(time.Duration(i)*time.Millisecond), nil)
				if len(vs) != 1 {
					t.Fatalf("frame %d: %d verdicts", i, len(vs))
				}
				v := vs[0]
				if v.Rule == "" {
					if v.Action != 0 {
						t.Fatalf("frame %d: %v without a rule", i, v)
					}
					continue
				}
				if v.Rule != c.name {
					t.Fatalf("frame %d: rule %q", i, v.Rule)
				}
				want := Dropped
				if c.rule.Action == Corrupt {
					want = Corrupted
				}
				if v.Action != want {
					t.Fatalf("frame %d: %v, want %v", i, v.Action, want)
				}
				hits = append(hits, i)
			}
			if !reflect.DeepEqual(hits, c.hit) {
				t.Errorf("rule acted on frames %v, want %v", hits, c.hit)
			}
		})
	}
}

// sameDecisions compares verdicts from two directions, whose Dir differ.
func sameDecisions(x, y []Verdict) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		a, b := x[i], y[i]
		a.Dir, b.Dir = 0, 0
		if a != b {
			return false
		}
	}
	return true
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"loss > 1", Config{Impair: [2]Impairment{{Loss: 1.5}}}},
		{"negative delay", Config{Impair: [2]Impairment{{}, {Delay: -1}}}},
		{"bad burst", Config{Impair: [2]Impairment{{Burst: &GilbertElliott{P: 2}}}}},
		{"unnamed rule", Config{Rules: []Rule{{Match: MatchSYNACK}}}},
		{"data 0", Config{Rules: []Rule{{Name: "x", Match: MatchData}}}},
		{"empty window", Config{Rules: []Rule{{Name: "x", Match: MatchWindow}}}},
		{"no match", Config{Rules: []Rule{{Name: "x"}}}},
	} {
		if err := c.cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
}

func TestFrameKey(t *testing.T) {
	a := tcpFrame(t, seg{seq: 1, flags: "A", payload: 10})
	b := tcpFrame(t, seg{seq: 2, flags: "A", payload: 10})
	c := tcpFrame(t, seg{seq: 1, flags: "A", payload: 11})
	if FrameKey(a) == FrameKey(b) || FrameKey(a) == FrameKey(c) {
		t.Error("different frames share a key")
	}
	if FrameKey(a) != FrameKey(append([]byte(nil), a...)) {
		t.Error("the same bytes give different keys")
	}
	FrameKey(nil) // no panic
}

func TestFlipBit(t *testing.T) {
	f := []byte{0, 0}
	FlipBit(f, 9)
	if f[1] != 0x40 {
		t.Errorf("bit 9 flipped %08b", f[1])
	}
	FlipBit(f, 100) // out of range: no panic, no change
	if f[0] != 0 || f[1] != 0x40 {
		t.Errorf("%v", f)
	}
}

// TestDecideAllocs: the hot path allocates nothing in steady state.
func TestDecideAllocs(t *testing.T) {
	m := mustModel(t, Config{Rules: []Rule{{Name: "d", Dir: AtoB, Match: MatchData, N: 1000}}})
	f := tcpFrame(t, seg{flags: "A", payload: 100})
	out := make([]Verdict, 0, 2)
	now := t0
	m.Decide(AtoB, f, now, out[:0])
	if a := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Microsecond)
		out = m.Decide(AtoB, f, now, out[:0])
	}); a != 0 {
		t.Errorf("%v allocations per Decide", a)
	}
}
