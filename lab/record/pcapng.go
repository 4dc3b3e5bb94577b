package record

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// PcapngOptions choose what a pcapng file carries beyond the packets and
// their comments.
type PcapngOptions struct {
	// Secrets embeds the TLS secrets the run's own TLS stack logged (a
	// Decryption Secrets Block, what SSLKEYLOGFILE is to Wireshark): whoever
	// opens the file in Wireshark or tshark then reads the run's TLS
	// traffic in clear, passwords included. Off by default: the bytes on
	// the wire stay encrypted in the file as they were on the wire.
	Secrets bool
}

// WritePcapng writes every packet of the timeline to path as pcapng, with
// the default options (no TLS secrets). Each packet carries as comments
// what happened since the packet before it (narration, the program's
// calls, kernel states) and its own explanation; what happened after the
// last packet goes on the last one. The file is written as Create says:
// under sudo, as the invoking user.
func WritePcapng(path string, tl *timeline.Timeline, lang i18n.Lang) (packets int, err error) {
	return SavePcapng(path, tl, lang, PcapngOptions{})
}

// SavePcapng is WritePcapng with options.
func SavePcapng(path string, tl *timeline.Timeline, lang i18n.Lang, opts PcapngOptions) (packets int, err error) {
	out, err := Create(path)
	if err != nil {
		return 0, fmt.Errorf("write pcapng: %w", err)
	}
	packets, err = WritePcapngTo(out, tl, lang, opts)
	if err != nil {
		out.Abort()
		return packets, err
	}
	if err := out.Commit(); err != nil {
		return packets, fmt.Errorf("write pcapng: %w", err)
	}
	return packets, nil
}

// WritePcapngTo writes the timeline as pcapng to w (standard output for
// --pcap -) and returns the number of packets written.
func WritePcapngTo(f io.Writer, tl *timeline.Timeline, lang i18n.Lang, opts PcapngOptions) (int, error) {
	meta := tl.Meta()
	link := layers.LinkType(meta.Link)
	if meta.Link == 0 {
		link = layers.LinkTypeEthernet
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	w, err := pcapgo.NewNgWriterInterface(bw, pcapgo.NgInterface{
		Name: meta.Iface, Description: "netlab " + meta.Scenario + " (" + meta.Sandbox.String() + ")",
		LinkType: link, SnapLength: 0, TimestampResolution: 9,
	}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Application: "netlab", Comment: "netlab " + meta.Scenario + ": " + meta.Title.In(lang),
	}})
	if err != nil {
		return 0, fmt.Errorf("write pcapng: %w", err)
	}
	if sum, _ := tl.Closed(); opts.Secrets && len(sum.TLSKeyLog) > 0 {
		// The run's own TLS secrets, so Wireshark and tshark decrypt its
		// TLS traffic as netlab's decoder did (a Decryption Secrets Block,
		// what SSLKEYLOGFILE would give them).
		if err := w.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, sum.TLSKeyLog); err != nil {
			return 0, fmt.Errorf("write pcapng TLS secrets: %w", err)
		}
	}
	n := 0 // packets written
	var pending []string
	var held *timeline.Event
	var heldComments []string
	flush := func() error {
		if held == nil {
			return nil
		}
		p := held.Packet
		ci := gopacket.CaptureInfo{Timestamp: held.Time, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data))}
		opts := pcapgo.NgPacketOptions{Comments: heldComments}
		if err := w.WritePacketWithOptions(ci, p.Data, opts); err != nil {
			return fmt.Errorf("write pcapng packet %d: %w", p.N, err)
		}
		n++
		held = nil
		return nil
	}
	var werr error
	tl.All(func(e *timeline.Event) bool {
		if e.Kind == timeline.KindPacket {
			if werr = flush(); werr != nil {
				return false
			}
			held = e
			heldComments = append(pending, "netlab #"+strconv.Itoa(e.Packet.N)+" "+e.Packet.Lab.From+" → "+e.Packet.Lab.To+": "+e.Packet.Summary())
			pending = nil
			return true
		}
		if c := comment(e, lang); c != "" {
			if held != nil && e.Kind == timeline.KindState && e.State.Packet == held.Packet.N {
				heldComments = append(heldComments, c)
			} else {
				pending = append(pending, c)
			}
		}
		return true
	})
	if werr != nil {
		return n, werr
	}
	if held != nil {
		heldComments = append(heldComments, pending...)
		if err := flush(); err != nil {
			return n, err
		}
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("write pcapng: %w", err)
	}
	return n, bw.Flush()
}

// comment renders a non-packet event for a packet comment.
func comment(e *timeline.Event, lang i18n.Lang) string {
	switch e.Kind {
	case timeline.KindNote:
		return "narration: " + e.Note.Text.In(lang)
	case timeline.KindApp:
		return "app " + e.App.Lane + ": " + render.AppText(e.App) + " (" + e.App.Socket.String() + ")"
	case timeline.KindState:
		return e.State.Source.String() + " state " + e.State.Lane + " " + e.State.Socket.String() + ": " + render.StateText(e.State)
	case timeline.KindCheck:
		return "check " + e.Check.Mark() + " " + e.Check.Name.In(lang) + ": " + e.Check.Detail.In(lang)
	}
	return ""
}
