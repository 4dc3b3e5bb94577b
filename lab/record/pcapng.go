package record

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netlab/netlab/lab/decode"
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
	// One interface per capture point: loopback's one, or on a lab network
	// each host's eth0, so a packet shows leaving one and arriving at the
	// other (tshark -Y 'frame.interface_name == "server:eth0"').
	points := meta.Points
	if len(points) == 0 {
		points = []string{meta.Iface}
	}
	iface := func(name string) pcapgo.NgInterface {
		return pcapgo.NgInterface{
			Name: name, Description: "netlab " + meta.Scenario + " (" + meta.Sandbox.String() + ")",
			LinkType: link, SnapLength: 0, TimestampResolution: 9,
		}
	}
	w, err := pcapgo.NewNgWriterInterface(bw, iface(points[0]), pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Application: "netlab", Comment: "netlab " + meta.Scenario + ": " + meta.Title.In(lang),
	}})
	if err != nil {
		return 0, fmt.Errorf("write pcapng: %w", err)
	}
	index := map[string]int{points[0]: 0}
	for _, pt := range points[1:] {
		id, err := w.AddInterface(iface(pt))
		if err != nil {
			return 0, fmt.Errorf("write pcapng interface %s: %w", pt, err)
		}
		index[pt] = id
	}
	if sum, _ := tl.Closed(); opts.Secrets && len(sum.TLSKeyLog) > 0 {
		// The run's own TLS secrets, so Wireshark and tshark decrypt its
		// TLS traffic as netlab's decoder did (a Decryption Secrets Block,
		// what SSLKEYLOGFILE would give them).
		if err := w.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, sum.TLSKeyLog); err != nil {
			return 0, fmt.Errorf("write pcapng TLS secrets: %w", err)
		}
	}
	n := 0 // packets written (their arrival copies not counted)
	write := func(at time.Time, ifc int, data []byte, length int, comments []string) error {
		ci := gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: max(length, len(data)), InterfaceIndex: ifc}
		return w.WritePacketWithOptions(ci, data, pcapgo.NgPacketOptions{Comments: comments})
	}
	// Copies captured arriving at a receiver wait here until the file
	// reaches their time.
	var arrivals []arrivalCopy
	writeArrivals := func(upTo time.Time, all bool) error {
		slices.SortStableFunc(arrivals, func(a, b arrivalCopy) int { return a.at.Compare(b.at) })
		k := 0
		for ; k < len(arrivals) && (all || !arrivals[k].at.After(upTo)); k++ {
			a := arrivals[k]
			if err := write(a.at, a.iface, a.data, a.length, []string{a.comment}); err != nil {
				return fmt.Errorf("write pcapng packet %d arriving: %w", a.n, err)
			}
		}
		arrivals = arrivals[k:]
		return nil
	}
	var pending []string
	var held *timeline.Event
	var heldComments []string
	flush := func() error {
		if held == nil {
			return nil
		}
		p := held.Packet
		if err := writeArrivals(held.Time, false); err != nil {
			return err
		}
		if err := write(held.Time, index[p.Lab.Wire.From], p.Data, p.Length, heldComments); err != nil {
			return fmt.Errorf("write pcapng packet %d: %w", p.N, err)
		}
		n++
		arrivals = append(arrivals, arrivalCopies(p, held.Time, index, lang)...)
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
			if wt := e.Packet.Lab.Wire.Text(e.Time); !wt.IsZero() {
				heldComments = append(heldComments, "wire: "+wt.In(lang))
			}
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
	if err := writeArrivals(time.Time{}, true); err != nil {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("write pcapng: %w", err)
	}
	return n, bw.Flush()
}

// arrivalCopy is one copy of a packet as captured arriving at its
// receiver's interface.
type arrivalCopy struct {
	at      time.Time
	iface   int
	data    []byte
	length  int
	n       int // the packet's number
	comment string
}

// arrivalCopies are the copies of p captured at its receiver: the frame
// sent (the joiner compared them byte for byte) or, where the wire flipped
// a bit, the frame as captured.
func arrivalCopies(p *decode.Packet, sent time.Time, index map[string]int, lang i18n.Lang) []arrivalCopy {
	w := &p.Lab.Wire
	out := make([]arrivalCopy, 0, len(w.Arrivals))
	for k, a := range w.Arrivals {
		data := p.Data
		if a.Data != nil {
			data = a.Data
		}
		ms := strconv.FormatFloat(float64(a.At.Sub(sent))/float64(time.Millisecond), 'f', 3, 64)
		c := i18n.T("netlab #"+strconv.Itoa(p.N)+" arriving at "+w.To+", "+ms+" ms after it left "+w.From,
			"netlab #"+strconv.Itoa(p.N)+" 到达 "+w.To+",离开 "+w.From+" 后 "+ms+" ms")
		if k > 0 {
			c.En += " (copy " + strconv.Itoa(k+1) + ": the wire duplicated it)"
			c.Zh += "(第 " + strconv.Itoa(k+1) + " 个副本:线路复制了它)"
		}
		if a.Data != nil {
			c.En += " (a bit flipped on the wire: the receiver's kernel drops it on its checksum)"
			c.Zh += "(在线路上被翻转了一位:接收方内核因校验和错误丢弃)"
		}
		out = append(out, arrivalCopy{at: a.At, iface: index[w.To], data: data, length: max(p.Length, len(data)), n: p.N, comment: c.In(lang)})
	}
	return out
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
	case timeline.KindTCPInfo:
		return "kernel " + e.TCPInfo.Lane + " " + e.TCPInfo.Socket.String() + ": " + render.TCPInfoText(e.TCPInfo)
	case timeline.KindNeigh:
		return "kernel " + e.Neigh.Host + " " + e.Neigh.Iface + ": " + render.NeighText(e.Neigh)
	case timeline.KindCheck:
		return "check " + e.Check.Mark() + " " + e.Check.Name.In(lang) + ": " + e.Check.Detail.In(lang)
	}
	return ""
}
