package framing

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// msgs are the coalescing lesson's messages: one with multi-byte UTF-8, one
// of one byte, one longer than a 16-byte read.
var msgs = []string{"hello", "粘包 means sticky packets", "a", "length prefix or delimiter: the receiver must know where a message ends", "bye"}

func TestEncode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       Framing
		msgs    []string
		want    string
		wantErr string
	}{
		{"2-byte prefix", Prefix16, []string{"hi", "", "abc"}, "\x00\x02hi\x00\x00\x00\x03abc", ""},
		{"1-byte prefix", LengthPrefix(1), []string{"hi"}, "\x02hi", ""},
		{"4-byte prefix", LengthPrefix(4), []string{"hi"}, "\x00\x00\x00\x02hi", ""},
		{"1-byte prefix, 256 bytes", LengthPrefix(1), []string{strings.Repeat("x", 256)}, "", "message 1: length prefix of 1 bytes: a message of 256 bytes is too long"},
		{"2-byte prefix, the largest message", Prefix16, []string{strings.Repeat("x", 65535)}, "\xff\xff" + strings.Repeat("x", 65535), ""},
		{"2-byte prefix, 65536 bytes", Prefix16, []string{"ok", strings.Repeat("x", 65536)}, "", "message 2: length prefix of 2 bytes: a message of 65536 bytes is too long"},
		{"3-byte prefix", LengthPrefix(3), []string{"hi"}, "", "want 1, 2 or 4"},
		{"newline", Newline, []string{"hi", "", "abc"}, "hi\n\nabc\n", ""},
		{"NUL", Delimiter(0), []string{"hi"}, "hi\x00", ""},
		{"newline in a message", Newline, []string{"one", "two\nlines"}, "", "message 2: delimiter '\\n': the message holds it at byte 3"},
		{"no messages", Newline, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.f, tc.msgs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Encode: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Encode = %q, %v; want %q", got, err, tc.want)
			}
			back, err := Decode(tc.f, got)
			if err != nil || !slices.Equal(back, tc.msgs) {
				t.Errorf("Decode(Encode) = %q, %v; want %q", back, err, tc.msgs)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        Framing
		in       string
		want     []string
		leftOver int
	}{
		{"prefix: whole messages", Prefix16, "\x00\x01a\x00\x02bc", []string{"a", "bc"}, 0},
		{"prefix: a message cut short", Prefix16, "\x00\x01a\x00\x05bc", []string{"a"}, 4},
		{"prefix: half a length", Prefix16, "\x00\x01a\x00", []string{"a"}, 1},
		{"prefix: empty", Prefix16, "", nil, 0},
		{"prefix: an empty message", Prefix16, "\x00\x00", []string{""}, 0},
		{"prefix: 4 bytes of length", LengthPrefix(4), "\x00\x00\x00\x01z", []string{"z"}, 0},
		{"prefix: a length past the input", LengthPrefix(4), "\xff\xff\xff\xffz", nil, 5},
		{"newline: whole messages", Newline, "a\nbc\n", []string{"a", "bc"}, 0},
		{"newline: no end", Newline, "a\nbc", []string{"a"}, 2},
		{"newline: empty lines", Newline, "\n\n", []string{"", ""}, 0},
		{"newline: a prefix-framed stream", Newline, "\x00\x05hello", nil, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.f, []byte(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Decode = %q, want %q", got, tc.want)
			}
			var lo *LeftOverError
			switch {
			case tc.leftOver == 0 && err != nil:
				t.Errorf("Decode: %v", err)
			case tc.leftOver > 0 && (!errors.As(err, &lo) || lo.N != tc.leftOver):
				t.Errorf("Decode: %v, want %d bytes left over", err, tc.leftOver)
			}
		})
	}
}

