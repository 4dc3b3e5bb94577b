package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netlab/netlab/lab/sandbox/sandboxtest"
)

// Fixture files in testdata/, written by TestGenerateFixtures.
const (
	fixtureNG   = "lo-hello.pcapng"
	fixturePcap = "lo-hello.pcap"
	fixtureRaw  = "lo-hello-raw.pcap"
)

// generateEnv enables TestGenerateFixtures, which rewrites testdata/:
//
//	NETLAB_CAPTURE_GENERATE=1 go test -run '^TestGenerateFixtures$' ./lab/capture/
const generateEnv = "NETLAB_CAPTURE_GENERATE"

// TestGenerateFixtures captures one small loopback TCP exchange with the live
// source and writes it as pcapng and pcap (Ethernet, as lo delivers it), plus
// a nanosecond-resolution pcap with the Ethernet headers stripped
// (LINKTYPE_RAW, what a tun device would give).
func TestGenerateFixtures(t *testing.T) {
	if os.Getenv(generateEnv) != "1" {
		t.Skipf("set %s=1 to regenerate testdata/", generateEnv)
	}
	if !sandboxtest.InNetns(t) {
		return
	}
	l := openLo(t)
	tcpExchange(t, []byte("hello"))
	frames := drain(t, l, 100*time.Millisecond)
	if len(frames) == 0 {
		t.Fatal("captured nothing")
	}
	var ng, pcap, raw bytes.Buffer
	nw, err := pcapgo.NewNgWriterInterface(&ng, pcapgo.NgInterface{
		Name:       "lo",
		LinkType:   layers.LinkTypeEthernet,
		SnapLength: liveSnapLen,
	}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Application: "netlab lab/capture TestGenerateFixtures",
	}})
	if err != nil {
		t.Fatal(err)
	}
	pw := pcapgo.NewWriter(&pcap)
	if err := pw.WriteFileHeader(liveSnapLen, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	rw := pcapgo.NewWriterNanos(&raw)
	if err := rw.WriteFileHeader(liveSnapLen, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: f.Length}
		if err := nw.WritePacket(ci, f.Data); err != nil {
			t.Fatal(err)
		}
		if err := pw.WritePacket(ci, f.Data); err != nil {
			t.Fatal(err)
		}
		const eth = 14
		ci.CaptureLength -= eth
		ci.Length -= eth
		if err := rw.WritePacket(ci, f.Data[eth:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*bytes.Buffer{
		fixtureNG: &ng, fixturePcap: &pcap, fixtureRaw: &raw,
	} {
		path := filepath.Join("testdata", name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d frames, %d bytes", path, len(frames), b.Len())
	}
}
