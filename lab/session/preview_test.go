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
		// TLS ciphertext: few control bytes, but not UTF-8.
		{[]byte("|\n;yl\xf7\xe1\x9a\xc3\xfe\xb0\x81\xd4ab\x8c"), "7c 0a 3b 79 6c f7 e1 9a …"},
		{nil, ""},
	}
	for _, tc := range tests {
		if got := preview(tc.in); got != tc.want {
			t.Errorf("preview(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
