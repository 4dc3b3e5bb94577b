package labnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

var clientServer = []HostConfig{{Name: "client"}, {Name: "server"}}

// build runs a top-level test in a namespace of its own (root: a network
// namespace; a normal user: a user+network namespace) and builds t there.
// ok is false in the parent, which must return at once.
func build(t *testing.T, topo Topology) (n *Net, ok bool) {
	t.Helper()
	if !sandboxtest.InNetns(t) {
		return nil, false
	}
	n, err := New(topo)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("cannot build a lab network here: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		goleak.VerifyNone(t)
	})
	return n, true
}

// listen opens a listener on a host's address.
func listen(t *testing.T, h *Host, network string, port int) (ln net.Listener, pc net.PacketConn) {
	t.Helper()
	addr := netip.AddrPortFrom(h.Addr.Addr(), uint16(port)).String()
	err := h.Do(func() (err error) {
		if network == "tcp" {
			ln, err = net.Listen("tcp", addr)
		} else {
			pc, err = net.ListenPacket("udp", addr)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ln, pc
}

func dial(t *testing.T, h *Host, network string, to netip.AddrPort) net.Conn {
	t.Helper()
	var c net.Conn
	err := h.Do(func() (err error) {
		c, err = net.DialTimeout(network, to.String(), 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// udpAcross gives the client a UDP socket connected to the server's port
// 9999, and the server's socket there; both close with the test.
func udpAcross(t *testing.T, n *Net) (client net.Conn, server net.PacketConn) {
	t.Helper()
	srv := n.Host("server")
	_, server = listen(t, srv, "udp", 9999)
	t.Cleanup(func() { server.Close() })
	return dial(t, n.Host("client"), "udp", netip.AddrPortFrom(srv.Addr.Addr(), 9999)), server
}

// snmp reads one counter of /proc/net/snmp in a host's namespace.
func snmp(t *testing.T, h *Host, proto, field string) int {
	t.Helper()
	var v int
	err := h.Do(func() error {
		// /proc/self/net is the main thread's namespace; this thread's is here.
		b, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		var names []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 || f[0] != proto+":" {
				continue
			}
			if names == nil {
				names = f
				continue
			}
			for i, n := range names {
				if n == field {
					v, err = strconv.Atoi(f[i])
					return err
				}
			}
		}
		return fmt.Errorf("no %s %s in /proc/net/snmp", proto, field)
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWireTCP sends a megabyte across the wire over TCP and back its
// length: the connection completes and the data arrives intact, so relayed
// frames carry valid checksums. Every frame crossed the relay.
func TestWireTCP(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer, Wire: &wire.Config{}})
	if !ok {
		return
	}
	client, server := n.Host("client"), n.Host("server")
	ln, _ := listen(t, server, "tcp", 8888)
	defer ln.Close()
	const size = 1 << 20
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		m, err := io.Copy(io.Discard, c)
		if err == nil && m != size {
			err = fmt.Errorf("server read %d bytes, want %d", m, size)
		}
		got <- err
	}()
	c := dial(t, client, "tcp", netip.AddrPortFrom(server.Addr.Addr(), 8888))
	if _, err := c.Write(bytes.Repeat([]byte("netlab"), size/6+1)[:size]); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	st := n.Relay().Stats()
	if st.Frames[wire.AtoB] < size/1500 || st.Frames[wire.BtoA] == 0 {
		t.Errorf("relay stats %+v: the data did not cross the relay", st)
	}
	if st.Dropped != [2]uint64{} || st.SendErrors != [2]uint64{} {
		t.Errorf("relay stats %+v: drops without impairment", st)
	}
	if e := snmp(t, server, "Tcp", "InCsumErrors"); e != 0 {
		t.Errorf("server counted %d TCP checksum errors", e)
	}
	t.Logf("relay: %+v", st)
}

// TestWireUDPChecksum captures a relayed UDP datagram on the receiver's
// eth0: its checksum is present and verifies, and transmit checksum offload
// is off on every veth end.
func TestWireUDPChecksum(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer, Wire: &wire.Config{}, StaticNeighbors: true})
	if !ok {
		return
	}
	client, server := n.Host("client"), n.Host("server")
	for _, c := range []struct {
		ns    *NS
		iface string
	}{{client.NS, Iface}, {server.NS, Iface}, {n.Wire(), W0}, {n.Wire(), W1}} {
		err := c.ns.Do(func() error {
			v, err := ethtoolGet(c.iface, unix.ETHTOOL_GTXCSUM)
			if err == nil && v != 0 {
				err = fmt.Errorf("%s: tx checksum offload is on", c.iface)
			}
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}
	var live *capture.Live
	if err := server.Do(func() (err error) { live, err = capture.OpenLive(Iface); return err }); err != nil {
		t.Skipf("no capture here: %v", err)
	}
	defer live.Close()
	c, pc := udpAcross(t, n)
	if _, err := c.Write([]byte("checksum me")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	if m, _, err := pc.ReadFrom(buf); err != nil || string(buf[:m]) != "checksum me" {
		t.Fatalf("datagram: %q, %v", buf[:m], err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		f, err := live.ReadFrame()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sum, ok := udpChecksum(f.Data)
		if !ok {
			continue
		}
		if sum.field == 0 || sum.field != sum.want {
			t.Fatalf("relayed UDP checksum %#04x, computed %#04x", sum.field, sum.want)
		}
		t.Logf("relayed UDP datagram: checksum %#04x verifies", sum.field)
		return
	}
	t.Fatal("the datagram was not captured on the server's eth0")
}

type checksum struct{ field, want uint16 }

// udpChecksum reads and recomputes the UDP checksum of an Ethernet+IPv4
// frame.
func udpChecksum(f []byte) (checksum, bool) {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14+9] != unix.IPPROTO_UDP {
		return checksum{}, false
	}
	ip := f[14:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	udp := append([]byte(nil), ip[ihl:total]...)
	field := binary.BigEndian.Uint16(udp[6:])
	udp[6], udp[7] = 0, 0
	var s uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	add(ip[12:20])
	s += unix.IPPROTO_UDP + uint32(len(udp))
	add(udp)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	want := ^uint16(s)
	if want == 0 {
		want = 0xffff
	}
	return checksum{field, want}, true
}

// TestCorruptUDP flips a bit in every datagram from the client: the
// server's kernel drops each one on its checksum (counted in
// Udp InCsumErrors) and the program reads nothing.
func TestCorruptUDP(t *testing.T) {
	cfg := &wire.Config{Seed: 1}
	cfg.Impair[wire.AtoB].Corrupt = 1
	n, ok := build(t, Topology{Hosts: clientServer, Wire: cfg, StaticNeighbors: true})
	if !ok {
		return
	}
	server := n.Host("server")
	c, pc := udpAcross(t, n)
	for range 3 {
		if _, err := c.Write([]byte("flip one bit of me")); err != nil {
			t.Fatal(err)
		}
	}
	pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if m, _, err := pc.ReadFrom(make([]byte, 64)); err == nil {
		t.Fatalf("a corrupted datagram arrived (%d bytes)", m)
	}
	if e := snmp(t, server, "Udp", "InCsumErrors"); e != 3 {
		t.Errorf("server Udp InCsumErrors = %d, want 3", e)
	}
	corrupted := 0
	for len(n.Relay().Verdicts()) > 0 {
		if v := <-n.Relay().Verdicts(); v.Dir == wire.AtoB && v.Action&wire.Corrupted != 0 {
			corrupted++
		}
	}
	if corrupted != 3 {
		t.Errorf("%d corrupted verdicts, want 3", corrupted)
	}
}

// TestCorruptTCPRetransmits corrupts the client's first data segment once:
// the server's kernel drops it on its checksum, the client's TCP
// retransmits it, and the program reads the data once.
func TestCorruptTCPRetransmits(t *testing.T) {
	cfg := &wire.Config{Rules: []wire.Rule{{Name: "corrupt-first", Dir: wire.AtoB, Match: wire.MatchData, N: 1, Action: wire.Corrupt}}}
	n, ok := build(t, Topology{Hosts: clientServer, Wire: cfg})
	if !ok {
		return
	}
	client, server := n.Host("client"), n.Host("server")
	ln, _ := listen(t, server, "tcp", 8888)
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	c := dial(t, client, "tcp", netip.AddrPortFrom(server.Addr.Addr(), 8888))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("server read %q, want \"hello\"", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the data never arrived")
	}
	if e := snmp(t, server, "Tcp", "InCsumErrors"); e != 1 {
		t.Errorf("server Tcp InCsumErrors = %d, want 1", e)
	}
	if r := snmp(t, client, "Tcp", "RetransSegs"); r < 1 {
		t.Errorf("client Tcp RetransSegs = %d, want a retransmission", r)
	}
	var rule []wire.Verdict
	for len(n.Relay().Verdicts()) > 0 {
		if v := <-n.Relay().Verdicts(); v.Rule != "" {
			rule = append(rule, v)
		}
	}
	if len(rule) != 1 || rule[0].Rule != "corrupt-first" || rule[0].Action&wire.Corrupted == 0 {
		t.Errorf("rule verdicts %v, want one corrupt-first", rule)
	}
}

// TestCloseLeavesNothing builds and closes a wire: the test's namespace has
// the same links before and after, and no file descriptor or thread of the
// process still refers to the lab's namespaces.
func TestCloseLeavesNothing(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	defer goleak.VerifyNone(t)
	before := links(t)
	n, err := New(Topology{Hosts: clientServer, Wire: &wire.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	if during := links(t); during != before {
		t.Errorf("links in the caller's namespace changed while the lab ran:\n%s\nnow\n%s", before, during)
	}
	ours := map[string]bool{}
	for _, ns := range []*NS{n.Wire(), n.Host("client").NS, n.Host("server").NS} {
		ours[fmt.Sprintf("net:[%d]", ns.Inode())] = true
	}
	if refs := nsRefs(t, ours); len(refs) != 3 {
		t.Errorf("before Close: %d references to our namespaces, want 3 (%v)", len(refs), refs)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if refs := nsRefs(t, ours); len(refs) != 0 {
		t.Errorf("after Close: still referenced: %v", refs)
	}
	if after := links(t); after != before {
		t.Errorf("links before:\n%s\nafter:\n%s", before, after)
	}
}

// links lists the links of the calling thread's namespace, as `ip -d link`
// would name them.
func links(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := withRTNL(func(c *rtnetlink.Conn) error {
		ms, err := c.Link.List()
		for _, m := range ms {
			kind := ""
			if m.Attributes.Info != nil {
				kind = m.Attributes.Info.Kind
			}
			fmt.Fprintf(&b, "%d %s %s\n", m.Index, m.Attributes.Name, kind)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// nsRefs lists the fds and threads of this process that refer to one of
// the namespaces in ours.
func nsRefs(t *testing.T, ours map[string]bool) []string {
	t.Helper()
	var refs []string
	paths, _ := filepath.Glob("/proc/self/fd/*")
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, p := range append(paths, tasks...) {
		if l, err := os.Readlink(p); err == nil && ours[l] {
			refs = append(refs, p)
		}
	}
	return refs
}

// TestWireSeedAndDelay sends 60 numbered datagrams through a wire with
// 30 % loss and 5 ms of delay, twice with seed 7 and once with seed 8: the
// same seed loses the same datagrams, another seed others; what arrives is
// exactly what the verdicts did not drop, each at least 5 ms after it left.
func TestWireSeedAndDelay(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	defer goleak.VerifyNone(t)
	runOnce := func(seed uint64) (lost []int) {
		cfg := &wire.Config{Seed: seed}
		cfg.Impair[wire.AtoB] = wire.Impairment{Loss: 0.3, Delay: 5 * time.Millisecond}
		n, err := New(Topology{Hosts: clientServer, Wire: cfg, StaticNeighbors: true})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		c, pc := udpAcross(t, n)
		defer c.Close()
		defer pc.Close() // before n.Close, so that the namespace can go
		const total = 60
		for i := range total {
			if _, err := c.Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Microsecond)
		}
		arrived := map[int]bool{}
		buf := make([]byte, 8)
		for {
			pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			m, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			if m == 1 {
				arrived[int(buf[0])] = true
			}
		}
		var verdicts []wire.Verdict
		for len(n.Relay().Verdicts()) > 0 {
			verdicts = append(verdicts, <-n.Relay().Verdicts())
		}
		if len(verdicts) != total {
			t.Fatalf("%d verdicts for %d datagrams: %v", len(verdicts), total, verdicts)
		}
		for _, v := range verdicts {
			i := int(v.Index)
			if v.Action&wire.Dropped != 0 {
				lost = append(lost, i)
				if arrived[i] {
					t.Errorf("datagram %d arrived but its verdict is %v", i, v)
				}
				continue
			}
			if !arrived[i] {
				t.Errorf("datagram %d was passed (%v) but never arrived", i, v)
			}
			if d := v.Out.Sub(v.In); d < 5*time.Millisecond {
				t.Errorf("datagram %d left after %v, want ≥ 5ms", i, d)
			}
		}
		if len(lost) < 5 || len(lost) > 35 {
			t.Errorf("%d of %d lost at 30%%", len(lost), total)
		}
		return lost
	}
	a, b, c := runOnce(7), runOnce(7), runOnce(8)
	t.Logf("seed 7 lost %v; seed 8 lost %v", a, c)
	if !slices.Equal(a, b) {
		t.Errorf("seed 7 lost %v, then %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 lost the same datagrams %v", a)
	}
}

// TestHostname: each host has its own host name, where the sandbox lets it
// have a UTS namespace.
func TestHostname(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer})
	if !ok {
		return
	}
	mine, _ := os.Hostname()
	for _, h := range n.Hosts() {
		if h.uts < 0 {
			t.Skip("no UTS namespace of its own here (rootless sandbox): hosts keep the sandbox's name")
		}
		var name string
		if err := h.Do(func() (err error) { name, err = os.Hostname(); return err }); err != nil {
			t.Fatal(err)
		}
		if name != h.Name {
			t.Errorf("host %s calls itself %q", h.Name, name)
		}
	}
	if after, _ := os.Hostname(); after != mine {
		t.Errorf("the caller's host name changed from %q to %q", mine, after)
	}
}

// TestVerdictKeys captures the client's datagrams on its eth0: the key of
// each captured frame finds the wire's verdict on it.
func TestVerdictKeys(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer, Wire: &wire.Config{}, StaticNeighbors: true})
	if !ok {
		return
	}
	client := n.Host("client")
	var live *capture.Live
	if err := client.Do(func() (err error) { live, err = capture.OpenLive(Iface); return err }); err != nil {
		t.Skipf("no capture here: %v", err)
	}
	defer live.Close()
	c, _ := udpAcross(t, n)
	for i := range 5 {
		c.Write([]byte{byte(i)})
	}
	keys := map[uint64]wire.Verdict{}
	deadline := time.Now().Add(time.Second)
	for len(keys) < 5 && time.Now().Before(deadline) {
		select {
		case v := <-n.Relay().Verdicts():
			keys[v.Key] = v
		case <-time.After(10 * time.Millisecond):
		}
	}
	found := 0
	for found < 5 && time.Now().Before(deadline) {
		f, err := live.ReadFrame()
		if err != nil {
			continue
		}
		v, ok := keys[wire.FrameKey(f.Data)]
		if !ok {
			t.Fatalf("captured frame %x has no verdict", f.Data)
		}
		if v.Dir != wire.AtoB || v.Len != len(f.Data) || v.Index != uint64(found) {
			t.Errorf("frame %d matched verdict %v", found, v)
		}
		found++
	}
	if found != 5 {
		t.Errorf("matched %d of 5 frames", found)
	}
}

// TestVerdictOverflow: with nobody reading verdicts, the relay keeps
// forwarding and counts the verdicts it could not deliver.
func TestVerdictOverflow(t *testing.T) {
	n, ok := build(t, Topology{Hosts: clientServer, Wire: &wire.Config{}, StaticNeighbors: true})
	if !ok {
		return
	}
	server := n.Host("server")
	c, pc := udpAcross(t, n)
	const total = wire.VerdictBuffer + 1000
	var received atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 8)
		for received.Load() < total {
			pc.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			received.Add(1)
		}
	}()
	for i := range total {
		// At most 64 in flight: the server's socket buffer must not overflow.
		for int64(i)-received.Load() >= 64 {
			select {
			case <-done:
				t.Fatalf("the receiver stopped after %d datagrams", received.Load())
			case <-time.After(20 * time.Microsecond):
			}
		}
		c.Write([]byte{byte(i)})
	}
	<-done
	if m := received.Load(); m != total {
		t.Errorf("%d of %d datagrams arrived; relay %+v; server RcvbufErrors %d", m, total, n.Relay().Stats(), snmp(t, server, "Udp", "RcvbufErrors"))
	}
	// A verdict is reported just after its frame is sent: wait for the last.
	st := n.Relay().Stats()
	for deadline := time.Now().Add(time.Second); st.Overflow < total-wire.VerdictBuffer && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		st = n.Relay().Stats()
	}
	if st.Overflow != total-wire.VerdictBuffer || len(n.Relay().Verdicts()) != wire.VerdictBuffer {
		t.Errorf("overflow %d, want %d", st.Overflow, total-wire.VerdictBuffer)
	}
	if err := n.Relay().Err(); err != nil {
		t.Error(err)
	}
}
