package impair

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

func TestMatchString(t *testing.T) {
	for _, c := range []struct {
		m    Match
		want string
	}{
		{Match{Proto: "tcp", DstPort: 8888}, "tcp dport 8888"},
		{Match{Proto: "udp", SrcPort: 53, DstPort: 9}, "udp sport 53 dport 9"},
		{Match{Proto: "tcp"}, "meta l4proto tcp"},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
	}
}

func TestRefusesHost(t *testing.T) {
	if _, err := Open(sandbox.Host); err == nil {
		t.Fatal("Open(Host) succeeded: it must never touch the host's firewall")
	}
}

func TestBadRules(t *testing.T) {
	if _, err := matchExprs(Match{Proto: "sctp"}); err == nil {
		t.Error("sctp accepted")
	}
	var f Firewall
	if err := f.Loss(Match{Proto: "udp"}, 101); err == nil {
		t.Error("101% loss accepted")
	}
}

// TestDropAndClear sends UDP datagrams across lo in a fresh namespace: they
// arrive, then not while a Drop rule matches them (its counter counts them),
// then again after Clear.
func TestDropAndClear(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	f, err := Open(sandbox.Netns)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("nftables not allowed here: %v", err)
		}
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}()
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9999})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9998})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	arrives := func(to *net.UDPConn) bool {
		t.Helper()
		if _, err := tx.WriteToUDP([]byte("x"), to.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatalf("send: %v (a drop at input must not fail the sender)", err)
		}
		to.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := to.Read(make([]byte, 8))
		return err == nil
	}
	if !arrives(rx) {
		t.Fatal("datagram lost before any rule")
	}
	if err := f.Drop(Match{Proto: "udp", DstPort: 9999}); err != nil {
		t.Fatal(err)
	}
	if arrives(rx) || arrives(rx) {
		t.Fatal("datagram to :9999 arrived despite the drop rule")
	}
	if !arrives(other) {
		t.Fatal("datagram to :9998 dropped: the rule matched the wrong port")
	}
	if n, err := f.Dropped(); err != nil || n != 2 {
		t.Fatalf("Dropped() = %d, %v; want 2", n, err)
	}
	if err := f.Clear(); err != nil {
		t.Fatal(err)
	}
	if !arrives(rx) {
		t.Fatal("datagram lost after Clear")
	}
}

// TestLoss drops about half of 400 datagrams.
func TestLoss(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	f, rx, tx := firewallAndPair(t)
	rx.SetReadBuffer(1 << 20)
	if err := f.Loss(Match{Proto: "udp", DstPort: 9999}, 50); err != nil {
		t.Fatal(err)
	}
	const n = 400
	for i := 0; i < n; i++ {
		if _, err := tx.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		if _, err := rx.Read(make([]byte, 8)); err != nil {
			break
		}
		got++
	}
	dropped, err := f.Dropped()
	if err != nil {
		t.Fatal(err)
	}
	// Binomial(400, 0.5): a count outside 130–270 has odds below 1e-40.
	if got < 130 || got > 270 || int(dropped)+got != n {
		t.Fatalf("received %d of %d with 50%% loss, rule counted %d drops", got, n, dropped)
	}
}

// firewallAndPair opens the run's firewall and a UDP receiver on
// 127.0.0.1:9999 with a sender connected to it, all closed when t ends.
func firewallAndPair(t *testing.T) (f *Firewall, rx, tx *net.UDPConn) {
	t.Helper()
	f, err := Open(sandbox.Netns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rx, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9999})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err = net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return f, rx, tx
}
