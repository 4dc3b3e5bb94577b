// Package scenarios is netlab's catalog of lessons. Each scenario is one file:
// its lesson in English and Simplified Chinese, the program that acts it out
// on real sockets, and the checks that must hold on the run's own capture.
// To add one, copy a file (echo.go is the smallest), rename the variable,
// and add it to Catalog in teaching order.
package scenarios

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// Catalog returns every scenario, in teaching order.
func Catalog() lesson.Catalog {
	return lesson.Catalog{
		Echo,
		Handshake,
		Close,
		TimeWait,
		Coalescing,
		NagleDelay,
		UDP,
		Reset,
		CloseWait,
		Backlog,
		FlowControl,
		KeepAlive,
		HTTP,
		HTTPS,
		DNS,
		Browse,
		URL,
		Retransmit,
		FastRetransmit,
		Reorder,
		Reliability,
		HandshakeLoss,
		TimeWaitWhy,
		Latency,
		SlowStart,
		WindowLimits,
		Congestion,
		Bufferbloat,
		ARP,
	}
}

// waitLong bounds waiting for the kernel or the capture to show something.
const waitLong = 2 * time.Second

// inState names a lane's socket state the kernel must have reported.
type inState struct {
	lane  string
	state tcpstate.State
}

// awaitKernel waits, in order, until the kernel's socket table has shown each
// lane in its state (not inferred from packets: what the checks will read).
func awaitKernel(s *session.Session, want ...inState) error {
	for _, w := range want {
		if _, err := s.Wait(waitLong, func(e *timeline.Event) bool {
			return e.Kind == timeline.KindState && e.State.Lane == w.lane && e.State.Source == timeline.Kernel && e.State.To == w.state
		}); err != nil {
			return fmt.Errorf("%s %s: %w", w.lane, w.state, err)
		}
	}
	return nil
}

// first returns the first packet or nil.
func first(ps []*decode.Packet) *decode.Packet {
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}

// connectPair dials ln from the client lane and accepts on the server lane,
// returning both ends of the new connection. opts apply to the client's
// socket before connect.
func connectPair(s *session.Session, ln *session.Listener, opts ...session.Option) (cli, srv *session.Conn, err error) {
	type res struct {
		c   *session.Conn
		err error
	}
	accepted := make(chan res, 1)
	s.Go(func() error {
		c, err := ln.Accept()
		accepted <- res{c, err}
		return err
	})
	cli, err = s.Dial(client, server, ln.Addr().Port(), opts...)
	if err != nil {
		return nil, nil, err
	}
	r := <-accepted
	if r.err != nil {
		return nil, nil, r.err
	}
	return cli, r.c, nil
}

// delayACKs makes c's kernel delay its ACKs (TCP_QUICKACK=0 puts the socket
// in Linux's "interactive" mode, where an ACK waits up to the delayed-ACK
// timer, 40 ms or more, hoping to ride on data).
func delayACKs(c *session.Conn) error {
	return c.SetsockoptInt(unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0, "TCP_QUICKACK")
}

// naglePair opens a connection whose server delays its ACKs and whose client
// has Nagle's algorithm on (noDelay false) or off.
func naglePair(s *session.Session, ln *session.Listener, noDelay bool) (cli, srv *session.Conn, err error) {
	cli, srv, err = connectPair(s, ln)
	if err != nil {
		return nil, nil, err
	}
	if err := delayACKs(srv); err != nil {
		return nil, nil, err
	}
	if err := cli.SetNoDelay(noDelay); err != nil {
		return nil, nil, err
	}
	return cli, srv, nil
}

// closeBoth closes the client's end, then the server's.
func closeBoth(cli, srv *session.Conn) error {
	if err := cli.Close(); err != nil {
		return err
	}
	return srv.Close()
}

// copies are the packets the lane sent with all of flags set (and, if
// without is set, none of it), in order, and the times between them.
func copies(v *check.View, lane string, flags, without decode.Flags) (ps []*decode.Packet, gaps []time.Duration) {
	var last time.Time
	for _, e := range v.Events() {
		p := e.Packet
		if p == nil || p.Lab.From != lane || !p.Flags.Has(flags) || p.Flags&without != 0 {
			continue
		}
		if len(ps) > 0 {
			gaps = append(gaps, e.Time.Sub(last))
		}
		ps, last = append(ps, p), e.Time
	}
	return ps, gaps
}

