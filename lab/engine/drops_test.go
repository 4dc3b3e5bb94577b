package engine

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/impair"
	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

// TestDropMarker: on a live capture of lo, the datagrams a Drop rule drops
// are marked dropped by the firewall, and the others not.
func TestDropMarker(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	src, err := capture.OpenLive(sandbox.Loopback)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	log, err := impair.OpenDropLog(sandbox.Netns)
	if err != nil {
		t.Fatal(err)
	}
	drops := &dropMarker{log: log}
	defer drops.close()
	fw, err := impair.Open(sandbox.Netns)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	if err := fw.Drop(impair.Match{Proto: "udp", DstPort: 9999}); err != nil {
		t.Fatal(err)
	}
	tx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	want := map[string]decode.Drop{}
	for i, port := range []int{9999, 9998, 9999, 9998} {
		msg := string(rune('a' + i))
		want[msg] = map[int]decode.Drop{9999: decode.DropFirewall, 9998: decode.Delivered}[port]
		if _, err := tx.WriteToUDP([]byte(msg), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
	}
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		f, err := src.ReadFrame()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var p decode.Packet
		dec.Decode(f.Data, f.Length, &p)
		if err := drops.mark(&p, f.Time); err != nil {
			t.Fatal(err)
		}
		if p.Proto != decode.ProtoUDP {
			continue // the port unreachable answers to :9998
		}
		msg := string(p.Payload())
		if w, ok := want[msg]; !ok || p.Lab.Drop != w {
			t.Errorf("datagram %q to port %d: drop %q, want %q", msg, p.Dst.Port(), p.Lab.Drop, w)
		}
		delete(want, msg)
	}
	if len(want) > 0 {
		t.Errorf("not captured: %v", want)
	}
}
