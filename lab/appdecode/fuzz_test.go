package appdecode

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/capture"
)

// FuzzStream feeds arbitrary bytes, cut at arbitrary places and with
// arbitrary holes, to each stream decoder: it must never panic and never
// buffer more than its limits.
//
//	go test -fuzz FuzzStream ./lab/appdecode/
func FuzzStream(f *testing.F) {
	f.Add(uint8(kindHTTP), []byte(getIndex+ok11), uint64(1))
	f.Add(uint8(kindHTTP), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), uint64(7))
	f.Add(uint8(kindHTTP), []byte("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), uint64(3))
	f.Add(uint8(kindHTTP), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"), uint64(5))
	f.Add(uint8(kindTLS), []byte("\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03"+string(make([]byte, 32))+"\x00\x00\x02\x13\x01\x01\x00"), uint64(2))
	f.Add(uint8(kindTLS), []byte("\x16\x03\x03\x00\x04\x02\xff\xff\xff"), uint64(9))
	f.Add(uint8(kindDNS), []byte("\x00\x03abc\x00\x00"), uint64(4))
	f.Fuzz(func(t *testing.T, k uint8, data []byte, seed uint64) {
		d := New(NewKeyLog())
		s := newStream(d, kind(k%3+1), 1, [2]bool{seed&1 == 1, seed&2 == 2})
		var e emitter
		for len(data) > 0 {
			seed = seed*6364136223846793005 + 1442695040888963407
			n := int(seed>>33)%len(data) + 1
			side := int(seed>>20) & 1
			h := s.halves[side]
			switch seed >> 60 {
			case 0:
				h.gap(n, &e)
			case 1:
				h.gap(-1, &e)
			}
			h.feed(data[:n], &e)
			data = data[n:]
			e.info() // what a packet would get
			checkBounds(t, s)
		}
		s.finish()
		e.info()
	})
}

// checkBounds fails if a decoder holds more than its limits allow.
func checkBounds(t *testing.T, s *stream) {
	for _, h := range s.halves {
		switch h := h.(type) {
		case *httpHalf:
			if len(h.buf) > maxHeaderBytes {
				t.Fatalf("HTTP buffer %d B", len(h.buf))
			}
			if len(h.c.methods) > maxPendingRequests {
				t.Fatalf("%d pending requests", len(h.c.methods))
			}
		case *tlsHalf:
			if len(h.body) > maxRecord || len(h.hs) > maxHandshake+4+maxRecord {
				t.Fatalf("TLS buffers %d, %d B", len(h.body), len(h.hs))
			}
		case *dnsStream:
			if len(h.buf) > 2+65535+1<<16 {
				t.Fatalf("DNS buffer %d B", len(h.buf))
			}
		}
	}
}

// FuzzDNS decodes arbitrary datagrams.
func FuzzDNS(f *testing.F) {
	for _, m := range dnsExchange(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it := dnsMessage(b)
		if it.summary == "" {
			t.Fatal("no summary")
		}
	})
}

// FuzzDecoder drives whole packets through decode, flow and the app
// decoder: arbitrary flags, sequence numbers, directions and payloads on a
// few connections.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00\x00\x12\x00\x00\x00\x00\x10\x00\x00\x00\x00\x18\x00\x00\x00\x10GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte("\x10\x01\x00\x50\x00\x18\x00\x00\x00\x05\x16\x03\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pl := newPipeline(t, layers.LinkTypeEthernet, NewKeyLog())
		conns := [4]*conn{}
		for i := range conns {
			port := []string{"80", "443", "53", "8888"}[i]
			conns[i] = newConn(t, pl, "127.0.0.1:4000"+string(rune('0'+i)), "127.0.0.80:"+port)
		}
		for n := 0; len(data) >= 5 && n < 64; n++ {
			flags, which, delta, plen := data[0], data[1], binary.BigEndian.Uint16(data[2:]), int(data[4])
			data = data[5:]
			plen = min(plen, len(data))
			payload := data[:plen]
			data = data[plen:]
			c := conns[which&3]
			side := int(which>>2) & 1
			seq := c.seq[side] + uint32(int16(delta))
			c.push(c.build(side, flags&2 != 0, flags&1 != 0, flags&4 != 0, flags&16 != 0, seq, payload))
			if flags&8 != 0 {
				c.seq[side] = seq + uint32(plen)
			}
		}
		if len(pl.app.live) > MaxStreams {
			t.Fatalf("%d live streams", len(pl.app.live))
		}
		for _, s := range pl.app.live {
			checkBounds(t, s)
		}
	})
}

// FuzzReplay replays the packets of real captures (testdata/*.pcapng) in
// an order the fuzzer picks — lost, repeated, reordered, a connection
// caught mid-way — each input byte naming the next frame.
func FuzzReplay(f *testing.F) {
	var frames [][]byte
	for _, name := range fixtures {
		src, err := capture.OpenFile(filepath.Join("testdata", name+".pcapng"))
		if err != nil {
			f.Fatal(err)
		}
		for {
			fr, err := src.ReadFrame()
			if err != nil {
				break
			}
			frames = append(frames, fr.Data)
		}
		src.Close()
	}
	in := make([]byte, 0, 96)
	for i := 0; i < 96; i++ {
		in = append(in, byte(i))
	}
	f.Add(in)
	f.Add([]byte{5, 4, 3, 2, 1, 0, 9, 8, 7, 6})
	f.Fuzz(func(t *testing.T, order []byte) {
		pl := newPipeline(t, layers.LinkTypeEthernet, NewKeyLog())
		base := 0
		for i, b := range order {
			if i > 0 && i%64 == 0 {
				base += 256 // reach later frames
			}
			fr := frames[(base+int(b))%len(frames)]
			pl.add(fr, pl.t)
		}
		for _, s := range pl.app.live {
			checkBounds(t, s)
		}
	})
}
