package scenarios

import "github.com/netlab/netlab/lab/i18n"

// The lanes of netlab's scenarios: who a socket belongs to, a column of the
// ladder. Scenarios address lanes, never addresses (s.Listen(server, 8888),
// s.Dial(client, server, 8888)); the run decides where each lives. The names
// are what the timeline and the JSON call them; laneZh, right below, is how a
// check's detail says them in Chinese.
const (
	client     = "client"
	server     = "server"
	resolver   = "resolver"    // the DNS server of the application scenarios
	closedPort = "closed port" // a port where nothing listens (reset, udp)
	client1    = "client 1"    // backlog's three clients
	client2    = "client 2"
	client3    = "client 3"
)

var laneZh = map[string]string{
	client: "客户端", server: "服务器", resolver: "解析服务器", closedPort: "关闭的端口",
	client1: "客户端 1", client2: "客户端 2", client3: "客户端 3",
}

// lane names a lane in a detail: "client" in English, 客户端 in Chinese.
func lane(name string) i18n.Text { return i18n.T(name, laneZh[name]) }