// fmtMS is a duration in milliseconds with one decimal.
func fmtMS(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// initialRTO is Linux's retransmission timeout for a connection without a
// round-trip measurement (TCP_TIMEOUT_INIT, RFC 6298's 1 s).
const initialRTO = time.Second

// aboutRTO reports whether a wait is the initial RTO, give or take the
// kernel's timer granularity and a busy machine.
func aboutRTO(d time.Duration) bool { return d >= initialRTO*9/10 && d <= initialRTO*3/2 }

// fates says each packet's fate in a detail: "lost delivered".
func fates(ps []*decode.Packet) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += " "
		}
		if p.Lab.Drop == decode.DropWire {
			s += "lost"
		} else {
			s += "delivered"
		}
	}
	return s
}

// udpDelivered is how many copies of a datagram reached the receiver's
// kernel intact: none if the wire lost it, two if it duplicated it, one
// fewer for a corrupted copy (the kernel drops it on its checksum).
func udpDelivered(p *decode.Packet) int {
	switch w := p.Lab.Wire; {
	case p.Lab.Drop != 0:
		return 0
	case !w.Known:
		return 1
	case w.Action&decode.WireCorrupted != 0:
		return max(int(w.Copies)-1, 0)
	}
	return int(p.Lab.Wire.Copies)
}

// serveOnce accepts one connection on ln, reads n bytes from it and sends
// the read's result on the channel it returns; then it waits for the
// client's FIN and closes.
func serveOnce(s *session.Session, ln *session.Listener, n int) <-chan error {
	read := make(chan error, 1)
	s.Go(func() error {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.ReadFull(n)
		}
		read <- err
		if err != nil {
			return err
		}
		c.Read(make([]byte, 16)) // the client's FIN
		return c.Close()
	})
	return read
}

// sendVerified writes n bytes from cli in one write and has srv read them
// all; the run fails if srv read other bytes than were sent.
func sendVerified(cli, srv *session.Conn, n int) error { return sendVerifiedAfter(cli, srv, n, nil) }

// sendVerifiedAfter is sendVerified with srv reading only once settle (if
// set) has returned.
func sendVerifiedAfter(cli, srv *session.Conn, n int, settle func()) error {
	want := bytes.Repeat([]byte("0123456789"), n/10+1)[:n]
	if _, err := cli.Write(want); err != nil {
		return err
	}
	if settle != nil {
		settle()
	}
	got, err := srv.ReadFull(n)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the server read other bytes than the client sent")
	}
	return nil
}

// awaitInfo waits up to d for a tcp_info reading of sock that ok accepts:
// so that the poller has read what the checks will look at before an act
// ends. A timeout is no error: the check then says what the kernel showed.
func awaitInfo(s *session.Session, sock timeline.Socket, d time.Duration, ok func(*timeline.TCPInfo) bool) {
	s.Wait(d, func(e *timeline.Event) bool { //nolint:errcheck // a timeout leaves the check to judge
		return e.TCPInfo != nil && e.TCPInfo.Socket == sock && ok(e.TCPInfo)
	})
}

// roomyReceiver gives the server's host a 4 MiB default receive buffer
// (net.ipv4.tcp_rmem), so that its advertised window never holds a
// sender back: what a lesson shows is the sender's own limit.
func roomyReceiver(s *session.Session) error {
	return s.Sysctl(server, "net.ipv4.tcp_rmem", "4096 4194304 8388608")
}

// rttSample is one round trip the capture shows: a segment that takes
// sequence space (SYN, data, FIN), from leaving its sender until the
// first ACK covering it arrived back: the samples the sender's kernel
// takes itself. end is the sequence number after the segment.
type rttSample struct {
	end uint32
	rtt time.Duration
}

