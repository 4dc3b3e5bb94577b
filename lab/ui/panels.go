package ui

import (
	"github.com/rivo/tview"

	"github.com/netlab/netlab/lab/i18n"
)

// panelID names a panel.
type panelID int

// The panels, in Tab order.
const (
	pScenarios panelID = iota
	pLesson
	pLadder
	pPackets
	pDetails
	pHex
	pSockets
	pStates
	pBytes
	pGraph
	pChecks
	nPanels
)

// panelSpec is one line of the panel table: the panel's names and how to
// make its widget.
type panelSpec struct {
	name  i18n.Text
	short i18n.Text // for tabs at 80 columns (zero: name)
	make  func(d *Dashboard) tview.Primitive
}

// panelTable is the dashboard's panels: a new panel is its own file (its
// widget, with the hooks below it needs) plus one id above and one line
// here; the compact layout and every other layout's tabs find it.
var panelTable = [nPanels]panelSpec{
	pScenarios: {i18n.T("Scenarios", "场景"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.scenarios = newScenarioList(d); return d.scenarios }},
	pLesson:    {i18n.T("Lesson", "讲解"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.lesson = newLessonView(d); return d.lesson }},
	pLadder:    {i18n.T("Ladder", "梯形图"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.ladder = newLadderView(d); return d.ladder }},
	pPackets:   {i18n.T("Packets", "报文"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.packets = newPacketTable(d); return d.packets }},
	pDetails:   {i18n.T("Details", "分层详情"), i18n.T("Details", "详情"), func(d *Dashboard) tview.Primitive { d.details = newDetailsView(d); return d.details }},
	pHex:       {i18n.T("Hex", "十六进制"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.hex = newHexView(d); return d.hex }},
	pSockets:   {i18n.T("Sockets", "套接字"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.sockets = newSocketsView(d); return d.sockets }},
	pStates:    {i18n.T("State machine", "状态机"), i18n.T("States", "状态机"), func(d *Dashboard) tview.Primitive { d.states = newStateMachine(d); return d.states }},
	pBytes:     {i18n.T("Bytes", "字节流"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.bytes = newBytesView(d); return d.bytes }},
	pGraph:     {i18n.T("Graph", "图"), i18n.Text{}, func(d *Dashboard) tview.Primitive { return newGraphView(d) }},
	pChecks:    {i18n.T("Checks", "检查"), i18n.Text{}, func(d *Dashboard) tview.Primitive { d.checks = newChecksView(d); return d.checks }},
}

func (p panelID) name() i18n.Text { return panelTable[p].name }

func (p panelID) short() i18n.Text {
	if s := panelTable[p].short; !s.IsZero() {
		return s
	}
	return panelTable[p].name
}

// Hooks a panel's widget may implement; the dashboard calls them on every
// panel that does, in Tab order.
type (
	// syncer follows the model after it changed (widgets that keep their
	// own state: a table's selection, a text view's content).
	syncer interface{ sync() }
	// resetter forgets the previous run when a new one starts.
	resetter interface{ reset() }
	// relabeler redoes its text when the language changes.
	relabeler interface{ relabel() }
)

// makePanels makes every panel's widget.
func (d *Dashboard) makePanels() {
	for p := range nPanels {
		d.panels[p] = panelTable[p].make(d)
	}
}

// eachPanel calls f with every panel's widget, in Tab order.
func (d *Dashboard) eachPanel(f func(tview.Primitive)) {
	for _, p := range d.panels {
		f(p)
	}
}
