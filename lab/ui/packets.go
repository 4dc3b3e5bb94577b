package ui

import (
	"fmt"
	"strconv"

	"github.com/gdamore/tcell/v2"

	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// packetTable lists every packet (or those passing the / filter). Its
// content is virtual (tview.TableContent): rows are read from the model's
// packet index when drawn, so a million packets cost what ten do. Moving
// the selection moves the scrub cursor to that packet, and scrubbing moves
// the selection.
type packetTable struct {
	*tview.Table
	d       *Dashboard
	content *packetContent
}

func (t *packetTable) Draw(screen tcell.Screen) {
	_, _, w, _ := t.GetInnerRect()
	switch {
	case w >= 100:
		t.content.cols = colsWide
	case w >= 70:
		t.content.cols = colsMedium
	default:
		t.content.cols = colsNarrow
	}
	t.Table.Draw(screen)
}

// packetContent is the virtual table content.
type packetContent struct {
	tview.TableContentReadOnly
	d     *Dashboard
	cols  []int              // the columns shown, for the table's width
	texts map[int32][]string // cell texts of recently drawn packets, by event
	gen   int                // the run the texts belong to
}

// Columns; the narrow sets leave out what the summary repeats.
const (
	colNo = iota
	colTime
	colFromTo
	colProto
	colFlags
	colSeqAck
	colLen
	colSummary
)

var packetColumns = []struct {
	name  string
	align int
}{
	colNo: {"No.", tview.AlignRight}, colTime: {"ms", tview.AlignRight}, colFromTo: {"from → to", tview.AlignLeft},
	colProto: {"proto", tview.AlignLeft}, colFlags: {"flags", tview.AlignLeft}, colSeqAck: {"seq/ack", tview.AlignRight},
	colLen: {"len", tview.AlignRight}, colSummary: {"summary", tview.AlignLeft},
}

var (
	colsWide   = []int{colNo, colTime, colFromTo, colProto, colFlags, colSeqAck, colLen, colSummary}
	colsMedium = []int{colNo, colTime, colFromTo, colFlags, colLen, colSummary}
	colsNarrow = []int{colNo, colTime, colFromTo, colSummary}
)

func newPacketTable(d *Dashboard) *packetTable {
	t := &packetTable{Table: tview.NewTable(), d: d}
	t.content = &packetContent{d: d, cols: colsWide, texts: map[int32][]string{}}
	t.SetContent(t.content)
	t.SetFixed(1, 0).SetSelectable(true, false)
	t.SetSelectedStyle(d.theme.cursor)
	t.SetSelectionChangedFunc(func(row, col int) {
		if d.syncing {
			return
		}
		m := d.model
		if k := m.rowPacket(row - 1); k >= 0 {
			m.setCursor(int(m.packets[k]))
			d.sync()
		}
	})
	return t
}

func (t *packetTable) titleExtra() string {
	m := t.d.model
	if m.filter != nil {
		return fmt.Sprintf("/%s: %d/%d", m.filter.Text(), len(m.shown), len(m.packets))
	}
	if len(m.packets) == 0 {
		return ""
	}
	return strconv.Itoa(len(m.packets))
}

// sync selects the packet at the cursor.
func (t *packetTable) sync() {
	m := t.d.model
	r := m.packetRow(m.selectedPacket())
	if r < 0 {
		t.Select(0, 0)
		t.ScrollToBeginning()
		return
	}
	t.Select(r+1, 0)
}

func (c *packetContent) GetRowCount() int    { return c.d.model.rowCount() + 1 }
func (c *packetContent) GetColumnCount() int { return len(c.cols) }

func (c *packetContent) GetCell(row, col int) *tview.TableCell {
	m, th := c.d.model, c.d.theme
	if col < 0 || col >= len(c.cols) {
		return nil
	}
	col = c.cols[col]
	if row == 0 {
		return tview.NewTableCell(packetColumns[col].name).SetAlign(packetColumns[col].align).
			SetSelectable(false).SetStyle(th.bold)
	}
	k := m.rowPacket(row - 1)
	if k < 0 {
		return nil
	}
	i := int(m.packets[k])
	e := m.at(i)
	if e == nil {
		return nil
	}
	text := c.text(int32(i), e, col)
	st := th.normal
	if i > m.cursor {
		st = th.dim
	}
	cell := tview.NewTableCell(text).SetAlign(packetColumns[col].align).SetStyle(st)
	if col == colSummary {
		cell.SetExpansion(1)
	} else {
		cell.SetMaxWidth(22)
	}
	return cell
}

// text is a cell's text; a packet's texts are made once (Summary builds
// strings) and kept while it is likely to be drawn again.
func (c *packetContent) text(i int32, e *timeline.Event, col int) string {
	if g := c.d.model.gen; g != c.gen {
		clear(c.texts)
		c.gen = g
	}
	ts, ok := c.texts[i]
	if !ok {
		if len(c.texts) >= 1024 {
			clear(c.texts)
		}
		ts = c.cellTexts(e)
		c.texts[i] = ts
	}
	return ts[col]
}

func (c *packetContent) cellTexts(e *timeline.Event) []string {
	m, p := c.d.model, e.Packet
	ts := make([]string, len(packetColumns))
	ts[colNo] = strconv.Itoa(p.N)
	ts[colTime] = fmt.Sprintf("%.3f", float64(m.rel(e.Time).Microseconds())/1000)
	if p.Lab.From != "" && p.Lab.To != "" {
		ts[colFromTo] = p.Lab.From + " → " + p.Lab.To
	} else {
		ts[colFromTo] = p.Src.String() + " → " + p.Dst.String()
	}
	ts[colProto] = protoName(p)
	switch p.Proto {
	case decode.ProtoARP:
		// ARP has no flags: its operation takes their place.
		ts[colFlags] = map[uint16]string{decode.ARPRequest: "request", decode.ARPReply: "reply"}[p.ARP.Op]
	case decode.ProtoTCP:
		ts[colFlags] = p.Flags.String()
		ts[colSeqAck] = strconv.FormatUint(uint64(p.Flow.RelSeq), 10) + "/" + strconv.FormatUint(uint64(p.Flow.RelAck), 10)
	}
	ts[colLen] = strconv.Itoa(p.PayloadLen)
	ts[colSummary] = tview.Escape(p.Summary())
	for k, t := range ts[:colSummary] {
		ts[k] = tview.Escape(t)
	}
	return ts
}

func protoName(p *decode.Packet) string {
	switch p.Proto {
	case decode.ProtoTCP:
		if p.App != nil && p.App.Proto != "" {
			return "TCP/" + p.App.Proto
		}
		return "TCP"
	case decode.ProtoUDP:
		if p.App != nil && p.App.Proto != "" {
			return "UDP/" + p.App.Proto
		}
		return "UDP"
	case decode.ProtoICMP:
		return "ICMP"
	case decode.ProtoARP:
		return "ARP"
	}
	return "—"
}
