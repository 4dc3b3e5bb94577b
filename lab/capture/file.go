package capture

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Magic numbers, as the first four bytes of the file read big-endian.
const (
	magicPcapMicroBE = 0xa1b2c3d4
	magicPcapMicroLE = 0xd4c3b2a1
	magicPcapNanoBE  = 0xa1b23c4d
	magicPcapNanoLE  = 0x4d3cb2a1
	magicPcapNG      = 0x0a0d0d0a // section header block type, a palindrome
)

// fileBufSize is the read buffer size. It is at least bufio's default so that
// pcapgo's own bufio.NewReader call returns our reader unchanged, which keeps
// the consumed-byte count (and so error offsets) exact.
const fileBufSize = 64 << 10

// Format names returned by File.Format.
const (
	FormatPcap   = "pcap"
	FormatPcapNG = "pcapng"
)

// File is a packet source reading a pcap or pcapng capture (optionally
// gzip-compressed). It implements Source. Frame.Iface is always 0.
//
// ReadFrame returns io.EOF at the clean end of the file. A truncated or
// malformed record yields an error wrapping ErrMalformed that names the packet
// number (1-based) and the byte offset where reading that packet started (in
// the decompressed stream for gzip input; for pcapng, non-packet blocks may
// precede the packet). Errors are sticky: once ReadFrame fails, it keeps
// returning the same error.
type File struct {
	name     string
	format   string
	linkType layers.LinkType
	closer   io.Closer // nil when the stream belongs to the caller

	closed  atomic.Bool
	packets atomic.Uint64

	readMu sync.Mutex // serializes ReadFrame; guards the fields below
	cr     *countingReader
	br     *bufio.Reader
	next   func() ([]byte, gopacket.CaptureInfo, error)
	err    error // sticky error (io.EOF or a read error)
	slab   slab
}

var _ Source = (*File)(nil)

// OpenFile opens a pcap or pcapng file, detected by its magic number.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture file: %w", err)
	}
	src, err := newFile(f, path, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open capture file %s: %w", path, err)
	}
	return src, nil
}

// NewReader is OpenFile for an already open stream. The stream stays the
// caller's: Close does not close it (close r to unblock a ReadFrame stuck in
// r.Read).
func NewReader(r io.Reader) (*File, error) {
	src, err := newFile(r, "capture stream", nil)
	if err != nil {
		return nil, fmt.Errorf("read capture stream: %w", err)
	}
	return src, nil
}

func newFile(r io.Reader, name string, closer io.Closer) (*File, error) {
	f := &File{name: name, closer: closer}
	f.cr = &countingReader{r: r}
	f.br = bufio.NewReaderSize(f.cr, fileBufSize)
	magic, err := peekMagic(f.br)
	if err != nil {
		return nil, err
	}
	if magic>>16 == 0x1f8b { // gzip
		zr, err := gzip.NewReader(f.br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		f.cr = &countingReader{r: zr}
		f.br = bufio.NewReaderSize(f.cr, fileBufSize)
		if magic, err = peekMagic(f.br); err != nil {
			if corruptGzip(err) {
				err = fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			return nil, fmt.Errorf("gzip content: %w", err)
		}
	}
	switch magic {
	case magicPcapMicroBE, magicPcapMicroLE, magicPcapNanoBE, magicPcapNanoLE:
		pr, err := guard(func() (*pcapgo.Reader, error) { return pcapgo.NewReader(f.br) })
		if err != nil {
			return nil, f.headerErr("pcap file header", err)
		}
		f.format, f.linkType, f.next = FormatPcap, pr.LinkType(), pr.ZeroCopyReadPacketData
	case magicPcapNG:
		nr, err := guard(func() (*pcapgo.NgReader, error) {
			return pcapgo.NewNgReader(f.br, pcapgo.DefaultNgReaderOptions)
		})
		if err != nil {
			return nil, f.headerErr(fmt.Sprintf("pcapng section header or first interface block (offset %d)", f.offset()), err)
		}
		f.format, f.linkType, f.next = FormatPcapNG, nr.LinkType(), nr.ZeroCopyReadPacketData
	default:
		return nil, fmt.Errorf("%w: bad magic 0x%08x", ErrNotCapture, magic)
	}
	return f, nil
}

// headerErr describes a failure to parse the file header: an I/O error of the
// stream, or a malformed header.
func (f *File) headerErr(what string, err error) error {
	if f.cr.err != nil && !corruptGzip(f.cr.err) {
		return fmt.Errorf("%s: %w", what, f.cr.err)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, eofIsUnexpected(err))
}

// peekMagic returns the first four bytes of br, big-endian.
func peekMagic(br *bufio.Reader) (uint32, error) {
	b, err := br.Peek(4)
	switch {
	case len(b) == 4:
		return binary.BigEndian.Uint32(b), nil
	case len(b) == 0 && err == io.EOF:
		return 0, fmt.Errorf("%w: empty file", ErrNotCapture)
	case err == io.EOF:
		return 0, fmt.Errorf("%w: only %d bytes long", ErrNotCapture, len(b))
	default:
		return 0, err
	}
}

// guard runs a pcapgo call, turning a panic on hostile input into an error.
func guard[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parser panic: %v", p)
		}
	}()
	return fn()
}

