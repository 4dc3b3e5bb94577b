package sockstate

import (
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
	"github.com/netlab/netlab/lab/tcpstate"
)

// envRecord tells TestTCPInfoMatchesKernel, in its network namespace, to
// write the replies it read into this directory (the parent sets it under
// -update, which the re-executed child does not see).
const envRecord = "NETLAB_SOCKSTATE_RECORD"

// transferred is how much each test connection sends before it is read.
const transferred = 1 << 20

// tcpConn is one loopback connection of TestTCPInfoMatchesKernel.
type tcpConn struct {
	name     string
	cl, sv   net.Conn
	cli, srv netip.AddrPort
}

// dialTransfer connects to ln with the congestion algorithm cong ("" for
// the kernel's default), sends transferred bytes from the client and reads
// them all at the server.
func dialTransfer(t *testing.T, ln net.Listener, name, cong string) *tcpConn {
	t.Helper()
	d := net.Dialer{KeepAlive: -1}
	if cong != "" {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cong)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	cl, err := d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		if cong != "" && errors.Is(err, unix.ENOENT) {
			t.Skipf("congestion control %q not available here: %v", cong, err)
		}
		t.Fatal(err)
	}
	sv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); sv.Close() })
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, sv, transferred)
		done <- err
	}()
	if _, err := cl.Write(make([]byte, transferred)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return &tcpConn{name: name, cl: cl, sv: sv, cli: tcpAddrPort(cl.LocalAddr()), srv: tcpAddrPort(sv.LocalAddr())}
}

// sockCongestion reads TCP_CONGESTION from the socket itself.
func sockCongestion(t *testing.T, c net.Conn) string {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		name, gerr = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatalf("getsockopt TCP_CONGESTION: %v", gerr)
	}
	return strings.TrimRight(name, "\x00")
}

// rawReplies dumps the IPv4 table as the Conn does and returns the raw
// inet_diag_msg of every row, by local and remote address.
func rawReplies(t *testing.T, c *Conn) map[[2]netip.AddrPort][]byte {
	t.Helper()
	var r [sizeofReq]byte
	msgs, err := c.nl.Execute(dumpRequest(&r, unix.AF_INET))
	if err != nil {
		t.Fatalf("raw dump: %v", err)
	}
	rows := map[[2]netip.AddrPort][]byte{}
	for _, m := range msgs {
		var s Socket
		if _, err := parseMsg(m.Data, &s, new(TCPInfo)); err != nil {
			t.Fatal(err)
		}
		rows[[2]netip.AddrPort{s.Local, s.Remote}] = m.Data
	}
	return rows
}

// ssInfo runs `ss -tinH` for the socket at local and returns the words of
// its info line: key:value pairs, and the bare words (the algorithm's name,
// flags) under their own name with value "".
func ssInfo(t *testing.T, local netip.AddrPort, listening bool) map[string]string {
	t.Helper()
	args := []string{"-tinH"}
	if listening {
		args = append(args, "-l")
	}
	out, err := exec.Command("ss", append(args, "src", local.String())...).CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("ss (iproute2) not installed")
	}
	if err != nil {
		t.Fatalf("ss: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("ss %v: want one socket and its info line, got:\n%s", args, out)
	}
	words := map[string]string{}
	for _, f := range strings.Fields(lines[1]) {
		k, v, _ := strings.Cut(f, ":")
		words[k] = v
	}
	return words
}

