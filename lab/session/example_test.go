package session_test

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/lab/internal/sessionrun"
	"github.com/netlab/netlab/lab/session"
)

// A scenario's Run gets a session and uses it like the net package, with
// lanes instead of addresses: the server lane listens, the client lane
// dials it, and every call lands on the run's timeline. Step narrates (and
// pauses in the dashboard); it needs no error check, because when the run
// is interrupted the session closes its sockets and the next call fails.
func Example() {
	const client, server = "client", "server"
	run := func(s *session.Session) error {
		ln, err := s.Listen(server, 0) // 0: any port; lessons use the port a learner expects
		if err != nil {
			return err
		}
		s.Go(func() error { // the server: echo one message
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			if err != nil {
				return err
			}
			_, err = c.Write(buf[:n])
			return err
		})
		s.Step("The client connects and says hello.", "客户端连接并打招呼。")
		c, err := s.Dial(client, server, ln.Addr().Port())
		if err != nil {
			return err
		}
		if _, err := c.Write([]byte("hello")); err != nil {
			return err
		}
		got, err := c.ReadFull(len("hello"))
		if err != nil {
			return err
		}
		fmt.Printf("the client read %q\n", got)
		return c.Close()
	}

	// The engine makes the session in a real run; here it records nowhere.
	s := session.New(context.Background(), sessionrun.Config{})
	if err := run(s); err != nil {
		fmt.Println(err)
	}
	if err := s.Close(); err != nil {
		fmt.Println(err)
	}
	// Output: the client read "hello"
}