// corruptGzip reports whether err is a decompression error (including a
// truncated gzip stream), i.e. the file is malformed rather than unreadable.
func corruptGzip(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &corrupt)
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// offset is the number of bytes of the (decompressed) stream consumed.
func (f *File) offset() int64 { return f.cr.n - int64(f.br.Buffered()) }

// LinkType returns the link type from the pcap header or the first pcapng
// interface description block. pcapng packets captured on interfaces of a
// different link type are skipped (pcapgo's default).
func (f *File) LinkType() layers.LinkType { return f.linkType }

// Format returns FormatPcap or FormatPcapNG.
func (f *File) Format() string { return f.format }

type packetRead struct {
	data []byte
	ci   gopacket.CaptureInfo
}

// ReadFrame returns the next packet, copied into memory owned by the Frame,
// io.EOF at the end of the file, or ErrClosed after Close.
func (f *File) ReadFrame() (Frame, error) {
	if f.closed.Load() {
		return Frame{}, ErrClosed
	}
	f.readMu.Lock()
	defer f.readMu.Unlock()
	if f.err != nil {
		return Frame{}, f.err
	}
	num := f.packets.Load() + 1
	start := f.offset()
	p, err := guard(func() (packetRead, error) {
		data, ci, err := f.next()
		return packetRead{data, ci}, err
	})
	if err != nil {
		if f.closed.Load() {
			return Frame{}, ErrClosed
		}
		switch {
		case f.cr.err != nil && !corruptGzip(f.cr.err): // the stream failed: not the file's fault
			err = fmt.Errorf("read %s: packet %d at offset %d: %w", f.name, num, start, f.cr.err)
		case err == io.EOF && (f.format == FormatPcapNG || f.offset() == start):
			// pcapgo's pcapng reader reports io.EOF only at a block
			// boundary; the pcap reader also for a record header followed
			// by no data, which the offset check catches.
			err = io.EOF
		default:
			err = fmt.Errorf("read %s: packet %d at offset %d: %w: %w",
				f.name, num, start, ErrMalformed, eofIsUnexpected(err))
		}
		f.err = err
		return Frame{}, err
	}
	if len(p.data) > p.ci.Length {
		f.err = fmt.Errorf("read %s: packet %d at offset %d: %w: captured length %d exceeds original length %d",
			f.name, num, start, ErrMalformed, len(p.data), p.ci.Length)
		return Frame{}, f.err
	}
	f.packets.Add(1)
	return Frame{
		Data:   f.slab.copy(p.data),
		Time:   p.ci.Timestamp,
		Length: p.ci.Length,
	}, nil
}

// Stats returns the number of frames read so far; Drops is always 0.
func (f *File) Stats() Stats { return Stats{Packets: f.packets.Load()} }

// Close closes the file opened by OpenFile (a stream given to NewReader is
// left open). Later ReadFrame calls return ErrClosed. It may be called from
// another goroutine while ReadFrame runs, and more than once.
func (f *File) Close() error {
	if f.closed.Swap(true) || f.closer == nil {
		return nil
	}
	if err := f.closer.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.name, err)
	}
	return nil
}

// countingReader counts the bytes read through it and remembers the first
// error other than io.EOF, so that I/O failures are not reported as
// malformed files.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}
