package capture

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured packet. Data is owned by the Frame (copied out of the
// ring before it leaves the capture goroutine) and never modified afterwards.
type Frame struct {
	Data   []byte
	Time   time.Time // kernel capture timestamp
	Length int       // original length on the wire (>= len(Data))
	Iface  int       // interface index (0 for files where unknown)
}

// Stats are a source's counters.
type Stats struct {
	// Packets is the number of frames the source has returned from ReadFrame.
	Packets uint64
	// Drops is the kernel's drop counter for a live source (PACKET_STATISTICS
	// tp_drops, accumulated over the life of the socket); 0 for files.
	Drops uint64
}

// Source is a packet source: a live interface or a capture file.
type Source interface {
	// LinkType is the link type of Frame.Data, taken from the source: the
	// file header, or the interface's ARPHRD type for live capture.
	LinkType() layers.LinkType
	// ReadFrame returns the next frame. A live source returns ErrTimeout
	// when no packet arrived within its poll interval (a few ms) so the
	// caller can check cancellation; a file source returns io.EOF at the
	// end. After Close it returns ErrClosed.
	ReadFrame() (Frame, error)
	// Stats returns the source's counters. It may be called concurrently
	// with ReadFrame and after Close.
	Stats() Stats
	// Close releases the source. It may be called from another goroutine
	// while ReadFrame is blocked, and more than once.
	Close() error
}

var (
	// ErrTimeout is returned by a live source's ReadFrame when no packet
	// arrived within the poll interval. It is not a failure: call again.
	ErrTimeout = errors.New("capture: no packet within poll interval")
	// ErrClosed is returned by ReadFrame after Close. It matches
	// net.ErrClosed with errors.Is.
	ErrClosed = fmt.Errorf("capture: source closed: %w", net.ErrClosed)
	// ErrNotCapture is wrapped by the error OpenFile and NewReader return
	// when the input is not a pcap or pcapng file (including an empty one).
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrMalformed is wrapped by the error ReadFrame returns for a truncated
	// or malformed record; the error names the packet number and offset.
	ErrMalformed = errors.New("malformed capture")
	// ErrUnsupportedLinkType is wrapped by the error OpenLive returns for an
	// interface whose hardware type this package cannot describe.
	ErrUnsupportedLinkType = errors.New("unsupported link type")
)

// Slab chunk sizes: the first chunk is small so that a source that yields a
// few frames does not pin a megabyte; each new chunk doubles up to slabSize.
const (
	slabSize      = 1 << 20
	slabFirstSize = 64 << 10
)

// slab hands out owned copies of packet bytes carved from large chunks, so
// steady-state capture does not allocate per packet. Chunks are never reused:
// frames are retained by their consumers indefinitely.
type slab struct {
	chunk []byte // current chunk; len is the used part
}

// copy returns an owned copy of b, capped so that appending to it cannot
// overwrite a neighbour. Copies larger than slabSize get their own
// allocation.
func (s *slab) copy(b []byte) []byte {
	n := len(b)
	if n > slabSize {
		out := make([]byte, n)
		copy(out, b)
		return out
	}
	if cap(s.chunk)-len(s.chunk) < n {
		size := min(max(2*cap(s.chunk), slabFirstSize), slabSize)
		if size < n {
			size = slabSize
		}
		s.chunk = make([]byte, 0, size)
	}
	off := len(s.chunk)
	s.chunk = append(s.chunk, b...)
	return s.chunk[off : off+n : off+n]
}
