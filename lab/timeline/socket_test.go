package timeline

import (
	"net/netip"
	"testing"
)

func TestSocketListener(t *testing.T) {
	for _, tc := range []struct {
		s    Socket
		want bool
	}{
		{Socket{Local: mustAP("127.0.0.1:8888")}, true},
		{Socket{Local: mustAP("0.0.0.0:8888"), Remote: mustAP("0.0.0.0:0")}, true},
		{Socket{Local: mustAP("127.0.0.1:40000"), Remote: mustAP("127.0.0.1:8888")}, false},
	} {
		if got := tc.s.Listener(); got != tc.want {
			t.Errorf("%v.Listener() = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestUnmap(t *testing.T) {
	for in, want := range map[string]string{
		"[::ffff:127.0.0.1]:8888": "127.0.0.1:8888",
		"127.0.0.1:8888":          "127.0.0.1:8888",
		"[::1]:53":                "[::1]:53",
	} {
		if got := Unmap(mustAP(in)); got != mustAP(want) {
			t.Errorf("Unmap(%s) = %v, want %s", in, got, want)
		}
	}
	if got := Unmap(netip.AddrPort{}); got.IsValid() {
		t.Errorf("Unmap(zero) = %v, want the zero AddrPort", got)
	}
}
