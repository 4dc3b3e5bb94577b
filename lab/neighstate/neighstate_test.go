package neighstate

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
	"github.com/netlab/netlab/lab/timeline"
)

// TestAgreesWithIPNeigh: in a throwaway namespace with a veth pair and
// two entries (one permanent, one incomplete: a ping to an address nobody
// has), the poller's first dump reports what `ip -4 neigh show` prints,
// and a deleted entry is reported gone.
func TestAgreesWithIPNeigh(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip (iproute2) to compare with")
	}
	if !sandboxtest.InNetns(t) {
		return
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("link", "add", "n0", "type", "veth", "peer", "name", "n1")
	run("addr", "add", "192.0.2.10/24", "dev", "n0")
	run("link", "set", "n0", "up")
	run("link", "set", "n1", "up")
	run("neigh", "add", "192.0.2.30", "lladdr", "02:00:00:00:00:1e", "dev", "n0", "nud", "permanent")
	_ = exec.Command("ping", "-c", "1", "-W", "0.2", "192.0.2.99").Run() // INCOMPLETE, then FAILED
	run("neigh", "replace", "192.0.2.40", "lladdr", "02:00:00:00:00:28", "dev", "n0", "nud", "stale")

	var got []Change
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{Interval: time.Millisecond, Tick: func(time.Time) { cancel() }}
	if err := p.Run(ctx, func(c Change) { got = append(got, c) }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // address → "dev mac STATE" as ip prints it
	for _, line := range strings.Split(strings.TrimSpace(run("-4", "neigh", "show")), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[len(f)-1] == "NOARP" {
			continue
		}
		w := f[2] // dev NAME [lladdr MAC] STATE
		if len(f) >= 6 && f[3] == "lladdr" {
			w += " " + f[4]
		}
		want[f[0]] = w + " " + f[len(f)-1]
	}
	if len(want) < 2 {
		t.Fatalf("ip neigh shows too little to compare:\n%s", run("-4", "neigh", "show"))
	}
	seen := map[string]string{}
	for _, c := range got {
		s := c.Iface
		if c.MAC != nil {
			s += " " + c.MAC.String()
		}
		seen[c.Addr.String()] = s + " " + c.State.String()
	}
	for addr, w := range want {
		if seen[addr] != w {
			t.Errorf("%s: ip neigh says %q, the poller %q", addr, w, seen[addr])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("the poller saw %d entries, ip neigh %d: %v vs %v", len(seen), len(want), seen, want)
	}

	// A deleted entry is reported gone by the next dump.
	run("neigh", "del", "192.0.2.30", "dev", "n0")
	var gone bool
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	dumps := 0
	p = &Poller{Interval: time.Millisecond, Tick: func(time.Time) {
		if dumps++; dumps == 1 {
			run("neigh", "del", "192.0.2.40", "dev", "n0")
		} else if dumps > 2 {
			cancel()
		}
	}}
	if err := p.Run(ctx, func(c Change) {
		if c.Addr.String() == "192.0.2.40" && c.Gone {
			gone = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !gone {
		t.Error("a deleted entry was not reported gone")
	}
}

func TestNUDString(t *testing.T) {
	for _, tc := range []struct {
		n    timeline.NUD
		want string
	}{{timeline.NUDReachable, "REACHABLE"}, {timeline.NUDIncomplete, "INCOMPLETE"}, {0, "NONE"}, {timeline.NUDStale | timeline.NUDPermanent, "STALE,PERMANENT"}} {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("%#x: %q, want %q", uint16(tc.n), got, tc.want)
		}
		if back, ok := timeline.ParseNUD(tc.want); !ok || back != tc.n {
			t.Errorf("ParseNUD(%q) = %#x, %v", tc.want, uint16(back), ok)
		}
	}
}
