package labnet

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/labnet/wire"
	"golang.org/x/sys/unix"
)

// benchNets builds a cable (a plain veth pair) and a wire with no impairment
// between a client and a server, side by side in the benchmark's process,
// with the same MTU and offloads: the only difference is the relay.
func benchNets(b *testing.B) (cable, relay *Net) {
	b.Helper()
	var err error
	if cable, err = New(Topology{Hosts: clientServer, StaticNeighbors: true}); err != nil {
		b.Skipf("cannot build a lab network (needs root or a user namespace): %v", err)
	}
	b.Cleanup(func() { cable.Close() })
	if relay, err = New(Topology{Hosts: clientServer, Wire: &wire.Config{}, StaticNeighbors: true}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { relay.Close() })
	return cable, relay
}

// offloadCable builds a cable with the veth's default offloads back on (TSO
// and GSO hand 64 KB segments across; checksums are left undone): what a
// direct veth pair gives when nobody copies its frames through user space.
func offloadCable(b *testing.B) *Net {
	b.Helper()
	n, err := New(Topology{Hosts: clientServer, StaticNeighbors: true})
	if err != nil {
		b.Skipf("cannot build a lab network: %v", err)
	}
	b.Cleanup(func() { n.Close() })
	for _, h := range n.Hosts() {
		err := h.Do(func() error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			for _, cmd := range []uint32{unix.ETHTOOL_STXCSUM, unix.ETHTOOL_SSG, unix.ETHTOOL_STSO, unix.ETHTOOL_SGSO} {
				if err := ethtoolSet(fd, Iface, cmd, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// tcpPair connects the client to the server over n; the server side is the
// second conn.
func tcpPair(b *testing.B, n *Net) (client, server net.Conn) {
	b.Helper()
	srv := n.Host("server")
	addr := netip.AddrPortFrom(srv.Addr.Addr(), 9000).String()
	var ln net.Listener
	if err := srv.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	if err := n.Host("client").Do(func() (err error) { client, err = net.Dial("tcp", addr); return err }); err != nil {
		b.Fatal(err)
	}
	server = <-acc
	if server == nil {
		b.Fatal("accept failed")
	}
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// udpPair gives a connected client socket and the server's socket.
func udpPair(b *testing.B, n *Net) (client net.Conn, server net.PacketConn) {
	b.Helper()
	srv := n.Host("server")
	addr := netip.AddrPortFrom(srv.Addr.Addr(), 9001).String()
	if err := srv.Do(func() (err error) { server, err = net.ListenPacket("udp", addr); return err }); err != nil {
		b.Fatal(err)
	}
	if err := n.Host("client").Do(func() (err error) { client, err = net.Dial("udp", addr); return err }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// BenchmarkThroughput moves bulk TCP data from client to server through the
// relay, through a cable with the same MTU and offloads, and through a cable
// with the veth's default offloads, in turn in each iteration: the MB/s of
// each and the relay's share of each cable's.
func BenchmarkThroughput(b *testing.B) {
	cable, relay := benchNets(b)
	fast := offloadCable(b)
	const chunk = 16 << 20
	type path struct {
		name    string
		send    func() error
		elapsed time.Duration
	}
	var paths []*path
	for _, n := range []*Net{cable, relay, fast} {
		c, s := tcpPair(b, n)
		ack := make(chan error, 1)
		go func() {
			for {
				if _, err := io.CopyN(io.Discard, s, chunk); err != nil {
					ack <- err
					return
				}
				ack <- nil
			}
		}()
		buf := make([]byte, 256<<10)
		name := map[*Net]string{cable: "cable", relay: "relay", fast: "offload-cable"}[n]
		paths = append(paths, &path{name: name, send: func() error {
			for sent := 0; sent < chunk; sent += len(buf) {
				if _, err := c.Write(buf); err != nil {
					return err
				}
			}
			return <-ack
		}})
	}
	b.SetBytes(int64(len(paths)) * chunk)
	b.ResetTimer()
	for b.Loop() {
		for _, p := range paths {
			start := time.Now()
			if err := p.send(); err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
			p.elapsed += time.Since(start)
		}
	}
	b.StopTimer()
	mbps := func(p *path) float64 { return float64(b.N) * chunk / p.elapsed.Seconds() / 1e6 }
	b.ReportMetric(mbps(paths[0]), "cable-MB/s")
	b.ReportMetric(mbps(paths[1]), "relay-MB/s")
	b.ReportMetric(100*mbps(paths[1])/mbps(paths[0]), "relay-%-of-cable")
	b.ReportMetric(mbps(paths[2]), "offload-cable-MB/s")
	b.ReportMetric(100*mbps(paths[1])/mbps(paths[2]), "relay-%-of-offload-cable")
}

// BenchmarkLatency bounces one small UDP datagram at a time between client
// and server through the relay and through a cable: the median round trip
// of each, the relay's added one-way median, and the median time a frame
// spends inside the relay (its verdict's Out − In).
func BenchmarkLatency(b *testing.B) {
	cable, relay := benchNets(b)
	var residency []time.Duration
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range relay.Relay().Verdicts() {
			mu.Lock()
			residency = append(residency, v.Out.Sub(v.In))
			mu.Unlock()
		}
	}()
	var rtts [2][]time.Duration
	var rounds [2]func() error
	for i, n := range []*Net{cable, relay} {
		c, s := udpPair(b, n)
		go func() {
			buf := make([]byte, 64)
			for {
				m, from, err := s.ReadFrom(buf)
				if err != nil {
					return
				}
				s.WriteTo(buf[:m], from)
			}
		}()
		buf := make([]byte, 64)
		rounds[i] = func() error {
			start := time.Now()
			if _, err := c.Write(buf[:32]); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				return err
			}
			rtts[i] = append(rtts[i], time.Since(start))
			return nil
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range rounds {
			if err := rounds[i](); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	relay.Relay().Close()
	<-done
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(time.Microsecond)
	}
	c, r := med(rtts[0]), med(rtts[1])
	b.ReportMetric(c, "cable-rtt-µs")
	b.ReportMetric(r, "relay-rtt-µs")
	b.ReportMetric((r-c)/2, "added-one-way-µs")
	mu.Lock()
	if len(residency) > 0 {
		b.ReportMetric(med(residency), "in-relay-µs")
	}
	mu.Unlock()
}

// BenchmarkFrames sends small UDP datagrams through the relay as fast as
// the receiver takes them (at most 128 in flight, so that no socket buffer
// overflows): frames per second, and the same on a cable.
func BenchmarkFrames(b *testing.B) {
	cable, relay := benchNets(b)
	for _, n := range []*Net{cable, relay} {
		name := "cable"
		if n.Relay() != nil {
			name = "relay"
		}
		b.Run(name, func(b *testing.B) {
			c, s := udpPair(b, n)
			var got atomic.Int64
			go func() {
				buf := make([]byte, 64)
				for {
					if _, _, err := s.ReadFrom(buf); err != nil {
						return
					}
					got.Add(1)
				}
			}()
			payload := make([]byte, 18) // a 60-byte frame, Ethernet's minimum
			const window = 128
			start := time.Now()
			sent := int64(0)
			for b.Loop() {
				for sent-got.Load() >= window {
					time.Sleep(10 * time.Microsecond)
				}
				if _, err := c.Write(payload); err != nil && !errors.Is(err, net.ErrClosed) {
					b.Fatal(err)
				}
				sent++
			}
			deadline := time.Now().Add(2 * time.Second)
			for got.Load() < sent && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			el := time.Since(start)
			b.ReportMetric(float64(got.Load())/el.Seconds(), "frames/s")
			if lost := sent - got.Load(); lost > 0 {
				b.ReportMetric(float64(lost), "lost")
			}
		})
	}
}
