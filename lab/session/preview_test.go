package session

import "testing"

func TestPreview(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte("hello world"), `"hello world"`},
		{[]byte("GET / HTTP/1.1\r\nHost: shop.lab\r\n\r\n"), `"GET / HTTP/1.1\r\nHost: shop.lab\r\n\r\n"`},
		{[]byte{0x0c, 0x16, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}, "0c 16 01 00 00 01 00 00 …"},
		{[]byte("你好"), `"你好"`},
		{nil, ""},
	}
	for _, tc := range tests {
		if got := preview(tc.in); got != tc.want {
			t.Errorf("preview(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
