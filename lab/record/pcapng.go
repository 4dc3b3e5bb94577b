package record

import (
	"bufio"
	"fmt"
	"os"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/render"
	"github.com/netlab/netlab/lab/timeline"
)

// CheckWritable fails early, before a run starts, when path cannot be
// created (a missing directory, no permission), so no run is wasted.
func CheckWritable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		f.Close()
		return os.Remove(path)
	}
	if os.IsExist(err) {
		f, err = os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
			return nil
		}
	}
	return fmt.Errorf("cannot write %s: %w", path, err)
}

// WritePcapng writes every packet of the timeline to path as pcapng. Each
// packet carries as comments what happened since the packet before it
// (narration, the program's calls, kernel states) and its own explanation;
// what happened after the last packet goes on the last one. Run as root
// through sudo, the file is given to the invoking user.
func WritePcapng(path string, tl *timeline.Timeline, lang i18n.Lang) (packets int, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("write pcapng: %w", err)
	}
	packets, err = writePcapng(f, tl, lang)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write pcapng: %w", cerr)
	}
	if err != nil {
		return packets, err
	}
	return packets, giveToSudoUser(path)
}

func writePcapng(f *os.File, tl *timeline.Timeline, lang i18n.Lang) (int, error) {
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
	if sum, _ := tl.Closed(); len(sum.TLSKeyLog) > 0 {
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
			heldComments = append(pending, "netlab #"+strconv.Itoa(e.Packet.N)+" "+e.Packet.From+" → "+e.Packet.To+": "+e.Packet.Summary())
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
		mark := "✓"
		if !e.Check.OK {
			mark = "✗"
		}
		return "check " + mark + " " + e.Check.Name.In(lang) + ": " + e.Check.Detail.In(lang)
	}
	return ""
}

// giveToSudoUser chowns path to the user who ran sudo, so their own tools
// can open and delete it.
func giveToSudoUser(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	gid, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 != nil || err2 != nil {
		return nil
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("give %s to the sudo user: %w", path, err)
	}
	return nil
}
