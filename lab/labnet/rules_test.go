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
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	dial(t, client, "tcp", netip.AddrPortFrom(server.Addr.Addr(), 8888))
	time.Sleep(20 * time.Millisecond) // let the accept happen
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
