package engine

import (
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/flow"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

// Replay builds a timeline from a capture file: every packet decoded and
// followed, with lanes named by role: the endpoint that accepted a
// connection (answered a SYN) is "server" ("server 2", ... for more), the
// endpoints that opened connections are "client", others go by address.
// There are no kernel states or app calls in a file, only packets.
//
// A damaged file (a truncated last record, a malformed block) does not throw
// away what was read: the timeline holds every packet before the damage,
// ends with a note saying where it is, and its summary's Err says so too;
// the error returned with it wraps capture.ErrMalformed.
func Replay(src capture.Source, meta timeline.Meta) (*timeline.Timeline, error) {
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		return nil, err
	}
	meta.Link = int(src.LinkType())
	if meta.Sandbox == 0 {
		meta.Sandbox = timeline.SandboxFile
	}
	tr := flow.NewTracker()
	events, damage, err := readPackets(src, dec, tr)
	if err != nil {
		return nil, err
	}
	if len(events) > 0 && meta.Start.IsZero() {
		meta.Start = events[0].Time
	}
	lanes, servers := laneRoles(tr.Convs(), events)
	if len(meta.Lanes) == 0 {
		meta.Lanes = append([]string{"client"}, servers...)
		if len(servers) == 0 {
			meta.Lanes = []string{"client", "server"}
		}
	}
	name := func(ap netip.AddrPort) string {
		if n, ok := lanes[ap]; ok {
			return n
		}
		return addrLane(ap)
	}
	for _, e := range events {
		e.Packet.Lab.From, e.Packet.Lab.To = name(e.Packet.Src), name(e.Packet.Dst)
	}
	tl := timeline.New(meta)
	tl.Append(events...)
	sum := timeline.Summary{Packets: len(events), Drops: src.Stats().Drops}
	if damage != nil {
		at := meta.Start
		if len(events) > 0 {
			at = events[len(events)-1].Time
		}
		why := damage.Error()
		tl.Append(timeline.Event{Time: at, Kind: timeline.KindNote, Note: &timeline.Note{Text: i18n.T(
			fmt.Sprintf("the file is damaged after packet %d: %s", len(events), why),
			fmt.Sprintf("文件在第 %d 个报文之后损坏：%s", len(events), why))}})
		sum.Err = why
	}
	tl.Close(sum)
	return tl, damage
}

// readPackets reads, decodes and follows (in tr) every packet of the file.
// Damage (capture.ErrMalformed) ends the reading without losing what was
// read: it is returned as damage; any other read error as err.
func readPackets(src capture.Source, dec *decode.Decoder, tr *flow.Tracker) (events []timeline.Event, damage, err error) {
	for {
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return events, nil, nil
		}
		if errors.Is(err, capture.ErrMalformed) {
			return events, fmt.Errorf("replay: %w", err), nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("replay: %w", err)
		}
		p := new(decode.Packet)
		dec.Decode(f.Data, f.Length, p)
		tr.Add(p)
		events = append(events, timeline.Event{Time: f.Time, Kind: timeline.KindPacket, Packet: p})
	}
}

// laneRoles names the endpoints of the TCP connections whose SYN is in the
// file: the one that accepted is "server" ("server 2", ... for more, which
// servers lists in order), the one that opened is "client".
func laneRoles(convs []*flow.Conv, events []timeline.Event) (lanes map[netip.AddrPort]string, servers []string) {
	lanes = map[netip.AddrPort]string{}
	for _, c := range convs {
		p := events[0].Packet // Convs is empty when events is
		for _, e := range events {
			if e.Packet.N == c.FirstPacket {
				p = e.Packet
				break
			}
		}
		if c.Proto != decode.ProtoTCP || p.Flags&decode.SYN == 0 {
			continue
		}
		if _, ok := lanes[c.B]; !ok {
			name := "server"
			if len(servers) > 0 {
				name = fmt.Sprintf("server %d", len(servers)+1)
			}
			servers = append(servers, name)
			lanes[c.B] = name
		}
		if _, ok := lanes[c.A]; !ok {
			lanes[c.A] = "client"
		}
	}
	return lanes, servers
}
