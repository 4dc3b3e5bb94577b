package labsvc_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/netlab/netlab/lab/labsvc"
)

// A lesson quotes the zone as Render writes it: the records the server
// serves, no more and no fewer.
func ExampleZone_Render() {
	fmt.Print(labsvc.LabZone().Render("  "))
	// Output:
	//   $ORIGIN lab.
	//   $TTL 300
	//   @         IN SOA  ns.lab. admin.lab. 2024010101 3600 600 86400 60
	//   @         IN NS   ns.lab.
	//   ns        IN A    127.0.0.53
	//   shop      IN A    127.0.0.80
	//   www.shop  IN CNAME shop.lab.
}

func ExampleZone_Answer() {
	q := new(dns.Msg)
	q.SetQuestion("www.shop.lab.", dns.TypeA)
	r := labsvc.LabZone().Answer(q)
	fmt.Println(dns.RcodeToString[r.Rcode], "aa:", r.Authoritative)
	for _, rr := range r.Answer {
		fmt.Println(rr)
	}
	// Output:
	// NOERROR aa: true
	// www.shop.lab.	300	IN	CNAME	shop.lab.
	// shop.lab.	300	IN	A	127.0.0.80
}

// The lab's DNS server on a loopback socket, and Go's stub resolver asking
// it. A lesson passes the session's recorded sockets instead.
func ExampleServeDNS() {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()
	go labsvc.ServeDNS(pc, labsvc.LabZone())

	var d net.Dialer
	res := labsvc.NewResolver(pc.LocalAddr().String(), d.DialContext)
	for _, name := range []string{"shop.lab.", "www.shop.lab.", "nope.lab."} {
		ips, err := res.LookupNetIP(context.Background(), "ip4", name)
		if err != nil {
			fmt.Println(name, "→", err.(*net.DNSError).IsNotFound)
			continue
		}
		fmt.Println(name, "→", ips[0].Unmap())
	}
	// Output:
	// shop.lab. → 127.0.0.80
	// www.shop.lab. → 127.0.0.80
	// nope.lab. → true
}

// The lab's web site over TLS 1.3 on a loopback port, fetched by the lab's
// client: the name comes from a hosts map, the trust from the run's pool.
func ExampleNewClient() {
	m, err := labsvc.NewTLS(labsvc.SiteName)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go labsvc.Serve(ln, labsvc.Shop(), m.ServerConfig(nil))

	dial := (&net.Dialer{KeepAlive: -1}).DialContext // as the lab's sockets: no TCP keep-alive
	cl, tr := labsvc.NewClient(dial, labsvc.ClientOptions{
		Hosts: map[string]netip.Addr{labsvc.SiteName: netip.MustParseAddr("127.0.0.1")},
		TLS:   m.ClientConfig(nil),
	})
	defer tr.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	resp, body, err := labsvc.Fetch(context.Background(), cl, "GET", "https://"+labsvc.SiteName+":"+port+"/", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Proto, resp.Status, resp.Header.Get("Content-Type"))
	fmt.Print(string(body))
	// Output:
	// HTTP/1.1 200 OK text/html; charset=utf-8
	// <!doctype html><title>shop.lab</title><h1>Welcome to shop.lab</h1>
}
