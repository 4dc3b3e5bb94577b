package check

import (
	"net/netip"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// Stream is one direction of one conversation (a TCP connection or a UDP
// socket pair): the sizes of what the sending program wrote, of the packets
// that carried it, and of what the receiving program read. Where the three
// lists differ, the boundaries moved: TCP is a byte stream and keeps none of
// them; UDP keeps every one.
type Stream struct {
	Act      int // act of the first write or packet
	Proto    decode.Proto
	From, To string         // lanes of the sender and the receiver
	Src, Dst netip.AddrPort // sender's and receiver's addresses
	// Writes are the byte counts of the sender's write/send/sendto calls,
	// Segments the payload lengths of the packets (retransmissions left out:
	// they carry bytes already counted), Reads the byte counts of the
	// receiver's read/recv/recvfrom calls that returned data.
	Writes, Segments, Reads []int
}

// Sum adds up sizes.
func Sum(sizes []int) int {
	n := 0
	for _, s := range sizes {
		n += s
	}
	return n
}

// Streams returns the streams of the view that carried data, in the order
// their first write or packet happened.
func (v *View) Streams() []*Stream {
	type key struct{ src, dst netip.AddrPort }
	var out []*Stream
	byKey := map[key]*Stream{}
	get := func(k key, act int, proto decode.Proto) *Stream {
		st := byKey[k]
		if st == nil {
			st = &Stream{Act: act, Proto: proto, Src: k.src, Dst: k.dst}
			byKey[k] = st
			out = append(out, st)
		}
		return st
	}
	for _, e := range v.events {
		switch e.Kind {
		case timeline.KindApp:
			a := e.App
			if a.Blocking || a.Bytes <= 0 {
				continue
			}
			switch {
			case a.Call.Writes():
				st := get(key{timeline.Unmap(a.Socket.Local), timeline.Unmap(a.Socket.Remote)}, e.Act, a.Proto)
				st.Writes = append(st.Writes, a.Bytes)
				if st.From == "" {
					st.From = a.Lane
				}
			case a.Call.Reads():
				st := get(key{timeline.Unmap(a.Socket.Remote), timeline.Unmap(a.Socket.Local)}, e.Act, a.Proto)
				st.Reads = append(st.Reads, a.Bytes)
				if st.To == "" {
					st.To = a.Lane
				}
			}
		case timeline.KindPacket:
			p := e.Packet
			if p.PayloadLen == 0 || (p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP) || !Original(p) {
				continue
			}
			st := get(key{timeline.Unmap(p.Src), timeline.Unmap(p.Dst)}, e.Act, p.Proto)
			st.Segments = append(st.Segments, p.PayloadLen)
			if st.From == "" {
				st.From = p.Lab.From
			}
			if st.To == "" {
				st.To = p.Lab.To
			}
		}
	}
	return out
}

// StreamFrom returns the first stream lane sent in the view, or nil.
func (v *View) StreamFrom(lane string) *Stream {
	for _, st := range v.Streams() {
		if st.From == lane {
			return st
		}
	}
	return nil
}
