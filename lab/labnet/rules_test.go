package labnet

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
	"github.com/netlab/netlab/lab/sockstate"
	"go.uber.org/goleak"
)

// ruleVerdicts drains the verdicts made so far that name a rule.
func ruleVerdicts(n *Net) []wire.Verdict {
	var out []wire.Verdict
	for len(n.Relay().Verdicts()) > 0 {
		if v := <-n.Relay().Verdicts(); v.Rule != "" {
			out = append(out, v)
		}
	}
	return out
}

// TestLoseSYNACK: with the server's first SYN,ACK lost, connect still
// succeeds, about a second later (the initial RTO), after one drop.
func TestLoseSYNACK(t *testing.T) {
	cfg := &wire.Config{Rules: []wire.Rule{{Name: "lose-syn-ack", Dir: wire.BtoA, Match: wire.MatchSYNACK}}}
	n, ok := build(t, Topology{Hosts: clientServer, Wire: cfg, StaticNeighbors: true})
	if !ok {
		return
	}
	ln, _ := listen(t, n.Host("server"), "tcp", 8888)
	defer ln.Close()
	start := time.Now()
	dial(t, n.Host("client"), "tcp", netip.AddrPortFrom(n.Host("server").Addr.Addr(), 8888))
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("connect took %v: the SYN,ACK was not lost", took)
	}
	if vs := ruleVerdicts(n); len(vs) != 1 || vs[0].Action != wire.Dropped || vs[0].Dir != wire.BtoA {
		t.Errorf("verdicts %v, want one drop of the SYN,ACK", vs)
	}
}

// TestLoseLastACK: the client closes first; its last ACK is lost, so the
// server, in LAST-ACK, retransmits its FIN and the client (in TIME-WAIT)
// acknowledges it again.
func TestLoseLastACK(t *testing.T) {
	cfg := &wire.Config{Rules: []wire.Rule{{Name: "lose-last-ack", Dir: wire.AtoB, Match: wire.MatchLastACK}}}
	n, ok := build(t, Topology{Hosts: clientServer, Wire: cfg, StaticNeighbors: true})
	if !ok {
		return
	}
	server := n.Host("server")
	ln, _ := listen(t, server, "tcp", 8888)
	defer ln.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		if c, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c := dial(t, n.Host("client"), "tcp", netip.AddrPortFrom(server.Addr.Addr(), 8888))
	c.Write([]byte("bye"))
	c.Close()
	<-closed
	deadline := time.Now().Add(3 * time.Second)
	for snmp(t, server, "Tcp", "RetransSegs") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if r := snmp(t, server, "Tcp", "RetransSegs"); r != 1 {
		t.Errorf("server retransmitted %d segments, want its FIN once", r)
	}
	if vs := ruleVerdicts(n); len(vs) != 1 || vs[0].Action != wire.Dropped {
		t.Errorf("verdicts %v, want the last ACK dropped once", vs)
	}
}

// TestBlackout drops everything the client sends between 0 and 300 ms of
// the wire's life: a datagram sent at once is lost, one sent at 400 ms
// arrives.
func TestBlackout(t *testing.T) {
	cfg := &wire.Config{Rules: []wire.Rule{{Name: "blackout", Dir: wire.AtoB, Match: wire.MatchWindow, For: 300 * time.Millisecond}}}
	n, ok := build(t, Topology{Hosts: clientServer, Wire: cfg, StaticNeighbors: true})
	if !ok {
		return
	}
	started := time.Now()
	c, pc := udpAcross(t, n)
	read := func() string {
		buf := make([]byte, 16)
		pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		m, _, _ := pc.ReadFrom(buf)
		return string(buf[:m])
	}
	c.Write([]byte("early"))
	if got := read(); got != "" {
		t.Errorf("read %q during the blackout", got)
	}
	time.Sleep(time.Until(started.Add(400 * time.Millisecond)))
	c.Write([]byte("late"))
	if got := read(); got != "late" {
		t.Errorf("read %q after the blackout, want \"late\"", got)
	}
	if vs := ruleVerdicts(n); len(vs) != 1 || vs[0].Rule != "blackout" {
		t.Errorf("verdicts %v, want one blackout drop", vs)
	}
}