func TestEnds(t *testing.T) {
	// As the coalescing lesson's messageEnds counts: 2 bytes of length
	// before each message, or 1 byte of delimiter after it.
	lesson := func(overhead int) []int {
		var out []int
		off := 0
		for _, m := range msgs {
			off += len(m) + overhead
			out = append(out, off)
		}
		return out
	}
	for _, tc := range []struct {
		f    Framing
		want []int
	}{
		{Prefix16, lesson(2)},
		{Newline, lesson(1)},
		{LengthPrefix(4), lesson(4)},
	} {
		got, err := Ends(tc.f, msgs)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Ends(%v) = %v, %v; want %v", tc.f, got, err, tc.want)
		}
		b, _ := Encode(tc.f, msgs)
		if got[len(got)-1] != len(b) {
			t.Errorf("%v: the last end %d is not the stream's length %d", tc.f, got[len(got)-1], len(b))
		}
	}
	if got, _ := Ends(Prefix16, []string{"hello", "粘包"}); !slices.Equal(got, []int{7, 15}) {
		t.Errorf("Ends counts characters, not bytes: %v, want [7 15]", got)
	}
	if _, err := Ends(Newline, []string{"a\n"}); err == nil {
		t.Error("Ends framed a message holding the delimiter")
	}
}

// TestReadAll sends the messages over a loopback TCP connection in
// odd-sized writes that straddle message boundaries, and reads them through
// a 16-byte buffer: every message comes out whole.
func TestReadAll(t *testing.T) {
	for _, f := range []Framing{Prefix16, Newline} {
		t.Run(f.String(), func(t *testing.T) {
			wire, err := Encode(f, msgs)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			sent := make(chan error, 1)
			go func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					sent <- err
					return
				}
				defer c.Close()
				for i, rest := 0, wire; len(rest) > 0; i++ {
					n := min([]int{3, 11, 7, 1, 17}[i%5], len(rest))
					if _, err := c.Write(rest[:n]); err != nil {
						sent <- err
						return
					}
					rest = rest[n:]
					time.Sleep(time.Millisecond)
				}
				sent <- c.(*net.TCPConn).CloseWrite()
			}()
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			reads := &countingReader{r: c}
			got, err := ReadAll(reads, f, 16)
			if err != nil || !slices.Equal(got, msgs) {
				t.Errorf("ReadAll = %q, %v; want %q", got, err, msgs)
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			if reads.max > 16 || reads.n < (len(wire)+15)/16 {
				t.Errorf("%d reads of at most %d bytes for %d bytes", reads.n, reads.max, len(wire))
			}
		})
	}
}

type countingReader struct {
	r      io.Reader
	n, max int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n++
	c.max = max(c.max, n)
	return n, err
}

func TestReadAllEnds(t *testing.T) {
	boom := errors.New("connection reset")
	for _, tc := range []struct {
		name    string
		r       io.Reader
		f       Framing
		bufSize int
		want    []string
		wantErr string
	}{
		{"one byte per read", iotest.OneByteReader(strings.NewReader("ab\ncd\n")), Newline, 16, []string{"ab", "cd"}, ""},
		{"data with EOF", iotest.DataErrReader(strings.NewReader("\x00\x02ab")), Prefix16, 1, []string{"ab"}, ""},
		{"ends inside a message", strings.NewReader("ab\ncd"), Newline, 4, []string{"ab"}, "delimiter: 2 bytes left over"},
		{"ends inside a length", strings.NewReader("\x00\x01a\x00"), Prefix16, 4, []string{"a"}, "length prefix: 1 bytes left over"},
		{"a read error", io.MultiReader(strings.NewReader("ab\n"), iotest.ErrReader(boom)), Newline, 16, []string{"ab"}, "delimiter: read: connection reset"},
		{"no buffer", strings.NewReader("ab\n"), Newline, 0, nil, "read buffer of 0 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(tc.r, tc.f, tc.bufSize)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ReadAll = %q, want %q", got, tc.want)
			}
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("ReadAll: %v, want %q", err, tc.wantErr)
			}
		})
	}
	_, err := ReadAll(strings.NewReader("x"), Newline, 4)
	var lo *LeftOverError
	if !errors.As(err, &lo) || lo.N != 1 {
		t.Errorf("ReadAll: %v is not a LeftOverError of 1 byte", err)
	}
}
