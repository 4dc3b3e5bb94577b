package ui

import (
	"slices"
	"strings"

	"github.com/gdamore/tcell/v2"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/render"
)

// key is one key: a special key, or a rune (Key == tcell.KeyRune).
type key struct {
	code tcell.Key
	r    rune
}

func ch(r rune) key           { return key{code: tcell.KeyRune, r: r} }
func special(k tcell.Key) key { return key{code: k} }

// action is one entry of the key registry: the keys, how they are written,
// a short hint for the hint bar (none: help screen only), the help text, the
// panels where it applies, and what it does. An action without do is done
// by the focused panel itself (listed so the help screen is complete).
type action struct {
	keys   []key
	label  string
	hint   i18n.Text
	help   i18n.Text
	only   []panelID // nil: everywhere
	except []panelID
	do     func()
}

func (a *action) appliesIn(p panelID) bool {
	if a.only != nil && !slices.Contains(a.only, p) {
		return false
	}
	return !slices.Contains(a.except, p)
}

func (a *action) matches(ev *tcell.EventKey) bool {
	for _, k := range a.keys {
		if k.code == tcell.KeyRune {
			if ev.Key() == tcell.KeyRune && ev.Rune() == k.r {
				return true
			}
		} else if ev.Key() == k.code {
			return true
		}
	}
	return false
}

// keymap is the dashboard's one key registry: input handling, the hint bar
// and the help screen all read it.
type keymap struct{ actions []*action }

// find returns the action for ev in panel p (nil: none, the panel handles it).
func (km *keymap) find(ev *tcell.EventKey, p panelID) *action {
	for _, a := range km.actions {
		if a.appliesIn(p) && a.matches(ev) {
			return a
		}
	}
	return nil
}

// hints renders the hint bar for panel p, cut to width.
func (km *keymap) hints(p panelID, lang i18n.Lang, width int) string {
	var b strings.Builder
	for _, a := range km.actions {
		if a.hint.IsZero() || !a.appliesIn(p) {
			continue
		}
		item := a.label + " " + a.hint.In(lang)
		if b.Len() > 0 {
			item = " · " + item
		}
		if render.Width(b.String()+item) > width {
			break
		}
		b.WriteString(item)
	}
	return b.String()
}

// help renders the help screen: every key with what it does and where.
func (km *keymap) help(lang i18n.Lang) []string {
	var lines []string
	w := 0
	for _, a := range km.actions {
		w = max(w, render.Width(a.label))
	}
	for _, a := range km.actions {
		text := a.help.In(lang)
		switch {
		case a.only != nil:
			text += " (" + panelList(a.only, lang) + ")"
		case a.except != nil:
			text += i18n.T(" (not in ", "(不含 ").In(lang) + panelList(a.except, lang) + i18n.T(")", ")").In(lang)
		}
		lines = append(lines, render.FillRight(a.label, w)+"  "+text)
	}
	return lines
}

func panelList(ps []panelID, lang i18n.Lang) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name().In(lang)
	}
	return strings.Join(names, ", ")
}