// TestIPv6 connects over the hosts' 2001:db8:: addresses.
func TestIPv6(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer, Wire: &wire.Config{}, IPv6: true})
	if !ok {
		return
	}
	server := n.Host("server")
	if want := netip.MustParsePrefix("2001:db8::20/64"); server.Addr6 != want {
		t.Fatalf("server Addr6 %v, want %v", server.Addr6, want)
	}
	var ln net.Listener
	addr := netip.AddrPortFrom(server.Addr6.Addr(), 8888)
	if err := server.Do(func() (err error) { ln, err = net.Listen("tcp", addr.String()); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("v6"))
			c.Close()
		}
	}()
	c := dial(t, n.Host("client"), "tcp", addr)
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "v6" {
		t.Fatalf("read %q, %v", b, err)
	}
}

// envKillChild makes the test binary build a lab network, print its
// namespaces' inodes and wait to be killed.
const envKillChild = "NETLAB_LABNET_KILL_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envKillChild) == "1" {
		n, err := New(Topology{Hosts: clientServer, Wire: &wire.Config{}})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		for _, ns := range []*NS{n.Wire(), n.Hosts()[0].NS, n.Hosts()[1].NS} {
			fmt.Printf("net:[%d]\n", ns.Inode())
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKillLeavesNothing kills -9 a process holding a wire: afterwards no
// process on the machine refers to its namespaces (so they, their veths and
// the relay are gone).
func TestKillLeavesNothing(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envKillChild+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	buf := make([]byte, 4096)
	var text string
	for !strings.Contains(text, "ready") {
		m, err := out.Read(buf)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %v: %s", err, text)
		}
		text += string(buf[:m])
	}
	for _, l := range strings.Fields(text) {
		if strings.HasPrefix(l, "net:[") {
			ours[l] = true
		}
	}
	if refs := allRefs(ours); len(refs) == 0 {
		t.Fatalf("the child's namespaces %v are not visible while it runs", ours)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if refs := allRefs(ours); len(refs) != 0 {
		t.Errorf("after kill -9, still referenced: %v", refs)
	}
}

// allRefs lists every fd and thread of every process that refers to one of
// the namespaces in ours.
func allRefs(ours map[string]bool) []string {
	var refs []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if _, err := strconv.Atoi(filepath.Base(p)); err != nil {
			continue
		}
		fds, _ := filepath.Glob(p + "/fd/*")
		tasks, _ := filepath.Glob(p + "/task/*/ns/net")
		for _, f := range append(fds, tasks...) {
			if l, err := os.Readlink(f); err == nil && ours[l] {
				refs = append(refs, f)
			}
		}
	}
	return refs
}

// TestSockDiagPerHost opens a sock_diag socket inside each host, as the
// engine's poller will: the client's sees its connection and no listener,
// the server's sees the listener and its end of the connection.
func TestSockDiagPerHost(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer, Wire: &wire.Config{}, StaticNeighbors: true})
	if !ok {
		return
	}
	client, server := n.Host("client"), n.Host("server")
	ln, _ := listen(t, server, "tcp", 8888)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	dial(t, client, "tcp", netip.AddrPortFrom(server.Addr.Addr(), 8888))
	if c := <-accepted; c != nil {
		defer c.Close()
	}
	states := func(h *Host) string {
		var conn *sockstate.Conn
		if err := h.Do(func() (err error) { conn, err = sockstate.Open(); return err }); err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		socks, err := conn.DumpTCP(nil)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, s := range socks {
			rows = append(rows, fmt.Sprintf("%v %v", s.Local, s.State))
		}
		slices.Sort(rows)
		return strings.Join(rows, ", ")
	}
	t.Logf("client: %s; server: %s", states(client), states(server))
	if got, want := states(client), "192.0.2.10:"; !strings.HasPrefix(got, want) || strings.Contains(got, "LISTEN") || strings.Count(got, ",") != 0 {
		t.Errorf("client's sockets: %s", got)
	}
	if got := states(server); strings.Count(got, "192.0.2.20:8888") != 2 || !strings.Contains(got, "LISTEN") {
		t.Errorf("server's sockets: %s", got)
	}
}

