package impair

import (
	"testing"
	"time"

	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

func TestDropLogRefusesHost(t *testing.T) {
	if _, err := OpenDropLog(sandbox.Host); err == nil {
		t.Fatal("OpenDropLog(Host) succeeded: the host's log groups are not the lab's")
	}
}

// TestDropLog: every datagram a Drop rule drops is in the log by the time
// the sender's write has returned, and nothing else is.
func TestDropLog(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	log, err := OpenDropLog(sandbox.Netns)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	f, _, tx := firewallAndPair(t)
	if _, err := tx.Write([]byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := f.Drop(Match{Proto: "udp", DstPort: 9999}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one", "two", "three"} {
		if _, err := tx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Drain(time.Now()); err != nil {
		t.Fatal(err)
	}
	if len(log.keys) != 3 {
		t.Fatalf("the log holds %d drops, want 3", len(log.keys))
	}
	if log.Dropped([]byte("not a packet the rule dropped")) {
		t.Error("an unknown packet counted as dropped")
	}
}
