package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// fixtureFrames is the number of frames in each fixture: one TCP connection
// (handshake, "hello", its ACK, FIN/ACK both ways, final ACK).
const fixtureFrames = 8

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads frames until an error; io.EOF is returned as nil.
func readAll(src Source) ([]Frame, error) {
	var frames []Frame
	for {
		f, err := src.ReadFrame()
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		frames = append(frames, f)
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenFileFixtures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     func(t *testing.T) []byte // nil: open testdata/name with OpenFile
		format   string
		linkType layers.LinkType
	}{
		{fixtureNG, nil, FormatPcapNG, layers.LinkTypeEthernet},
		{fixturePcap, nil, FormatPcap, layers.LinkTypeEthernet},
		{fixtureRaw, nil, FormatPcap, layers.LinkTypeRaw},
		{"pcapng via NewReader", func(t *testing.T) []byte { return readFixture(t, fixtureNG) }, FormatPcapNG, layers.LinkTypeEthernet},
		{"pcap.gz", func(t *testing.T) []byte { return gzipped(t, readFixture(t, fixturePcap)) }, FormatPcap, layers.LinkTypeEthernet},
		{"pcapng.gz", func(t *testing.T) []byte { return gzipped(t, readFixture(t, fixtureNG)) }, FormatPcapNG, layers.LinkTypeEthernet},
		{"pcap with snaplen 0", func(t *testing.T) []byte {
			b := bytes.Clone(readFixture(t, fixturePcap))
			binary.LittleEndian.PutUint32(b[16:20], 0) // pcapgo treats it as "up to 256 KiB"
			return b
		}, FormatPcap, layers.LinkTypeEthernet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var src *File
			var err error
			if tc.data == nil {
				src, err = OpenFile(filepath.Join("testdata", tc.name))
			} else {
				src, err = NewReader(bytes.NewReader(tc.data(t)))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.LinkType() != tc.linkType || src.Format() != tc.format {
				t.Errorf("LinkType, Format = %v, %s; want %v, %s", src.LinkType(), src.Format(), tc.linkType, tc.format)
			}
			frames, err := readAll(src)
			if err != nil {
				t.Fatalf("after %d frames: %v", len(frames), err)
			}
			if len(frames) != fixtureFrames {
				t.Errorf("read %d frames, want %d", len(frames), fixtureFrames)
			}
			for i, f := range frames {
				if len(f.Data) != f.Length || f.Iface != 0 || f.Time.IsZero() {
					t.Errorf("frame %d: %d/%d bytes, iface %d, time %v", i, len(f.Data), f.Length, f.Iface, f.Time)
				}
				if cap(f.Data) != len(f.Data) {
					t.Errorf("frame %d: cap %d > len %d: an append would clobber the next frame", i, cap(f.Data), len(f.Data))
				}
			}
			if len(frames) > 0 {
				p := gopacket.NewPacket(frames[0].Data, src.LinkType(), gopacket.Default)
				tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				if !ok || !tcp.SYN || tcp.ACK {
					t.Errorf("first frame is not a SYN: %v", p)
				}
			}
			if _, err := src.ReadFrame(); err != io.EOF {
				t.Errorf("ReadFrame after the end = %v, want io.EOF again", err)
			}
			if st := src.Stats(); st != (Stats{Packets: fixtureFrames}) {
				t.Errorf("Stats() = %+v, want %d packets, 0 drops", st, fixtureFrames)
			}
			if err := src.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := src.ReadFrame(); !errors.Is(err, ErrClosed) {
				t.Errorf("ReadFrame after Close = %v, want ErrClosed", err)
			}
			if err := src.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// TestFixturesAgree checks the three fixtures hold the same packets.
func TestFixturesAgree(t *testing.T) {
	var all [3][]Frame
	for i, name := range []string{fixtureNG, fixturePcap, fixtureRaw} {
		src, err := OpenFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		all[i], err = readAll(src)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range fixtureFrames {
		ng, pc, raw := all[0][i], all[1][i], all[2][i]
		if !bytes.Equal(ng.Data, pc.Data) || !bytes.Equal(ng.Data[14:], raw.Data) {
			t.Errorf("frame %d differs between fixtures", i)
		}
		// pcap has microsecond stamps, the others nanosecond.
		if !ng.Time.Equal(raw.Time) || ng.Time.Sub(pc.Time).Abs() >= 1000 {
			t.Errorf("frame %d: times %v %v %v", i, ng.Time, pc.Time, raw.Time)
		}
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pcap := readFixture(t, fixturePcap)
	ng := readFixture(t, fixtureNG)
	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	badVersion := bytes.Clone(pcap)
	binary.LittleEndian.PutUint16(badVersion[4:6], 3)
	for _, tc := range []struct {
		name string
		path string
		is   error
		msg  string
	}{
		{"missing", filepath.Join(dir, "nope.pcap"), fs.ErrNotExist, "nope.pcap"},
		{"empty", write("empty.pcap", nil), ErrNotCapture, "empty file"},
		{"three bytes", write("short.pcap", []byte("abc")), ErrNotCapture, "only 3 bytes long"},
		{"random bytes", write("random.pcap", random), ErrNotCapture, fmt.Sprintf("not a pcap or pcapng file: bad magic 0x%08x", binary.BigEndian.Uint32(random))},
		{"text", write("text.pcap", []byte("hello world\n")), ErrNotCapture, "bad magic 0x68656c6c"},
		{"pcap header truncated", write("hdr.pcap", pcap[:10]), io.ErrUnexpectedEOF, "malformed capture: pcap file header"},
		{"pcap version 3", write("v3.pcap", badVersion), ErrMalformed, "Unknown major version 3"},
		{"pcapng section header truncated", write("shb.pcapng", ng[:20]), io.ErrUnexpectedEOF, "malformed capture: pcapng section header"},
		{"pcapng without interface", write("noidb.pcapng", ng[:ngBlockOffsets(t, ng)[1]]), ErrMalformed, "pcapng"},
		{"gzip garbage", write("bad.pcap.gz", []byte{0x1f, 0x8b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), ErrMalformed, "gzip: invalid header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := OpenFile(tc.path)
			if err == nil {
				src.Close()
				t.Fatal("OpenFile succeeded")
			}
			t.Log(err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error should mention %q and the path", tc.msg)
			}
		})
	}
}

// pcapRecordOffsets returns the offset of each record of a pcap file.
func pcapRecordOffsets(t testing.TB, b []byte) []int {
	t.Helper()
	var offs []int
	for off := 24; off < len(b); {
		offs = append(offs, off)
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return offs
}

// ngBlockOffsets returns the offset of each block of a little-endian pcapng
// file.
func ngBlockOffsets(t testing.TB, b []byte) []int {
	t.Helper()
	var offs []int
	for off := 0; off < len(b); {
		offs = append(offs, off)
		off += int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	return offs
}

func TestReadFrameMalformed(t *testing.T) {
	pcap := readFixture(t, fixturePcap)
	rec := pcapRecordOffsets(t, pcap)
	ng := readFixture(t, fixtureNG)
	blk := ngBlockOffsets(t, ng) // SHB, IDB, EPB...
	epb := blk[2:]
	modify := func(b []byte, f func(b []byte)) []byte {
		b = bytes.Clone(b)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		good  int    // frames read before the error; -1: don't check
		msg   string // substring of the error
		cause error  // wrapped cause besides ErrMalformed
	}{
		{"pcap truncated in record data", pcap[:rec[2]+16+10], 2,
			fmt.Sprintf("packet 3 at offset %d", rec[2]), io.ErrUnexpectedEOF},
		{"pcap truncated after a record header", pcap[:rec[2]+16], 2,
			fmt.Sprintf("packet 3 at offset %d", rec[2]), io.ErrUnexpectedEOF},
		{"pcap truncated in a record header", pcap[:rec[2]+7], 2,
			fmt.Sprintf("packet 3 at offset %d", rec[2]), io.ErrUnexpectedEOF},
		{"pcap caplen > length", modify(pcap, func(b []byte) {
			binary.LittleEndian.PutUint32(b[rec[1]+12:], 10)
		}), 1, fmt.Sprintf("packet 2 at offset %d: malformed capture: capture length exceeds original packet length", rec[1]), nil},
		{"pcap caplen huge", modify(pcap, func(b []byte) {
			binary.LittleEndian.PutUint32(b[rec[0]+8:], 0x7ffffff0)
		}), 0, "packet 1 at offset 24: malformed capture: capture length exceeds snap length", nil},
		{"pcap.gz truncated", gzipped(t, pcap)[:200], -1, "malformed capture: unexpected EOF", io.ErrUnexpectedEOF},
		{"pcapng block length huge", modify(ng, func(b []byte) {
			binary.LittleEndian.PutUint32(b[epb[1]+4:], 0xfffffff0)
		}), 1, fmt.Sprintf("packet 2 at offset %d", epb[1]), io.ErrUnexpectedEOF},
		{"pcapng block length too small", modify(ng, func(b []byte) {
			binary.LittleEndian.PutUint32(b[epb[1]+4:], 4)
		}), 1, fmt.Sprintf("packet 2 at offset %d", epb[1]), nil},
		{"pcapng truncated in a block", ng[:epb[3]+30], 3,
			fmt.Sprintf("packet 4 at offset %d", epb[3]), io.ErrUnexpectedEOF},
		{"pcapng caplen > length", modify(ng, func(b []byte) {
			binary.LittleEndian.PutUint32(b[epb[0]+24:], 10)
		}), 0, fmt.Sprintf("packet 1 at offset %d: malformed capture: captured length 74 exceeds original length 10", epb[0]), nil},
		{"pcapng unknown interface", modify(ng, func(b []byte) {
			binary.LittleEndian.PutUint32(b[epb[4]+8:], 7)
		}), 4, fmt.Sprintf("packet 5 at offset %d: malformed capture: Interface id 7 not present", epb[4]), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewReader(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			defer src.Close()
			frames, err := readAll(src)
			t.Log(err)
			if err == nil {
				t.Fatalf("read %d frames and a clean EOF, want an error", len(frames))
			}
			if tc.good >= 0 && len(frames) != tc.good {
				t.Errorf("read %d good frames before the error, want %d", len(frames), tc.good)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error does not wrap ErrMalformed")
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("error does not wrap %v", tc.cause)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error does not contain %q", tc.msg)
			}
			if _, again := src.ReadFrame(); again != err {
				t.Errorf("ReadFrame after the error = %v, want the same error again", again)
			}
		})
	}
}

// TestReadFrameCleanCut: a pcap cut exactly between records is simply a
// shorter capture.
func TestReadFrameCleanCut(t *testing.T) {
	pcap := readFixture(t, fixturePcap)
	rec := pcapRecordOffsets(t, pcap)
	src, err := NewReader(bytes.NewReader(pcap[:rec[5]]))
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(src)
	if err != nil || len(frames) != 5 {
		t.Fatalf("got %d frames, %v; want 5 and EOF", len(frames), err)
	}
}

// failingReader returns data, then a non-EOF error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadFrameIOError: a failing stream is reported as such, not as a
// malformed file.
func TestReadFrameIOError(t *testing.T) {
	pcap := readFixture(t, fixturePcap)
	rec := pcapRecordOffsets(t, pcap)
	boom := errors.New("disk on fire")
	src, err := NewReader(&failingReader{data: pcap[:rec[3]+5], err: boom})
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(src)
	t.Log(err)
	if len(frames) != 3 || !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Fatalf("got %d frames, %v; want 3 then the I/O error (not ErrMalformed)", len(frames), err)
	}
}

func TestSlab(t *testing.T) {
	var s slab
	a := s.copy([]byte("first"))
	b := s.copy([]byte("second"))
	if string(a) != "first" || string(b) != "second" {
		t.Fatalf("copies = %q %q", a, b)
	}
	if cap(a) != len(a) {
		t.Errorf("cap %d != len %d", cap(a), len(a))
	}
	a = append(a, "XXXX"...)
	if string(b) != "second" {
		t.Errorf("append to one copy clobbered its neighbour: %q", b)
	}
	if cap(s.chunk) != slabFirstSize {
		t.Errorf("first chunk is %d bytes, want %d", cap(s.chunk), slabFirstSize)
	}
	// A copy that does not fit starts a new, larger chunk; chunks grow to
	// slabSize.
	for _, want := range []int{2 * slabFirstSize, 4 * slabFirstSize, 8 * slabFirstSize, slabSize, slabSize} {
		chunk := s.chunk
		big := s.copy(make([]byte, cap(chunk)-len(chunk)+1))
		if &s.chunk[0] == &chunk[0] || cap(s.chunk) != want || &big[0] != &s.chunk[0] {
			t.Errorf("a copy that does not fit: new chunk of %d bytes, want %d", cap(s.chunk), want)
		}
	}
	// A copy larger than the next doubling gets a full-size chunk.
	s.chunk = make([]byte, 0, slabFirstSize)
	if s.copy(make([]byte, 3*slabFirstSize)); cap(s.chunk) != slabSize {
		t.Errorf("a %d-byte copy went into a %d-byte chunk", 3*slabFirstSize, cap(s.chunk))
	}
	// Larger than a chunk: its own allocation, the chunk is left alone.
	before := len(s.chunk)
	huge := s.copy(make([]byte, slabSize+1))
	if len(huge) != slabSize+1 || len(s.chunk) != before {
		t.Errorf("oversized copy: len %d, chunk used %d -> %d", len(huge), before, len(s.chunk))
	}
	if e := s.copy(nil); len(e) != 0 {
		t.Errorf("empty copy has length %d", len(e))
	}
	allocs := testing.AllocsPerRun(1000, func() { s.copy(make([]byte, 100)[:100:100]) })
	if allocs > 0 {
		t.Errorf("slab copy: %v allocs per copy", allocs)
	}
}

// manyFrames builds an in-memory capture of n frames (the fixture's frames
// repeated) in the given format.
func manyFrames(tb testing.TB, format string, n int) []byte {
	tb.Helper()
	src, err := OpenFile(filepath.Join("testdata", fixturePcap))
	if err != nil {
		tb.Fatal(err)
	}
	frames, err := readAll(src)
	src.Close()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	var write func(gopacket.CaptureInfo, []byte) error
	flush := func() error { return nil }
	switch format {
	case FormatPcap:
		w := pcapgo.NewWriterNanos(&buf)
		if err := w.WriteFileHeader(liveSnapLen, layers.LinkTypeEthernet); err != nil {
			tb.Fatal(err)
		}
		write = w.WritePacket
	case FormatPcapNG:
		w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
		if err != nil {
			tb.Fatal(err)
		}
		write, flush = w.WritePacket, w.Flush
	}
	for i := range n {
		f := frames[i%len(frames)]
		if err := write(gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: f.Length}, f.Data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := flush(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkReadFrameFile(b *testing.B) {
	for _, format := range []string{FormatPcap, FormatPcapNG} {
		b.Run(format, func(b *testing.B) {
			data := manyFrames(b, format, 100000)
			src, err := NewReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)) / 100000)
			b.ResetTimer()
			for b.Loop() {
				_, err := src.ReadFrame()
				if err == io.EOF {
					b.StopTimer()
					src, err = NewReader(bytes.NewReader(data))
					b.StartTimer()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzOpen feeds arbitrary bytes to NewReader and reads every frame: it must
// never panic, and what it returns must be consistent.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{fixtureNG, fixturePcap, fixtureRaw} {
		b := readFixture(f, name)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(gzipped(f, b))
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1})
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotCapture) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("NewReader error is neither ErrNotCapture nor ErrMalformed: %v", err)
			}
			return
		}
		defer src.Close()
		var n uint64
		for range 1 << 16 {
			fr, err := src.ReadFrame()
			if err != nil {
				if _, again := src.ReadFrame(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				break
			}
			n++
			if len(fr.Data) > fr.Length {
				t.Fatalf("frame %d: %d bytes captured of %d", n, len(fr.Data), fr.Length)
			}
		}
		if st := src.Stats(); st.Packets != n {
			t.Fatalf("Stats().Packets = %d, read %d", st.Packets, n)
		}
	})
}