// TestWireImpairments sends numbered UDP datagrams from client to server
// through a wire impaired one way at a time and checks what the server's
// program reads.
func TestWireImpairments(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	defer goleak.VerifyNone(t)
	type result struct {
		order   []int // datagram numbers in the order read
		elapsed time.Duration
	}
	for _, c := range []struct {
		name  string
		im    wire.Impairment
		count int
		size  int
		check func(t *testing.T, r result)
	}{
		{"duplicate", wire.Impairment{Duplicate: 1}, 10, 10, func(t *testing.T, r result) {
			if len(r.order) != 20 {
				t.Errorf("read %v, want each of 10 twice", r.order)
			}
			for i := 0; i+1 < len(r.order); i += 2 {
				if r.order[i] != r.order[i+1] {
					t.Errorf("read %v: copies not side by side", r.order)
					break
				}
			}
		}},
		{"mtu", wire.Impairment{MTU: 1000}, 5, 1200, func(t *testing.T, r result) {
			if len(r.order) != 0 {
				t.Errorf("read %v through an MTU of 1000", r.order)
			}
		}},
		{"mtu fits", wire.Impairment{MTU: 1000}, 5, 900, func(t *testing.T, r result) {
			if len(r.order) != 5 {
				t.Errorf("read %v, want 5", r.order)
			}
		}},
		{"rate", wire.Impairment{Rate: 1_000_000}, 10, 1208, func(t *testing.T, r result) {
			// 1250-byte frames at 1 Mbit/s: 10 ms each after the first.
			if len(r.order) != 10 || r.elapsed < 85*time.Millisecond {
				t.Errorf("read %v in %v, want 10 in ≥ 90 ms", r.order, r.elapsed)
			}
		}},
		{"queue", wire.Impairment{Rate: 1_000_000, Queue: 4}, 10, 1208, func(t *testing.T, r result) {
			// Sent back to back: one leaves at once, four wait, the rest
			// find the queue full (unless the sender was descheduled for
			// 10 ms and the queue drained a little).
			if len(r.order) < 5 || len(r.order) > 7 || !slices.Equal(r.order[:5], []int{0, 1, 2, 3, 4}) {
				t.Errorf("read %v, want the first 5 (1 sent at once, 4 queued) and the rest tail-dropped", r.order)
			}
		}},
		{"reorder", wire.Impairment{Reorder: 0.5, ReorderGap: 5 * time.Millisecond}, 40, 10, func(t *testing.T, r result) {
			if len(r.order) != 40 || slices.IsSorted(r.order) {
				t.Errorf("read %v, want all 40 out of order", r.order)
			}
		}},
		{"delay keeps order", wire.Impairment{Delay: 5 * time.Millisecond, Jitter: 4 * time.Millisecond}, 40, 10, func(t *testing.T, r result) {
			if len(r.order) != 40 || !slices.IsSorted(r.order) || r.elapsed < 5*time.Millisecond {
				t.Errorf("read %v in %v, want all 40 in order after ≥ 5 ms", r.order, r.elapsed)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := &wire.Config{Seed: 3}
			cfg.Impair[wire.AtoB] = c.im
			n, err := New(Topology{Hosts: clientServer, Wire: cfg, StaticNeighbors: true})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			conn, pc := udpAcross(t, n)
			defer conn.Close()
			defer pc.Close()
			start := time.Now()
			msg := make([]byte, c.size)
			for i := range c.count {
				msg[0] = byte(i)
				if _, err := conn.Write(msg); err != nil {
					t.Fatal(err)
				}
				if c.im.Queue == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
			var r result
			buf := make([]byte, 2048)
			for {
				pc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
				m, _, err := pc.ReadFrom(buf)
				if err != nil {
					break
				}
				if m == c.size {
					r.order = append(r.order, int(buf[0]))
					r.elapsed = time.Since(start)
				}
			}
			c.check(t, r)
		})
	}
}

// TestSysctl turns SACK off in the client alone.
func TestSysctl(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer})
	if !ok {
		return
	}
	client, server := n.Host("client"), n.Host("server")
	if err := client.Sysctl("net.ipv4.tcp_sack", "0"); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[*Host]string{client: "0", server: "1"} {
		if got, err := h.ReadSysctl("net.ipv4.tcp_sack"); err != nil || got != want {
			t.Errorf("%s: tcp_sack %q, %v; want %q", h, got, err, want)
		}
	}
	if err := client.Sysctl("kernel.hostname", "x"); err == nil {
		t.Error("a kernel.* sysctl was accepted")
	}
}
