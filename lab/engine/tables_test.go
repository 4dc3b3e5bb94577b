package engine

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/labnet/wire"
	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

// TestLabNetTablesSmall: a lab network's hosts each get a private TCP hash
// table of 128 buckets. Sharing the machine's (262,144 buckets here), each
// poll of a host's sockets walked all of it and the two hosts' pollers
// kept a 2-core machine busy.
func TestLabNetTablesSmall(t *testing.T) {
	if !sandboxtest.InNetns(t) {
		return
	}
	n, err := newLabNet(&wire.Config{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, h := range n.Hosts() {
		var got []byte
		err := h.Do(func() (err error) { got, err = os.ReadFile("/proc/sys/net/ipv4/tcp_ehash_entries"); return err })
		if errors.Is(err, fs.ErrNotExist) {
			t.Skip("this kernel has no per-namespace TCP hash tables (Linux 6.1+)")
		}
		if err != nil {
			t.Fatal(err)
		}
		// Negative: the namespace shares the machine's table.
		if s := strings.TrimSpace(string(got)); s != "128" {
			t.Errorf("host %s: tcp_ehash_entries %s, want a private 128", h.Name, s)
		}
	}
}