// newKeymap is the registry: every key the dashboard knows, in the order
// the help screen lists them.
func (d *Dashboard) newKeymap() *keymap {
	t := i18n.T
	return &keymap{actions: []*action{
		{keys: []key{special(tcell.KeyEnter)}, label: "Enter", hint: t("run", "运行"),
			help: t("run the scenario selected in the list (stops the current run)", "运行列表中选中的场景(会停止当前运行)"), do: d.runSelected},
		{keys: []key{ch('a')}, label: "a",
			help: t("in an exercise (netlab exercise NAME): enter your prediction, and run", "在练习中(netlab exercise NAME):输入你的预测并运行"), do: d.askPrediction},
		{keys: []key{ch('r')}, label: "r", hint: t("rerun", "重跑"),
			help: t("run the current scenario again, in a fresh namespace", "在新的命名空间里重新运行当前场景"), do: d.rerun},
		{keys: []key{ch(' ')}, label: "space", hint: t("step", "单步"),
			help: t("continue: the scenario pauses at each narration step until space", "继续:场景在每个讲解步骤暂停,按空格继续"), do: d.step},
		{keys: []key{ch('c')}, label: "c",
			help: t("continue to the end without pausing at steps", "不再在步骤处暂停,一直运行到结束"), do: d.runThrough},
		{keys: []key{ch('p')}, label: "p", hint: t("follow", "跟随"),
			help: t("pause/resume following the live end of the run", "暂停/恢复跟随运行的最新事件"), do: d.toggleFollow},
		{keys: []key{special(tcell.KeyLeft), ch('h')}, label: "←/h", hint: t("back", "后退"),
			help: t("scrub one event back: every panel shows the run as of the cursor", "后退一个事件:所有面板显示光标时刻的状态"), do: func() { d.scrub(-1) }},
		{keys: []key{special(tcell.KeyRight), ch('l')}, label: "→/l", hint: t("fwd", "前进"),
			help: t("scrub one event forward (in every panel: L switches the language)", "前进一个事件(在所有面板中都是;切换语言用 L)"), do: func() { d.scrub(+1) }},
		{keys: []key{special(tcell.KeyHome), ch('g')}, label: "Home/g", help: t("cursor to the first event", "光标移到第一个事件"), do: d.home},
		{keys: []key{special(tcell.KeyEnd), ch('G')}, label: "End/G", help: t("cursor to the newest event and follow it", "光标移到最新事件并跟随"), do: d.end},
		{keys: []key{special(tcell.KeyTab)}, label: "Tab", hint: t("panel", "面板"), help: t("focus the next panel", "切换到下一个面板"), do: func() { d.cycleFocus(+1) }},
		{keys: []key{special(tcell.KeyBacktab)}, label: "Shift-Tab", help: t("focus the previous panel", "切换到上一个面板"), do: func() { d.cycleFocus(-1) }},
		{keys: nil, label: "d", help: t("in the Graph panel: the connection's other direction (the busier one first)", "在图面板中:切换到连接的另一个方向(先显示数据多的方向)")},
		{keys: nil, label: "j/k ↑/↓ PgUp/PgDn", help: t("move in the focused panel (in the ladder: move the cursor)", "在当前面板中移动(梯形图中移动光标)")},
		{keys: []key{ch('/')}, label: "/", hint: t("filter", "过滤"),
			help: t("filter packets: every word must match. A lane name (or from:LANE) keeps what that lane sent, to:LANE what it was sent; syn, fin, syn,ack keep packets with those flags; tcp, udp, icmp a protocol; any other word is text in the summary or addresses (8888, len=5); !word negates. \"client syn\" is the client's SYNs. In Scenarios: filter the list by name or title",
				"过滤报文:每个词都要匹配。泳道名(或 from:泳道)保留该泳道发出的报文,to:泳道 保留发给它的;syn、fin、syn,ack 保留带这些标志的报文;tcp、udp、icmp 按协议;其他词在摘要或地址中查找文本(8888、len=5);!词 表示排除。\"client syn\" 即客户端发出的 SYN。在场景列表中:按名称或标题过滤场景"), do: d.openFilter},
		{keys: []key{ch('s')}, label: "s", hint: t("save", "保存"), help: t("save the capture as pcapng (narration as packet comments; no TLS secrets)", "把抓包保存为 pcapng(讲解写在报文注释里;不含 TLS 密钥)"), do: func() { d.openSave(false) }},
		{keys: []key{ch('S')}, label: "S", help: t("save as pcapng with the run's TLS secrets, so Wireshark decrypts the HTTPS lesson (and shows its password)", "保存为 pcapng 并附上本次运行的 TLS 密钥,Wireshark 因而能解密 HTTPS 课程(也会显示其中的密码)"), do: func() { d.openSave(true) }},
		{keys: []key{ch('L')}, label: "L", hint: t("中文", "English"),
			help: t("switch the language: English / 中文 (in every panel)", "切换语言:English / 中文(在所有面板中)"), do: d.toggleLang},
		{keys: []key{ch('z')}, label: "z", hint: t("zoom", "放大"), help: t("zoom the focused panel to the whole screen and back", "把当前面板放大到全屏/还原"), do: d.toggleZoom},
		{keys: []key{ch('?')}, label: "?", hint: t("help", "帮助"), help: t("this help", "本帮助"), do: d.showHelp},
		{keys: []key{ch('q'), special(tcell.KeyCtrlC)}, label: "q/Ctrl-C", hint: t("quit", "退出"), help: t("quit (stops the run; the terminal is restored)", "退出(停止运行,恢复终端)"), do: d.quit},
		{keys: nil, label: "mouse", help: t("click selects (a row, an arrow, a tab), the wheel scrolls", "点击选择(行、箭头、标签页),滚轮滚动")},
	}}
}