// segmentRTTs are the round trips of lane's original segments, in the
// order sent.
func segmentRTTs(v *check.View, lane string) []rttSample {
	type sent struct {
		conv int
		end  uint32
		at   time.Time
	}
	type ack struct {
		ack uint32
		at  time.Time
	}
	var segs []sent
	acks := map[int][]ack{} // the peer's ACKs by conversation, as they arrived
	for _, e := range v.Events() {
		p := e.Packet
		switch {
		case p == nil || !check.Original(p):
		case p.Lab.From == lane:
			n := uint32(p.PayloadLen)
			if p.Flags&(decode.SYN|decode.FIN) != 0 {
				n++
			}
			if n > 0 {
				segs = append(segs, sent{p.Flow.Conv, p.Flow.RelSeq + n, e.Time})
			}
		case p.Flags.Has(decode.ACK) && !p.Lab.Wire.Arrived.IsZero():
			acks[p.Flow.Conv] = append(acks[p.Flow.Conv], ack{p.Flow.RelAck, p.Lab.Wire.Arrived})
		}
	}
	for _, as := range acks {
		slices.SortStableFunc(as, func(a, b ack) int { return a.at.Compare(b.at) })
	}
	// Within a conversation later segments end higher and leave later,
	// so the first ACK that covers each one only moves forward.
	next := map[int]int{}
	var out []rttSample
	for _, sg := range segs {
		as, k := acks[sg.conv], next[sg.conv]
		for k < len(as) && (as[k].at.Before(sg.at) || as[k].ack < sg.end) {
			k++
		}
		next[sg.conv] = k
		if k < len(as) {
			out = append(out, rttSample{sg.end, as[k].at.Sub(sg.at)})
		}
	}
	return out
}

// secondHalfRate is the rate at which the peer acknowledged the second
// half of the total bytes lane sent, in bytes per second, from the arrivals
// at lane of the ACKs for half the bytes and for all (after slow start);
// and when the first of them arrived (zero: never).
func secondHalfRate(v *check.View, lane string, total int) (float64, time.Time) {
	var half, all time.Time
	for _, e := range v.Events() {
		p := e.Packet
		if p == nil || p.Lab.From == lane || !p.Flags.Has(decode.ACK) || p.Lab.Wire.Arrived.IsZero() {
			continue
		}
		at := p.Lab.Wire.Arrived
		if p.Flow.RelAck > uint32(total/2) && (half.IsZero() || at.Before(half)) {
			half = at
		}
		if p.Flow.RelAck > uint32(total) && (all.IsZero() || at.Before(all)) {
			all = at
		}
	}
	if d := all.Sub(half); !half.IsZero() && d > 0 {
		return float64(total-total/2) / d.Seconds(), half
	}
	return 0, half
}

// transferBulk writes n bytes from cli in one call while srv reads them
// all, and returns once both are done.
func transferBulk(s *session.Session, cli, srv *session.Conn, n int) error {
	read := make(chan error, 1)
	s.Go(func() error {
		_, err := srv.ReadFull(n)
		read <- err
		return err
	})
	if _, err := cli.Write(bytes.Repeat([]byte("x"), n)); err != nil {
		return err
	}
	return <-read
}

// sendBulk connects to ln, with congestion control alg unless it is empty
// (read back from the kernel, so the timeline names the algorithm the
// socket really used), sends n bytes that the server reads, and closes
// both ends.
func sendBulk(s *session.Session, ln *session.Listener, n int, alg string) error {
	var opts []session.Option
	if alg != "" {
		opts = append(opts, session.Congestion(alg))
	}
	cli, srv, err := connectPair(s, ln, opts...)
	if err != nil {
		return err
	}
	if alg != "" {
		if _, err := cli.Congestion(); err != nil {
			return err
		}
	}
	if err := transferBulk(s, cli, srv, n); err != nil {
		return err
	}
	return closeBoth(cli, srv)
}

// writeSpaced writes each message with its own call, 1 ms apart: the same
// code for a UDP socket (one datagram each) and a TCP connection.
func writeSpaced(s *session.Session, write func([]byte) (int, error), msgs [][]byte) error {
	for _, m := range msgs {
		if _, err := write(m); err != nil {
			return err
		}
		if err := s.Sleep(time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
