package ui

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/decode"
)

// TestDissectAppMessages: the details panel lists each application message
// of a packet under its own heading row, its fields under their own names.
func TestDissectAppMessages(t *testing.T) {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 53)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9999}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload("payload")); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	msg := func(s string, kv ...string) decode.AppMessage {
		f := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return decode.AppMessage{Summary: s, Fields: decode.FieldsOf(f)}
	}
	for _, tc := range []struct {
		name string
		msgs []decode.AppMessage
		want []string // "name=value" of the rows after Data
	}{
		{"one", []decode.AppMessage{msg("A? shop.lab", "message", "query", "id", "7")},
			[]string{"Summary=A? shop.lab", "id=7", "message=query"}},
		{"two", []decode.AppMessage{msg("200 OK", "status", "200"), msg("body 0 B", "part", "end", "body.bytes", "0")},
			[]string{"Summary=200 OK, body 0 B", "Message 1=200 OK", "status=200", "Message 2=body 0 B", "body.bytes=0", "part=end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &decode.Packet{Link: layers.LinkTypeRaw, Data: data, Proto: decode.ProtoUDP, PayloadOffset: len(data) - 7, PayloadLen: 7,
				App: &decode.AppInfo{Proto: "dns", Messages: tc.msgs}}
			var got []string
			after := false
			for _, f := range dissect(p, time.Time{}) {
				if after {
					got = append(got, f.name.En+"="+f.value)
				}
				after = after || f.name.En == "Data"
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
