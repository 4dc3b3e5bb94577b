package labnet_test

import (
	"fmt"
	"net"
	"time"

	"github.com/netlab/netlab/lab/labnet"
	"github.com/netlab/netlab/lab/labnet/wire"
)

// A client and a server joined by a wire that delays the client's packets by
// 20 ms and loses the server's first SYN,ACK. (Not run by go test: it needs
// root or a user namespace.)
func Example() {
	cfg := &wire.Config{Seed: 7, Rules: []wire.Rule{
		{Name: "lose-syn-ack", Dir: wire.BtoA, Match: wire.MatchSYNACK},
	}}
	cfg.Impair[wire.AtoB].Delay = 20 * time.Millisecond
	n, err := labnet.New(labnet.Topology{
		Hosts: []labnet.HostConfig{{Name: "client"}, {Name: "server"}},
		Wire:  cfg,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Close()
	client, server := n.Host("client"), n.Host("server")

	// Sockets made inside Do belong to the host for good.
	addr := server.Addr.Addr().String() + ":8888"
	var ln net.Listener
	if err := server.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	var c net.Conn
	if err := client.Do(func() (err error) { c, err = net.Dial("tcp", addr); return err }); err != nil {
		fmt.Println(err)
		return
	}
	c.Close() // connected about a second late: the client resent its SYN
	// What the wire did, e.g. "a>b #0 delay +20.04ms" (the SYN) and
	// "b>a #0 drop (lose-syn-ack)".
	for len(n.Relay().Verdicts()) > 0 {
		fmt.Println(<-n.Relay().Verdicts())
	}
}
