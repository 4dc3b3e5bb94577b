package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/netlab/netlab/lab/engine"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/lesson"
)

// netFlags choose where a run's lanes live: loopback, or two hosts joined
// by a wire that misbehaves as the impairment flags say (both directions
// alike). Any impairment flag implies --net wire.
type netFlags struct {
	net                               string
	loss, reorder, duplicate, corrupt percent
	delay, jitter                     time.Duration
	rate                              bitRate
	queue, mtu                        int
	seed                              uint64
	fs                                *pflag.FlagSet
}

func (f *netFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.net, "net", "", "where the lanes live: loopback, or wire (two hosts joined by a wire that can misbehave); default: the scenario's")
	fs.Var(&f.loss, "loss", "lose this share of frames each way, e.g. 10%")
	fs.DurationVar(&f.delay, "delay", 0, "delay every frame by this much each way, e.g. 50ms")
	fs.DurationVar(&f.jitter, "jitter", 0, "spread the delay by up to this much (order kept), e.g. 10ms")
	fs.Var(&f.reorder, "reorder", "hold back this share of frames so later ones overtake them, e.g. 5%")
	fs.Var(&f.duplicate, "duplicate", "send this share of frames twice, e.g. 1%")
	fs.Var(&f.corrupt, "corrupt", "flip one bit in this share of frames (the receiver drops them on checksum), e.g. 0.1%")
	fs.Var(&f.rate, "rate", "limit the wire to this rate each way, e.g. 1mbit, 500kbit")
	fs.IntVar(&f.queue, "queue", 0, "frames the rate limiter's queue holds before it drops (default 32)")
	fs.IntVar(&f.mtu, "mtu", 0, "drop frames whose IP packet is larger than this")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the wire's random decisions: the same seed repeats a run's losses (default: random, printed in the header)")
}

// impairs lists the impairment flags given.
func (f *netFlags) impairs() []string {
	var set []string
	for _, n := range []string{"loss", "delay", "jitter", "reorder", "duplicate", "corrupt", "rate", "queue", "mtu"} {
		if f.fs != nil && f.fs.Changed(n) {
			set = append(set, "--"+n)
		}
	}
	return set
}

// resolve is the run's lab network for sc: nil for loopback.
func (f *netFlags) resolve(sc *lesson.Scenario) (*engine.Net, error) {
	imp := f.impairs()
	switch f.net {
	case "", "wire":
	case "loopback", "lo":
		if len(imp) > 0 {
			return nil, fmt.Errorf("impairment flags (%s) need a wire: drop --net %s or use --net wire", strings.Join(imp, ", "), f.net)
		}
		if sc.Wire != nil {
			return nil, fmt.Errorf("scenario %s is about a wire: it does not run on loopback", sc.Name)
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("--net %q: the accepted values are loopback and wire", f.net)
	}
	if f.net == "" && len(imp) == 0 && sc.Wire == nil && !f.fs.Changed("seed") {
		return nil, nil
	}
	if err := sc.NetRefused(len(imp) > 0); err != nil {
		return nil, err
	}
	var c wire.Config
	if sc.Wire != nil {
		c = *sc.Wire
	}
	if len(imp) > 0 {
		im := wire.Impairment{
			Loss: f.loss.v, Delay: f.delay, Jitter: f.jitter, Reorder: f.reorder.v,
			Duplicate: f.duplicate.v, Corrupt: f.corrupt.v, Rate: f.rate.v, Queue: f.queue, MTU: f.mtu,
		}
		c.Impair = [2]wire.Impairment{im, im}
	}
	switch {
	case f.fs.Changed("seed"):
		c.Seed = f.seed
	case sc.Wire == nil || c.Seed == 0:
		c.Seed = rand.Uint64N(1 << 20)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &engine.Net{Wire: c, Impaired: len(imp) > 0}, nil
}

// resolveFor is resolve for flags that may not have been registered (the
// dashboard without a scenario named): loopback or the scenario's wire.
func (f *netFlags) resolveFor(sc *lesson.Scenario) (*engine.Net, error) {
	if f == nil || f.fs == nil {
		f = &netFlags{fs: pflag.NewFlagSet("", pflag.ContinueOnError)}
	}
	return f.resolve(sc)
}

// percent is a flag value like "10%" or "0.1" (a share).
type percent struct{ v float64 }

func (p *percent) String() string { return strconv.FormatFloat(p.v*100, 'g', -1, 64) + "%" }
func (p *percent) Type() string   { return "percent" }
func (p *percent) Set(s string) error {
	s = strings.TrimSpace(s)
	div := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, div = t, 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v/div < 0 || v/div > 1 {
		return fmt.Errorf("%q is not a share between 0%% and 100%%", s)
	}
	p.v = v / div
	return nil
}

// bitRate is a flag value like "1mbit", "500kbit", "2gbit" or "64000"
// (bits per second).
type bitRate struct{ v uint64 }

func (r *bitRate) String() string { return strconv.FormatUint(r.v, 10) + "bit" }
func (r *bitRate) Type() string   { return "rate" }
func (r *bitRate) Set(s string) error {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ps"), "bit")
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"k", 1e3}, {"m", 1e6}, {"g", 1e9}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = v, u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("%q is not a rate (e.g. 1mbit, 500kbit)", s)
	}
	r.v = uint64(v * mult)
	return nil
}