// TestTCPInfoMatchesKernel reads tcp_info of real loopback connections after
// a transfer, with the kernel's default congestion control and with cubic
// set by TCP_CONGESTION, and compares it with what the socket itself, the
// sysctl and ss -tin say. With -update it records the raw replies the
// parser tests use.
func TestTCPInfoMatchesKernel(t *testing.T) {
	if golden.Updating() {
		dir, err := filepath.Abs("testdata")
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(envRecord, dir)
	}
	if !sandboxtest.InNetns(t) {
		return
	}
	def, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		t.Fatal(err)
	}
	defaultCong := strings.TrimSpace(string(def))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lnAddr := tcpAddrPort(ln.Addr())
	conns := []*tcpConn{
		dialTransfer(t, ln, "established-"+defaultCong, ""),
		dialTransfer(t, ln, "established-cubic", "cubic"),
	}
	c := openConn(t)
	socks, err := c.DumpTCP(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawReplies(t, c)
	record := map[string][]byte{}
	for _, tc := range conns {
		s := find(socks, tc.cli, tc.srv)
		if s == nil || s.Info == nil {
			t.Fatalf("%s: client %v without tcp_info in the dump:\n%s", tc.name, tc.cli, fmtSockets(socks))
		}
		in := s.Info
		want := sockCongestion(t, tc.cl)
		if tc.name == "established-"+defaultCong && want != defaultCong {
			t.Errorf("%s: TCP_CONGESTION %q, sysctl default %q", tc.name, want, defaultCong)
		}
		if in.Congestion != want {
			t.Errorf("%s: Congestion %q, the socket's TCP_CONGESTION says %q", tc.name, in.Congestion, want)
		}
		if want == "bbr" && !in.BBR.Present {
			t.Errorf("%s: bbr socket without tcp_bbr_info", tc.name)
		}
		if in.BytesAcked < transferred || in.SndCwnd == 0 || in.RTT == 0 || in.Size < TCPInfoSize5_4 {
			t.Errorf("%s: implausible reading after a %d-byte transfer: %+v", tc.name, transferred, *in)
		}
		msg := raw[[2]netip.AddrPort{tc.cli, tc.srv}]
		if msg == nil {
			t.Fatalf("%s: client not in the raw dump", tc.name)
		}
		if ref := refTCPInfo(replyInfo(t, msg)); ref.Size != in.Size || ref.SndCwnd != in.SndCwnd {
			t.Errorf("%s: raw tcp_info decodes as %+v, the dump said %+v", tc.name, ref, *in)
		}
		record["reply-"+tc.name+".bin"] = msg
		compareSS(t, tc.name, in, ssInfo(t, tc.cli, false))
		t.Logf("%s: %s cwnd %d ssthresh %d rtt %v/%v rto %v mss %d ca_state %v delivery %d B/s bbr %+v",
			tc.name, in.Congestion, in.SndCwnd, in.SndSsthresh, in.RTT, in.RTTVar, in.RTO, in.SndMSS,
			in.CAState, in.DeliveryRate, in.BBR)
	}
	record["reply-listen.bin"] = raw[[2]netip.AddrPort{lnAddr, netip.AddrPortFrom(netip.IPv4Unspecified(), 0)}]

	// A connection closed client first: the client's TIME-WAIT row has no
	// tcp_info, which the reading says by being nil.
	tw := dialTransfer(t, ln, "timewait", "")
	tw.cl.Close()
	if _, err := tw.sv.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("server read after client close: %v, want EOF", err)
	}
	tw.sv.Close()
	socks = waitDump(t, c, "client in TIME-WAIT", hasState(tw.cli, tw.srv, tcpstate.TimeWait))
	if s := find(socks, tw.cli, tw.srv); s.Info != nil || s.Info.Has(WatchAll) != 0 {
		t.Errorf("TIME-WAIT row has tcp_info %+v", *s.Info)
	}
	record["reply-timewait.bin"] = rawReplies(t, c)[[2]netip.AddrPort{tw.cli, tw.srv}]

	if dir := os.Getenv(envRecord); dir != "" {
		for name, msg := range record {
			if msg == nil {
				t.Fatalf("%s: row missing from the raw dump", name)
			}
			if err := os.WriteFile(filepath.Join(dir, name), msg, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("recorded %d replies in %s", len(record), dir)
	}
}

// compareSS compares a reading with the info line ss printed for the same
// socket a moment later. The connection is idle, so counts must be equal;
// times, which ss prints in milliseconds, must agree within rounding.
func compareSS(t *testing.T, name string, in *TCPInfo, ss map[string]string) {
	t.Helper()
	if _, ok := ss[in.Congestion]; !ok {
		t.Errorf("%s: algorithm %q, not on ss's line %v", name, in.Congestion, ss)
	}
	counts := []struct {
		key string
		got uint64
	}{
		{"cwnd", uint64(in.SndCwnd)}, {"mss", uint64(in.SndMSS)}, {"rcvmss", uint64(in.RcvMSS)},
		{"advmss", uint64(in.AdvMSS)}, {"pmtu", uint64(in.PMTU)}, {"ssthresh", uint64(in.SndSsthresh)},
		{"bytes_sent", in.BytesSent}, {"bytes_acked", in.BytesAcked}, {"segs_out", uint64(in.SegsOut)},
		{"segs_in", uint64(in.SegsIn)}, {"data_segs_out", uint64(in.DataSegsOut)},
		{"delivered", uint64(in.Delivered)}, {"rcv_space", uint64(in.RcvSpace)},
		{"rcv_ssthresh", uint64(in.RcvSsthresh)}, {"snd_wnd", uint64(in.SndWnd)},
	}
	for _, f := range counts {
		v, ok := ss[f.key]
		if !ok {
			if f.key == "cwnd" || f.key == "mss" || f.key == "ssthresh" && in.SndSsthresh < 0xffff {
				t.Errorf("%s: ss printed no %s: %v", name, f.key, ss)
			}
			continue
		}
		if want, err := strconv.ParseUint(v, 10, 64); err != nil || f.got != want {
			t.Errorf("%s: %s = %d, ss says %s", name, f.key, f.got, v)
		}
	}
	rtt, rttvar, _ := strings.Cut(ss["rtt"], "/")
	times := []struct {
		key string
		got time.Duration
		ss  string
	}{
		{"rtt", in.RTT, rtt}, {"rttvar", in.RTTVar, rttvar}, {"rto", in.RTO, ss["rto"]},
		{"minrtt", in.MinRTT, ss["minrtt"]},
	}
	for _, f := range times {
		ms, err := strconv.ParseFloat(f.ss, 64)
		if err != nil {
			t.Errorf("%s: ss %s %q: %v", name, f.key, f.ss, err)
			continue
		}
		if d := math.Abs(f.got.Seconds()*1e3 - ms); d > 0.001 {
			t.Errorf("%s: %s = %v, ss says %sms", name, f.key, f.got, f.ss)
		}
	}
}
