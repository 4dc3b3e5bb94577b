// Package framing cuts a TCP byte stream into the messages an application
// sent. TCP keeps no message boundaries: writes coalesce into segments and
// segments into reads, so a receiver finds where a message ends only if the
// protocol says how. The two classic ways are here: a length prefix (the
// message's size, then the message) and a delimiter (the message, then a
// byte that never occurs in one, such as a newline).
//
// Encode and Decode work on whole byte strings (a capture's stream);
// ReadAll reads a live connection through a buffer of a chosen size, so a
// lesson controls (and its timeline shows) how the reads cut the stream.
package framing

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Framing is one way to mark where messages end.
type Framing interface {
	// Append appends msg, framed, to dst; it fails if msg cannot be framed
	// (too long for the prefix, or holding the delimiter).
	Append(dst []byte, msg string) ([]byte, error)
	// Cut takes the first message off b: the message and what follows it,
	// or ok false if b does not hold a whole message yet.
	Cut(b []byte) (msg string, rest []byte, ok bool)
	// String names the framing ("length prefix", "delimiter").
	String() string
}

// LengthPrefix frames a message as its length in this many bytes,
// big-endian (network byte order), then the message: 1, 2 or 4.
type LengthPrefix int

// Delimiter frames a message as the message, then this byte.
type Delimiter byte

// Common framings.
const (
	// Prefix16 is a 2-byte length, messages up to 65,535 bytes.
	Prefix16 = LengthPrefix(2)
	// Newline ends every message with '\n', as line protocols do.
	Newline = Delimiter('\n')
)

var (
	_ Framing = LengthPrefix(2)
	_ Framing = Delimiter('\n')
)

func (p LengthPrefix) String() string { return "length prefix" }

// Append appends len(msg) in p bytes and msg.
func (p LengthPrefix) Append(dst []byte, msg string) ([]byte, error) {
	n := uint64(len(msg))
	switch {
	case p != 1 && p != 2 && p != 4:
		return dst, fmt.Errorf("length prefix of %d bytes: want 1, 2 or 4", int(p))
	case n >= 1<<(8*uint(p)):
		return dst, fmt.Errorf("length prefix of %d bytes: a message of %d bytes is too long", int(p), n)
	}
	for i := int(p) - 1; i >= 0; i-- {
		dst = append(dst, byte(n>>(8*uint(i))))
	}
	return append(dst, msg...), nil
}

// Cut reads the length, then takes that many bytes.
func (p LengthPrefix) Cut(b []byte) (string, []byte, bool) {
	size := int(p)
	if len(b) < size {
		return "", b, false
	}
	var n uint64
	switch size {
	case 1:
		n = uint64(b[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b))
	case 4:
		n = uint64(binary.BigEndian.Uint32(b))
	default:
		return "", b, false
	}
	if uint64(len(b)-size) < n {
		return "", b, false
	}
	end := size + int(n)
	return string(b[size:end]), b[end:], true
}

func (d Delimiter) String() string { return "delimiter" }

// Append appends msg and the delimiter.
func (d Delimiter) Append(dst []byte, msg string) ([]byte, error) {
	if i := strings.IndexByte(msg, byte(d)); i >= 0 {
		return dst, fmt.Errorf("delimiter %s: the message holds it at byte %d", strconv.QuoteRune(rune(d)), i)
	}
	return append(append(dst, msg...), byte(d)), nil
}

// Cut takes the bytes up to the first delimiter, and drops the delimiter.
func (d Delimiter) Cut(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, byte(d))
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

// LeftOverError says a stream ended inside a message: N bytes were not a
// whole one.
type LeftOverError struct{ N int }

func (e *LeftOverError) Error() string { return strconv.Itoa(e.N) + " bytes left over" }

// Encode frames every message, in order, into one byte string.
func Encode(f Framing, msgs []string) ([]byte, error) {
	var out []byte
	for i, m := range msgs {
		var err error
		if out, err = f.Append(out, m); err != nil {
			return nil, fmt.Errorf("message %d: %w", i+1, err)
		}
	}
	return out, nil
}

// Ends is the offset in Encode's output where each message's frame ends:
// the boundaries a receiver must find again.
func Ends(f Framing, msgs []string) ([]int, error) {
	out := make([]int, 0, len(msgs))
	off := 0
	for i, m := range msgs {
		b, err := f.Append(nil, m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i+1, err)
		}
		off += len(b)
		out = append(out, off)
	}
	return out, nil
}

// Decode cuts b into every whole message it holds. Bytes after the last
// one are a *LeftOverError (and the messages before them are returned).
func Decode(f Framing, b []byte) ([]string, error) {
	var msgs []string
	for {
		m, rest, ok := f.Cut(b)
		if !ok {
			break
		}
		msgs, b = append(msgs, m), rest
	}
	if len(b) > 0 {
		return msgs, &LeftOverError{N: len(b)}
	}
	return msgs, nil
}

// ReadAll reads r through a buffer of bufSize bytes until EOF, cutting
// messages out as they complete: a read may end inside a message or hold
// several, the messages come out whole. Bytes left when r ends are a
// *LeftOverError, wrapped with the framing's name ("delimiter: 3 bytes left
// over"); a read error other than io.EOF is returned wrapped. The messages
// read so far are returned in either case.
func ReadAll(r io.Reader, f Framing, bufSize int) ([]string, error) {
	if bufSize <= 0 {
		return nil, fmt.Errorf("%v: read buffer of %d bytes", f, bufSize)
	}
	var msgs []string
	var pending []byte
	buf := make([]byte, bufSize)
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			m, rest, ok := f.Cut(pending)
			if !ok {
				break
			}
			msgs, pending = append(msgs, m), rest
		}
		if n == 0 && err != nil {
			switch {
			case !errors.Is(err, io.EOF):
				return msgs, fmt.Errorf("%v: read: %w", f, err)
			case len(pending) > 0:
				return msgs, fmt.Errorf("%v: %w", f, &LeftOverError{N: len(pending)})
			}
			return msgs, nil
		}
	}
}
