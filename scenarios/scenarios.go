// Package scenarios is netlab's catalog of lessons. Each scenario is one file:
// its lesson in English and Simplified Chinese, the program that acts it out
// on real sockets, and the checks that must hold on the run's own capture.
// To add one, copy a file (echo.go is the smallest), rename the variable,
// and add it to Catalog in teaching order.
package scenarios

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

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
